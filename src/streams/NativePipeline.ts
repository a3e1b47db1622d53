/**
 * The real pipeline: each session is the addon's frame loop on its own native thread, opened as
 * a scoped resource. Only one value per aggregation window crosses into the fiber runtime.
 *
 * Invariants:
 * - The configuration is checked (Schema, then the addon's own check) before any thread starts;
 *   a bad one is a `PipelineConfigError` naming the problem. An encoder that cannot open is a
 *   configuration error too (retrying the same request cannot help) and names what it tried.
 * - Closing the scope calls `close()`, which stops and joins the thread and frees encoder and
 *   capture before the release completes; the window queue is shut down with it.
 * - Windows wait in a small sliding queue: a consumer that falls behind loses the oldest
 *   windows, never stalls the frame loop (which has its own bounded hand-off, see the addon).
 */
import { Effect, Layer, Queue, Schema, Stream } from "effect"
import { pathOf } from "../api/Paths.js"
import { isConfigError, nativeModule } from "../native/binding.js"
import type { NativeFrames, NativeModule, NativeOptions, NativeSession, NativeWindow } from "../native/binding.js"
import type { FrameSource, RawFrame } from "../lib/captures/FlightLog.js"
import { nativeMeta, nativeSample } from "./NativeSample.js"
import { Pipeline, PipelineConfigError, PipelineError, SessionConfig } from "./Pipeline.js"
import type { SessionControl } from "./Pipeline.js"

/** Test and benchmark extras passed through to the addon; the host never sets them. */
export interface NativeExtras {
  readonly window_ms?: number
  readonly dump_path?: string
  readonly assume_gpu?: boolean
  readonly paced?: boolean
}

const decodeConfig = Schema.decodeUnknown(SessionConfig)

/** The addon's flat rows (`NATIVE_FRAME_COLUMNS` order) as records. */
export const rawFrames = ({ data, stride }: NativeFrames): ReadonlyArray<RawFrame> => {
  const out: Array<RawFrame> = []
  for (let i = 0; i + stride <= data.length; i += stride) {
    out.push({
      deadline_ms: data[i]!,
      woke_us: data[i + 1]!,
      captured_us: data[i + 2]!,
      submitted_us: data[i + 3]!,
      encoded_us: data[i + 4]!,
      packetized_us: data[i + 5]!,
      sent_us: data[i + 6]!,
      bytes: data[i + 7]!,
      packets: data[i + 8]!,
      dropped_before: data[i + 9]!,
      key: data[i + 10] === 1,
      repeat: data[i + 11] === 1
    })
  }
  return out
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

let sessionCounter = 0
// Named by kind, so a log line or a capture tells a GameStream session from a punktfunk/1 one at a glance.
const nextSessionId = (kind: string): string => `${kind}-${process.pid}-${++sessionCounter}`

const loadModule = Effect.try({
  try: () => nativeModule(),
  catch: (e) => new PipelineConfigError({ message: messageOf(e) })
})

// The path is a value: its stage names and window length go to the addon as they are.
export const optionsOf = (config: SessionConfig, extras: NativeExtras): NativeOptions => ({
  stages: pathOf(config.kind).stages,
  window_ms: pathOf(config.kind).window_ms,
  source: config.source,
  ...(config.display === undefined ? {} : { display: config.display }),
  width: config.width,
  height: config.height,
  fps: config.fps,
  codec: config.codec,
  encoder: config.encoder,
  preset: config.preset,
  tune: config.tune,
  ...(config.priority === undefined ? {} : { priority: config.priority }),
  bitrate_kbps: config.bitrate_kbps,
  // The addon's `perf` is "time every frame": asked for by perf or by the host's always-on metrics.
  perf: config.perf || config.measure === true,
  ...(config.media === undefined ? {} : { media: config.media }),
  ...(config.gamestream === undefined ? {} : { gamestream: config.gamestream }),
  ...extras
})

const openSession = (addon: NativeModule, options: NativeOptions, offer: (w: NativeWindow) => void) =>
  Effect.try({
    try: (): NativeSession => new addon.NativeSession(options, offer),
    catch: (e) =>
      isConfigError(e) ? new PipelineConfigError({ message: messageOf(e) }) : new PipelineError({ message: messageOf(e) })
  })

export const openNative = (config: SessionConfig, extras: NativeExtras = {}) =>
  Effect.gen(function* () {
    const checked = yield* decodeConfig(config).pipe(
      Effect.mapError((e) => new PipelineConfigError({ message: `invalid session config: ${e.message}` }))
    )
    const addon = yield* loadModule
    const queue = yield* Effect.acquireRelease(Queue.sliding<NativeWindow>(16), Queue.shutdown)
    const session = yield* Effect.acquireRelease(
      openSession(addon, optionsOf(checked, extras), (w) => void Queue.unsafeOffer(queue, w)),
      (s) => Effect.sync(() => s.close())
    )
    const info = session.info()
    if (info.note !== "") yield* Effect.logWarning(`encoder: ${info.note}`)
    if (info.priority_note !== "") yield* Effect.logWarning(`frame priority: ${info.priority_note}`)
    const meta = nativeMeta(nextSessionId(checked.kind), checked, info)
    // The target the encoder is running at now: a client's bitrate change moves it, and the
    // windows after it say so.
    let bitrateKbps = checked.bitrate_kbps
    const control: SessionControl = {
      requestIdr: Effect.sync(() => session.requestIdr()),
      setBitrate: (kbps) =>
        Effect.sync(() => {
          session.setBitrate(kbps)
          bitrateKbps = kbps
        })
    }
    // Real-time held until the loop gave it up (it kept skipping deadlines): said once.
    let realtime = info.priority === "realtime"
    const windows = Stream.fromQueue(queue).pipe(
      Stream.tap((w) =>
        w.windows_dropped > 0 ? Effect.logWarning(`${w.windows_dropped} window(s) dropped before ${meta.session_id}'s window ${w.index}`) : Effect.void
      ),
      Stream.tap((w) => {
        if (!realtime || w.realtime) return Effect.void
        realtime = false
        return Effect.logWarning(
          `${meta.session_id}: frames kept missing their deadlines at real-time priority; the frame thread and encoder are back at normal priority for this session`
        )
      }),
      Stream.mapEffect((w) =>
        w.error === undefined
          ? Effect.succeed(nativeSample(meta, { ...checked, bitrate_kbps: bitrateKbps }, w))
          : Effect.fail(
              new PipelineError({
                message: `session ${meta.session_id} failed: ${w.error}`,
                // The frame loop names a capture failure "capture: …" and an encoder's by its
                // backend (frame_loop.cc): the only two ways a running loop fails.
                part: w.error.startsWith("capture: ") ? "source" : "encoder"
              })
            )
      )
    )
    const frames: FrameSource = { copy: (fromMs, toMs) => rawFrames(session.frames(fromMs, toMs)) }
    return { meta, windows, session, control, frames }
  })

/** The native pipeline as the host uses it. `extras` is for tests and benchmarks. */
export const NativePipeline = (extras: NativeExtras = {}): Layer.Layer<Pipeline> =>
  Layer.succeed(
    Pipeline,
    Pipeline.of({
      open: (config) =>
        openNative(config, extras).pipe(Effect.map(({ control, frames, meta, windows }) => ({ meta, windows, control, frames })))
    })
  )
