/**
 * What an idle host costs: the compiled host (`node dist/main.js`, port 0, synthetic source,
 * GameStream on, mDNS off) with no client, its process CPU time (utime + stime of every thread,
 * from /proc/<pid>/stat) over `PUNKTFUNK_IDLE_S` seconds (default 30) after a short settle.
 * Target: under 1% of a core — a host runs a source and an encoder only while a client watches.
 *
 * Beside it, in the same run and the same process, the cost of one client watching the host's
 * default format (1280×720@60, 10 Mb/s, libx264, no media sent): that is what every idle host
 * used to spend on a session of its own, encoding to nowhere (55–63% of a core before the
 * change, on this kind of machine). Figures are printed, never asserted.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { GAMESTREAM_ON_PORT_ZERO, spawnBenchHost } from "./BenchHost.js"
import type { BenchReport } from "./run.js"
import { watchWithoutMedia } from "./Viewer.js"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const ticksPerSecond = (): number => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
}

/** utime + stime of the whole process (all its threads), in clock ticks. */
const cpuTicks = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return Number(fields[11]) + Number(fields[12]) // fields 14 and 15 of stat(5)
}

const threadCount = (pid: number): number => Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "NaN")

/** Share of one core the process used over `seconds`. */
const coreShare = async (pid: number, seconds: number, hz: number): Promise<number> => {
  const before = cpuTicks(pid)
  const started = process.hrtime.bigint()
  await sleep(seconds * 1000)
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  return (cpuTicks(pid) - before) / hz / elapsed
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" / ")
const percent = (share: number) => `${(share * 100).toFixed(2)}%`

export default async (): Promise<BenchReport> => {
  const seconds = Number(process.env["PUNKTFUNK_IDLE_S"] ?? "30")
  const hz = ticksPerSecond()
  const host = spawnBenchHost({ prefix: "punktfunk-idle-", env: { PUNKTFUNK_SOURCE: "synthetic", ...GAMESTREAM_ON_PORT_ZERO } })
  try {
    const { url, token } = await host.started()
    const pid = host.child.pid ?? 0
    // Start-up (module loading, JIT, certificate work) is not idling: let it settle first.
    await sleep(3_000)
    const idleLoad = load()
    const idle = await coreShare(pid, seconds, hz)
    const idleThreads = threadCount(pid)

    const viewer = await watchWithoutMedia({ url, token, output: host.output }, "idle-bench", { width: 1280, height: 720, fps: 60, bitrateKbps: 10_000 })
    let watched: number
    let watchedLoad: string
    let watchedThreads: number
    try {
      await sleep(3_000)
      watchedLoad = load()
      watched = await coreShare(pid, seconds, hz)
      watchedThreads = threadCount(pid)
    } finally {
      await viewer.stop()
    }
    return {
      title: "Idle host: process CPU time with no client (target: under 1% of a core)",
      lines: [
        `Compiled host, synthetic source, GameStream on (mDNS off), loopback; CPU = utime + stime of the whole process over ${seconds} s, as a share of one core.`,
        ``,
        `| Host | CPU (share of one core) | threads | load (1/5/15 min) |`,
        `|---|---|---|---|`,
        `| idle: no client | ${percent(idle)} | ${idleThreads} | ${idleLoad} |`,
        `| one client watching 1280×720@60, 10 Mb/s, no media (what an idle host used to spend) | ${percent(watched)} | ${watchedThreads} | ${watchedLoad} |`,
        ``,
        `Idle: ${percent(idle)} of a core (target < 1%); ${(watched / Math.max(idle, 1e-6)).toFixed(0)}× less than the same host encoding one 720p60 session.`
      ]
    }
  } finally {
    await host.stop()
  }
}
