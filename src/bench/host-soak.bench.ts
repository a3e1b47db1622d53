/**
 * Soak: the compiled host streaming (fake source, a window every 100 ms) with a capture armed for
 * `PUNKTFUNK_SOAK_S` seconds (default 600), with a live-view client connected and /metrics and
 * /status polled every second, as a console and a Prometheus would. The host's resident memory
 * (VmRSS from /proc) is sampled each second; the figures are printed, never asserted here. The
 * fault suite (`test/faults/soak.test.ts`) runs the same soak short and asserts only a generous
 * bound on growth after warm-up.
 *
 * Why 100 ms windows: ten times the punktfunk/1 cadence, so ten minutes exercise as many windows as
 * a 100-minute session, and the capture reaches its 5,400-sample cap (it must then stay flat).
 */
import * as fs from "node:fs"
import { LIVE_EVENTS_PATH } from "../api/LiveEvents.js"
import { defaultMainJs, spawnBenchHost } from "./BenchHost.js"

/** `dist/main.js` from `dist/bench` (the bench) and from `src/bench` (the fault suite) alike. */

export interface SoakResult {
  readonly seconds: number
  readonly warmupSeconds: number
  /** RSS in MiB, one per second. */
  readonly rssMiB: ReadonlyArray<number>
  readonly afterWarmupMiB: number
  readonly endMiB: number
  readonly maxAfterWarmupMiB: number
  readonly samples: number
  readonly truncated: boolean
  readonly sseSamples: number
  readonly scrapes: number
}

const rssMiB = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? "NaN")
  return kb / 1024
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const runSoak = async (seconds: number, mainJs = defaultMainJs): Promise<SoakResult> => {
  const host = spawnBenchHost({
    prefix: "punktfunk-soak-",
    env: { PUNKTFUNK_GAMESTREAM: "off", PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "100" },
    mainJs,
    keepChars: 20_000
  })
  const child = host.child
  const controller = new AbortController()
  try {
    const { url, token } = await host.started()
    const auth = { authorization: `Bearer ${token}` }
    const api = `${url}/api/v1/stats`
    const armed = await fetch(`${api}/start`, { method: "POST", headers: auth })
    if (armed.status !== 200) throw new Error(`arm answered ${armed.status}`)
    // A live-view client for the whole soak, reading and discarding.
    let sseSamples = 0
    const sse = fetch(`${url}${LIVE_EVENTS_PATH}`, { headers: auth, signal: controller.signal })
      .then(async (res) => {
        const reader = res.body!.getReader()
        const decoder = new TextDecoder()
        // Count whole events only: a marker split across two chunks is counted once, when complete.
        let pending = ""
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          pending += decoder.decode(value, { stream: true })
          const cut = pending.lastIndexOf("\n\n")
          if (cut === -1) continue
          sseSamples += pending.slice(0, cut).split("event: sample\n").length - 1
          pending = pending.slice(cut + 2)
        }
      })
      .catch(() => undefined)
    const pid = child.pid!
    const rss: Array<number> = []
    let scrapes = 0
    let samples = 0
    let truncated = false
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      await sleep(1000)
      const m = await fetch(`${url}/metrics`, { headers: auth })
      await m.text()
      scrapes++
      const status = (await (await fetch(`${api}/status`, { headers: auth })).json()) as { sample_count: number; truncated: boolean }
      samples = status.sample_count
      truncated = status.truncated
      rss.push(rssMiB(pid))
    }
    const warmupSeconds = Math.min(60, Math.max(3, Math.floor(seconds * 0.25)))
    const after = rss.slice(warmupSeconds)
    const result: SoakResult = {
      seconds,
      warmupSeconds,
      rssMiB: rss,
      afterWarmupMiB: after[0] ?? Number.NaN,
      endMiB: rss[rss.length - 1] ?? Number.NaN,
      maxAfterWarmupMiB: after.length === 0 ? Number.NaN : Math.max(...after),
      samples,
      truncated,
      sseSamples,
      scrapes
    }
    const stopped = await fetch(`${api}/stop`, { method: "POST", headers: auth })
    if (stopped.status !== 200) throw new Error(`stop answered ${stopped.status}: ${await stopped.text()}`)
    controller.abort()
    await sse
    return result
  } finally {
    controller.abort()
    await host.stop(1_000)
  }
}

const mib = (n: number) => n.toFixed(1)

export default async () => {
  const seconds = Number(process.env["PUNKTFUNK_SOAK_S"] ?? "600")
  const r = await runSoak(seconds)
  const every = Math.max(1, Math.floor(r.rssMiB.length / 10))
  const trace = r.rssMiB.filter((_, i) => i % every === 0 || i === r.rssMiB.length - 1).map(mib)
  return {
    title: `Host soak: ${seconds} s streaming with a capture armed (PUNKTFUNK_SOAK_S=${seconds})`,
    lines: [
      "Fake source, one window every 100 ms, capture armed throughout, one live-view (SSE) client, /metrics and /status polled every second.",
      "",
      "| RSS after warm-up | RSS at end | max after warm-up | growth after warm-up | samples captured | truncated | SSE samples | scrapes |",
      "|---|---|---|---|---|---|---|---|",
      `| ${mib(r.afterWarmupMiB)} MiB (at ${r.warmupSeconds} s) | ${mib(r.endMiB)} MiB | ${mib(r.maxAfterWarmupMiB)} MiB | ${(r.endMiB - r.afterWarmupMiB >= 0 ? "+" : "") + mib(r.endMiB - r.afterWarmupMiB)} MiB | ${r.samples} | ${r.truncated ? "yes (cap 5,400)" : "no"} | ${r.sseSamples} | ${r.scrapes} |`,
      "",
      `RSS trace (MiB, every ${every} s): ${trace.join(", ")}`
    ]
  }
}
