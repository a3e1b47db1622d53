import { describe, expect, it } from "vitest"
import { countBreaches, DEFAULT_BREACH_THRESHOLDS, findBreaches } from "../../../src/api/Breaches.js"
import type { BreachThresholds } from "../../../src/api/Breaches.js"
import type { MeasuredField, StatsSample } from "../../../src/api/Stats.js"
import { capture, sample, session } from "./fixtures.js"

const ALL: ReadonlyArray<MeasuredField> = ["fps", "repeat_fps", "mbps", "bitrate_kbps", "frames_dropped", "packets_dropped", "send_dropped", "rtt_us", "host_p50_us", "host_p99_us"]

/** Windows 2 s apart from t = 2000 ms, each with the given overrides. */
const windows = (...overrides: ReadonlyArray<Partial<StatsSample>>) => overrides.map((o, i) => sample(2000 * (i + 1), o))

const breaches = (samples: ReadonlyArray<StatsSample>, measured = ALL, thresholds: BreachThresholds = DEFAULT_BREACH_THRESHOLDS) => {
  const c = capture(samples, [session("s1", { fps: 60, measured: [...measured] })])
  return findBreaches(c.meta, c.samples, thresholds)
}

describe("budget-breach events (src/api/Breaches.ts)", () => {
  it("a clean capture has none", () => {
    expect(breaches(windows({}, {}, {}, {}))).toEqual([])
  })

  it("host p99 over the 16.7 ms budget: one event over the consecutive windows, their span, the worst value", () => {
    const events = breaches(windows({}, { host_p99_us: 20_000 }, { host_p99_us: 25_000 }, {}, { host_p99_us: 40_000 }))
    expect(events.map((e) => [e.kind, e.from_ms, e.to_ms, e.windows, e.worst, e.severity])).toEqual([
      ["host_p99", 2000, 6000, 2, 25_000, "warning"],
      ["host_p99", 8000, 10_000, 1, 40_000, "critical"] // 40 ms ≥ twice the 16.7 ms line
    ])
    expect(events[0]!.threshold).toBeCloseTo(16_666.7, 0)
    expect(events[0]!.message).toBe("host p99 25.0 ms over the 16.7 ms line for 2 windows")
  })

  it("fps more than 5% under target; exactly at the line is no breach; a 10% shortfall is critical", () => {
    const events = breaches(windows({ fps: 57 }, { fps: 56.9 }, { fps: 60 }, { fps: 54 }))
    expect(events.map((e) => [e.kind, e.from_ms, e.to_ms, e.worst, e.severity])).toEqual([
      ["fps", 2000, 4000, 56.9, "warning"],
      ["fps", 6000, 8000, 54, "critical"]
    ])
  })

  it("any drop or loss is a breach, summed over the drop counters the session measured", () => {
    const events = breaches(windows({ frames_dropped: 1 }, {}, { packets_dropped: 2, send_dropped: 1 }))
    expect(events.map((e) => [e.kind, e.worst, e.severity])).toEqual([
      ["drops", 1, "warning"],
      ["drops", 3, "critical"]
    ])
  })

  it("RTT over twice the capture's median", () => {
    const rtt = (rtt_us: number) => ({ rtt_us })
    const events = breaches(windows(rtt(1000), rtt(1000), rtt(1100), rtt(2500), rtt(900)))
    expect(events.map((e) => [e.kind, e.from_ms, e.to_ms, e.worst, e.threshold])).toEqual([["rtt", 6000, 8000, 2500, 2000]])
  })

  it("a counter the session did not measure never breaches (its 0 or its value is not read)", () => {
    const unmeasured: ReadonlyArray<MeasuredField> = ["mbps"]
    expect(breaches(windows({ fps: 0, host_p99_us: 0, rtt_us: 9e6, frames_dropped: 7 }), unmeasured)).toEqual([])
  })

  it("thresholds move the lines: a 2× budget lets a 25 ms p99 pass, a 1% shortfall catches 59 fps", () => {
    const samples = windows({ host_p99_us: 25_000, fps: 59 })
    expect(breaches(samples).map((e) => e.kind)).toEqual(["host_p99"])
    const moved = { ...DEFAULT_BREACH_THRESHOLDS, host_p99_budget: 2, fps_shortfall: 0.01 }
    expect(breaches(samples, ALL, moved).map((e) => e.kind)).toEqual(["fps"])
  })

  it("the first window of a session starts one typical window before it; sessions are judged apart", () => {
    const c = capture(
      [sample(2000, { session_id: "a" }), sample(3000, { session_id: "b", fps: 20 }), sample(4000, { session_id: "a", frames_dropped: 1 }), sample(4000, { session_id: "b" })],
      [session("a", { measured: [...ALL] }), session("b", { fps: 30, kind: "gamestream", measured: [...ALL] })]
    )
    const events = findBreaches(c.meta, c.samples)
    expect(events.map((e) => [e.session_id, e.kind, e.from_ms, e.to_ms])).toEqual([
      ["b", "fps", 2000, 3000], // b's windows are 1 s apart: its first one covers (2000, 3000]
      ["a", "drops", 2000, 4000]
    ])
    expect(countBreaches(events)).toEqual({ total: 2, critical: 1 }) // 20 of 30 fps: a 33% shortfall
  })
})
