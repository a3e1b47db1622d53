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
 * `PUNKTFUNK_BENCH_WEB_DIR` points the host at another console build (the figures before the
 * live charts appended were taken with the previous build this way).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import type { BenchReport } from "./run.js"
import { tokenFromStartOutput, urlFromStartOutput } from "./StartOutput.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const WINDOW_MS = process.env["PUNKTFUNK_LIVE_WINDOW_MS"] ?? "10"
const FROM = 4800
const CAP = 5400
/** Measured with the console before its live charts appended (Nivo charts redrawn per sample). */
const BEFORE = process.env["PUNKTFUNK_LIVE_BEFORE"]

const startHost = (env: Record<string, string>) =>
  new Promise<{ url: string; token: string; stop: () => Promise<void> }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "dist", "main.js")], {
      env: { ...process.env, PUNKTFUNK_PORT: "0", PUNKTFUNK_NATIVE_PORT: "0", PUNKTFUNK_GAMESTREAM: "off", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`host did not start:\n${out}`))
    }, 30_000)
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString()
      const url = urlFromStartOutput(out)
      const token = tokenFromStartOutput(out)
      if (url !== undefined && token !== undefined) {
        clearTimeout(timer)
        resolve({
          url,
          token,
          stop: () =>
            new Promise((r) => {
              child.once("exit", () => r())
              child.kill("SIGKILL")
            })
        })
      }
    })
    child.once("exit", (code) => reject(new Error(`host exited (${code}):\n${out}`)))
  })

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

export default async (): Promise<BenchReport> => {
  const webDir = process.env["PUNKTFUNK_BENCH_WEB_DIR"] ?? path.join(root, "web", "dist")
  if (!fs.existsSync(path.join(webDir, "index.html"))) throw new Error(`${webDir} has no console build: run npm run build:web`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-live-"))
  const host = await startHost({
    PUNKTFUNK_SOURCE: "fake",
    PUNKTFUNK_FAKE_WINDOW_MS: WINDOW_MS,
    PUNKTFUNK_CONFIG_DIR: dir,
    PUNKTFUNK_BIND: "127.0.0.1",
    PUNKTFUNK_STREAM_BIND: "127.0.0.1",
    PUNKTFUNK_WEB_DIR: webDir
  })
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  })
  const loadBefore = os.loadavg()[0] ?? Number.NaN
  let frames: Frames
  let taskMs = Number.NaN
  let split = { script: Number.NaN, style: Number.NaN, layout: Number.NaN }
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
    const before = await metrics()
    frames = (await page.evaluate(timeFrames(CAP))) as Frames
    const after = await metrics()
    const spent = (name: string) => ((after.get(name) ?? Number.NaN) - (before.get(name) ?? Number.NaN)) * 1000
    taskMs = spent("TaskDuration")
    split = { script: spent("ScriptDuration"), style: spent("RecalcStyleDuration"), layout: spent("LayoutDuration") }
    await fetch(`${host.url}/api/v1/stats/stop`, { method: "POST", headers: { authorization: `Bearer ${host.token}` } })
  } finally {
    await context.close().catch(() => undefined)
    await host.stop()
    fs.rmSync(profile, { recursive: true, force: true })
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const intervals: Array<number> = []
  for (let i = 1; i < frames.stamps.length; i++) intervals.push((frames.stamps[i] ?? 0) - (frames.stamps[i - 1] ?? 0))
  const sorted = [...intervals].sort((a, b) => a - b)
  const spanS = ((frames.stamps[frames.stamps.length - 1] ?? 0) - (frames.stamps[0] ?? 0)) / 1000
  const arrived = frames.last - frames.first
  const late = intervals.filter((i) => i > 20).length
  const f = (ms: number) => `${ms.toFixed(1)} ms`
  return {
    title: "Console: live view while samples arrive, 4,800–5,400 samples shown (headless Chromium)",
    lines: [
      `Fake pipeline at one window every ${WINDOW_MS} ms; the live view held ${frames.first} windows when timing began and ${frames.last} at its end (${arrived} arrived in ${spanS.toFixed(1)} s).`,
      `Load average (1 min) ${loadBefore.toFixed(1)} before and ${(os.loadavg()[0] ?? Number.NaN).toFixed(1)} after, on ${os.cpus().length} cores. Target: frame time under 16 ms while a sample arrives.`,
      ``,
      `| | frames | frame interval p50 | p99 | max | frames over 20 ms | main-thread time per arriving sample |`,
      `|---|---|---|---|---|---|---|`,
      ...(BEFORE === undefined ? [] : [`| before (issue 15) | ${BEFORE} |`]),
      `| now | ${intervals.length} | ${f(pct(sorted, 0.5))} | ${f(pct(sorted, 0.99))} | ${f(sorted[sorted.length - 1] ?? Number.NaN)} | ${late} (${((100 * late) / Math.max(1, intervals.length)).toFixed(0)}%) | ${f(taskMs / Math.max(1, arrived))} |`,
      ``,
      `Main-thread time per arriving sample, split: script ${f(split.script / Math.max(1, arrived))}, style ${f(split.style / Math.max(1, arrived))}, layout ${f(split.layout / Math.max(1, arrived))}, the rest (paint, compositing, tasks) ${f((taskMs - split.script - split.style - split.layout) / Math.max(1, arrived))}.`
    ]
  }
}
