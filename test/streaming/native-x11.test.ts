/**
 * XShm capture of a real X server: a private Xvfb on a free display number (`-noreset`: an X
 * server resets and repaints its root when its last client leaves, wiping the drawing), a red rectangle
 * drawn on its root window, then (1) the capture's own pixels and (2) a whole x11 session's
 * encoded output decoded by ffmpeg must both show the rectangle where it was drawn — and not
 * elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { execFileSync, spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { nativeModule } from "../../src/native/binding.js"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig, takeWindows, tmp } from "./nativeSupport.js"

const W = 640
const H = 480
const RECT = { x: 100, y: 80, w: 200, h: 120 }

const freeDisplay = (): number => {
  for (let n = 90; n < 200; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n
  }
  throw new Error("no free X display number")
}

let xvfb: ChildProcess | undefined
let display = ""

const waitForDisplay = async (name: string) => {
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      nativeTestHooks().x11Grab(name, 16, 16)
      return
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Xvfb ${name} did not come up: ${String(e)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

beforeAll(async () => {
  const n = freeDisplay()
  display = `:${n}`
  xvfb = spawn("Xvfb", [display, "-screen", "0", `${W}x${H}x24`, "-nolisten", "tcp", "-noreset"], { stdio: "ignore" })
  await waitForDisplay(display)
  nativeTestHooks().x11FillRect(display, RECT.x, RECT.y, RECT.w, RECT.h, 0xff0000)
})

afterAll(() => {
  xvfb?.kill("SIGTERM")
})

/** [r, g, b] at (x, y) of a BGRX buffer `width` pixels wide. */
const bgrx = (buf: Buffer, width: number, x: number, y: number) => {
  const i = (y * width + x) * 4
  return [buf[i + 2]!, buf[i + 1]!, buf[i]!]
}

const isRed = ([r, g, b]: ReadonlyArray<number>) => r! > 200 && g! < 60 && b! < 60

describe("x11 capture under Xvfb", () => {
  it("the XShm grab sees the rectangle drawn on the display", () => {
    const pixels = nativeTestHooks().x11Grab(display, W, H)
    expect(bgrx(pixels, W, RECT.x + 1, RECT.y + 1)).toEqual([255, 0, 0])
    expect(bgrx(pixels, W, RECT.x + RECT.w - 2, RECT.y + RECT.h - 2)).toEqual([255, 0, 0])
    expect(isRed(bgrx(pixels, W, RECT.x - 5, RECT.y - 5))).toBe(false)
    expect(isRed(bgrx(pixels, W, RECT.x + RECT.w + 5, RECT.y + RECT.h + 5))).toBe(false)
  })

  it.live("an x11 session encodes what is on the screen", () =>
    Effect.gen(function* () {
      const dump = path.join(tmp("pf-x11-"), "x11.h264")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const { meta, windows } = yield* openNative(baseConfig({ source: "x11", display, width: W, height: H }), {
            window_ms: 500,
            dump_path: dump
          })
          expect(meta.encoder_backend).toBe("libx264")
          const got = yield* takeWindows(windows, 2)
          // The first window holds the first grab; the screen stays still after it, so later
          // windows are repeats that skip the stages (native-x11-damage.test.ts).
          expect(got[0]?.stages.find((s) => s.name === "capture")?.p50_us).toBeGreaterThan(0)
          expect(got[1]?.repeat_fps).toBe(got[1]?.fps)
        })
      )
      // The last decoded frame as RGB, by ffmpeg's decoder.
      const rgb = execFileSync("ffmpeg", ["-v", "error", "-f", "h264", "-i", dump, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
        maxBuffer: 64 << 20
      })
      expect(rgb.length).toBe(W * H * 3)
      const at = (x: number, y: number) => [...rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)]
      expect(isRed(at(RECT.x + RECT.w / 2, RECT.y + RECT.h / 2))).toBe(true)
      expect(isRed(at(RECT.x + 10, RECT.y + 10))).toBe(true)
      expect(isRed(at(RECT.x - 20, RECT.y - 20))).toBe(false)
      expect(isRed(at(RECT.x + RECT.w + 20, RECT.y + RECT.h / 2))).toBe(false)
    })
  )

  it.live("an X server that goes away ends the session with the reason; the host process lives on", () =>
    Effect.gen(function* () {
      const n = freeDisplay()
      const doomed = `:${n}`
      const server = spawn("Xvfb", [doomed, "-screen", "0", "320x240x24", "-nolisten", "tcp", "-noreset"], { stdio: "ignore" })
      yield* Effect.addFinalizer(() => Effect.sync(() => void server.kill("SIGKILL")))
      yield* Effect.promise(() => waitForDisplay(doomed))
      const failure = yield* Effect.scoped(
        Effect.gen(function* () {
          const { windows } = yield* openNative(baseConfig({ source: "x11", display: doomed, width: 320, height: 240 }), { window_ms: 300 })
          yield* takeWindows(windows, 1)
          server.kill("SIGTERM")
          return yield* windows.pipe(Stream.runDrain, Effect.flip, Effect.timeout("60 seconds"))
        })
      )
      expect(failure._tag).toBe("PipelineError")
      expect(failure.message).toContain(`the X display '${doomed}' went away`)
      expect(nativeModule().activeThreads()).toBe(0)
    }).pipe(Effect.scoped)
  )

  it.live("a display smaller than the session is refused by name", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.scoped(openNative(baseConfig({ source: "x11", display, width: 1280, height: 720 }))).pipe(Effect.flip)
      expect(exit._tag).toBe("PipelineConfigError")
      expect(exit.message).toMatch(new RegExp(`'${display}' is ${W}x${H}, smaller than the requested 1280x720`))
    })
  )
})
