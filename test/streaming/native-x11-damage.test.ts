/**
 * Damage-driven X11 capture under a private Xvfb (skipped where Xvfb is not installed): the
 * capture grabs only when the DAMAGE extension reports a change, and an unchanged frame goes to
 * the encoder only for a reason (src/native/still_policy.h): a requested key frame, refinement
 * right after a change, or the client's keepalive (src/native/sink.cc).
 *
 * What an operator would notice, asserted as counts: a still screen is all repeats in
 * `repeat_fps` and the encoder is not fed (nothing encoded without a client; with one, only the
 * keepalive); an IDR asked for on a still screen still comes; a window drawn makes a new
 * picture that the punktfunk/1 receiver (the one the client uses) decodes, with the window in
 * it; and a GameStream client that joins a still screen gets an IDR at once, then keepalive
 * frames with consecutive numbers (Moonlight reads a gap as loss).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import type { Scope } from "effect"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { nativeModule } from "../../src/native/binding.js"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import type { GameStreamVideoPort, NativeSession } from "../../src/native/binding.js"
import { media } from "../../src/native/media.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { hasXvfb, startXvfb } from "../gamestream/support/inputXvfb.js"
import type { TestDisplay } from "../gamestream/support/inputXvfb.js"
import { makeVideoReceiver } from "../gamestream/support/VideoReceiver.js"
import { baseConfig, takeWindows, tmp } from "./nativeSupport.js"

const W = 320
const H = 240
const WINDOW = { x: 40, y: 30, w: 120, h: 90 }
const GREEN = 0x00ff00

let x: TestDisplay | undefined
const display = () => x?.display ?? ""

beforeAll(async () => {
  if (hasXvfb()) x = await startXvfb(W, H)
})
afterAll(() => x?.stop())

/** New pictures the capture delivered so far (every tick that was not a repeat). */
const newPictures = (s: NativeSession) => s.totals().frames - s.totals().repeats

/** Polls until `check` holds: a guard against a hang, not a timing assertion. */
const until = (what: string, check: () => boolean, seconds = 30) =>
  Effect.gen(function* () {
    const deadline = Date.now() + seconds * 1000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`gave up waiting for ${what}`))
      yield* Effect.sleep("20 millis")
    }
  })

/** Keyframe flags of every packet of an H.264 elementary stream, by ffprobe. */
const packetKeys = (file: string): Array<boolean> =>
  execFileSync("ffprobe", ["-v", "error", "-f", "h264", "-show_entries", "packet=flags", "-of", "csv=p=0", file], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.startsWith("K"))

/** The last decoded picture of an H.264 file as RGB, by ffmpeg's decoder. */
const lastPicture = (file: string): ((px: number, py: number) => ReadonlyArray<number>) => {
  const rgb = execFileSync("ffmpeg", ["-v", "error", "-f", "h264", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { maxBuffer: 256 << 20 })
  const frame = rgb.subarray(rgb.length - W * H * 3)
  return (px, py) => [...frame.subarray((py * W + px) * 3, (py * W + px) * 3 + 3)]
}
const isGreen = ([r, g, b]: ReadonlyArray<number>) => g! > 200 && r! < 60 && b! < 60

const videoPort: Effect.Effect<GameStreamVideoPort, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => new (nativeModule().GameStreamVideoPort)("127.0.0.1", 0)),
  (p) => Effect.sync(() => p.close())
)

describe.skipIf(!hasXvfb())("x11 capture driven by DAMAGE", () => {
  it.live("a still screen is all repeats and is not encoded again; an IDR asked for still comes", () =>
    Effect.gen(function* () {
      const dump = path.join(tmp("pf-x11-still-"), "still.h264")
      const totals = yield* Effect.scoped(
        Effect.gen(function* () {
          const { windows, session } = yield* openNative(baseConfig({ source: "x11", display: display(), width: W, height: H }), {
            window_ms: 500,
            dump_path: dump
          })
          const first = yield* takeWindows(windows, 2)
          const settled = session.totals()
          // The screen has not changed since the first grab: one new picture, the rest repeats.
          expect(newPictures(session)).toBe(1)
          expect(first[1]?.fps).toBeGreaterThan(0)
          expect(first[1]?.repeat_fps).toBe(first[1]?.fps)
          // The first picture went to the encoder once more at least (refinement), not every tick.
          expect(settled.encoded).toBeGreaterThanOrEqual(2)
          expect(settled.encoded).toBeLessThan(settled.frames)

          // Two more still windows: every tick counted as a repeat, nothing encoded (no client
          // to keep alive: a measurement session), so nothing sent and no stage measured.
          const still = yield* takeWindows(windows, 2)
          const later = session.totals()
          for (const w of still) {
            expect(w.repeat_fps).toBe(w.fps)
            expect(w.mbps).toBe(0)
            expect(w.stages).toEqual([])
          }
          expect(later.frames).toBeGreaterThan(settled.frames)
          expect(later.encoded).toBe(settled.encoded)

          // A client's IDR request on the still screen: exactly one frame is encoded, a key frame.
          session.requestIdr()
          yield* until("the requested IDR", () => session.totals().encoded > later.encoded)
          yield* takeWindows(windows, 1)
          expect(session.totals().encoded).toBe(later.encoded + 1)
          expect(newPictures(session)).toBe(1)
          return session
        })
      ).pipe(Effect.map((s) => s.totals()))
      // What reached the bitstream: the encoded frames and nothing else; the first picture and
      // the requested one are key frames.
      const keys = packetKeys(dump)
      expect(keys.length).toBe(totals.encoded)
      expect(keys[0]).toBe(true)
      expect(keys.at(-1)).toBe(true)
      expect(keys.filter((k) => k).length).toBe(2)
    })
  )

  it.live("a window drawn is a new picture, and the punktfunk/1 receiver decodes it with the window in it", () =>
    Effect.gen(function* () {
      const keyHex = randomBytes(20).toString("hex")
      const saved = path.join(tmp("pf-x11-window-"), "received.h264")
      // The receiver's file is complete once it is closed: the whole exchange is one scope.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const receiver = yield* Effect.acquireRelease(
            Effect.sync(() => new (media().MediaReceiver)({ keyHex, bind: "127.0.0.1", port: 0, codec: "h264", savePath: saved })),
            (r) => Effect.sync(() => r.close())
          )
          const media1 = { host: "127.0.0.1", port: receiver.port, key_hex: keyHex, mtu: 1400, fec_percent: 20 }
          yield* Effect.scoped(
            Effect.gen(function* () {
              const { windows, session } = yield* openNative(
                baseConfig({ source: "x11", display: display(), width: W, height: H, media: media1 }),
                { window_ms: 500 }
              )
              const got = yield* takeWindows(windows, 3)
              // Still: repeats only after the first picture; the keepalive feeds the encoder now and
              // then (a client is there), far from every tick.
              expect(newPictures(session)).toBe(1)
              for (const w of got.slice(1)) expect(w.repeat_fps).toBe(w.fps)
              const still = session.totals()
              expect(still.encoded).toBeLessThan(still.frames / 2)
              yield* until("the still frames decoded", () => receiver.counters().frames_decoded >= still.encoded)

              const decodedBefore = receiver.counters().frames_decoded
              nativeTestHooks().x11MapWindow(display(), WINDOW.x, WINDOW.y, WINDOW.w, WINDOW.h, GREEN)
              yield* until("a new picture after the window was drawn", () => newPictures(session) >= 2)
              const after = session.totals().encoded
              yield* until("the new picture decoded", () => receiver.counters().frames_decoded >= after)
              expect(receiver.counters().frames_decoded).toBeGreaterThan(decodedBefore)
              expect(receiver.counters().decode_errors).toBe(0)
            })
          )
        })
      )
      // The frames the receiver reassembled, decoded by ffmpeg: the window is where it was drawn.
      const at = lastPicture(saved)
      expect(isGreen(at(WINDOW.x + WINDOW.w / 2, WINDOW.y + WINDOW.h / 2))).toBe(true)
      expect(isGreen(at(WINDOW.x + 8, WINDOW.y + 8))).toBe(true)
      expect(isGreen(at(WINDOW.x + WINDOW.w + 20, WINDOW.y + WINDOW.h + 20))).toBe(false)
      expect(isGreen(at(8, 8))).toBe(false)
    })
  )

  it.live("a GameStream client that joins a still screen gets an IDR at once, then keepalive frames numbered without gaps", () =>
    Effect.gen(function* () {
      const port = yield* videoPort
      const payload = "0123456789abcdef"
      const { windows, session } = yield* openNative(
        baseConfig({
          kind: "gamestream",
          source: "x11",
          display: display(),
          width: W,
          height: H,
          gamestream: { videoFd: port.fd, clientHost: "127.0.0.1", pingPayload: payload, packetSize: 1024, fecPercent: 20, minRequiredFecPackets: 2 }
        }),
        { window_ms: 500 }
      )
      // The screen is still before the client comes.
      yield* takeWindows(windows, 2)
      const pictures = newPictures(session)
      const receiver = yield* makeVideoReceiver({ hostPort: port.port, pingPayload: payload, packetSize: 1024 })
      const frames = yield* receiver.frames.pipe(Stream.take(4), Stream.runCollect, Effect.map(Chunk.toReadonlyArray), Effect.timeout("60 seconds"))
      // Nothing changed on the screen while the client joined and watched.
      expect(newPictures(session)).toBe(pictures)
      expect(frames.map((f) => f.frameIndex)).toEqual([1, 2, 3, 4])
      expect(frames[0]?.frameType).toBe(2)
      expect(frames.every((f) => f.decoded)).toBe(true)
      const c = yield* receiver.counters
      expect(c.decodeErrors).toBe(0)
      expect([c.width, c.height]).toEqual([W, H])
    }).pipe(Effect.scoped)
  )
})
