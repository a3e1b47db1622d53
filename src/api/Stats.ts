/**
 * The stats data model: one source of truth for the wire (HTTP, SSE, CLI) and the disk
 * (capture files, journal). Host, CLI and console all import these Schemas.
 *
 * Why counters are plain numbers and not `Option`s: the design records a counter a path does not
 * expose as `0` and lists the ones it really measured in `measured`. Keeping the sample flat keeps
 * the file small and the CSV export one column per field; `measured` is what lets the console
 * tell an unmeasured 0 from "no loss".
 */
import { Schema } from "effect"
import type { FieldName } from "./Fields.js"
import { Marker } from "./Markers.js"
import { BreachCountSchema, BreachRecord } from "./BreachEvents.js"
import { CAPTURE_FORMAT_VERSION } from "./CaptureFormat.js"

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

// Paths (stage sets, names) and fields (units, meaning, where shown) are described once, in
// `Paths.ts` and `Fields.ts`; the Schemas here are built from those tables.
export { StageName, StreamKind, stagesOf } from "./Paths.js"
import { StageName, StreamKind } from "./Paths.js"
import { FIELD_NAMES, SAMPLE_FIELD_SCHEMAS } from "./Fields.js"

export const StageTiming = Schema.Struct({
  name: StageName,
  p50_us: NonNegative,
  p99_us: NonNegative,
  max_us: NonNegative,
  mean_us: NonNegative
})
export type StageTiming = typeof StageTiming.Type

/** Fields of a sample that a path may or may not measure: every row of the field table. */
export const MeasuredField = Schema.Literal(...(FIELD_NAMES as [FieldName, ...Array<FieldName>]))
export type MeasuredField = typeof MeasuredField.Type

/**
 * One aggregation window (~2 s punktfunk/1, ~1 s GameStream). Counters are deltas over the window.
 * The fields after `stages` are the rows of `Fields.ts`; the addon's send split is present only
 * where measured, and a field added after captures existed decodes as 0 from an older file.
 */
export const StatsSample = Schema.Struct({
  /** Milliseconds since the capture was armed (restamped by the Recorder from a monotonic clock). */
  t_ms: NonNegative,
  session_id: Schema.String,
  stages: Schema.Array(StageTiming),
  ...SAMPLE_FIELD_SCHEMAS
})
export type StatsSample = typeof StatsSample.Type

/** What one streaming session is; a capture may span several. */
export const SessionMeta = Schema.Struct({
  session_id: Schema.String,
  kind: StreamKind,
  width: Count,
  height: Count,
  fps: Count,
  codec: Schema.String,
  client: Schema.String,
  encoder_backend: Schema.String,
  gpu: Schema.String,
  stages: Schema.Array(StageName),
  measured: Schema.Array(MeasuredField)
})
export type SessionMeta = typeof SessionMeta.Type

/**
 * What a capture's meta says about its per-frame flight records (`<id>.frames.json`, see
 * `Frames.ts`); absent when none were kept (and in captures older than them).
 */
export const FramesSummary = Schema.Struct({
  spans: Count,
  frames: Count,
  /** A span was left out (or cut short) because the bound in `Frames.ts` was reached. */
  bound_hit: Schema.Boolean
})
export type FramesSummary = typeof FramesSummary.Type

export const CaptureMeta = Schema.Struct({
  /**
   * The capture file's format (`CaptureFormat.ts`): only the current version decodes; an older
   * file is migrated first (the store does it when it indexes the file, import when it reads one).
   */
  format_version: Schema.Literal(CAPTURE_FORMAT_VERSION),
  id: Schema.String,
  label: Schema.String,
  started_unix_ms: NonNegative,
  duration_ms: NonNegative,
  /** The first session's kind and format (for the id and the list view); `sessions` has all. */
  kind: StreamKind,
  width: Count,
  height: Count,
  fps: Count,
  codec: Schema.String,
  client: Schema.String,
  encoder_backend: Schema.String,
  gpu: Schema.String,
  sample_count: Count,
  truncated: Schema.Boolean,
  recovered: Schema.Boolean,
  measured: Schema.Array(MeasuredField),
  sessions: Schema.Array(SessionMeta),
  frames: Schema.optionalWith(FramesSummary, { exact: true }),
  /**
   * How many budget-breach events the capture was saved with (`Capture.breaches`), for the
   * recordings list; absent in captures saved before breach events were stored.
   */
  breach_count: Schema.optionalWith(BreachCountSchema, { exact: true }),
  /** Stored by `POST /stats/recordings/import` from a file, under a new id: not recorded here. */
  imported: Schema.Boolean
})
export type CaptureMeta = typeof CaptureMeta.Type

/**
 * One row of the capture listing (`GET /stats/recordings`): the columns the recordings list, the
 * compare picker and `punktfunk stats list` show, named as in `CaptureMeta`, plus how many
 * sessions the capture spans. Why not the whole meta: with 1,000 captures the metas came to
 * 751 KB (each session's stages and measured fields, the capture's measured fields, client and
 * GPU), and fetching and parsing that was most of a listing's time; the rows come to about a
 * third. A capture's full meta comes with it when it is opened (`GET /stats/recordings/:id`).
 */
export const CaptureListItem = Schema.Struct({
  id: Schema.String,
  label: Schema.String,
  started_unix_ms: NonNegative,
  duration_ms: NonNegative,
  kind: StreamKind,
  width: Count,
  height: Count,
  fps: Count,
  codec: Schema.String,
  encoder_backend: Schema.String,
  sample_count: Count,
  /** `sessions.length` of the meta: a capture may span several sessions (the list says so). */
  session_count: Count,
  truncated: Schema.Boolean,
  recovered: Schema.Boolean,
  imported: Schema.Boolean,
  breach_count: Schema.optionalWith(BreachCountSchema, { exact: true })
})
export type CaptureListItem = typeof CaptureListItem.Type

/** A meta's row in the listing (the one place that says which fields a row copies). */
export const captureListItem = (meta: CaptureMeta): CaptureListItem => ({
  id: meta.id,
  label: meta.label,
  started_unix_ms: meta.started_unix_ms,
  duration_ms: meta.duration_ms,
  kind: meta.kind,
  width: meta.width,
  height: meta.height,
  fps: meta.fps,
  codec: meta.codec,
  encoder_backend: meta.encoder_backend,
  sample_count: meta.sample_count,
  session_count: meta.sessions.length,
  truncated: meta.truncated,
  recovered: meta.recovered,
  imported: meta.imported,
  ...(meta.breach_count === undefined ? {} : { breach_count: meta.breach_count })
})

export const Capture = Schema.Struct({
  meta: CaptureMeta,
  samples: Schema.Array(StatsSample),
  /** Labelled instants (src/api/Markers.ts); a capture saved before markers existed has none. */
  markers: Schema.optional(Schema.Array(Marker)),
  /**
   * Budget-breach events found at save under the default thresholds, with those thresholds
   * (src/api/Breaches.ts); absent in captures saved before they were stored (the console then
   * computes them from the samples).
   */
  breaches: Schema.optional(BreachRecord)
})
export type Capture = typeof Capture.Type

export const StatsStatus = Schema.Struct({
  armed: Schema.Boolean,
  sample_count: Count,
  started_unix_ms: Schema.NullOr(NonNegative),
  elapsed_ms: NonNegative,
  kind: Schema.NullOr(StreamKind),
  truncated: Schema.Boolean,
  /** A stopped capture whose save failed and is kept in memory until a retried stop saves it. */
  unsaved_id: Schema.NullOr(Schema.String),
  active_sessions: Count
})
export type StatsStatus = typeof StatsStatus.Type

export const LiveSnapshot = Schema.Struct({
  status: StatsStatus,
  sessions: Schema.Array(SessionMeta),
  samples: Schema.Array(StatsSample),
  /** The capture's markers so far (all of them: there are few). */
  markers: Schema.optional(Schema.Array(Marker))
})
export type LiveSnapshot = typeof LiveSnapshot.Type

export const LabelPatch = Schema.Struct({
  label: Schema.String.pipe(Schema.maxLength(200))
})
export type LabelPatch = typeof LabelPatch.Type

export const ExportFormat = Schema.Literal("json", "csv")
export type ExportFormat = typeof ExportFormat.Type
