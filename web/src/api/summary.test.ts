import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { delta, distribution, frameBudgetMs, percentile, summarizeCapture } from "../../../src/api/Summary.js"
import { capture, sample, session, stage } from "./fixtures.js"

describe("capture summary (src/api/Summary.ts)", () => {
  it("percentiles interpolate linearly between closest ranks", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(percentile([10], 0.99)).toBe(10)
    expect(percentile([4, 1, 3, 2, 5], 0)).toBe(1)
    expect(percentile([4, 1, 3, 2, 5], 1)).toBe(5)
    expect(percentile([0, 100], 0.95)).toBeCloseTo(95)
    expect(Number.isNaN(percentile([], 0.5))).toBe(true)
  })

  it("a percentile lies between min and max and grows with q", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q1, q2) => {
        const lo = Math.min(q1, q2)
        const hi = Math.max(q1, q2)
        const a = percentile(values, lo)
        const b = percentile(values, hi)
        expect(a).toBeGreaterThanOrEqual(Math.min(...values))
        expect(b).toBeLessThanOrEqual(Math.max(...values))
        expect(b).toBeGreaterThanOrEqual(a - 1e-9)
      })
    )
  })

  it("per stage: mean of window means, median of window p50s, p95/p99 of window p99s, max of max", () => {
    const c = capture([
      sample(0, { stages: [stage("encode", 1000, 2000, 3000, 1100)] }),
      sample(2000, { stages: [stage("encode", 2000, 4000, 9000, 2100)] }),
      sample(4000, { stages: [stage("encode", 3000, 8000, 5000, 3300)] })
    ])
    const s = summarizeCapture(c)
    expect(s.stages).toHaveLength(1)
    const encode = s.stages[0]!
    expect(encode.name).toBe("encode")
    expect(encode.windows).toBe(3)
    expect(encode.mean_us).toBeCloseTo((1100 + 2100 + 3300) / 3)
    expect(encode.p50_us).toBe(2000)
    expect(encode.p95_us).toBeCloseTo(4000 + 0.9 * 4000) // rank 1.9 of [2000, 4000, 8000]
    expect(encode.p99_us).toBeCloseTo(4000 + 0.98 * 4000)
    expect(encode.max_us).toBe(9000)
  })

  it("stages come in pipeline order, only those present", () => {
    const c = capture([sample(0, { stages: [stage("send", 100), stage("capture", 200), stage("packetize", 50)] })])
    expect(summarizeCapture(c).stages.map((x) => x.name)).toEqual(["capture", "packetize", "send"])
  })

  it("frame budget is 1000 / target fps", () => {
    expect(frameBudgetMs(60)).toBeCloseTo(16.667, 3)
    expect(frameBudgetMs(0)).toBeNull()
    expect(summarizeCapture(capture([sample(0)], [session("s1", { fps: 120 })])).frame_budget_ms).toBeCloseTo(8.333, 3)
  })

  it("fps: mean and the 1% low (1st percentile of window fps), repeat fps apart", () => {
    // 201 windows, the three slowest at 30 fps: the 1st percentile (rank 2) is 30.
    const fps = Array.from({ length: 201 }, (_, i) => (i < 3 ? 30 : 60))
    const c = capture(fps.map((f, i) => sample(i * 1000, { fps: f, repeat_fps: i % 2 })))
    const s = summarizeCapture(c)
    expect(s.fps!.mean).toBeCloseTo((3 * 30 + 198 * 60) / 201)
    expect(s.fps!.p1).toBe(30)
    expect(s.repeat_fps!.mean).toBeCloseTo(100 / 201)
    // Two slow windows are under 1% of 201: the 1% low is then 60.
    const two = summarizeCapture(capture(fps.map((f, i) => sample(i * 1000, { fps: i === 2 ? 60 : f }))))
    expect(two.fps!.p1).toBe(60)
  })

  it("an unmeasured counter is null ('not measured'), never a 0 that reads as 'no loss'", () => {
    const s = summarizeCapture(capture([sample(0), sample(2000)]))
    expect(s.frames_dropped).toBeNull()
    expect(s.packets_dropped).toBeNull()
    expect(s.fec_recovered).toBeNull()
    expect(s.rtt_us).toBeNull()
    expect(s.fec_us).toBeNull()
    expect(s.measured).not.toContain("frames_dropped")
  })

  it("a counter counts only the windows of sessions that measured it", () => {
    const a = session("a", { measured: ["fps", "frames_dropped", "rtt_us"] })
    const b = session("b", { measured: ["fps"] })
    const c = capture(
      [
        sample(0, { session_id: "a", frames_dropped: 2, rtt_us: 1000 }),
        sample(2000, { session_id: "a", frames_dropped: 3, rtt_us: 3000 }),
        // Session b does not measure drops: its 0 (or even a stray value) is not counted.
        sample(4000, { session_id: "b", frames_dropped: 0, rtt_us: 0 }),
        sample(6000, { session_id: "b", frames_dropped: 7, rtt_us: 0 })
      ],
      [a, b]
    )
    const s = summarizeCapture(c)
    expect(s.frames_dropped!.total).toBe(5)
    expect(s.frames_dropped!.per_window.count).toBe(2)
    expect(s.rtt_us!.mean).toBe(2000)
    expect(s.session_ids).toEqual(["a", "b"])
    // Only session b's windows: nothing measured drops there.
    expect(summarizeCapture(c, { from_ms: 4000, to_ms: 6000 }).frames_dropped).toBeNull()
  })

  it("a time range uses exactly the samples inside it (inclusive)", () => {
    const c = capture(Array.from({ length: 10 }, (_, i) => sample(i * 1000, { stages: [stage("encode", (i + 1) * 100)] })))
    const s = summarizeCapture(c, { from_ms: 2000, to_ms: 4000 })
    expect(s.windows).toBe(3)
    expect(s.from_ms).toBe(2000)
    expect(s.to_ms).toBe(4000)
    expect(s.stages[0]!.p50_us).toBe(400)
    expect(s.stages[0]!.max_us).toBe(500 * 4)
  })

  it("Mb/s against the target (bitrate_kbps / 1000), host total from its own fields", () => {
    const c = capture([sample(0, { mbps: 8, host_p50_us: 2000, host_p99_us: 4000 }), sample(1000, { mbps: 12, host_p50_us: 4000, host_p99_us: 8000 })])
    const s = summarizeCapture(c)
    expect(s.mbps!.mean).toBe(10)
    expect(s.target_mbps).toBe(10)
    expect(s.host_p50_us!.p50).toBe(3000)
    expect(s.host_p99_us!.max).toBe(8000)
  })

  it("an empty capture has no stages and nothing measured", () => {
    const s = summarizeCapture(capture([], []))
    expect(s.windows).toBe(0)
    expect(s.stages).toEqual([])
    expect(s.fps).toBeNull()
    expect(distribution([])).toBeNull()
  })

  it("uses every sample of a 5,400-sample capture, not a drawn subset", () => {
    const samples = Array.from({ length: 5400 }, (_, i) => sample(i * 2000, { stages: [stage("encode", 1000, 2000, i === 4321 ? 99_000 : 3000)] }))
    const s = summarizeCapture(capture(samples))
    expect(s.windows).toBe(5400)
    expect(s.stages[0]!.max_us).toBe(99_000)
  })

  it("deltas: absolute and relative, none against a missing value", () => {
    expect(delta(10, 12)).toEqual({ absolute: 2, relative: 0.2 })
    expect(delta(0, 5)).toEqual({ absolute: 5, relative: null })
    expect(delta(null, 5)).toBeNull()
  })
})
