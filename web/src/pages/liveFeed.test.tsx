import { act, cleanup, render, screen, waitFor } from "@testing-library/react"
import { afterEach, describe, expect, it, vi } from "vitest"
import type { StatsSample } from "../../../src/api/Stats.js"
import type { LiveMessage } from "../api/sse.js"
import { sample, session, stage } from "../api/fixtures.js"
import { fakeApi, idleStatus } from "../components/fakeApi.js"
import { CHUNK } from "../lib/liveTrack.js"
import { LiveFeed, appendSamples } from "../lib/liveFeed.js"
import { PerformancePage } from "./PerformancePage.js"

afterEach(() => {
  cleanup()
  vi.restoreAllMocks()
})

// A second apart: the live view keeps the last five minutes, so all of these stay in it.
const windowAt = (i: number, session_id = "s1"): StatsSample =>
  sample(i * 1000, { session_id, stages: [stage("capture", 1000 + i), stage("encode", 2000)], fps: 60 - (i % 3) })

/** The x values (seconds) a path draws, in order. */
const xsOf = (d: string | null) => [...(d ?? "").matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]))

describe("appendSamples", () => {
  it("appends in order, keeps only the latest keepMs, and starts over when time restarts (a new capture)", () => {
    const first = [windowAt(0), windowAt(1), windowAt(2)]
    expect(appendSamples([], first, 60_000).map((s) => s.t_ms)).toEqual([0, 1000, 2000])
    // keepMs 1.5 s: at 3 s only 2 s and 3 s are kept (1.5 s ≤ t).
    expect(appendSamples(first, [windowAt(3)], 1500).map((s) => s.t_ms)).toEqual([2000, 3000])
    // A batch whose time goes back: the kept window restarts at the first sample of the new run.
    expect(appendSamples(first, [windowAt(3), windowAt(0), windowAt(1)], 60_000).map((s) => s.t_ms)).toEqual([0, 1000])
    expect(appendSamples(first, [windowAt(1)], 60_000).map((s) => s.t_ms)).toEqual([1000])
    expect(appendSamples(first, [], 60_000)).toBe(first)
  })
})

describe("LiveFeed", () => {
  it("hands its readers every pushed sample, in order, all of a frame's at once", async () => {
    const feed = new LiveFeed(60_000)
    const seen: Array<ReadonlyArray<number>> = []
    feed.subscribe(() => seen.push(feed.get().map((s) => s.t_ms)))
    for (let i = 0; i < 5; i++) feed.push(windowAt(i))
    // Nothing is handed over before the frame.
    expect(feed.get()).toEqual([])
    await waitFor(() => expect(seen).toHaveLength(1))
    expect(seen[0]).toEqual([0, 1000, 2000, 3000, 4000])
    feed.push(windowAt(5))
    await waitFor(() => expect(seen).toHaveLength(2))
    expect(seen[1]).toEqual([0, 1000, 2000, 3000, 4000, 5000])
    // A snapshot replaces what is kept and drops what was pending.
    feed.push(windowAt(6))
    feed.replace([windowAt(0)])
    expect(feed.get().map((s) => s.t_ms)).toEqual([0])
    await new Promise((r) => setTimeout(r, 100))
    expect(feed.get().map((s) => s.t_ms)).toEqual([0])
  })
})

describe("the Performance page's live view", () => {
  it("shows the windows arriving from the event stream: the count, the latest, and every window on the charts", async () => {
    // jsdom lays nothing out: give the chart boxes a width so the charts draw.
    vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockReturnValue({ width: 900, height: 240, top: 0, left: 0, right: 900, bottom: 240, x: 0, y: 0, toJSON: () => ({}) })
    let emit: (message: LiveMessage) => void = () => undefined
    const armed = { ...idleStatus, armed: true, started_unix_ms: 1_767_225_600_000, kind: "punktfunk1" as const, active_sessions: 1 }
    const api = fakeApi([], {
      status: async () => armed,
      liveEvents: (signal, onMessage) =>
        new Promise<void>((resolve) => {
          api.calls.push("liveEvents")
          emit = onMessage
          signal.addEventListener("abort", () => resolve())
        })
    })
    render(<PerformancePage api={api} onUnauthorized={() => undefined} />)
    await waitFor(() => expect(api.calls).toContain("liveEvents"))
    const total = 2 * CHUNK + 7
    act(() => {
      emit({ type: "session", session: session("s1") })
      // Many windows at once (a fast host), then one at a time.
      for (let i = 0; i < total - 3; i++) emit({ type: "sample", sample: windowAt(i) })
    })
    await waitFor(() => expect(screen.getByTestId("live-count").textContent).toBe(`${total - 3} windows`))
    for (let i = total - 3; i < total; i++) {
      act(() => emit({ type: "sample", sample: windowAt(i) }))
      await waitFor(() => expect(screen.getByTestId("live-count").textContent).toBe(`${i + 1} windows`))
    }
    const last = windowAt(total - 1)
    expect(screen.getByTestId("live-view").textContent).toContain(`latest: ${(last.t_ms / 1000).toFixed(1)} s, ${last.fps.toFixed(1)} fps`)
    // Every window is drawn once along the stage chart's capture band edge and the fps line, in
    // order (each chunk after the first repeats the previous one's last point to join it).
    const drawn = (paths: ReadonlyArray<Element>) => paths.flatMap((p, k) => xsOf(p.getAttribute("d")).slice(k === 0 ? 0 : 1))
    const times = Array.from({ length: total }, (_, i) => windowAt(i).t_ms / 1000)
    const stageChart = screen.getByTestId("live-stage-chart")
    const captureEdges = [...stageChart.querySelectorAll('[data-testid="stack-series"][data-series="capture"] path')].filter((_, k) => k % 2 === 1)
    expect(drawn(captureEdges)).toEqual(times)
    expect(stageChart.querySelectorAll('[data-testid="stack-series"][data-series="encode"]').length).toBeGreaterThan(0)
    expect(stageChart.querySelectorAll('[data-testid="host-total"] path').length).toBeGreaterThan(0)
    const fpsLines = [...screen.getByTestId("live-fps-chart").querySelectorAll('[data-testid="series-lines"] [data-series="fps"] path')]
    expect(drawn(fpsLines)).toEqual(times)
  })
})
