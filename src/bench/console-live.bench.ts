/**
 * The console's live view with a full capture's worth of samples: a host on the fake pipeline at
 * high speed (`PUNKTFUNK_SOURCE=fake`, one window every `PUNKTFUNK_FAKE_WINDOW_MS`, 10 ms here)
 * is armed, headless Chromium shows its Performance page, and once the live view holds 4,800
 * windows the page's frames are timed while the next ones arrive, up to the 5,400-sample cap
 * (three hours of 2 s windows: what a long live capture holds at its end).
 *
 * What is measured, in the page: the interval between animation frames (a frame whose work takes
 * longer than the 16.7 ms budget delays the next one), and from Chromium's own counters the
 * main-thread time (script, style, layout, paint) spent per arriving sample. Target (issue 15):
 * the frame time stays under 16 ms while a sample arrives.
 *
 * `PUNKTFUNK_BENCH_WEB_DIR` points the host at another console build; `PUNKTFUNK_LIVE_BEFORE_WEB_DIR`
 * measures a second build first in the same run (the previous console, built into a directory of
 * its own with `vite build web --outDir DIR`), each with its own host and browser, so the before
 * and now rows share the machine's load of the moment. `PUNKTFUNK_LIVE_PROFILE=file`
 * also records a CPU profile of the page while it is timed (Chromium's sampling profiler, which
 * itself costs time: the figures of such a run are not the ones to quote), writes it to `file`
 * (`.cpuprofile`, opens in Chromium's DevTools) and lists the functions with the most self time —
 * with a console built unminified (`vite build web --minify false`) they carry their names.
 * `PUNKTFUNK_LIVE_TRACE=1` records a Chromium trace instead and lists the renderer main thread's
 * self time by trace event (paint, commit, layout, style, script), which is how the paint and
 * commit cost of redrawing settled points showed up.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { BenchReport } from "./run.js"
import { loopbackConsoleEnv, startBenchHost } from "./BenchHost.js"
import { launchChromium } from "./Chromium.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const WINDOW_MS = process.env["PUNKTFUNK_LIVE_WINDOW_MS"] ?? "10"
const FROM = 4800
const CAP = 5400
/** Another console build (the one before a change) to measure first, side by side in the same run. */
const BEFORE_WEB_DIR = process.env["PUNKTFUNK_LIVE_BEFORE_WEB_DIR"]
const PROFILE = process.env["PUNKTFUNK_LIVE_PROFILE"]
const TRACE = process.env["PUNKTFUNK_LIVE_TRACE"] !== undefined

interface TraceEvent {
  readonly name: string
  readonly ph: string
  readonly ts: number
  readonly dur?: number
  readonly pid: number
  readonly tid: number
  readonly args?: { readonly name?: string }
}

/**
 * Where the renderer's main thread spends its time, from a Chromium trace: the self time of each
 * kind of trace event (time inside it not inside a nested one), over the page's main thread.
 */
const traceSelf = (events: ReadonlyArray<TraceEvent>, count: number): Array<string> => {
  const main = events.find((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain")
  if (main === undefined) return ["trace: no renderer main thread"]
  const slices = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === "X" && e.dur !== undefined).sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0))
  const self = new Map<string, number>()
  // Self time = own duration minus the durations of the slices directly nested in it.
  const open: Array<{ name: string; end: number; own: number }> = []
  const finish = (e: { name: string; own: number }) => self.set(e.name, (self.get(e.name) ?? 0) + e.own)
  for (const e of slices) {
    while (open.length > 0 && (open[open.length - 1]?.end ?? 0) <= e.ts) finish(open.pop()!)
    const parent = open[open.length - 1]
    const dur = e.dur ?? 0
    if (parent !== undefined) parent.own -= Math.min(dur, parent.end - e.ts)
    open.push({ name: e.name, end: e.ts + dur, own: dur })
  }
  while (open.length > 0) finish(open.pop()!)
  return [
    `Trace, renderer main thread, self time by event:`,
    ``,
    ...[...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => `- ${(us / 1000).toFixed(1)} ms ${name}`)
  ]
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples?: ReadonlyArray<number>
  readonly timeDeltas?: ReadonlyArray<number>
}

/** The functions with the most self time in a CPU profile, as Markdown lines. */
const topSelf = (profile: CpuProfile, count: number): Array<string> => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  let total = 0
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] ?? -1)
    const us = deltas[i] ?? 0
    if (node === undefined) continue
    const f = node.callFrame
    const name = `${f.functionName === "" ? "(anonymous)" : f.functionName} ${f.url === "" ? "" : `${path.basename(f.url)}:${f.lineNumber + 1}`}`.trim()
    if (name !== "(idle)" && name !== "(program)") total += us
    self.set(name, (self.get(name) ?? 0) + us)
  }
  return [
    `CPU profile: ${(total / 1000).toFixed(0)} ms in script and the engine's own work; most self time:`,
    ``,
    ...[...self.entries()]
      .filter(([name]) => name !== "(idle)" && name !== "(program)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => `- ${(us / 1000).toFixed(1)} ms ${name}`)
  ]
}

const startHost = (env: Record<string, string>) => startBenchHost(env, 30_000)

/** In-page: animation-frame intervals until the live count reaches `until` (or 15 s pass). */
const timeFrames = (until: number): string => `new Promise((resolve) => {
  const count = () => Number(/(\\d+) windows/.exec(document.querySelector('[data-testid="live-count"]')?.textContent ?? "")?.[1] ?? 0)
  const first = count()
  const stamps = []
  const started = performance.now()
  const frame = (t) => {
    stamps.push(t)
    if (count() >= ${until} || performance.now() - started > 15000) resolve({ stamps, first, last: count() })
    else requestAnimationFrame(frame)
  }
  requestAnimationFrame(frame)
})`

interface Frames {
  readonly stamps: ReadonlyArray<number>
  readonly first: number
  readonly last: number
}

const pct = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] ?? Number.NaN

/**
 * CPU time (user + system, ms) of `root` and every process below it, from /proc, by thread name
 * (CrRendererMain, Compositor, CompositorTileW for raster, VizCompositorTh, ...).
 */
const treeCpuMs = (root: number): Map<string, number> => {
  const tick = 1000 / 100 // USER_HZ: 100 on Linux
  const parents = new Map<number, number>()
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8")
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]))
    } catch {
      // The process ended while being read.
    }
  }
  const under = new Set([root])
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, ppid] of parents) if (!under.has(pid) && under.has(ppid)) (under.add(pid), (grew = true))
  }
  const byThread = new Map<string, number>()
  for (const pid of under) {
    try {
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
        // Fields after the thread name (which may hold spaces) in parentheses.
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "")
        const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        byThread.set(comm, (byThread.get(comm) ?? 0) + (Number(rest[11]) + Number(rest[12])) * tick)
      }
    } catch {
      // The process ended while being read.
    }
  }
  return byThread
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

/** The Chromium browser process of a persistent context: the one whose command line names `profile`. */
const browserPid = (profile: string): number | undefined => {
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0")
      if (cmd.includes(`--user-data-dir=${profile}`) && !cmd.some((a) => a.startsWith("--type="))) return Number(name)
    } catch {
      // The process ended while being read.
    }
  }
  return undefined
}

interface Run {
  readonly frames: Frames
  readonly taskMs: number
  readonly split: { readonly script: number; readonly style: number; readonly layout: number }
  readonly load: readonly [number, number]
  /** CPU time of all of Chromium's processes (renderer, compositor, raster, browser) while timed. */
  readonly chromiumCpuMs: number
  readonly cpuByThread: ReadonlyArray<readonly [string, number]>
  readonly notes: ReadonlyArray<string>
}

/** One host, one browser, one console build: arm, wait for `FROM` windows, time until `CAP`. */
const measure = async (webDir: string): Promise<Run> => {
  if (!fs.existsSync(path.join(webDir, "index.html"))) throw new Error(`${webDir} has no console build: run npm run build:web`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-live-"))
  const host = await startHost(loopbackConsoleEnv(dir, webDir, { PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: WINDOW_MS }))
  const browser = await launchChromium()
  const { context, profile } = browser
  try {
    const page = await context.newPage()
    await page.goto(`${host.url}/#token=${host.token}`)
    await page.getByRole("button", { name: "Arm" }).click()
    await page.getByTestId("live-count").waitFor({ timeout: 30_000 })
    await page.waitForFunction(
      `Number(/(\\d+) windows/.exec(document.querySelector('[data-testid="live-count"]')?.textContent ?? "")?.[1] ?? 0) >= ${FROM}`,
      undefined,
      { timeout: 300_000, polling: 500 }
    )
    const cdp = await context.newCDPSession(page)
    await cdp.send("Performance.enable")
    const metrics = async () => new Map((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]))
    if (PROFILE !== undefined) {
      await cdp.send("Profiler.enable")
      await cdp.send("Profiler.setSamplingInterval", { interval: 200 })
      await cdp.send("Profiler.start")
    }
    const traced: Array<TraceEvent> = []
    const traceDone = new Promise<void>((resolve) => cdp.on("Tracing.tracingComplete", () => resolve()))
    if (TRACE) {
      cdp.on("Tracing.dataCollected", (e) => traced.push(...(e.value as unknown as Array<TraceEvent>)))
      await cdp.send("Tracing.start", { categories: "devtools.timeline,disabled-by-default-devtools.timeline,blink,cc,v8", transferMode: "ReportEvents" })
    }
    const loadBefore = os.loadavg()[0] ?? Number.NaN
    const pid = browserPid(profile)
    const cpuBefore = pid === undefined ? new Map<string, number>() : treeCpuMs(pid)
    const before = await metrics()
    const frames = (await page.evaluate(timeFrames(CAP))) as Frames
    const after = await metrics()
    const cpuAfter = pid === undefined ? new Map<string, number>() : treeCpuMs(pid)
    const chromiumCpuMs = pid === undefined ? Number.NaN : sum(cpuAfter) - sum(cpuBefore)
    const cpuByThread = [...cpuAfter].map(([name, ms]) => [name, ms - (cpuBefore.get(name) ?? 0)] as const).sort((a, b) => b[1] - a[1])
    const loadAfter = os.loadavg()[0] ?? Number.NaN
    let notes: Array<string> = []
    if (PROFILE !== undefined) {
      const { profile } = (await cdp.send("Profiler.stop")) as unknown as { profile: CpuProfile }
      fs.writeFileSync(PROFILE, JSON.stringify(profile))
      notes = topSelf(profile, 25)
    }
    if (TRACE) {
      await cdp.send("Tracing.end")
      await traceDone
      notes = [...notes, ``, ...traceSelf(traced, 30)]
    }
    const spent = (name: string) => ((after.get(name) ?? Number.NaN) - (before.get(name) ?? Number.NaN)) * 1000
    await fetch(`${host.url}/api/v1/stats/stop`, { method: "POST", headers: { authorization: `Bearer ${host.token}` } })
    return {
      frames,
      taskMs: spent("TaskDuration"),
      split: { script: spent("ScriptDuration"), style: spent("RecalcStyleDuration"), layout: spent("LayoutDuration") },
      load: [loadBefore, loadAfter],
      chromiumCpuMs,
      cpuByThread,
      notes
    }
  } finally {
    await browser.close()
    await host.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const f = (ms: number) => `${ms.toFixed(1)} ms`

/** A table row and a line on where the main-thread time went. */
const describe = (label: string, run: Run): { row: string; split: string } => {
  const { frames, taskMs, split } = run
  const intervals: Array<number> = []
  for (let i = 1; i < frames.stamps.length; i++) intervals.push((frames.stamps[i] ?? 0) - (frames.stamps[i - 1] ?? 0))
  const sorted = [...intervals].sort((a, b) => a - b)
  const spanMs = (frames.stamps[frames.stamps.length - 1] ?? 0) - (frames.stamps[0] ?? 0)
  const arrived = Math.max(1, frames.last - frames.first)
  const late = intervals.filter((i) => i > 20).length
  return {
    row: `| ${label} | ${run.load[0].toFixed(1)}–${run.load[1].toFixed(1)} | ${frames.last - frames.first} in ${(spanMs / 1000).toFixed(1)} s | ${intervals.length} | ${f(pct(sorted, 0.5))} | ${f(pct(sorted, 0.99))} | ${f(sorted[sorted.length - 1] ?? Number.NaN)} | ${late} (${((100 * late) / Math.max(1, intervals.length)).toFixed(0)}%) | ${f(taskMs / arrived)} | ${f(taskMs / Math.max(1, intervals.length))} | ${((100 * taskMs) / Math.max(1, spanMs)).toFixed(0)}% | ${f(run.chromiumCpuMs / arrived)} |`,
    split: `${label}: Chromium CPU per arriving window by thread: ${run.cpuByThread
      .slice(0, 6)
      .map(([name, ms]) => `${name} ${f(ms / arrived)}`)
      .join(", ")}; main thread per arriving window: script ${f(split.script / arrived)}, style ${f(split.style / arrived)}, layout ${f(split.layout / arrived)}, the rest (paint, compositing, commit, tasks) ${f((taskMs - split.script - split.style - split.layout) / arrived)}.`
  }
}

export default async (): Promise<BenchReport> => {
  const webDir = process.env["PUNKTFUNK_BENCH_WEB_DIR"] ?? path.join(root, "web", "dist")
  // The previous build first, then this one, each with a fresh host and browser.
  const before = BEFORE_WEB_DIR === undefined ? undefined : await measure(BEFORE_WEB_DIR)
  const now = await measure(webDir)
  const rows = [...(before === undefined ? [] : [describe("before", before)]), describe("now", now)]
  return {
    title: "Console: live view while samples arrive, 4,800–5,400 samples shown (headless Chromium)",
    lines: [
      `Fake pipeline at one window every ${WINDOW_MS} ms; timed from ${FROM} windows in the live view until the ${CAP} cap (or 15 s). ${os.cpus().length} cores. Target: frame time under 16 ms while a sample arrives.`,
      ...(before === undefined ? [] : [`before: the console build in ${BEFORE_WEB_DIR}, measured first in this run against its own host.`]),
      ``,
      `| | load (1 min) | windows arrived | frames | frame interval p50 | p99 | max | frames over 20 ms | main thread per arriving window | per frame | main thread busy | Chromium CPU per arriving window |`,
      `|---|---|---|---|---|---|---|---|---|---|---|---|`,
      ...rows.map((r) => r.row),
      ``,
      ...rows.map((r) => `- ${r.split}`),
      ...[...(before?.notes ?? []), ...now.notes].flatMap((line, i) => (i === 0 ? [``, line] : [line]))
    ]
  }
}
