import { describe, expect, it } from "@effect/vitest"
import { sampleFixture } from "../src/api/SampleFixture.js"
import { Context, Effect } from "effect"
import type { SessionMeta, StatsSample } from "../src/api/Stats.js"
import { escapeLabelValue, renderMetrics } from "../src/http/MetricsExposition.js"
import { makeMetrics } from "../src/services/Metrics.js"
import { Recorder } from "../src/services/Recorder.js"
import { startHost } from "./support/TestHost.js"

/** One parsed exposition: HELP/TYPE per family and every sample with its labels. */
interface Parsed {
  readonly help: Map<string, string>
  readonly type: Map<string, string>
  readonly samples: Array<{ name: string; labels: Record<string, string>; value: number }>
}

const parseExposition = (text: string): Parsed => {
  const help = new Map<string, string>()
  const type = new Map<string, string>()
  const samples: Parsed["samples"] = []
  expect(text.endsWith("\n")).toBe(true)
  for (const line of text.split("\n").slice(0, -1)) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line)
    if (meta !== null) {
      const [, kind, name, rest] = meta
      const map = kind === "HELP" ? help : type
      expect(map.has(name!), `${kind} twice for ${name}`).toBe(false)
      map.set(name!, rest!)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    expect(m, `not a sample line: ${line}`).not.toBeNull()
    const [, name, rawLabels, value] = m!
    const labels: Record<string, string> = {}
    if (rawLabels !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g
      let consumed = 0
      for (const lm of rawLabels.matchAll(re)) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, "\n").replace(/\\"/g, "\"").replace(/\\\\/g, "\\")
        consumed += lm[0].length
      }
      expect(consumed, `labels of ${line}`).toBe(rawLabels.length)
    }
    // Every sample belongs to a family announced above it.
    expect(type.has(name!), `sample before TYPE: ${line}`).toBe(true)
    samples.push({ name: name!, labels, value: Number(value) })
  }
  return { help, type, samples }
}

const find = (p: Parsed, name: string, labels: Record<string, string> = {}) =>
  p.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

const session = (id: string, kind: "punktfunk1" | "gamestream", measured: SessionMeta["measured"]): SessionMeta => ({
  session_id: id,
  kind,
  width: 1280,
  height: 720,
  fps: 60,
  codec: "h264",
  client: "c",
  encoder_backend: "test",
  gpu: "none",
  stages: kind === "punktfunk1" ? ["capture", "submit", "encode", "send"] : ["capture", "encode", "packetize", "send"],
  measured
})

const window = (sessionId: string, i: number, over: Partial<StatsSample> = {}): StatsSample => sampleFixture({
  t_ms: 0,
  session_id: sessionId,
  stages: [
    { name: "capture", p50_us: 1000 + i, p99_us: 2000 + i, max_us: 3000, mean_us: 1100 },
    { name: "encode", p50_us: 4000, p99_us: 9000, max_us: 12000, mean_us: 4500 }
  ],
  fps: 59 + (i % 2),
  repeat_fps: 1,
  mbps: 12.5,
  bitrate_kbps: 15000,
  frames_dropped: i,
  packets_dropped: 2,
  send_dropped: 7,
  fec_recovered: 3,
  rtt_us: 1500,
  host_p50_us: 6000,
  host_p99_us: 11000,
  ...over
})

const PUNKTFUNK1_MEASURED: SessionMeta["measured"] = ["fps", "repeat_fps", "mbps", "rtt_us", "frames_dropped", "fec_recovered", "packets_dropped"]

describe("/metrics exposition", () => {
  it("follows Prometheus conventions: HELP and TYPE once per family, base units, _total counters", () => {
    const metrics = makeMetrics()
    Effect.runSync(metrics.sessionStarted(session("s\"1\\\n", "punktfunk1", PUNKTFUNK1_MEASURED)))
    Effect.runSync(metrics.observe(window("s\"1\\\n", 3)))
    const text = renderMetrics(Effect.runSync(metrics.snapshot), {
      armed: false, sample_count: 0, started_unix_ms: null, elapsed_ms: 0, kind: null, truncated: false, unsaved_id: null, active_sessions: 1
    })
    const p = parseExposition(text)
    for (const [name, type] of p.type) {
      expect(p.help.has(name)).toBe(true)
      expect(name).toMatch(/^punktfunk_[a-z_]+$/)
      if (type === "counter") expect(name).toMatch(/_total$/)
      else expect(name).not.toMatch(/_total$/)
      // Units in the name: no milliseconds, microseconds or megabits.
      expect(name).not.toMatch(/_(ms|us|mbps|kbps|micro|milli)/)
    }
    // A hostile session id round-trips through the escapes.
    const fps = find(p, "punktfunk_frames_per_second")
    expect(fps).toHaveLength(1)
    expect(fps[0]!.labels).toEqual({ path: "punktfunk1", session: "s\"1\\\n" })
    expect(escapeLabelValue("a\\b\"c\nd")).toBe("a\\\\b\\\"c\\nd")
    expect(find(p, "punktfunk_stage_latency_seconds", { stage: "capture", percentile: "p50" })[0]!.value).toBe(0.001003)
    expect(find(p, "punktfunk_stage_latency_seconds", { stage: "encode", percentile: "p99" })[0]!.value).toBe(0.009)
    expect(find(p, "punktfunk_stream_bits_per_second")[0]!.value).toBe(12_500_000)
    expect(find(p, "punktfunk_rtt_seconds")[0]!.value).toBe(0.0015)
    // Not in `measured`: no series, however the window filled the field.
    expect(find(p, "punktfunk_send_dropped_total")).toEqual([])
    expect(find(p, "punktfunk_target_bits_per_second")).toEqual([])
    expect(find(p, "punktfunk_host_latency_seconds")).toEqual([])
    expect(find(p, "punktfunk_active_sessions")[0]!.value).toBe(1)
  })

  it("host latency only for timed windows, by a percentile label (quantile is the summaries')", () => {
    const metrics = makeMetrics()
    const measured: SessionMeta["measured"] = [...PUNKTFUNK1_MEASURED, "host_p50_us", "host_p99_us"]
    Effect.runSync(metrics.sessionStarted(session("timed", "punktfunk1", measured)))
    Effect.runSync(metrics.sessionStarted(session("untimed", "punktfunk1", measured)))
    Effect.runSync(metrics.observe(window("timed", 1)))
    // A window whose frames were not timed: no stages, and the host total's fields are 0.
    Effect.runSync(metrics.observe(window("untimed", 1, { stages: [], host_p50_us: 0, host_p99_us: 0 })))
    const status = { armed: false, sample_count: 0, started_unix_ms: null, elapsed_ms: 0, kind: null, truncated: false, unsaved_id: null, active_sessions: 2 }
    const p = parseExposition(renderMetrics(Effect.runSync(metrics.snapshot), status))
    expect(find(p, "punktfunk_host_latency_seconds", { session: "timed", percentile: "p50" })[0]!.value).toBe(0.006)
    expect(find(p, "punktfunk_host_latency_seconds", { session: "timed", percentile: "p99" })[0]!.value).toBe(0.011)
    expect(find(p, "punktfunk_host_latency_seconds", { session: "untimed" })).toEqual([])
    expect(find(p, "punktfunk_stage_latency_seconds", { session: "untimed" })).toEqual([])
    expect(find(p, "punktfunk_frames_per_second", { session: "untimed" })).toHaveLength(1)
    expect(p.samples.some((s) => "quantile" in s.labels)).toBe(false)
  })

  it.scopedLive("needs the bearer token: none or a wrong one is 401, the right one 200 text/plain", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const url = `${host.url}/metrics`
      const none = yield* Effect.promise(() => host.fetch(url, { token: null }))
      expect(none.status).toBe(401)
      const wrong = yield* Effect.promise(() => host.fetch(url, { token: "x".repeat(43) }))
      expect(wrong.status).toBe(401)
      // Prometheus' `authorization: { type: Bearer, credentials: … }` sends exactly this header.
      const ok = yield* Effect.promise(() => fetch(url, { headers: { authorization: `Bearer ${host.token}` } }))
      expect(ok.status).toBe(200)
      expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
      const p = parseExposition(yield* Effect.promise(() => ok.text()))
      expect(find(p, "punktfunk_capture_armed")[0]!.value).toBe(0)
      expect(find(p, "punktfunk_active_sessions")[0]!.value).toBe(0)
    })
  )

  it.scopedLive("values follow the pushed windows, armed or not; _total only grows; a session's gauges leave with it", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const recorder = Context.get(host.context, Recorder)
      const scrape = () =>
        Effect.promise(async () => {
          const res = await host.fetch(`${host.url}/metrics`)
          expect(res.status).toBe(200)
          return parseExposition(await res.text())
        })
      yield* recorder.registerSession(session("n1", "punktfunk1", PUNKTFUNK1_MEASURED))
      yield* recorder.registerSession(session("g1", "gamestream", ["fps", "send_dropped"]))

      // Idle: the Recorder keeps nothing, yet the metrics follow every window.
      let expectedFrames = 0
      for (let i = 0; i < 5; i++) {
        yield* recorder.pushSample(window("n1", i))
        expectedFrames += i
      }
      yield* recorder.pushSample(window("g1", 0, { fps: 30, send_dropped: 4 }))
      let p = yield* scrape()
      expect((yield* recorder.status).sample_count).toBe(0)
      expect(find(p, "punktfunk_frames_dropped_total", { path: "punktfunk1" })[0]!.value).toBe(expectedFrames)
      expect(find(p, "punktfunk_fec_recovered_total", { path: "punktfunk1" })[0]!.value).toBe(15)
      expect(find(p, "punktfunk_packets_dropped_total", { path: "punktfunk1" })[0]!.value).toBe(10)
      expect(find(p, "punktfunk_send_dropped_total", { path: "gamestream" })[0]!.value).toBe(4)
      // Each path only has the counters its sessions measure.
      expect(find(p, "punktfunk_send_dropped_total", { path: "punktfunk1" })).toEqual([])
      expect(find(p, "punktfunk_frames_dropped_total", { path: "gamestream" })).toEqual([])
      expect(find(p, "punktfunk_windows_total", { path: "punktfunk1" })[0]!.value).toBe(5)
      expect(find(p, "punktfunk_frames_per_second", { path: "punktfunk1", session: "n1" })[0]!.value).toBe(59)
      expect(find(p, "punktfunk_frames_per_second", { path: "gamestream", session: "g1" })[0]!.value).toBe(30)
      expect(find(p, "punktfunk_stage_latency_seconds", { session: "n1", stage: "capture", percentile: "p99" })[0]!.value).toBe(0.002004)
      expect(find(p, "punktfunk_active_sessions")[0]!.value).toBe(2)

      // Armed: the same windows feed the capture and the metrics.
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      const totals: Array<number> = [find(p, "punktfunk_frames_dropped_total", { path: "punktfunk1" })[0]!.value]
      for (let i = 5; i < 9; i++) {
        yield* recorder.pushSample(window("n1", i))
        expectedFrames += i
        p = yield* scrape()
        totals.push(find(p, "punktfunk_frames_dropped_total", { path: "punktfunk1" })[0]!.value)
      }
      expect(find(p, "punktfunk_capture_armed")[0]!.value).toBe(1)
      expect(find(p, "punktfunk_capture_samples")[0]!.value).toBe(4)
      expect(totals.at(-1)).toBe(expectedFrames)
      for (let i = 1; i < totals.length; i++) expect(totals[i]!).toBeGreaterThanOrEqual(totals[i - 1]!)
      expect(find(p, "punktfunk_stage_latency_seconds", { session: "n1", stage: "capture", percentile: "p50" })[0]!.value).toBe(0.001008)

      // The session ends: its gauges go, the path's totals stay.
      yield* recorder.unregisterSession("n1")
      p = yield* scrape()
      expect(find(p, "punktfunk_frames_per_second", { session: "n1" })).toEqual([])
      expect(find(p, "punktfunk_stage_latency_seconds", { session: "n1" })).toEqual([])
      expect(find(p, "punktfunk_frames_dropped_total", { path: "punktfunk1" })[0]!.value).toBe(expectedFrames)
      expect(find(p, "punktfunk_active_sessions")[0]!.value).toBe(1)
      yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      p = yield* scrape()
      expect(find(p, "punktfunk_capture_armed")[0]!.value).toBe(0)
    })
  )

  it.scopedLive("a fake-pipeline host's own session shows up without anyone arming", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 30 })
      let p: Parsed | undefined
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline) {
        const res = yield* Effect.promise(() => host.fetch(`${host.url}/metrics`))
        p = parseExposition(yield* Effect.promise(() => res.text()))
        if ((find(p, "punktfunk_windows_total", { path: "punktfunk1" })[0]?.value ?? 0) >= 3) break
        yield* Effect.sleep("30 millis")
      }
      expect(find(p!, "punktfunk_windows_total", { path: "punktfunk1" })[0]!.value).toBeGreaterThanOrEqual(3)
      expect(find(p!, "punktfunk_frames_per_second", { path: "punktfunk1" })[0]!.value).toBe(60)
      // Disarmed and not in perf mode: the fake source times nothing, so no stage series, and no
      // host latency either (its windows carry 0 there: absent, never a 0 s latency).
      expect(find(p!, "punktfunk_stage_latency_seconds")).toEqual([])
      expect(find(p!, "punktfunk_host_latency_seconds")).toEqual([])
      // Nothing uses the label Prometheus reserves for summaries.
      expect(p!.samples.some((s) => "quantile" in s.labels)).toBe(false)
      expect(find(p!, "punktfunk_target_frames_per_second", { path: "punktfunk1" })[0]!.value).toBe(60)
    })
  )
})
