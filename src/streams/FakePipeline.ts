/**
 * A pipeline with no encoder: it produces plausible windows at a fixed cadence so the host core
 * (Recorder, store, HTTP, console) can be driven in tests and demos without native threads.
 *
 * It honours the same contract as the native pipeline: stage timings only while `perf || armed`
 * (read from `ArmedFlag`), the path's own stage set (a GameStream session's is capture, encode,
 * packetize, send), counters it does not "measure" left at 0 and out of `measured`, and no
 * sending claimed (see `BASE_US`). The numbers are a deterministic function of the window index, so a test can
 * tell one window from the next; they are labelled `fake` in the meta and never presented as real.
 *
 * It keeps a flight recorder too (`FrameSource`), so host-level tests of kept frame spans run
 * without the addon: frames on the session's frame clock over the last 10 s, each stage's time
 * the window's p50 with a per-frame wobble, times `SLOW_FACTOR` in a window `slowWindows` names
 * (whose stage and host p99 are then far over the frame budget: a breach to find).
 *
 * Faults and steering, for the host's own markers (HostMarkers.ts): `sourceLost` makes a window
 * fail the way a native session whose X display went away fails (a `PipelineError` of part
 * `source`), and `control` takes a client's bitrate change (later windows report the new
 * target); an IDR request has nothing to refresh, the fake having no picture.
 */
import { Effect, Layer, Schedule, Stream } from "effect"
import type { FrameSource, RawFrame } from "../lib/captures/FlightLog.js"
import type { SessionMeta, StageTiming } from "../api/Stats.js"
import { stagesOf } from "../api/Stats.js"
import { zeroFields } from "../api/Fields.js"
import { ArmedFlag } from "../services/ArmedFlag.js"
import { Pipeline, PipelineConfigError, PipelineError } from "./Pipeline.js"
import type { SessionConfig, SessionControl, SessionWindow } from "./Pipeline.js"

let nextSession = 1

/**
 * Each stage's p50 in a fake window. The fake has no packetizer and no sender: nothing leaves it,
 * whatever target the session names (a GameStream client's video port, punktfunk/1 media). So
 * its `packetize` and `send` stages read 0 on every path, as the addon's packetize stage does in
 * a session without a video target: the stage set is the path's, but no time is invented for
 * sending video that was never sent. For the same reason its `measured` never lists a send-side
 * counter (`send_dropped`, the send split).
 */
const BASE_US: Record<string, number> = { capture: 900, submit: 400, encode: 2_100, packetize: 0, send: 0 }

/** How much slower a slow window's stages are (test hook: `slowWindows`). */
export const SLOW_FACTOR = 10

const stageP50 = (name: string, index: number, slow: boolean) =>
  Math.round((BASE_US[name] ?? 500) * (1 + 0.1 * Math.sin(index / 3)) * (slow ? SLOW_FACTOR : 1))

export const fakeWindow = (
  meta: SessionMeta,
  index: number,
  measuring: boolean,
  config: SessionConfig,
  slow = false
): SessionWindow => {
  const wobble = 1 + 0.1 * Math.sin(index / 3)
  const stages: Array<StageTiming> = measuring
    ? meta.stages.map((name) => {
        const p50 = stageP50(name, index, slow)
        return { name, p50_us: p50, p99_us: Math.round(p50 * 1.6), max_us: Math.round(p50 * 2.2), mean_us: Math.round(p50 * 1.05) }
      })
    : []
  const host50 = stages.reduce((sum, s) => sum + s.p50_us, 0)
  const host99 = stages.reduce((sum, s) => sum + s.p99_us, 0)
  return {
    // Every other field of the table: 0, and not in the fake's `measured`.
    ...zeroFields(),
    t_ms: 0,
    session_id: meta.session_id,
    stages,
    fps: config.fps,
    repeat_fps: index % 5 === 0 ? 1 : 0,
    mbps: (config.bitrate_kbps / 1000) * wobble,
    bitrate_kbps: config.bitrate_kbps,
    host_p50_us: host50,
    host_p99_us: host99
  }
}

const FLIGHT_MS = 10_000

/**
 * The fake flight recorder: frames every 1000 / fps ms from `startMs` on the windows' clock
 * (`performance.now()`), of the window each falls in (the first window ending at or after it).
 */
const fakeFrames = (
  meta: SessionMeta,
  fps: number,
  startMs: number,
  windowEnds: ReadonlyArray<{ readonly index: number; readonly endMs: number; readonly slow: boolean }>,
  measuring: () => boolean
): FrameSource => ({
  copy: (fromMs, toMs) => {
    const now = performance.now()
    const interval = 1000 / fps
    const from = Math.max(fromMs, startMs, now - FLIGHT_MS)
    const to = Math.min(toMs, now)
    const out: Array<RawFrame> = []
    if (!measuring()) return out
    for (let k = Math.ceil((from - startMs) / interval); startMs + k * interval <= to; k++) {
      const deadline = startMs + k * interval
      const window = windowEnds.find((w) => w.endMs >= deadline)
      const index = window?.index ?? (windowEnds[windowEnds.length - 1]?.index ?? -1) + 1
      const slow = window?.slow ?? false
      const ends: Record<string, number> = {}
      let t = 0
      for (const name of meta.stages) {
        t += stageP50(name, index, slow) * (1 + 0.05 * Math.sin(k))
        ends[name] = t
      }
      const captured = ends["capture"] ?? 0
      const submitted = ends["submit"] ?? captured
      const encoded = ends["encode"] ?? submitted
      const packetized = ends["packetize"] ?? encoded
      out.push({
        deadline_ms: deadline,
        woke_us: 50,
        captured_us: captured,
        submitted_us: submitted,
        encoded_us: encoded,
        packetized_us: packetized,
        sent_us: ends["send"] ?? packetized,
        bytes: 20_000 + (k % 7) * 1000,
        // Datagrams sent: none (see BASE_US), as the addon's measurement-only frames record.
        packets: 0,
        dropped_before: 0,
        key: k % fps === 0,
        repeat: false
      })
    }
    return out
  }
})

export const FakePipeline = (options: {
  readonly windowMs: number
  /** Tests: windows (by index) whose stages run `SLOW_FACTOR` times slower. */
  readonly slowWindows?: (index: number) => boolean
  /** Tests: the window (by index) of a session at which its capture source goes away. */
  readonly sourceLost?: (index: number, sessionId: string) => boolean
}): Layer.Layer<Pipeline, never, ArmedFlag> =>
  Layer.effect(
    Pipeline,
    Effect.gen(function* () {
      const flag = yield* ArmedFlag
      return Pipeline.of({
        open: (config) =>
          Effect.gen(function* () {
            if (config.width <= 0 || config.height <= 0 || config.fps <= 0) {
              return yield* new PipelineConfigError({ message: "fake pipeline: width, height and fps must be positive" })
            }
            const meta: SessionMeta = {
              session_id: `fake-${nextSession++}`,
              kind: config.kind,
              width: config.width,
              height: config.height,
              fps: config.fps,
              codec: config.codec,
              client: config.client,
              encoder_backend: "fake",
              gpu: "none",
              stages: stagesOf(config.kind),
              measured: ["fps", "repeat_fps", "mbps", "bitrate_kbps", "host_p50_us", "host_p99_us"]
            }
            const measuring = () => config.perf || flag.get()
            // The target a client's bitrate change moved the session to.
            let bitrateKbps = config.bitrate_kbps
            const control: SessionControl = {
              requestIdr: Effect.void,
              setBitrate: (kbps) => Effect.sync(() => void (bitrateKbps = kbps))
            }
            // The last few windows' ends on the producer's clock, for the frames' stage times.
            const windowEnds: Array<{ index: number; endMs: number; slow: boolean }> = []
            const startMs = performance.now()
            const windows = Stream.fromSchedule(Schedule.spaced(`${options.windowMs} millis`)).pipe(
              Stream.mapEffect((i) =>
                options.sourceLost?.(i, meta.session_id) === true
                  ? Effect.fail(
                      new PipelineError({
                        message: `session ${meta.session_id} failed: capture: the fake source went away (fault at window ${i})`,
                        part: "source"
                      })
                    )
                  : Effect.succeed(i)
              ),
              Stream.map((i) => {
                const slow = options.slowWindows?.(i) ?? false
                const endMs = performance.now()
                windowEnds.push({ index: i, endMs, slow })
                if (windowEnds.length > 64) windowEnds.shift()
                // t_ms: the producer's own clock, as the native pipeline stamps it.
                return { ...fakeWindow(meta, i, measuring(), { ...config, bitrate_kbps: bitrateKbps }, slow), t_ms: endMs }
              })
            )
            return { meta, windows, control, frames: fakeFrames(meta, config.fps, startMs, windowEnds, measuring) }
          })
      })
    })
  )
