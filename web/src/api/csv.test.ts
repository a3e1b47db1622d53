import { describe, expect, it } from "vitest"
import { captureStages, captureToCsv, csvCell, csvHeader } from "../../../src/api/Csv.js"
import { DEFAULT_BREACH_THRESHOLDS } from "../../../src/api/Breaches.js"
import { capture, sample, session, stage } from "./fixtures.js"

const parse = (text: string) => text.split("\r\n").slice(0, -1).map((line) => line.split(","))

describe("CSV writer (src/api/Csv.ts)", () => {
  it("writes a header and one CRLF-terminated row per sample", () => {
    const c = capture([sample(0), sample(2000), sample(4000)])
    const text = captureToCsv(c)
    expect(text.endsWith("\r\n")).toBe(true)
    const rows = parse(text)
    expect(rows).toHaveLength(4)
    expect(rows[0]).toEqual(csvHeader(captureStages(c)))
    expect(rows[0]!.slice(0, 2)).toEqual(["t_ms", "session_id"])
    for (const row of rows) expect(row).toHaveLength(rows[0]!.length)
    expect(rows.slice(1).map((r) => r[0])).toEqual(["0", "2000", "4000"])
  })

  it("stage columns are the union over sessions in pipeline order; an absent stage is empty, not 0", () => {
    const punktfunk1 = session("n", { stages: ["capture", "submit", "encode", "send"] })
    const gs = session("g", { kind: "gamestream", stages: ["capture", "encode", "packetize", "send"] })
    const c = capture(
      [
        sample(0, { session_id: "n", stages: [stage("capture", 1), stage("submit", 2), stage("encode", 3), stage("send", 4)] }),
        sample(1000, { session_id: "g", stages: [stage("capture", 1), stage("encode", 3), stage("packetize", 5), stage("send", 4)] })
      ],
      [punktfunk1, gs]
    )
    expect(captureStages(c)).toEqual(["capture", "submit", "encode", "packetize", "send"])
    const [header, first, second] = parse(captureToCsv(c))
    const col = (name: string) => header!.indexOf(name)
    expect(first![col("packetize_p50_us")]).toBe("")
    expect(first![col("submit_p50_us")]).toBe("2")
    expect(second![col("submit_p50_us")]).toBe("")
    expect(second![col("packetize_p50_us")]).toBe("5")
  })

  it("an unmeasured counter is an empty cell, a measured 0 is 0", () => {
    const c = capture([sample(0, { frames_dropped: 0, fps: 59.5 })], [session("s1", { measured: ["fps"] })])
    const [header, row] = parse(captureToCsv(c))
    expect(row![header!.indexOf("frames_dropped")]).toBe("")
    expect(row![header!.indexOf("fps")]).toBe("59.5")
    const measured = capture([sample(0, { frames_dropped: 0 })], [session("s1", { measured: ["frames_dropped"] })])
    const [h2, r2] = parse(captureToCsv(measured))
    expect(r2![h2!.indexOf("frames_dropped")]).toBe("0")
  })

  it("quotes cells with commas, quotes or line breaks (RFC 4180)", () => {
    expect(csvCell("plain")).toBe("plain")
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell("two\nlines")).toBe('"two\nlines"')
    expect(csvCell(1.5)).toBe("1.5")
    const c = capture([sample(0, { session_id: "odd,id" })], [session("odd,id")])
    expect(captureToCsv(c).split("\r\n")[1]!.startsWith('0,"odd,id",')).toBe(true)
  })

  it("an empty capture is the header alone", () => {
    const text = captureToCsv(capture([], []))
    expect(text.split("\r\n")).toEqual(["t_ms,session_id,fps,repeat_fps,mbps,bitrate_kbps,frames_dropped,client_frames_dropped,packets_dropped,send_dropped,fec_recovered,windows_dropped,rtt_us,host_p50_us,host_p99_us,e2e_p50_us,e2e_p99_us,fec_us,seal_us,sock_us,breaches", ""])
  })
})

describe("CSV breaches column", () => {
  it("each row lists the stored events (kind:severity, ;-separated) whose span covers its window, only for its session", () => {
    const c = capture([1, 2, 3].map((i) => sample(i * 1000, { session_id: "s" })), [session("s")])
    const events = [
      { kind: "host_p99", severity: "critical", session_id: "s", from_ms: 1000, to_ms: 3000, windows: 2, worst: 40_000, threshold: 16_667, message: "" },
      { kind: "drops", severity: "warning", session_id: "s", from_ms: 2000, to_ms: 3000, windows: 1, worst: 1, threshold: 1, message: "" },
      { kind: "rtt", severity: "warning", session_id: "other", from_ms: 0, to_ms: 3000, windows: 3, worst: 9, threshold: 4, message: "" }
    ] as const
    const stored = { ...c, breaches: { thresholds: DEFAULT_BREACH_THRESHOLDS, events } }
    const rows = parse(captureToCsv(stored))
    const at = rows[0]!.indexOf("breaches")
    expect(at).toBe(rows[0]!.length - 1)
    expect(rows.slice(1).map((r) => r[at])).toEqual(["", "host_p99:critical", "host_p99:critical;drops:warning"])
  })
})
