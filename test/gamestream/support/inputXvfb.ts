/**
 * A private Xvfb for the input tests: a free display number, `-noreset` (an X server resets
 * when its last client leaves), ready once a probe connection opens. `undefined` (with a
 * console warning) where Xvfb is not installed, so the tests that need it are skipped.
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import { inputModule } from "../../../src/native/input.js"
import type { XProbe } from "../../../src/native/input.js"

export const hasXvfb = (): boolean => spawnSync("sh", ["-c", "command -v Xvfb"], { stdio: "ignore" }).status === 0

const freeDisplay = (): number => {
  for (let n = 120; n < 250; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n
  }
  throw new Error("no free X display number")
}

export interface TestDisplay {
  readonly display: string
  readonly probe: XProbe
  readonly stop: () => void
}

export const startXvfb = async (width: number, height: number): Promise<TestDisplay> => {
  const display = `:${freeDisplay()}`
  const xvfb: ChildProcess = spawn("Xvfb", [display, "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp", "-noreset"], {
    stdio: "ignore"
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      const probe = new (inputModule().XProbe)(display)
      return {
        display,
        probe,
        stop: () => {
          probe.close()
          xvfb.kill("SIGTERM")
        }
      }
    } catch (e) {
      if (Date.now() > deadline || xvfb.exitCode !== null) {
        xvfb.kill("SIGTERM")
        throw new Error(`Xvfb ${display} did not come up: ${String(e)}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** Polls until `check` holds (a failure guard, not a timing assertion). */
export const until = async (what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
