/**
 * Real-time at 60 fps with libx264 on this machine: a paced synthetic session at 1280×720 and
 * at 1920×1080, measured (perf) for several 2 s windows after a warm-up window. Reports the
 * per-stage p50/p99 and the measured host total (deadline → send) against the 16.7 ms frame
 * budget, the frame rate achieved and the deadlines skipped.
 *
 * Beside each session, in the same run, the bare libavcodec loop (src/native/bare: no Node, no
 * frame loop, only avcodec_send_frame + receive_packet timed) encodes the same frames with the
 * same settings, once paced on the same 60 fps clock and once back to back; its per-frame times
 * are cut into windows of the session's length and summarised the same way, so "our encode /
 * bare encode" compares like with like (target ≤ 1.2× at p50 and at p99, issue 12).
 *
 * Each resolution runs at both frame priorities (`PUNKTFUNK_FRAME_PRIORITY`, thread_priority.h):
 * normal, and realtime — the frame thread and libx264's workers under SCHED_RR. The bare loop
 * beside a realtime session runs under `chrt --rr` at the same priority, so the ratio still
 * compares like with like. Without the permission the realtime rows say so instead of a figure.
 */
import { execFileSync } from "node:child_process"
import { cpus } from "node:os"
import * as path from "node:path"
import { nativeBuildRoot } from "../native/addonPath.js"
import type { FramePriority } from "../native/binding.js"
import { fmt, load, median, openSession, options720, sleep } from "./native-support.js"

const WINDOWS = 5
const WINDOW_MS = 2_000
const FPS = 60
const KBPS = 10_000
const BUDGET_US = 1e6 / FPS

interface Percentiles {
  readonly p50: number
  readonly p99: number
}

const run = async (width: number, height: number, priority: FramePriority) => {
  const { session, windows } = openSession(options720({ width, height, fps: FPS, bitrate_kbps: KBPS, perf: true, window_ms: WINDOW_MS, priority }))
  const granted = session.info().priority === priority
  try {
    const deadline = Date.now() + (WINDOWS + 1) * WINDOW_MS + 20_000
    while (windows.length < WINDOWS + 1 && Date.now() < deadline) await sleep(100)
  } finally {
    session.close()
  }
  const steady = windows.slice(1)
  const stage = (name: string): Percentiles => {
    const xs = steady.map((w) => w.stages.find((s) => s.name === name)).filter((s) => s !== undefined)
    return { p50: median(xs.map((s) => s.p50_us)), p99: Math.max(...xs.map((s) => s.p99_us)) }
  }
  const fps = median(steady.map((w) => (w.frames * 1000) / w.duration_ms))
  const dropped = steady.reduce((sum, w) => sum + w.frames_dropped, 0)
  const host50 = median(steady.map((w) => w.host_p50_us))
  const host99 = Math.max(...steady.map((w) => w.host_p99_us))
  return { width, height, priority, granted, fps, dropped, host50, host99, stages: ["capture", "submit", "encode", "send"].map((n) => [n, stage(n)] as const), windows: steady.length }
}

/** Nearest rank, as the frame loop's windows compute it (window_stats.cc). */
const rank = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!

/** The bare loop on the same frames: windows of one session window's frames, the first dropped as warm-up. */
const bare = (width: number, height: number, mode: "paced" | "back-to-back", priority: FramePriority): Percentiles => {
  const perWindow = (FPS * WINDOW_MS) / 1000
  const program = path.join(nativeBuildRoot(), "bare", "build", "Release", "bare_encode")
  const args = [program, ...[width, height, FPS, KBPS, perWindow * (WINDOWS + 1), mode].map(String)]
  // The frame loop's real-time priority (thread_priority.h: SCHED_RR 10) for the whole bare program.
  const [file, ...rest] = priority === "realtime" ? ["chrt", "--rr", "10", ...args] : args
  const out = execFileSync(file!, rest, { encoding: "utf8" })
  const { encode_us } = JSON.parse(out) as { readonly encode_us: ReadonlyArray<number> }
  const windows: Array<ReadonlyArray<number>> = []
  for (let i = perWindow; i + perWindow <= encode_us.length; i += perWindow) windows.push([...encode_us.slice(i, i + perWindow)].sort((a, b) => a - b))
  return { p50: median(windows.map((w) => rank(w, 0.5))), p99: Math.max(...windows.map((w) => rank(w, 0.99))) }
}

const ms = (us: number) => `${fmt(us / 1000, 2)} ms`

export default async () => {
  const loadBefore = load()
  const results = []
  const refused: Array<string> = []
  for (const [w, h] of [[1280, 720], [1920, 1080]] as const)
    for (const priority of ["normal", "realtime"] as const) {
      const ours = await run(w, h, priority)
      if (!ours.granted) {
        refused.push(`${w}×${h} ${priority}`)
        continue
      }
      results.push({ ...ours, barePaced: bare(w, h, "paced", priority), bareBackToBack: bare(w, h, "back-to-back", priority) })
    }
  const lines = [
    `| resolution | frame priority | capture p50/p99 | submit p50/p99 | encode p50/p99 | send p50/p99 | host p50 | host p99 | budget | fps | deadlines skipped | 60 fps holds |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|`
  ]
  for (const r of results) {
    // Sub-millisecond stages (send without a network target) read better in µs.
    const cells = r.stages.map(([, s]) =>
      s.p99 < 1000 ? `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} µs` : `${fmt(s.p50 / 1000, 2)} / ${fmt(s.p99 / 1000, 2)} ms`
    )
    const holds = r.fps >= 59 && r.dropped === 0 && r.host99 < BUDGET_US
    lines.push(
      `| ${r.width}×${r.height}@60 | ${r.priority} | ${cells.join(" | ")} | ${ms(r.host50)} | ${ms(r.host99)} | ${ms(BUDGET_US)} | ${fmt(r.fps)} | ${r.dropped} | ${holds ? "yes" : "no"} |`
    )
  }
  lines.push(
    ``,
    `p50: median over ${results[0]?.windows ?? 0} steady 2 s windows of each window's p50; p99: the worst window's p99. "Holds" = ≥ 59 fps, no skipped deadline, host p99 within the budget.`,
    ``,
    `Our \`encode\` stage beside the bare libavcodec loop (same frames, same libx264 settings; windows of ${(FPS * WINDOW_MS) / 1000} frames summarised the same way; target ours/bare ≤ 1.2× at p50 and p99, against the paced loop):`,
    ``,
    `| resolution | frame priority | ours p50 / p99 | bare, paced 60 fps p50 / p99 | ours / bare paced p50 · p99 | bare, back to back p50 / p99 | ours / bare back to back p50 · p99 |`,
    `|---|---|---|---|---|---|---|`
  )
  for (const r of results) {
    const enc = r.stages.find(([n]) => n === "encode")![1]
    const ratio = (b: Percentiles) => `${fmt(enc.p50 / b.p50, 2)}× · ${fmt(enc.p99 / b.p99, 2)}×`
    lines.push(
      `| ${r.width}×${r.height} | ${r.priority} | ${ms(enc.p50)} / ${ms(enc.p99)} | ${ms(r.barePaced.p50)} / ${ms(r.barePaced.p99)} | ${ratio(r.barePaced)} | ${ms(r.bareBackToBack.p50)} / ${ms(r.bareBackToBack.p99)} | ${ratio(r.bareBackToBack)} |`
    )
  }
  if (refused.length > 0)
    lines.push(``, `Not measured (real-time priority not permitted to this process: CAP_SYS_NICE or RLIMIT_RTPRIO ≥ 10): ${refused.join(", ")}.`)
  lines.push(``, `Load average (1 min) before / after: ${loadBefore} / ${load()} on ${cpus().length} cores.`)
  return { title: "Native pipeline: libx264 at 60 fps against the frame budget (synthetic source, paced)", lines }
}
