/**
 * The seam between a streaming loop and whatever produces its frames.
 *
 * A `Pipeline` opens a session as a scoped resource: closing the scope (fiber interrupted, Layer
 * released) stops the frame loop and frees encoder and capture. The per-frame work happens
 * elsewhere (on native threads for the real pipeline); what surfaces here is only one value per
 * aggregation window, as an Effect `Stream`. Tests swap in `FakePipeline`; the host uses the
 * native one.
 */
import { Context, Schema } from "effect"
import type { Effect, Scope, Stream } from "effect"
import { StreamKind } from "../api/Stats.js"
import type { SessionMeta, StatsSample } from "../api/Stats.js"
import type { FrameSource } from "../lib/captures/FlightLog.js"
import { CaptureSource, Codec, EncoderChoice, FramePriority } from "../api/PipelineChoices.js"

// The operator's choices are values of the API (the configuration reads them too).
export { CaptureSource, Codec, EncoderChoice, FramePriority } from "../api/PipelineChoices.js"

/** What a session is asked to be. Validated (typed error) before any thread starts. */
export const SessionConfig = Schema.Struct({
  kind: StreamKind,
  source: CaptureSource,
  /** X display for `x11`, e.g. ":99". */
  display: Schema.optional(Schema.String),
  width: Schema.Number,
  height: Schema.Number,
  fps: Schema.Number,
  codec: Codec,
  encoder: EncoderChoice,
  preset: Schema.String,
  tune: Schema.String,
  /**
   * `PUNKTFUNK_FRAME_PRIORITY`: "realtime" runs the frame thread and the encoder's workers under
   * SCHED_RR while they keep up (src/native/thread_priority.h). Absent: normal.
   */
  priority: Schema.optional(FramePriority),
  bitrate_kbps: Schema.Number,
  /** `PUNKTFUNK_PERF=1`: measure every frame whether or not a capture is armed, and log a perf line per window. */
  perf: Schema.Boolean,
  /**
   * Time every frame whether or not a capture is armed, without perf lines: the host's sessions
   * set it so `/metrics` always has stage and host latency (≈ 0.2–0.3 µs per frame, see
   * BENCHMARKS.md). Absent (tests of the addon's gating, benches): only when armed or `perf`.
   */
  measure: Schema.optional(Schema.Boolean),
  /** The client this session streams to (fingerprint prefix), or "" when none. */
  client: Schema.String,
  /**
   * Where and how the send stage delivers media (punktfunk/1: sealed, FEC-protected UDP).
   * Absent: the session encodes for measurement only and sends nothing.
   */
  media: Schema.optional(
    Schema.Struct({
      host: Schema.String,
      port: Schema.Number,
      key_hex: Schema.String,
      mtu: Schema.Number,
      fec_percent: Schema.Number
    })
  ),
  /**
   * GameStream video (kind "gamestream"): packetized in the addon and sent from the host's video
   * port (`videoFd`, a `GameStreamVideoPort`'s socket) to where the client's valid pings come
   * from: payload `pingPayload` (or "PING" when it is ""), source host `clientHost`. `packetSize`
   * is Moonlight's: video header + payload per datagram. `keyHex` (the launch's rikey) seals
   * every datagram, for a client that asked for encrypted video; without it the datagrams are
   * plain. Absent: nothing is sent.
   */
  gamestream: Schema.optional(
    Schema.Struct({
      videoFd: Schema.Int,
      clientHost: Schema.String,
      pingPayload: Schema.String,
      packetSize: Schema.Int,
      fecPercent: Schema.Int,
      minRequiredFecPackets: Schema.Int,
      keyHex: Schema.optionalWith(Schema.String, { exact: true })
    })
  )
})
export type SessionConfig = typeof SessionConfig.Type

export class PipelineConfigError extends Schema.TaggedError<PipelineConfigError>()("PipelineConfigError", {
  message: Schema.String
}) {}

/**
 * A session that failed while running. `part` says which side gave up when the producer knows:
 * `source` (the capture source went away, e.g. the X display) or `encoder`. The host marks a
 * lost source in the capture (`source_lost`) and its return when a later session opens on it.
 */
export class PipelineError extends Schema.TaggedError<PipelineError>()("PipelineError", {
  message: Schema.String,
  part: Schema.optional(Schema.Literal("source", "encoder"))
}) {}

/** The name a capture source goes by in markers and logs: `x11 :99`, `synthetic`, `static`. */
export const sourceName = (config: { readonly source: CaptureSource; readonly display?: string | undefined }): string =>
  config.source === "x11" ? `x11 ${config.display ?? ""}`.trim() : config.source

/**
 * One window as the loop produces it: a `StatsSample` whose `t_ms` is the producer's own
 * monotonic clock (the Recorder restamps it from the capture's origin).
 */
export type SessionWindow = StatsSample

/** What a client may ask of a running session (punktfunk/1 control messages). */
export interface SessionControl {
  /** Make the next frame an IDR, for a decoder that lost its references. */
  readonly requestIdr: Effect.Effect<void>
  /** A new bitrate target; later windows report it as `bitrate_kbps`. */
  readonly setBitrate: (kbps: number) => Effect.Effect<void>
}

export interface StreamSession {
  /** What opened: backend truthfully named, measured counters, stage set. */
  readonly meta: SessionMeta
  readonly windows: Stream.Stream<SessionWindow, PipelineError>
  /** Absent where the producer has no encoder to steer. */
  readonly control?: SessionControl
  /** The session's flight-recorder ring (per-frame records of the last ~10 s), on the windows' clock. */
  readonly frames?: FrameSource
}

export interface PipelineService {
  readonly open: (
    config: SessionConfig
  ) => Effect.Effect<StreamSession, PipelineConfigError | PipelineError, Scope.Scope>
}

export class Pipeline extends Context.Tag("punktfunk/Pipeline")<Pipeline, PipelineService>() {}
