/**
 * The frame loop never waits for JavaScript: when the JavaScript thread is busy, windows that
 * find the small hand-off queue full are dropped on the native side and counted, and the next
 * window that gets through says how many were lost. The frame loop keeps producing meanwhile.
 */
import { Effect, Fiber, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { PATHS } from "../../src/api/Paths.js"
import { nativeModule } from "../../src/native/binding.js"
import type { NativeWindow } from "../../src/native/binding.js"
import type { StatsSample } from "../../src/api/Stats.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig } from "./nativeSupport.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("window hand-off under a busy JavaScript thread", () => {
  it("drops windows rather than stalling the frame loop, and counts them", async () => {
    const got: Array<NativeWindow> = []
    const session = new (nativeModule().NativeSession)(
      {
        stages: PATHS.punktfunk1.stages, source: "synthetic", width: 160, height: 120, fps: 60, codec: "h264", encoder: "libx264",
        preset: "ultrafast", tune: "zerolatency", bitrate_kbps: 500, perf: true, window_ms: 50
      },
      (w) => void got.push(w)
    )
    try {
      await sleep(300)
      // Block the JavaScript thread: no window can be delivered meanwhile.
      const framesBefore = session.totals().frames
      const until = Date.now() + 2_000
      while (Date.now() < until) {
        // busy
      }
      const framesDuring = session.totals().frames - framesBefore
      await sleep(500)
      expect(framesDuring).toBeGreaterThan(10)
      const dropped = got.reduce((sum, w) => sum + w.windows_dropped, 0)
      expect(dropped).toBeGreaterThan(0)
      const produced = session.totals().windows
      expect(got.length + dropped).toBeLessThanOrEqual(produced)
      // Indices are the producer's: a gap in them is exactly what the next window reported.
      for (let i = 1; i < got.length; i++) expect(got[i]!.index - got[i - 1]!.index - 1).toBe(got[i]!.windows_dropped)
    } finally {
      session.close()
    }
    expect(nativeModule().activeThreads()).toBe(0)
  })

  it("the lost windows reach the session's samples as windows_dropped, a field every native session measures", async () => {
    const samples: Array<StatsSample> = []
    const measured = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const { meta, windows } = yield* openNative(baseConfig({ width: 160, height: 120, perf: true }), { window_ms: 50 })
          const collecting = yield* Effect.fork(Stream.runForEach(windows, (w) => Effect.sync(() => void samples.push(w))))
          yield* Effect.sleep("300 millis")
          // Block the JavaScript thread as above.
          const until = Date.now() + 2_000
          while (Date.now() < until) {
            // busy
          }
          yield* Effect.sleep("500 millis")
          yield* Fiber.interrupt(collecting)
          return meta.measured
        })
      )
    )
    expect(measured).toContain("windows_dropped")
    expect(samples.reduce((sum, s) => sum + s.windows_dropped, 0)).toBeGreaterThan(0)
  })
})
