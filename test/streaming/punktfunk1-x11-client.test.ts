/**
 * A still X11 desktop through the real processes: the compiled host capturing a private Xvfb
 * (`PUNKTFUNK_SOURCE=x11`) and the real `punktfunk-client` (src/client), paired through the
 * operator API as in punktfunk1-e2e.test.ts. While the screen is still the client keeps its stream
 * (the host's keepalive, src/native/sink.cc); a window drawn mid-stream is a new picture that
 * the client's decoder gets: the bitstream it saved shows the window where it was drawn, and
 * the first picture it got did not. Skipped where Xvfb is not installed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { Schema } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as path from "node:path"
import { PendingPairing } from "../../src/api/Pairing.js"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { hasXvfb, startXvfb } from "../gamestream/support/inputXvfb.js"
import type { TestDisplay } from "../gamestream/support/inputXvfb.js"
import { root, spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { tempDir, waitFor } from "../support/TestHost.js"

const W = 320
const H = 240
const WINDOW = { x: 60, y: 50, w: 140, h: 100 }
const clientJs = path.join(root, "dist", "client.js")

let x: TestDisplay | undefined
beforeAll(async () => {
  if (hasXvfb()) x = await startXvfb(W, H)
})
afterAll(() => x?.stop())

const started: Array<HostProcess> = []
afterEach(() => {
  for (const h of started.splice(0)) h.child.kill("SIGKILL")
})

/** The client process; `output()` grows while it runs. */
const startClient = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [clientJs, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (c: Buffer) => (output += c.toString()))
  child.stderr.on("data", (c: Buffer) => (output += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { output: () => output, exited }
}

/** Every decoded picture of an H.264 file, by ffmpeg's decoder: (frame, x, y) → [r, g, b]. */
const pictures = (file: string) => {
  const rgb = execFileSync("ffmpeg", ["-v", "error", "-f", "h264", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { maxBuffer: 256 << 20 })
  const size = W * H * 3
  return {
    count: rgb.length / size,
    at: (frame: number, px: number, py: number) => [...rgb.subarray(frame * size + (py * W + px) * 3, frame * size + (py * W + px) * 3 + 3)]
  }
}
const isGreen = ([r, g, b]: ReadonlyArray<number>) => g! > 200 && r! < 60 && b! < 60

describe.skipIf(!hasXvfb())("punktfunk/1 client on a still X11 desktop", () => {
  it("keeps streaming while nothing moves; a window drawn mid-stream reaches the client's decoder", async () => {
    const display = x?.display ?? ""
    const host = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: tempDir(),
      PUNKTFUNK_SOURCE: "x11",
      PUNKTFUNK_DISPLAY: display,
      PUNKTFUNK_WIDTH: String(W),
      PUNKTFUNK_HEIGHT: String(H),
      PUNKTFUNK_FPS: "30",
      PUNKTFUNK_STREAM_BIND: "127.0.0.1"
    })
    started.push(host)
    await waitFor(() => /punktfunk\/1 control on [^:]+:\d+/.test(host.output()), 15_000, "the control port")
    const port = /punktfunk\/1 control on [^:]+:(\d+)/.exec(host.output())?.[1] ?? ""
    const common = ["--host", "127.0.0.1", "--port", port, "--dir", tempDir("punktfunk-client-"), "--name", "still"]
    const pairing = startClient(["pair", ...common, "--pin", "2468"])
    const api = (route: string, init: RequestInit = {}) =>
      fetch(`${host.url}/api/v1/pairing${route}`, { ...init, headers: { authorization: `Bearer ${host.token}`, "content-type": "application/json" } })
    let requestId = ""
    await waitFor(async () => {
      requestId = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await (await api("/pending")).json())[0]?.request_id ?? ""
      return requestId !== ""
    }, 20_000, "the pairing request")
    expect((await api(`/pending/${requestId}/pin`, { method: "POST", body: JSON.stringify({ pin: "2468" }) })).status).toBe(200)
    expect(await pairing.exited, pairing.output()).toBe(0)

    const saved = path.join(tempDir("punktfunk-still-"), "received.h264")
    const client = startClient(["stream", ...common, "--seconds", "8", "--width", String(W), "--height", String(H), "--fps", "30", "--save", saved])
    // Two seconds of a still screen (the client prints one line a second), then a window.
    await waitFor(() => /t=2s /.test(client.output()), 30_000, "two seconds of streaming")
    nativeTestHooks().x11MapWindow(display, WINDOW.x, WINDOW.y, WINDOW.w, WINDOW.h, 0x00ff00)
    expect(await client.exited, client.output()).toBe(0)

    const line = client.output().split("\n").find((l) => l.startsWith("summary "))
    expect(line, client.output()).toBeDefined()
    const summary = JSON.parse(line!.slice("summary ".length)) as { frames_decoded: number; decode_errors: number; frames_dropped: number }
    expect(summary.decode_errors, client.output()).toBe(0)
    // The still seconds were not a stream of 30 frames a second (the first picture, its
    // refinement, then keepalives only), but they were not silent either.
    const still = [...client.output().matchAll(/t=(\d+)s fps=(\d+)/g)].map((m) => Number(m[2]))
    expect(still.length, client.output()).toBeGreaterThanOrEqual(2)
    expect(still[0]! + still[1]!, client.output()).toBeGreaterThanOrEqual(2)
    expect(still[1], client.output()).toBeLessThan(15)

    // What the client's decoder was given: first the plain screen, last the window where it was drawn.
    const p = pictures(saved)
    expect(p.count).toBe(summary.frames_decoded)
    const centre = [WINDOW.x + WINDOW.w / 2, WINDOW.y + WINDOW.h / 2] as const
    expect(isGreen(p.at(0, ...centre))).toBe(false)
    expect(isGreen(p.at(p.count - 1, ...centre))).toBe(true)
    expect(isGreen(p.at(p.count - 1, WINDOW.x + 4, WINDOW.y + 4))).toBe(true)
    expect(isGreen(p.at(p.count - 1, 10, 10))).toBe(false)
  })
})
