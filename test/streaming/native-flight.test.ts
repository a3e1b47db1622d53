/**
 * The flight recorder in a real frame loop (issue 14.3): while measuring, every frame that went
 * through the stages leaves one record in the ring, on the windows' clock, with its stages in
 * pipeline order and its key flag; copying a span out does not disturb the loop.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig, takeWindows } from "./nativeSupport.js"

describe("native flight recorder", () => {
  it.live("keeps one record per measured frame between two windows, stages in order, the first a key frame", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { frames, windows } = yield* openNative(baseConfig({ perf: true, fps: 30 }), { window_ms: 1000 })
        const [first, second] = yield* takeWindows(windows, 2)
        const all = frames.copy(0, Number.MAX_SAFE_INTEGER)
        expect(all[0]!.key).toBe(true) // the encoder's first frame
        // The second window's frames: deadlines after the first window closed, up to the second.
        const span = frames.copy(first!.t_ms, second!.t_ms)
        expect(span.length).toBeGreaterThan(15)
        expect(span.length).toBeLessThanOrEqual(31)
        for (let i = 0; i < span.length; i++) {
          const f = span[i]!
          expect(f.deadline_ms).toBeGreaterThanOrEqual(first!.t_ms - 1000 / 30)
          expect(f.deadline_ms).toBeLessThanOrEqual(second!.t_ms)
          if (i > 0) expect(f.deadline_ms - span[i - 1]!.deadline_ms).toBeGreaterThanOrEqual(1000 / 30 - 0.01)
          expect(f.captured_us).toBeGreaterThan(0)
          expect(f.submitted_us).toBeGreaterThanOrEqual(f.captured_us)
          expect(f.encoded_us).toBeGreaterThanOrEqual(f.submitted_us)
          expect(f.packetized_us).toBe(f.encoded_us) // native: no packetize step
          expect(f.sent_us).toBeGreaterThanOrEqual(f.encoded_us)
          expect(f.bytes).toBeGreaterThan(0)
          expect(f.packets).toBe(0) // measurement only: nothing sent
        }
        // The ring is read on this thread while the loop keeps running.
        const [third] = yield* takeWindows(windows, 1)
        expect(third!.fps).toBeGreaterThan(0)
      })
    )
  )
})
