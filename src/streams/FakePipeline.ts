/**
 * A pipeline with no encoder: it produces plausible windows at a fixed cadence so the host core
 * (Recorder, store, HTTP, console) can be driven in tests and demos without native threads.
 *
 * It honours the same contract as the native pipeline: stage timings only while `perf || armed`
 * (read from `ArmedFlag`), the path's own stage set, counters it does not "measure" left at 0 and
 * out of `measured`. The numbers are a deterministic function of the window index, so a test can
 * tell one window from the next; they are labelled `fake` in the meta and never presented as real.
 */
import { Effect, Layer, Schedule, Stream } from "effect"
import type { SessionMeta, StageTiming } from "../api/Stats.js"
import { stagesOf } from "../api/Stats.js"
import { zeroFields } from "../api/Fields.js"
import { ArmedFlag } from "../services/ArmedFlag.js"
import { Pipeline, PipelineConfigError } from "./Pipeline.js"
import type { SessionConfig, SessionWindow } from "./Pipeline.js"

let nextSession = 1

const BASE_US: Record<string, number> = { capture: 900, submit: 400, encode: 2_100, packetize: 300, send: 600 }

export const fakeWindow = (meta: SessionMeta, index: number, measuring: boolean, config: SessionConfig): SessionWindow => {
  const wobble = 1 + 0.1 * Math.sin(index / 3)
  const stages: Array<StageTiming> = measuring
    ? meta.stages.map((name) => {
        const p50 = Math.round((BASE_US[name] ?? 500) * wobble)
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

export const FakePipeline = (options: { readonly windowMs: number }): Layer.Layer<Pipeline, never, ArmedFlag> =>
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
            const windows = Stream.fromSchedule(Schedule.spaced(`${options.windowMs} millis`)).pipe(
              Stream.map((i) => fakeWindow(meta, i, config.perf || flag.get(), config))
            )
            return { meta, windows }
          })
      })
    })
  )
