/**
 * Typed errors that cross the wire. Each carries its HTTP status, so the server, the CLI and the
 * console agree on what a failure means. Messages name the problem in words an operator can act on.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/**
 * The one shape of every error of the API (here and in `Pairing.ts`): a tag, the HTTP status the
 * server answers with, a `message` written for people (`ErrorWords.ts` words the rest), and the
 * fields that say which thing failed. Written once so that no error can leave out its status or
 * its message; `fields` come first on the wire, `message` after them.
 *
 *     export class WrongPin extends ApiError<WrongPin>()("WrongPin", 403, { request_id: Schema.String }) {}
 */
export const ApiError =
  <Self>() =>
  <Tag extends string, Fields extends Schema.Struct.Fields = {}>(tag: Tag, status: number, fields: Fields = {} as Fields) =>
    Schema.TaggedError<Self>()(tag, { ...fields, message: Schema.String }, HttpApiSchema.annotations({ status }))

export class Unauthorized extends ApiError<Unauthorized>()("Unauthorized", 401) {}

export class CaptureNotFound extends ApiError<CaptureNotFound>()("CaptureNotFound", 404, { id: Schema.String }) {}

export class NotArmed extends ApiError<NotArmed>()("NotArmed", 404) {}

/**
 * A save that failed (disk full, permission denied, file too large). The capture stays in memory;
 * `POST /stats/stop` again retries the save.
 */
export class CaptureSaveError extends ApiError<CaptureSaveError>()("CaptureSaveError", 507, { id: Schema.String, code: Schema.String }) {}

/** A query parameter that makes no sense (e.g. a trace range ending before it starts); the message names it. */
export class BadQuery extends ApiError<BadQuery>()("BadQuery", 400) {}

/** A stored capture that exists but cannot be read or decoded (corrupt file, I/O error). */
export class CaptureReadError extends ApiError<CaptureReadError>()("CaptureReadError", 500, { id: Schema.String }) {}

/**
 * Live event streams are held open without an idle timeout, so their number is capped
 * (`PUNKTFUNK_MAX_LIVE_SUBSCRIBERS`); one past the cap is refused rather than queued.
 */
export class TooManySubscribers extends ApiError<TooManySubscribers>()("TooManySubscribers", 503, { max: Schema.Number }) {}

/**
 * An imported file that is not a capture this host can store: not JSON, of a format version it
 * does not know, or a field the Schemas refuse. `field` names it as a path (`samples.6.fps`,
 * `meta.format_version`); empty when the body as a whole is at fault (not JSON).
 */
export class CaptureImportInvalid extends ApiError<CaptureImportInvalid>()("CaptureImportInvalid", 400, { field: Schema.String }) {}

/**
 * An import body over the import's own bound (`PUNKTFUNK_IMPORT_MAX_BYTES`): refused from its
 * declared length before it is read, or while it streams, once the bytes read pass the bound.
 */
export class ImportTooLarge extends ApiError<ImportTooLarge>()("ImportTooLarge", 413, { max_bytes: Schema.Number }) {}
