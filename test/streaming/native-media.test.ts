/**
 * The send stage with a media target: the frame loop hands each encoded frame to the punktfunk/1
 * media sender (FEC + seal on the frame thread, paced sendmmsg on its own), and a receiver on
 * loopback decodes what arrives. The window then carries the send split, and `measured` says
 * so; without a target those fields are absent (checked in native-windows.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { media } from "../../src/native/media.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig, takeWindows } from "./nativeSupport.js"

describe("native send stage over punktfunk/1 media", () => {
  it.live("frames the pipeline sends decode on a loopback receiver; the send split is measured", () =>
    Effect.gen(function* () {
      const keyHex = randomBytes(20).toString("hex")
      const receiver = yield* Effect.acquireRelease(
        Effect.sync(() => new (media().MediaReceiver)({ keyHex, bind: "127.0.0.1", port: 0, codec: "h264" })),
        (r) => Effect.sync(() => r.close())
      )
      const config = baseConfig({ media: { host: "127.0.0.1", port: receiver.port, key_hex: keyHex, mtu: 1400, fec_percent: 20 } })
      const totals = yield* Effect.scoped(
        Effect.gen(function* () {
          const { meta, windows, session } = yield* openNative(config, { window_ms: 700 })
          expect(meta.measured).toEqual(expect.arrayContaining(["send_dropped", "fec_us", "seal_us", "sock_us"]))
          const got = yield* takeWindows(windows, 3)
          for (const w of got) {
            expect(w.seal_us).toBeGreaterThan(0)
            expect(w.fec_us).toBeGreaterThan(0)
            expect(w.send_dropped).toBe(0)
          }
          return session
        })
      ).pipe(Effect.map((s) => s.totals()))
      // Let the pacer's last packets land, then compare what was decoded with what was sent.
      const deadline = Date.now() + 10_000
      while (receiver.counters().frames_decoded < totals.frames && Date.now() < deadline) yield* Effect.sleep("50 millis")
      const c = receiver.counters()
      expect(c.decode_errors).toBe(0)
      expect(c.frames_decoded).toBeGreaterThanOrEqual(Math.floor(totals.frames * 0.95))
    }).pipe(Effect.scoped)
  )
})
