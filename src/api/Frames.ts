/**
 * Per-frame flight records (issue 14.3): the frames of the windows that breached their budget or
 * that a marker asked for, kept beside a capture in `<id>.frames.json` so the capture file stays
 * small. Host, CLI and console import these Schemas.
 *
 * A record's times are µs after the frame's deadline (`t_ms`, the capture's clock). Each stage is
 * one `[start_us, end_us]` pair in the span's `stages` order; the stages are contiguous in the
 * pipeline (a stage starts where the one before it ended, `capture` at the deadline), which is
 * what the window stats call each stage. `woke_us` says when the frame thread got the CPU for it.
 *
 * Why a bound, and what it is: a capture that breaches for an hour would otherwise keep every
 * frame of it. A capture keeps at most `MAX_FRAME_SPANS` spans and `MAX_FRAME_RECORDS` frames
 * (≈ 100 bytes each in JSON, so ≈ 3 MB at most); past either, later spans are not kept and
 * `bound_hit` says so (in this file and in the capture's meta), like `truncated` for samples.
 */
import { Schema } from "effect"
import { StageName } from "./Stats.js"
import type { FramesSummary } from "./Stats.js"

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const MAX_FRAME_SPANS = 64
export const MAX_FRAME_RECORDS = 30_000

export const FrameRecord = Schema.Struct({
  /** The frame's deadline, ms since the capture was armed. */
  t_ms: NonNegative,
  woke_us: NonNegative,
  /** `[start_us, end_us]` per stage, in the span's `stages` order, µs after the deadline. */
  stages_us: Schema.Array(Schema.Tuple(NonNegative, NonNegative)),
  /** Deadline → last datagram out (the end of the last stage). */
  host_us: NonNegative,
  bytes: Count,
  /** Datagrams the frame became (0 where the session sends nothing). */
  packets: Count,
  /** Frame-clock deadlines skipped just before this frame because the loop ran late. */
  dropped_before: Count,
  key: Schema.Boolean,
  /** The picture had not changed (encoded again by the still policy). */
  repeat: Schema.Boolean
})
export type FrameRecord = typeof FrameRecord.Type

export const FrameSpanReason = Schema.Literal("breach", "marker")
export type FrameSpanReason = typeof FrameSpanReason.Type

export const FrameSpan = Schema.Struct({
  session_id: Schema.String,
  reason: FrameSpanReason,
  /** The breach's own words, or the marker's label. */
  detail: Schema.String,
  /** The capture time the span covers (the window before and the window itself). */
  from_ms: NonNegative,
  to_ms: NonNegative,
  /** The session's frame budget, 1e6 / target fps. */
  budget_us: NonNegative,
  stages: Schema.Array(StageName),
  frames: Schema.Array(FrameRecord)
})
export type FrameSpan = typeof FrameSpan.Type

export const FramesFile = Schema.Struct({
  version: Schema.Literal(1),
  id: Schema.String,
  max_spans: Count,
  max_frames: Count,
  bound_hit: Schema.Boolean,
  spans: Schema.Array(FrameSpan)
})
export type FramesFile = typeof FramesFile.Type

export { FramesSummary } from "./Stats.js"

export const summarizeFrames = (file: FramesFile): FramesSummary => ({
  spans: file.spans.length,
  frames: file.spans.reduce((n, s) => n + s.frames.length, 0),
  bound_hit: file.bound_hit
})
