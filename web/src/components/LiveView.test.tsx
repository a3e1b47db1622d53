import { cleanup, render } from "@testing-library/react"
import { afterEach, describe, expect, it } from "vitest"
import type { StatsSample } from "../../../src/api/Stats.js"
import { sample, session, stage } from "../api/fixtures.js"
import { CHUNK, LiveTrack, chunkBandPath, chunkLinePath } from "../lib/liveTrack.js"
import { LiveChart } from "./LiveChart.js"
import { LiveView } from "./LiveView.js"

afterEach(cleanup)

const windowAt = (i: number, session_id = "s1"): StatsSample =>
  sample(i * 2000, { session_id, stages: [stage("capture", 1000 + i), stage("encode", 2000)] })

const stageValue = (name: string) => (s: StatsSample) => (s.stages.length === 0 ? null : (s.stages.find((x) => x.name === name)?.p50_us ?? 0) / 1000)
const stageDefs = [
  { id: "capture", color: "#111", value: stageValue("capture") },
  { id: "encode", color: "#222", value: stageValue("encode") }
]

/** The x values (seconds) a path draws, in order. */
const xsOf = (d: string | null) => [...(d ?? "").matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]))

describe("the live charts append", () => {
  it("a new window redraws only the last chunk: the drawn chunks before it are the same nodes with the same paths", () => {
    const samples = Array.from({ length: 3 * CHUNK + 10 }, (_, i) => windowAt(i))
    const { container, rerender } = render(
      <LiveChart samples={samples} series={stageDefs} stacked unit="ms" label="live" testId="live-stage-chart" height={200} width={800} />
    )
    const bands = () => [...container.querySelectorAll('[data-testid="stack-series"][data-series="capture"] path')]
    const before = bands()
    expect(before).toHaveLength(4 * 2) // four chunks, a band and its edge each
    const dsBefore = before.map((p) => p.getAttribute("d"))
    const next = [...samples, windowAt(samples.length)]
    rerender(<LiveChart samples={next} series={stageDefs} stacked unit="ms" label="live" testId="live-stage-chart" height={200} width={800} />)
    const after = bands()
    expect(after).toHaveLength(8)
    for (let k = 0; k < 6; k++) {
      expect(after[k]).toBe(before[k])
      expect(after[k]!.getAttribute("d")).toBe(dsBefore[k])
    }
    // The tail's edge now ends at the new window, 2 s after the one before.
    const tail = xsOf(after[7]!.getAttribute("d"))
    expect(tail[tail.length - 1]).toBe(samples.length * 2)
    // Every window is drawn once along the chunks (each chunk after the first repeats its join).
    const drawn = after.filter((_, k) => k % 2 === 1).flatMap((p, k) => xsOf(p.getAttribute("d")).slice(k === 0 ? 0 : 1))
    expect(drawn).toEqual(next.map((s) => s.t_ms / 1000))
  })

  it("a new capture (the last window seen is gone) starts the chart afresh", () => {
    const old = Array.from({ length: 40 }, (_, i) => windowAt(i))
    const { container, rerender } = render(<LiveChart samples={old} series={stageDefs} stacked={false} unit="ms" label="live" testId="c" height={200} width={800} />)
    const fresh = [windowAt(0), windowAt(1)]
    rerender(<LiveChart samples={fresh} series={stageDefs} stacked={false} unit="ms" label="live" testId="c" height={200} width={800} />)
    const line = container.querySelector('[data-testid="series-lines"] [data-series="capture"] path')
    expect(xsOf(line?.getAttribute("d") ?? null)).toEqual([0, 2])
  })

  it("stacks each band on the one below, lifts the pen at a new session and where a window has no timings", () => {
    const track = new LiveTrack(stageDefs, true)
    const noTimings = sample(6000, { stages: [] })
    track.sync([windowAt(0), windowAt(1), windowAt(2), noTimings, windowAt(4), windowAt(5, "s2"), windowAt(6, "s2")])
    const chunk = track.chunks[0]!
    // encode's top is capture + encode.
    expect(chunk.ys[1]![0]).toBeCloseTo(1 + 2)
    expect(chunk.ys[1]![3]).toBeNull()
    // The line: 0-2 s, 4-6 s, lifted at 6 s (no timings), then 8 s alone, then session s2 from 10 s.
    expect(chunkLinePath(chunk, 0).match(/M/g)).toHaveLength(3)
    // Bands are closed per unbroken run; the lone 8 s window makes none.
    expect(chunkBandPath(chunk, 1).match(/Z/g)).toHaveLength(2)
    expect(track.max).toBeCloseTo(1 + 6 / 1000 + 2)
  })

  it("drops chunks wholly before the kept window", () => {
    const track = new LiveTrack(stageDefs, false)
    const samples = Array.from({ length: 3 * CHUNK }, (_, i) => windowAt(i))
    track.sync(samples)
    expect(track.chunks).toHaveLength(3)
    track.sync(samples.slice(CHUNK + 5))
    expect(track.chunks).toHaveLength(2)
  })
})

describe("LiveView", () => {
  it("draws a band per stage seen, the host total, the frame budget and the fps lines", () => {
    const samples = Array.from({ length: 20 }, (_, i) => windowAt(i))
    const { container, getByTestId } = render(<LiveView samples={samples} sessions={[session("s1")]} />)
    expect(getByTestId("live-count").textContent).toBe("20 windows")
    // ChartBox measures no width in jsdom: the legend still names what is drawn.
    expect([...container.querySelectorAll(".legend li")].map((li) => li.textContent)).toEqual([
      "capture",
      "encode",
      "host total p50 (measured)",
      "frame budget",
      "fps",
      "repeat fps"
    ])
  })
})
