/**
 * The field table (`src/api/Fields.ts`) is the one description of each field: this test walks it
 * and checks that every consumer shows every row — a capture file (and an older file without the
 * rows added since), CSV, `/metrics`, the CLI's summary, the summary math, the console's summary
 * table, the detail view's charts, the compare table — and that the fixtures cover it. A row that
 * some consumer drops fails here by name.
 */
import { cleanup, render, screen } from "@testing-library/react"
import { Effect, Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { captureToCsv } from "../../src/api/Csv.js"
import { FIELD_NAMES, FIELDS, fieldSpec, measuredFields, unionMeasured, zeroFields } from "../../src/api/Fields.js"
import type { FieldName } from "../../src/api/Fields.js"
import { PATHS, StreamKind } from "../../src/api/Paths.js"
import { Capture, StatsSample } from "../../src/api/Stats.js"
import { fieldStat, summarizeCapture } from "../../src/api/Summary.js"
import { formatCaptureSummary } from "../../src/cli/Format.js"
import { renderMetrics } from "../../src/http/MetricsExposition.js"
import { makeMetrics } from "../../src/services/Metrics.js"
import { capture, sample, session } from "./api/fixtures.js"
import { SummaryTable } from "./components/SummaryTable.js"
import { fakeApi, idleStatus } from "./components/fakeApi.js"
import { CompareView } from "./pages/CompareView.js"
import { CaptureCharts } from "./pages/DetailView.js"

afterEach(cleanup)

// Every field measured, each with its own value (integers for counts, so every schema accepts it).
const valueOf = (field: FieldName, t: number): number => (FIELD_NAMES.indexOf(field) + 1) * 10 + t
const allFields = (t_ms: number): StatsSample => {
  const s: Record<string, unknown> = { ...sample(t_ms) }
  for (const f of FIELD_NAMES) s[f] = valueOf(f, t_ms / 1000)
  return s as StatsSample
}
const everything = () =>
  capture([allFields(0), allFields(1000), allFields(2000)], [session("s1", { measured: FIELD_NAMES })], { id: "all-fields" })

const encodeCapture = Schema.encodeSync(Capture)
const decodeCapture = Schema.decodeUnknownSync(Capture)

describe("the field table", () => {
  it("describes each field once: measured on some path, with a unit, a meaning and a Prometheus family", () => {
    const families = new Map<string, string>()
    for (const f of FIELD_NAMES) {
      const spec = FIELDS[f]
      expect(spec.meaning.length, f).toBeGreaterThan(10)
      expect(spec.unit.length, f).toBeGreaterThan(0)
      expect(StreamKind.literals.some((k) => k in spec.measuredOn), `${f} is measured on no path`).toBe(true)
      expect(spec.prometheus.name, f).toMatch(/^punktfunk_[a-z_]+$/)
      if (spec.group === "counter") expect(spec.prometheus.name, f).toMatch(/_total$/)
      // Fields sharing a family share its HELP and differ by a label.
      const help = families.get(spec.prometheus.name)
      if (help !== undefined) {
        expect(spec.prometheus.help, f).toBe(help)
        expect("labels" in spec.prometheus, f).toBe(true)
      }
      families.set(spec.prometheus.name, spec.prometheus.help)
    }
  })

  it("captures: every field survives the file format, and a file older than a row decodes it as unmeasured", () => {
    const c = everything()
    const encoded = encodeCapture(c)
    const back = decodeCapture(JSON.parse(JSON.stringify(encoded)))
    for (const f of FIELD_NAMES) expect(back.samples[1]![f], f).toBe(valueOf(f, 1))
    // An older file: without the rows added since, and without them in `measured`.
    const added = FIELD_NAMES.filter((f) => fieldSpec(f).wire === "added")
    expect(added.length).toBeGreaterThan(0)
    const old = JSON.parse(JSON.stringify(encoded)) as { meta: { measured: Array<string>; sessions: Array<{ measured: Array<string> }> }; samples: Array<Record<string, unknown>> }
    for (const s of old.samples) for (const f of added) delete s[f]
    old.meta.measured = old.meta.measured.filter((f) => !added.includes(f as FieldName))
    for (const s of old.meta.sessions) s.measured = s.measured.filter((f) => !added.includes(f as FieldName))
    const decoded = decodeCapture(old)
    const summary = summarizeCapture(decoded)
    for (const f of added) {
      expect(decoded.samples[0]![f], f).toBe(0)
      expect(summary[f], `${f} in an old capture`).toBeNull()
    }
  })

  it("CSV: a column per field holding its value", () => {
    const [header, first] = captureToCsv(everything()).split("\r\n").map((l) => l.split(","))
    for (const f of FIELD_NAMES) expect(first![header!.indexOf(f)], f).toBe(String(valueOf(f, 0)))
  })

  it("the summary and /metrics: every field, in its unit", () => {
    const c = everything()
    const summary = summarizeCapture(c)
    expect(summary.measured).toEqual(FIELD_NAMES)
    for (const f of FIELD_NAMES) expect(fieldStat(summary, f, FIELDS[f].group === "counter" ? "total" : "max"), f).not.toBeNull()

    const metrics = makeMetrics()
    const meta = c.meta.sessions[0]!
    Effect.runSync(metrics.sessionStarted(meta))
    for (const s of c.samples) Effect.runSync(metrics.observe(s))
    const text = renderMetrics(Effect.runSync(metrics.snapshot), { ...idleStatus, active_sessions: 1 })
    for (const f of FIELD_NAMES) {
      const p = FIELDS[f].prometheus
      const extra = ("labels" in p ? p.labels : []).map(([k, v]) => `,${k}="${v}"`).join("")
      const [labels, value] =
        p.type === "counter"
          ? [`{path="punktfunk1"}`, c.samples.reduce((sum, s) => sum + (s[f] ?? 0), 0)]
          : [`{path="punktfunk1",session="s1"${extra}}`, p.toBase(valueOf(f, 2))]
      expect(text, f).toContain(`# HELP ${p.name} ${p.help}`)
      expect(text, f).toContain(`\n${p.name}${labels} ${value}\n`)
    }
  })

  it("the CLI's summary names every field", () => {
    const out = formatCaptureSummary(everything())
    for (const f of FIELD_NAMES) {
      const spec = FIELDS[f]
      // The host total is a row of the stage table; every other field is a row (or line) of its own.
      const name = spec.summary === "in_stages" ? "host total" : spec.label
      expect(out, f).toMatch(new RegExp(`^${name}\\b`, "m"))
    }
    expect(out).not.toContain("not measured")
  })

  it("the console: summary table, charts and compare table show every field", async () => {
    const c = everything()
    const { container: table } = render(<SummaryTable summary={summarizeCapture(c)} />)
    const { container: p50 } = render(<CaptureCharts capture={c} range={null} percentile="p50" />)
    const { container: p99 } = render(<CaptureCharts capture={c} range={null} percentile="p99" />)
    render(<CompareView api={fakeApi([c, { ...c, meta: { ...c.meta, id: "again" } }])} ids={["all-fields", "again"]} onBack={() => undefined} />)
    const compare = await screen.findByTestId("compare-table")
    const shows = (root: Element, f: FieldName) => root.querySelector(`[data-fields~="${f}"]`) !== null
    for (const f of FIELD_NAMES) {
      expect(shows(table, f), `summary table: ${f}`).toBe(true)
      expect(shows(p50, f) || shows(p99, f), `charts: ${f}`).toBe(true)
      expect(shows(compare, f), `compare table: ${f}`).toBe(true)
    }
    expect(table.textContent).not.toContain("not measured")
  })

  it("paths and runners: what a session measures comes from the table, in its order", () => {
    // A punktfunk/1 session sending sealed media to a client measures every row the table gives it.
    const punktfunk1 = unionMeasured(
      measuredFields("punktfunk1", "pipeline", { sending: true, sealed: true, client_fec_status: false, client_e2e: true }),
      measuredFields("punktfunk1", "control", { sending: true, sealed: true, client_fec_status: false, client_e2e: true })
    )
    expect(punktfunk1).toEqual(FIELD_NAMES.filter((f) => "punktfunk1" in FIELDS[f].measuredOn))
    // The one meaning of frames_dropped: the host's missed deadlines; the client's drops are their own.
    expect(FIELDS.frames_dropped.source).toBe("pipeline")
    expect(FIELDS.client_frames_dropped.source).toBe("control")
    for (const kind of StreamKind.literals) expect(PATHS[kind].stages.at(-1)).toBe("send")
  })

  it("fixtures: the zero sample carries every field a sample always has", () => {
    const zero = zeroFields()
    for (const f of FIELD_NAMES) expect(f in zero, f).toBe(FIELDS[f].wire !== "when_measured")
    expect(() => Schema.decodeUnknownSync(StatsSample)(Schema.encodeSync(StatsSample)(sample(0)))).not.toThrow()
  })
})
