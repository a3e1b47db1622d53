import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react"
import { afterEach, describe, expect, it } from "vitest"
import { captureListItem } from "../../../src/api/Stats.js"
import { summarizeCapture } from "../../../src/api/Summary.js"
import { ApiFailure } from "../api/errors.js"
import { capture, sample, session, stage } from "../api/fixtures.js"
import { CaptureControl } from "./CaptureControl.js"
import { ChartBox } from "./ChartBox.js"
import { fakeApi, idleStatus } from "./fakeApi.js"
import { RecordingsList } from "./RecordingsList.js"
import { StageStackChart } from "./StageStackChart.js"
import { SummaryTable } from "./SummaryTable.js"
import { TimeSeriesChart } from "./TimeSeriesChart.js"

afterEach(cleanup)

const punktfunk1Stages = [stage("capture", 900), stage("submit", 400), stage("encode", 2100), stage("send", 600)]

describe("StageStackChart", () => {
  it("draws one band per stage in pipeline order, the budget line and the host total", () => {
    const samples = Array.from({ length: 50 }, (_, i) => sample(i * 2000, { stages: punktfunk1Stages }))
    const { container } = render(
      <StageStackChart samples={samples} stages={["capture", "submit", "encode", "send"]} percentile="p50" budgetMs={16.67} hostMeasured width={800} />
    )
    const bands = container.querySelectorAll('[data-testid="stack-series"]')
    expect([...bands].map((b) => b.getAttribute("data-series"))).toEqual(["capture", "submit", "encode", "send"])
    for (const band of bands) expect(band.querySelector("path")?.getAttribute("d")?.length ?? 0).toBeGreaterThan(10)
    expect(container.querySelector('[data-testid="frame-budget"]')?.textContent).toContain("16.7 ms")
    expect(container.querySelector('[data-testid="host-total"]')).not.toBeNull()
  })

  it("stacks: each band's top edge is above (smaller y than) the one below it", () => {
    const samples = [sample(0, { stages: punktfunk1Stages }), sample(2000, { stages: punktfunk1Stages })]
    const { container } = render(
      <StageStackChart samples={samples} stages={["capture", "submit", "encode", "send"]} percentile="p50" budgetMs={null} hostMeasured={false} width={600} />
    )
    const firstY = [...container.querySelectorAll('[data-testid="stack-series"] path:nth-child(2)')].map((p) =>
      Number(/^M[\d.]+,([\d.]+)/.exec(p.getAttribute("d") ?? "")?.[1])
    )
    expect(firstY).toHaveLength(4)
    for (let k = 1; k < firstY.length; k++) expect(firstY[k]!).toBeLessThan(firstY[k - 1]!)
    // No host line when the path does not measure it, no budget line when the fps is unknown.
    expect(container.querySelector('[data-testid="host-total"]')).toBeNull()
    expect(container.querySelector('[data-testid="frame-budget"]')).toBeNull()
  })

  it("lifts the pen at a session boundary: each band is two runs", () => {
    const samples = [
      sample(0, { session_id: "a", stages: punktfunk1Stages }),
      sample(2000, { session_id: "a", stages: punktfunk1Stages }),
      sample(10_000, { session_id: "b", stages: punktfunk1Stages }),
      sample(12_000, { session_id: "b", stages: punktfunk1Stages })
    ]
    const { container } = render(
      <StageStackChart samples={samples} stages={["capture", "submit", "encode", "send"]} percentile="p99" budgetMs={16.67} hostMeasured width={600} />
    )
    const line = container.querySelector('[data-series="encode"] path:nth-child(2)')?.getAttribute("d") ?? ""
    expect(line.match(/M/g)).toHaveLength(2)
    const host = container.querySelector('[data-testid="host-total"]')?.getAttribute("d") ?? ""
    expect(host.match(/M/g)).toHaveLength(2)
  })
})

describe("StageStackChart host line", () => {
  it("draws the host total only over the sessions that measured it", () => {
    const samples = [
      sample(0, { session_id: "a", stages: punktfunk1Stages }),
      sample(2000, { session_id: "a", stages: punktfunk1Stages }),
      sample(4000, { session_id: "b", stages: punktfunk1Stages }),
      sample(6000, { session_id: "b", stages: punktfunk1Stages })
    ]
    const { container } = render(
      <StageStackChart
        samples={samples}
        stages={["capture", "submit", "encode", "send"]}
        percentile="p50"
        budgetMs={16.67}
        hostMeasured
        hostMeasuredFor={(s) => s.session_id === "a"}
        width={600}
      />
    )
    const host = container.querySelector('[data-testid="host-total"]')?.getAttribute("d") ?? ""
    // One run (session a's two windows), nothing over session b.
    expect(host.match(/M/g)).toHaveLength(1)
    expect(host.match(/L/g)).toHaveLength(1)
  })
})

describe("ChartBox", () => {
  it("mounts nothing until it has a width (a 0-width first measure never renders a chart)", () => {
    let rendered = 0
    const { container } = render(
      <ChartBox height={200} label="x" testId="box">
        {() => {
          rendered++
          return <svg />
        }}
      </ChartBox>
    )
    // jsdom lays nothing out: the box measures 0 wide and keeps its fixed height.
    expect(rendered).toBe(0)
    const box = container.querySelector('[data-testid="box"]') as HTMLElement
    expect(box.style.height).toBe("200px")
  })
})

describe("TimeSeriesChart", () => {
  it("breaks a line where a window has no value instead of drawing 0", () => {
    const samples = [sample(0), sample(1000), sample(2000), sample(3000)]
    const { container } = render(
      <TimeSeriesChart
        sources={[{ samples, defs: [{ id: "rtt", value: (s) => (s.t_ms === 2000 ? null : 5) }] }]}
        unit="ms"
        label="rtt"
        testId="rtt"
        width={600}
      />
    )
    const d = container.querySelector('[data-series="rtt"]')?.getAttribute("d") ?? ""
    expect(d.match(/M/g)).toHaveLength(2)
  })
})

describe("SummaryTable", () => {
  it("shows a row per stage against the budget, says how it is computed, and 'not measured' for unmeasured counters", () => {
    const c = capture([sample(0, { stages: [stage("capture", 1000), stage("encode", 20_000)] }), sample(2000)])
    render(<SummaryTable summary={summarizeCapture(c)} />)
    const table = screen.getByTestId("summary")
    expect(table.querySelector('tr[data-stage="capture"]')).not.toBeNull()
    expect(table.querySelector('tr[data-stage="encode"]')).not.toBeNull()
    expect(table.textContent).toContain("mean of window means")
    expect(table.textContent).toContain("16.67 ms (1000 / 60 fps)")
    // encode's max (20 ms p50 → 80 ms max) exceeds the 16.7 ms budget and is marked.
    expect(table.querySelector('tr[data-stage="encode"] td.over')).not.toBeNull()
    expect(screen.getByTestId("frames_dropped").textContent).toBe("not measured")
    expect(screen.getByTestId("rtt_us").textContent).toBe("not measured")
  })

  it("shows a measured 0 as 0", () => {
    const c = capture([sample(0, { frames_dropped: 0 })], [session("s1", { measured: ["frames_dropped"] })])
    render(<SummaryTable summary={summarizeCapture(c)} />)
    expect(screen.getByTestId("frames_dropped").textContent).toBe("0")
  })
})

describe("RecordingsList", () => {
  const two = () => [
    capture([sample(0)], [session("s1")], { id: "cap-a", label: "before", truncated: true }),
    capture([sample(0)], [session("s1")], { id: "cap-b", label: "after", recovered: true })
  ]

  it("deletes only after the confirmation, and compare needs two picks", async () => {
    const captures = two()
    const api = fakeApi(captures)
    let changed = 0
    let compared: ReadonlyArray<string> = []
    render(
      <RecordingsList
        api={api}
        recordings={captures.map((c) => captureListItem(c.meta))}
        error={null}
        onView={() => undefined}
        onCompare={(ids) => (compared = ids)}
        onChanged={() => changed++}
      />
    )
    const rowA = screen.getAllByTestId("recording-row").find((r) => r.getAttribute("data-id") === "cap-a")!
    expect(within(rowA).getByText("truncated")).toBeTruthy()
    fireEvent.click(within(rowA).getByRole("button", { name: "Delete" }))
    expect(api.calls).not.toContain("remove cap-a")
    fireEvent.click(within(rowA).getByRole("button", { name: "Keep" }))
    expect(api.calls).not.toContain("remove cap-a")
    fireEvent.click(within(rowA).getByRole("button", { name: "Delete" }))
    await act(async () => {
      fireEvent.click(within(rowA).getByRole("button", { name: "Yes, delete" }))
    })
    await waitFor(() => expect(api.calls).toContain("remove cap-a"))
    expect(changed).toBe(1)

    const compare = screen.getByTestId("compare-button") as HTMLButtonElement
    expect(compare.disabled).toBe(true)
    fireEvent.click(screen.getByLabelText("compare cap-a"))
    expect(compare.disabled).toBe(true)
    fireEvent.click(screen.getByLabelText("compare cap-b"))
    expect(compare.disabled).toBe(false)
    fireEvent.click(compare)
    expect(compared).toEqual(["cap-a", "cap-b"])
  })

  it("shows each row's columns from the list item: label, path and sessions, format, samples, breaches, badges", () => {
    const captures = [
      capture([sample(0), sample(2000)], [session("s1"), session("s2")], { id: "cap-a", label: "baseline", codec: "hevc", breach_count: { total: 3, critical: 1 } }),
      capture([sample(0)], [session("s1")], { id: "cap-b", label: "imported one", imported: true })
    ]
    const rows = captures.map((c) => captureListItem(c.meta))
    // The row carries the columns, not the whole meta.
    expect(Object.keys(rows[0]!)).not.toContain("sessions")
    expect(rows[0]!.session_count).toBe(2)
    render(<RecordingsList api={fakeApi(captures)} recordings={rows} error={null} onView={() => undefined} onCompare={() => undefined} onChanged={() => undefined} />)
    const [rowA, rowB] = ["cap-a", "cap-b"].map((id) => screen.getAllByTestId("recording-row").find((r) => r.getAttribute("data-id") === id)!)
    expect(within(rowA!).getByTestId("label").textContent).toBe("baseline")
    expect(rowA!.textContent).toContain("(2 sessions)")
    expect(rowA!.textContent).toContain("hevc")
    expect(within(rowA!).getByTestId("breach-count").textContent).toBe("31 critical")
    expect(within(rowA!).queryByTestId("imported-badge")).toBeNull()
    expect(within(rowB!).getByTestId("label").textContent).toBe("imported one")
    expect(rowB!.textContent).not.toContain("sessions)")
    expect(within(rowB!).getByTestId("breach-count").textContent).toBe("—")
    expect(within(rowB!).getByTestId("imported-badge")).toBeTruthy()
  })

  it("shows a failed delete in words", async () => {
    const captures = two()
    const api = fakeApi(captures, {
      remove: async () => {
        throw new ApiFailure("The host could not remove it: read-only file system", 507, "CaptureSaveError")
      }
    })
    render(<RecordingsList api={api} recordings={captures.map((c) => captureListItem(c.meta))} error={null} onView={() => undefined} onCompare={() => undefined} onChanged={() => undefined} />)
    const row = screen.getAllByTestId("recording-row")[1]!
    fireEvent.click(within(row).getByRole("button", { name: "Delete" }))
    await act(async () => {
      fireEvent.click(within(row).getByRole("button", { name: "Yes, delete" }))
    })
    await screen.findByText(/read-only file system/)
  })
})

describe("CaptureControl", () => {
  it("shows the host's elapsed time and sample count while armed", () => {
    const api = fakeApi([])
    render(
      <CaptureControl
        api={api}
        status={{ ...idleStatus, armed: true, elapsed_ms: 83_000, sample_count: 41, kind: "punktfunk1", active_sessions: 1 }}
        sessions={[session("s1")]}
        error={null}
        onChanged={() => undefined}
      />
    )
    expect(screen.getByTestId("capture-state").textContent).toContain("armed")
    expect(screen.getByTestId("elapsed").textContent).toBe("elapsed 1:23")
    expect(screen.getByTestId("sample-count").textContent).toBe("41 samples")
    expect((screen.getByRole("button", { name: "Arm" }) as HTMLButtonElement).disabled).toBe(true)
  })

  it("shows a failed arm in words", async () => {
    const api = fakeApi([], {
      start: async () => {
        throw new ApiFailure("The host did not answer (is it running, is this the right address?).", null, "RequestError")
      }
    })
    render(<CaptureControl api={api} status={idleStatus} sessions={[]} error={null} onChanged={() => undefined} />)
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Arm" }))
    })
    expect((await screen.findByTestId("action-error")).textContent).toContain("did not answer")
  })
})
