/**
 * Sessions are scoped resources: closing the scope or interrupting the fiber that holds it stops
 * and joins the frame thread (the addon's live-thread count returns to 0), and a process whose
 * session scope ended exits by itself — nothing native keeps its event loop alive.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { nativeModule } from "../../src/native/binding.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { baseConfig, takeWindows } from "./nativeSupport.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

describe("session lifetime", () => {
  it.live("closing the scope stops and joins the frame thread", () =>
    Effect.gen(function* () {
      const addon = nativeModule()
      expect(addon.activeThreads()).toBe(0)
      const session = yield* Effect.scoped(
        Effect.gen(function* () {
          const opened = yield* openNative(baseConfig(), { window_ms: 300 })
          expect(addon.activeThreads()).toBe(1)
          yield* takeWindows(opened.windows, 1)
          return opened.session
        })
      )
      expect(addon.activeThreads()).toBe(0)
      expect(session.totals().running).toBe(false)
      session.close() // idempotent
    })
  )

  it.live("interrupting the fiber that holds a session stops its thread", () =>
    Effect.gen(function* () {
      const addon = nativeModule()
      const started = yield* Effect.makeLatch(false)
      const fiber = yield* Effect.scoped(
        Effect.gen(function* () {
          const { windows } = yield* openNative(baseConfig(), { window_ms: 300 })
          yield* windows.pipe(Stream.tap(() => started.open), Stream.runDrain)
        })
      ).pipe(Effect.fork)
      yield* started.await.pipe(Effect.timeout("30 seconds"))
      expect(addon.activeThreads()).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect(addon.activeThreads()).toBe(0)
    })
  )

  it("a process whose session scope ended exits on its own", async () => {
    const compiled = path.join(root, "dist", "streams", "NativePipeline.js")
    if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing: run 'npm run build' before the tests`)
    const child = spawn(process.execPath, [path.join(root, "test", "streaming", "fixtures", "session-child.mjs")], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (d: Buffer) => void (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => void (out += d.toString()))
    const exited = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | "hung">((resolve) => {
      const timer = setTimeout(() => resolve("hung"), 60_000)
      child.on("exit", (code, signal) => {
        clearTimeout(timer)
        resolve({ code, signal })
      })
    })
    if (exited === "hung") child.kill("SIGKILL")
    expect(exited, out).toEqual({ code: 0, signal: null })
    expect(out).toContain("running threads=1")
    expect(out).toContain("closed threads=0")
  })
})
