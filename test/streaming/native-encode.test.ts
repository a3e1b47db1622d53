/**
 * The synthetic source through the real encoder: what the pipeline writes must decode with
 * FFmpeg's own decoder, frame for frame, at the configured resolution. The dump is the exact
 * byte stream the send stage handed on.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig, probe, takeWindows, tmp } from "./nativeSupport.js"

describe("native pipeline encodes real video", () => {
  it.live("a synthetic H.264 session decodes: every frame it counted, at its resolution", () =>
    Effect.gen(function* () {
      const dump = path.join(tmp("pf-encode-"), "out.h264")
      const totals = yield* Effect.scoped(
        Effect.gen(function* () {
          const { meta, windows, session } = yield* openNative(baseConfig({ width: 640, height: 360 }), { window_ms: 500, dump_path: dump })
          expect(meta.encoder_backend).toBe("libx264")
          expect(meta.stages).toEqual(["capture", "submit", "encode", "send"])
          const got = yield* takeWindows(windows, 2)
          expect(got.every((w) => w.mbps > 0)).toBe(true)
          return session
        })
      ).pipe(Effect.map((session) => session.totals()))
      expect(totals.running).toBe(false)
      expect(totals.frames).toBeGreaterThan(10)
      const stream = probe(dump, "h264")
      expect(stream.codec_name).toBe("h264")
      expect([stream.width, stream.height]).toEqual([640, 360])
      expect(Number(stream.nb_read_frames)).toBe(totals.frames)
    })
  )

  it.live("libx265 gives HEVC that decodes", () =>
    Effect.gen(function* () {
      const dump = path.join(tmp("pf-hevc-"), "out.hevc")
      const totals = yield* Effect.scoped(
        Effect.gen(function* () {
          const { meta, windows, session } = yield* openNative(baseConfig({ codec: "hevc", encoder: "auto" }), { window_ms: 500, dump_path: dump })
          expect(meta.encoder_backend).toBe("libx265")
          expect(meta.codec).toBe("hevc")
          yield* takeWindows(windows, 1)
          return session
        })
      ).pipe(Effect.map((session) => session.totals()))
      const stream = probe(dump, "hevc")
      expect(stream.codec_name).toBe("hevc")
      expect([stream.width, stream.height]).toEqual([320, 240])
      expect(Number(stream.nb_read_frames)).toBe(totals.frames)
    })
  )

  it.live("the static source repeats frames and says so in repeat_fps", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { windows } = yield* openNative(baseConfig({ source: "static" }), { window_ms: 1000 })
        const got = yield* takeWindows(windows, 2)
        for (const w of got) {
          expect(w.repeat_fps).toBeGreaterThan(0)
          expect(w.repeat_fps).toBeLessThan(w.fps)
        }
      })
    )
  )
})
