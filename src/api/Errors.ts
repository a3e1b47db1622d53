/**
 * Typed errors that cross the wire. Each carries its HTTP status, so the server, the CLI and the
 * console agree on what a failure means. Messages name the problem in words an operator can act on.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class CaptureNotFound extends Schema.TaggedError<CaptureNotFound>()(
  "CaptureNotFound",
  { id: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class NotArmed extends Schema.TaggedError<NotArmed>()(
  "NotArmed",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/**
 * A save that failed (disk full, permission denied, file too large). The capture stays in memory;
 * `POST /stats/stop` again retries the save.
 */
export class CaptureSaveError extends Schema.TaggedError<CaptureSaveError>()(
  "CaptureSaveError",
  { id: Schema.String, message: Schema.String, code: Schema.String },
  HttpApiSchema.annotations({ status: 507 })
) {}

/** A query parameter that makes no sense (e.g. a trace range ending before it starts); the message names it. */
export class BadQuery extends Schema.TaggedError<BadQuery>()(
  "BadQuery",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** A stored capture that exists but cannot be read or decoded (corrupt file, I/O error). */
export class CaptureReadError extends Schema.TaggedError<CaptureReadError>()(
  "CaptureReadError",
  { id: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 500 })
) {}

/**
 * Live event streams are held open without an idle timeout, so their number is capped
 * (`PUNKTFUNK_MAX_LIVE_SUBSCRIBERS`); one past the cap is refused rather than queued.
 */
export class TooManySubscribers extends Schema.TaggedError<TooManySubscribers>()(
  "TooManySubscribers",
  { message: Schema.String, max: Schema.Number },
  HttpApiSchema.annotations({ status: 503 })
) {}

/**
 * An imported file that is not a capture this host can store: not JSON, of a format version it
 * does not know, or a field the Schemas refuse. `field` names it as a path (`samples.6.fps`,
 * `meta.format_version`); empty when the body as a whole is at fault (not JSON).
 */
export class CaptureImportInvalid extends Schema.TaggedError<CaptureImportInvalid>()(
  "CaptureImportInvalid",
  { message: Schema.String, field: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/**
 * An import body over the import's own bound (`PUNKTFUNK_IMPORT_MAX_BYTES`): refused from its
 * declared length before it is read, or while it streams, once the bytes read pass the bound.
 */
export class ImportTooLarge extends Schema.TaggedError<ImportTooLarge>()(
  "ImportTooLarge",
  { message: Schema.String, max_bytes: Schema.Number },
  HttpApiSchema.annotations({ status: 413 })
) {}
