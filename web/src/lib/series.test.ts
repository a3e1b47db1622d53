import { describe, expect, it } from "vitest"
import { sampleFixture } from "../../../src/api/SampleFixture.js"
import type { StatsSample } from "../../../src/api/Stats.js"
import { buildSeries, sessionSegments } from "./series.js"

const sample = (t_ms: number, session_id: string, encode = 2000): StatsSample => sampleFixture({
  t_ms,
  session_id,
  stages: [
    { name: "capture", p50_us: 1000, p99_us: 1500, max_us: 2000, mean_us: 1100 },
    { name: "encode", p50_us: encode, p99_us: encode * 2, max_us: encode * 3, mean_us: encode }
  ],
  fps: 60,
  repeat_fps: 0,
  mbps: 10,
  bitrate_kbps: 10_000,
  host_p50_us: 3000,
  host_p99_us: 5000
})

const defs = [
  { id: "capture", value: (s: StatsSample) => (s.stages.find((x) => x.name === "capture")?.p50_us ?? 0) / 1000 },
  { id: "encode", value: (s: StatsSample) => (s.stages.find((x) => x.name === "encode")?.p50_us ?? 0) / 1000 }
]

describe("chart series", () => {
  it("splits samples into consecutive session runs", () => {
    const samples = [sample(0, "a"), sample(2000, "a"), sample(4000, "b"), sample(6000, "a")]
    expect(sessionSegments(samples)).toEqual([
      { session_id: "a", start: 0, end: 2 },
      { session_id: "b", start: 2, end: 3 },
      { session_id: "a", start: 3, end: 4 }
    ])
    expect(sessionSegments([])).toEqual([])
  })

  it("puts x on real elapsed seconds and lifts the pen between sessions", () => {
    const samples = [sample(0, "a"), sample(2000, "a"), sample(10_000, "b"), sample(12_000, "b")]
    const [capture] = buildSeries(samples, defs, { maxPoints: 100 })
    expect(capture!.data.map((p) => p.x)).toEqual([0, 2, 6, 10, 12])
    expect(capture!.data[2]!.y).toBeNull()
    expect(capture!.data[2]!.i).toBe(-1)
    expect(capture!.data.filter((p) => p.y !== null)).toHaveLength(4)
  })

  it("aligns at a given origin (the compare view)", () => {
    const samples = [sample(5000, "a"), sample(7000, "a")]
    const [s] = buildSeries(samples, defs, { maxPoints: 100, originMs: 5000 })
    expect(s!.data.map((p) => p.x)).toEqual([0, 2])
  })

  it("downsamples a 5,400-sample capture to a bounded count with the same x in every series", () => {
    const samples = Array.from({ length: 5400 }, (_, i) => sample(i * 2000, i < 2700 ? "a" : "b", 2000 + ((i * 7919) % 500)))
    const series = buildSeries(samples, defs, { maxPoints: 600 })
    const [a, b] = series
    expect(a!.data.length).toBeLessThanOrEqual(2 * 600 + 1)
    expect(a!.data.length).toBeGreaterThan(100)
    expect(a!.data.map((p) => p.x)).toEqual(b!.data.map((p) => p.x))
    // First and last sample of each session are drawn, so each session's span is exact.
    const xs = new Set(a!.data.map((p) => p.x))
    for (const t of [0, 2699 * 2, 2700 * 2, 5399 * 2]) expect(xs.has(t)).toBe(true)
    // One pen lift between the two sessions.
    expect(a!.data.filter((p) => p.y === null)).toHaveLength(1)
  })
})
