import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react"
import { afterEach, describe, expect, it } from "vitest"
import { capture, sample, session, stage } from "../api/fixtures.js"
import { fakeApi } from "../components/fakeApi.js"
import { CompareView } from "./CompareView.js"
import { DetailView } from "./DetailView.js"

afterEach(cleanup)

// 20 windows, 1 s apart; encode p50 = (i + 1) ms, so a range's median is known.
const twenty = () =>
  capture(
    Array.from({ length: 20 }, (_, i) => sample(i * 1000, { stages: [stage("capture", 500), stage("encode", (i + 1) * 1000)] })),
    [session("s1")],
    { id: "cap-1", label: "twenty" }
  )

const encodeP50 = () => within(screen.getByTestId("summary")).getByText("encode").closest("tr")!.querySelectorAll("td")[1]!.textContent

describe("DetailView", () => {
  it("summarises the whole capture, then only the range typed in", async () => {
    const api = fakeApi([twenty()])
    render(<DetailView api={api} id="cap-1" onBack={() => undefined} />)
    await screen.findByTestId("summary")
    expect(screen.getByTestId("summary").textContent).toContain("20 windows")
    expect(encodeP50()).toBe("10.50")
    const from = screen.getByLabelText("range from (s)")
    fireEvent.change(from, { target: { value: "15" } })
    // Nothing re-ranges until the bound is committed.
    expect(screen.getByTestId("summary").textContent).toContain("20 windows")
    fireEvent.keyDown(from, { key: "Enter" })
    await waitFor(() => expect(screen.getByTestId("summary").textContent).toContain("5 windows"))
    expect(screen.getByTestId("summary").textContent).toContain("selected range")
    expect(encodeP50()).toBe("18.00")
    fireEvent.click(screen.getByRole("button", { name: "Whole capture" }))
    await waitFor(() => expect(screen.getByTestId("summary").textContent).toContain("20 windows"))
  })

  it("moves a selection with the arrow keys and clears it with Escape", async () => {
    const api = fakeApi([twenty()])
    render(<DetailView api={api} id="cap-1" onBack={() => undefined} />)
    await screen.findByTestId("summary")
    const strip = screen.getByTestId("range-brush")
    // A tenth of 0–19 s (1.9 s wide), moved right by a twentieth (0.95 s): 0.95–2.85 s → t = 1 s, 2 s.
    fireEvent.keyDown(strip, { key: "ArrowRight" })
    await waitFor(() => expect(screen.getByTestId("summary").textContent).toContain("2 windows"))
    fireEvent.keyDown(strip, { key: "Escape" })
    await waitFor(() => expect(screen.getByTestId("summary").textContent).toContain("20 windows"))
  })

  it("says in words when the recording is gone", async () => {
    const api = fakeApi([])
    render(<DetailView api={api} id="missing" onBack={() => undefined} />)
    expect((await screen.findByRole("alert")).textContent).toContain("no capture named missing")
  })

  it("says nothing is drawn for counters the path did not measure", async () => {
    const api = fakeApi([twenty()])
    render(<DetailView api={api} id="cap-1" onBack={() => undefined} />)
    await screen.findByTestId("health-none")
    expect(screen.getByTestId("rtt-none").textContent).toContain("not measured")
  })
})

// A GameStream recording: its own stage set (no submit; packetize), Moonlight's loss reports.
const gamestream = () =>
  capture(
    [0, 1000, 2000].map((t) =>
      sample(t, {
        session_id: "g1",
        stages: [stage("capture", 400), stage("encode", 3000), stage("packetize", 200), stage("send", 100)],
        packets_dropped: 3
      })
    ),
    [
      session("g1", {
        kind: "gamestream",
        stages: ["capture", "encode", "packetize", "send"],
        measured: ["fps", "repeat_fps", "mbps", "bitrate_kbps", "host_p50_us", "host_p99_us", "packets_dropped"]
      })
    ],
    { id: "gs-1", label: "moonlight" }
  )

describe("a GameStream recording", () => {
  it("stacks its own stages (packetize, no submit) and draws the loss Moonlight reported", async () => {
    const api = fakeApi([gamestream()])
    render(<DetailView api={api} id="gs-1" onBack={() => undefined} />)
    const summary = await screen.findByTestId("summary")
    // The stack's legend (jsdom has no layout, so the chart itself stays empty here).
    const legend = screen.getByRole("heading", { name: /^Stage latency/ }).nextElementSibling!
    expect([...legend.querySelectorAll("li")].map((li) => li.textContent).slice(0, 4)).toEqual(["capture", "encode", "packetize", "send"])
    expect(within(summary).getByText("packetize")).toBeTruthy()
    expect(within(summary).queryByText("submit")).toBeNull()
    expect(screen.getByText(/GameStream 1280×720@60/)).toBeTruthy()
    expect(screen.queryByTestId("health-none")).toBeNull()
  })

  it("compares with a punktfunk/1 recording stage by stage, in critical-path order, saying which stages a path lacks", async () => {
    const punktfunk1 = capture(
      [0, 1000].map((t) => sample(t, { stages: [stage("capture", 500), stage("submit", 700), stage("encode", 2000), stage("send", 300)] })),
      [session("s1")],
      { id: "n-1", label: "punktfunk1" }
    )
    const api = fakeApi([punktfunk1, gamestream()])
    render(<CompareView api={api} ids={["n-1", "gs-1"]} onBack={() => undefined} />)
    const table = await screen.findByTestId("compare-table")
    const labels = [...table.querySelectorAll("tbody th")].map((th) => th.textContent ?? "").filter((l) => l.includes("p50 (ms)"))
    expect(labels.slice(0, 5)).toEqual(["capture p50 (ms)", "submit p50 (ms)", "encode p50 (ms)", "packetize p50 (ms)", "send p50 (ms)"])
    const cells = (label: string) => [...within(table).getByText(label).closest("tr")!.querySelectorAll("td")].map((td) => td.textContent)
    expect(cells("submit p50 (ms)")).toEqual(["0.70", "not in this path"])
    expect(cells("packetize p50 (ms)")).toEqual(["not in this path", "0.20"])
    expect(cells("encode p50 (ms)")[1]).toContain("3.00")
    // A counter the punktfunk/1 path does not report here is still "not measured", not "not in this path".
    expect(cells("packets dropped")).toEqual(["not measured", expect.stringContaining("9")])
  })
})

describe("CompareView", () => {
  it("puts recordings side by side with deltas against the first", async () => {
    const before = capture([sample(0, { stages: [stage("encode", 2000)] }), sample(1000, { stages: [stage("encode", 2000)] })], [session("s1")], { id: "a", label: "before" })
    const after = capture([sample(5000, { stages: [stage("encode", 3000)] }), sample(6000, { stages: [stage("encode", 3000)] })], [session("s1")], { id: "b", label: "after" })
    const api = fakeApi([before, after])
    render(<CompareView api={api} ids={["a", "b"]} onBack={() => undefined} />)
    const table = await screen.findByTestId("compare-table")
    expect([...table.querySelectorAll('thead th[scope="col"]')].map((th) => th.firstChild?.textContent)).toEqual(["1: before", "2: after"])
    const row = within(table).getByText("encode p50 (ms)").closest("tr")!
    const cells = row.querySelectorAll("td")
    expect(cells[0]!.textContent).toBe("2.00")
    expect(cells[1]!.textContent).toContain("3.00")
    expect(cells[1]!.textContent).toContain("+1.00 (+50.0%)")
    expect(cells[1]!.querySelector(".delta.worse")).not.toBeNull()
    // Unmeasured counters say so in every column.
    const drops = within(table).getByText("frames dropped").closest("tr")!
    expect([...drops.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["not measured", "not measured"])
  })
})
