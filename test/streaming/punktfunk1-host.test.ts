/**
 * The compiled host with `PUNKTFUNK_SOURCE=synthetic` runs the addon's pipeline (PipelineChoice),
 * but only for someone: idle, it has no session — the status API, `punktfunk stats status` and
 * `/metrics` say 0, and no frame thread (`pf-frame`, the thread that captures and encodes) runs
 * in the process. A paired client that streams gets a punktfunk1 session, recorded when armed: the
 * punktfunk/1 stage set, the backend that really encoded (libx264, no GPU here), samples whose stages
 * are real numbers. When the client leaves, the session, its frame thread and its source stop
 * with it. SIGTERM then ends the host cleanly.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture, CaptureMeta, StatsStatus } from "../../src/api/Stats.js"
import { pairClient, runClient } from "../support/Clients.js"
import { root, spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { json, waitFor } from "../support/TestHost.js"
import { tmp } from "./nativeSupport.js"

const status = async (host: HostProcess) => Schema.decodeUnknownSync(StatsStatus)(await json(await host.fetch("/status")))

/** Threads of the host process named as the addon's frame loop names its thread. */
const frameThreads = (pid: number): number =>
  fs.readdirSync(`/proc/${pid}/task`).filter((tid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() === "pf-frame"
    } catch {
      return false // the thread ended while we looked
    }
  }).length

const activeSessionsMetric = async (host: HostProcess): Promise<number> => {
  const text = await (await fetch(`${host.url}/metrics`, { headers: { authorization: `Bearer ${host.token}` } })).text()
  const line = /^punktfunk_active_sessions (\S+)$/m.exec(text)
  if (line === null) throw new Error(`no punktfunk_active_sessions in /metrics:\n${text}`)
  return Number(line[1])
}

/**
 * `punktfunk stats status`, run without blocking this process: a blocked event loop would miss
 * the host closing an idle keep-alive connection, and the next request would be sent on it.
 */
const cliStatus = (host: HostProcess): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [path.join(root, "dist", "cli.js"), "stats", "status", "--host", host.url, "--token-file", host.tokenFile],
      { encoding: "utf8" },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error))
    )
  )

/** Everything an operator can look at says: nothing streams, nothing encodes. */
const expectIdle = async (host: HostProcess, pid: number) => {
  expect((await status(host)).active_sessions).toBe(0)
  expect(await activeSessionsMetric(host)).toBe(0)
  expect(await cliStatus(host)).toMatch(/^active sessions: 0$/m)
  expect(frameThreads(pid)).toBe(0)
}

describe("host on the addon's pipeline", () => {
  it("idle: no session and no frame thread; a client's session is punktfunk1 with real stages, and stops with the client", async () => {
    const dir = tmp("pf-punktfunk1-host-")
    const host = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: dir,
      PUNKTFUNK_SOURCE: "synthetic",
      PUNKTFUNK_STREAM_BIND: "127.0.0.1",
      PUNKTFUNK_ENCODER: "auto"
    })
    const pid = host.child.pid ?? 0
    try {
      const common = await pairClient(host, "punktfunk1-host")
      // Idle for longer than a window (2 s): a session opened at start would have registered
      // and sent its first window by now.
      await new Promise((r) => setTimeout(r, 3_000))
      await expectIdle(host, pid)

      expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
      const streaming = runClient(["stream", ...common, "--seconds", "8", "--width", "640", "--height", "360", "--fps", "30"])
      await waitFor(async () => (await status(host)).active_sessions === 1, 30_000, "the client's session")
      // While the client watches, the frame loop runs; the metrics count the session.
      await waitFor(() => frameThreads(pid) === 1, 10_000, "the frame thread")
      expect(await activeSessionsMetric(host)).toBe(1)
      await waitFor(async () => (await status(host)).sample_count >= 2, 60_000, "2 punktfunk/1 windows")
      const run = await streaming
      expect(run.code, run.output).toBe(0)

      // The last client left: its session, frame thread and source stop with it.
      await waitFor(async () => (await status(host)).active_sessions === 0, 15_000, "the session to end")
      await waitFor(() => frameThreads(pid) === 0, 10_000, "the frame thread to end")
      await expectIdle(host, pid)

      const res = await host.fetch("/stop", { method: "POST" })
      expect(res.status).toBe(200)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(await json(res))
      // The capture holds only the client's session: the first (and only) one is punktfunk1, for it.
      expect(meta.kind).toBe("punktfunk1")
      expect(meta.sessions).toHaveLength(1)
      expect(meta.sessions[0]?.client).toMatch(/^[0-9a-f]{16}$/)
      expect(meta.encoder_backend).toBe("libx264")
      expect(meta.id).toMatch(/_640x360$/)
      expect(meta.sessions[0]?.stages).toEqual(["capture", "submit", "encode", "send"])
      expect(meta.measured).toContain("host_p50_us")
      // A client's session: the host times its round trip.
      expect(meta.measured).toContain("rtt_us")

      const saved = Schema.decodeUnknownSync(Capture)(JSON.parse(fs.readFileSync(path.join(dir, "captures", `${meta.id}.json`), "utf8")))
      expect(saved.samples.length).toBeGreaterThanOrEqual(2)
      // Armed before the session opened: every window is measured throughout.
      expect(saved.samples.every((s) => s.stages.length > 0)).toBe(true)
      for (const s of saved.samples) {
        expect(s.stages.map((x) => x.name)).toEqual(["capture", "submit", "encode", "send"])
        for (const st of s.stages) expect(st.p50_us).toBeGreaterThan(0)
        expect(s.host_p50_us).toBeGreaterThan(0)
      }
      // The last window may be cut short by the client leaving; every full one carries frames.
      for (const s of saved.samples.slice(0, -1)) {
        expect(s.fps).toBeGreaterThan(0)
        expect(s.mbps).toBeGreaterThan(0)
      }
      expect(host.output()).toMatch(/session punktfunk1-\d+-1 \(punktfunk1\) 640x360@30 h264 via libx264 for client [0-9a-f]{16}/)
      expect(host.output()).toMatch(/no NVIDIA GPU found; using software encoder libx264/)
    } finally {
      host.child.kill("SIGTERM")
    }
    const { code } = await host.exited
    expect(code).toBe(0)
  })
})
