/**
 * `PUNKTFUNK_LOG_FORMAT=json` and `PUNKTFUNK_LOG_LEVEL` on the real host process: what a log
 * collector reading the host's stdout line by line gets.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { mainJs, requireBuild } from "./support/HostProcess.js"
import { tempDir, waitFor } from "./support/TestHost.js"

interface Running {
  readonly child: ChildProcess
  readonly lines: () => ReadonlyArray<string>
  readonly stderr: () => string
}

const running: Array<ChildProcess> = []
afterEach(() => {
  for (const child of running.splice(0)) child.kill("SIGKILL")
})

const start = (env: Record<string, string>): Running => {
  requireBuild()
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...process.env,
      PUNKTFUNK_PORT: "0",
      PUNKTFUNK_PUNKTFUNK1_PORT: "0",
      PUNKTFUNK_GAMESTREAM: "off",
      PUNKTFUNK_SOURCE: "fake",
      PUNKTFUNK_FAKE_WINDOW_MS: "50",
      PUNKTFUNK_CONFIG_DIR: tempDir("punktfunk-logs-"),
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  running.push(child)
  let out = ""
  let err = ""
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()))
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()))
  // Only whole lines: a chunk may end mid-line.
  return { child, lines: () => out.split("\n").slice(0, -1), stderr: () => err }
}

const arm = async (url: string, tokenFile: string) => {
  const token = fs.readFileSync(tokenFile, "utf8").trim()
  const res = await fetch(`${url}/api/v1/stats/start`, { method: "POST", headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
}

describe("the host's log lines", () => {
  it("PUNKTFUNK_LOG_FORMAT=json: every stdout line is one JSON object with message, level and time", async () => {
    const host = start({ PUNKTFUNK_LOG_FORMAT: "json" })
    const parsed = () => host.lines().map((line) => JSON.parse(line) as Record<string, unknown>)
    const message = (pattern: RegExp) => parsed().map((l) => String(l["message"])).map((m) => pattern.exec(m)).find((m) => m !== null)
    await waitFor(() => message(/^token file: (.+?)(?: \(generated now.*)?$/) !== undefined, 30_000, `start lines\n${host.stderr()}`)
    const url = message(/^punktfunk host listening on (http\S+)$/)?.[1]
    const tokenFile = message(/^token file: (.+?)(?: \(generated now.*)?$/)?.[1]
    expect(url).toBeDefined()
    expect(tokenFile).toBeDefined()

    await arm(url ?? "", tokenFile ?? "")
    await waitFor(() => message(/^capture armed$/) !== undefined, 10_000, "the 'capture armed' log line")
    const armed = parsed().find((l) => l["message"] === "capture armed")
    expect(armed?.["logLevel"]).toBe("INFO")
    expect(Number.isNaN(Date.parse(String(armed?.["timestamp"])))).toBe(false)
    expect(armed).toHaveProperty("annotations")
    // Nothing else on stdout: a collector that parses each line as JSON never chokes.
    expect(() => parsed()).not.toThrow()
  })

  it("PUNKTFUNK_LOG_LEVEL=warning leaves out info lines, and the start lines still say where the console is", async () => {
    const quiet = start({ PUNKTFUNK_LOG_LEVEL: "warning" })
    const loud = start({})
    const startOf = (h: Running) => {
      const text = h.lines().join("\n")
      const url = /punktfunk host listening on (http\S+)/.exec(text)?.[1]
      const tokenFile = /^token file: (.+?)(?: \(generated now.*)?$/m.exec(text)?.[1]
      return url === undefined || tokenFile === undefined ? undefined : { url, tokenFile }
    }
    await waitFor(() => startOf(quiet) !== undefined && startOf(loud) !== undefined, 30_000, "both hosts' start lines")
    for (const h of [quiet, loud]) {
      const s = startOf(h)
      await arm(s?.url ?? "", s?.tokenFile ?? "")
    }
    await waitFor(() => loud.lines().some((l) => l.includes("capture armed")), 10_000, "the default level's 'capture armed'")
    // The quiet host armed too (its answer was 200 above); it only did not say so.
    expect(quiet.lines().some((l) => l.includes("capture armed"))).toBe(false)
    expect(quiet.lines().some((l) => /\] INFO \(/.test(l))).toBe(false)
    expect(loud.lines().some((l) => /\] INFO \(/.test(l))).toBe(true)
  })

  it("an unknown log format or level stops the start naming the variable", async () => {
    for (const [name, value] of [["PUNKTFUNK_LOG_FORMAT", "xml"], ["PUNKTFUNK_LOG_LEVEL", "loud"]] as const) {
      const host = start({ [name]: value })
      const code = await new Promise<number | null>((resolve) => host.child.on("exit", (c) => resolve(c)))
      expect(code).toBe(1)
      expect(host.stderr()).toContain(name)
    }
  })
})
