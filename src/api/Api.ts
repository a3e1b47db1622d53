/**
 * The punktfunk management API, defined once. The host implements it (`src/http`), the CLI and
 * the web console derive typed clients from it, and the OpenAPI document is generated from it.
 *
 * Why the capture id is a plain string and not a branded/pattern Schema: a bad id must be `404`
 * (the store refuses to name a file with it), never a schema `400` that would tell a prober which
 * ids are well-formed. The store checks the charset before touching the disk.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  BadQuery,
  CaptureImportInvalid,
  CaptureNotFound,
  CaptureReadError,
  CaptureSaveError,
  ImportTooLarge,
  NotArmed,
  TooManySubscribers
} from "./Errors.js"
import { PairingGroup } from "./Pairing.js"
import { Authorization } from "./Security.js"
import { Marker, MarkerRequest } from "./Markers.js"
import { CaptureListing } from "./CaptureListing.js"
import { Capture, CaptureMeta, ExportFormat, LabelPatch, LiveSnapshot, StatsStatus } from "./Stats.js"
import { TraceFile, TraceQuery } from "./Trace.js"
import { FramesFile } from "./Frames.js"
import { LIVE_EVENTS_ROUTE, STATS_PATH } from "./LiveEvents.js"

export { Authorization }

const idParam = HttpApiSchema.param("id", Schema.String)

export const IMPORT_ROUTE = "/recordings/import"
/** The one route whose body may exceed the API's general 64 KiB: it has a bound of its own. */
export const IMPORT_PATH = `${STATS_PATH}${IMPORT_ROUTE}`

/**
 * The import body: the bytes of a capture JSON file as exported (any earlier format version), not
 * a decoded object. Why raw bytes: the host must count them against the import bound while they
 * stream in, before anything parses them, and an older file would not decode with today's
 * Schema before its migrations ran (see `services/CaptureImport.ts`).
 */
export const ImportBody = HttpApiSchema.Uint8Array({ contentType: "application/json" })

export const LiveQuery = Schema.Struct({
  /** Only samples newer than this (ms since arming): the console polls without re-fetching the series. */
  since_t_ms: Schema.optional(Schema.NumberFromString.pipe(Schema.finite(), Schema.nonNegative()))
})

export const ExportQuery = Schema.Struct({
  format: Schema.optionalWith(ExportFormat, { default: () => "json" as const })
})

export class StatsGroup extends HttpApiGroup.make("stats")
  .add(HttpApiEndpoint.get("status", "/status").addSuccess(StatsStatus))
  .add(HttpApiEndpoint.post("start", "/start").addSuccess(StatsStatus))
  .add(
    HttpApiEndpoint.post("stop", "/stop")
      .addSuccess(CaptureMeta)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(CaptureSaveError)
  )
  .add(
    HttpApiEndpoint.get("live", "/live")
      .setUrlParams(LiveQuery)
      .addSuccess(LiveSnapshot)
      .addError(NotArmed)
  )
  .add(
    // Server-sent events, one `sample` event per window; implemented as a raw streaming response.
    HttpApiEndpoint.get("liveEvents", LIVE_EVENTS_ROUTE)
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })))
      .addError(TooManySubscribers)
  )
  .add(
    // A marker on the armed capture at this instant (the host's clock, not the caller's).
    HttpApiEndpoint.post("mark", "/markers").setPayload(MarkerRequest).addSuccess(Marker).addError(NotArmed)
  )
  .add(
    // One row per stored capture (`CaptureListItem`: the list's columns, not the whole meta, sent
    // as a table: src/api/CaptureListing.ts),
    // newest first. The answer carries an `ETag`; a request whose `If-None-Match` names it gets
    // `304 Not Modified` and no body, so a console refreshing an unchanged list parses nothing.
    // Why the 304 is not declared here: only a caller that sent `If-None-Match` can get it (the
    // console's own fetch does; the typed clients never send it), and declaring it would make
    // every typed caller's answer "rows or nothing".
    HttpApiEndpoint.get("list", "/recordings").addSuccess(CaptureListing).addError(CaptureReadError)
  )
  .add(
    // A capture JSON this host exported, stored under a new id marked `imported` (never overwriting).
    HttpApiEndpoint.post("import", IMPORT_ROUTE)
      .setPayload(ImportBody)
      .addSuccess(CaptureMeta, { status: 201 })
      .addError(CaptureImportInvalid)
      .addError(ImportTooLarge)
      .addError(CaptureSaveError)
  )
  .add(
    HttpApiEndpoint.get("get")`/recordings/${idParam}`
      .addSuccess(Capture)
      .addError(CaptureNotFound)
      .addError(CaptureReadError)
  )
  .add(
    HttpApiEndpoint.get("export")`/recordings/${idParam}/export`
      .setUrlParams(ExportQuery)
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/csv" })))
      .addError(CaptureNotFound)
      .addError(CaptureReadError)
  )
  .add(
    // The capture's kept frame spans (`<id>.frames.json`); 404 when it kept none.
    HttpApiEndpoint.get("frames")`/recordings/${idParam}/frames`
      .addSuccess(FramesFile)
      .addError(CaptureNotFound)
      .addError(CaptureReadError)
  )
  .add(
    // Those frames between from_ms and to_ms as Chrome trace-event JSON (opens in Perfetto).
    HttpApiEndpoint.get("trace")`/recordings/${idParam}/trace`
      .setUrlParams(TraceQuery)
      .addSuccess(TraceFile)
      .addError(CaptureNotFound)
      .addError(CaptureReadError)
      .addError(BadQuery)
  )
  .add(
    HttpApiEndpoint.patch("label")`/recordings/${idParam}`
      .setPayload(LabelPatch)
      .addSuccess(CaptureMeta)
      .addError(CaptureNotFound)
      .addError(CaptureReadError)
      .addError(CaptureSaveError)
  )
  .add(
    HttpApiEndpoint.del("remove")`/recordings/${idParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(CaptureNotFound)
      .addError(CaptureSaveError)
  )
  .middleware(Authorization)
  .prefix(STATS_PATH)
  .annotate(OpenApi.Description, "Arm, stop, watch and review performance-stats captures.") {}

/**
 * `GET /metrics`: the Prometheus text exposition. An HttpApi group rather than a bare router
 * route so it shares the one bearer check (Prometheus sends `authorization: { credentials }` as
 * `Authorization: Bearer …`), appears in the OpenAPI document, and the CLI's typed client can
 * read it like every other route. Top level: Prometheus expects `/metrics`, not `/api/v1/...`.
 */
export class MetricsGroup extends HttpApiGroup.make("metrics", { topLevel: true })
  .add(
    HttpApiEndpoint.get("metrics", "/metrics").addSuccess(
      Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4; charset=utf-8" }))
    )
  )
  .middleware(Authorization)
  .annotate(OpenApi.Description, "Prometheus metrics: per-path stage latency, fps, bitrate, drops, capture state.") {}

export class PunktfunkApi extends HttpApi.make("punktfunk")
  .add(StatsGroup)
  .add(PairingGroup)
  .add(MetricsGroup)
  .annotate(OpenApi.Title, "punktfunk host management API") {}
