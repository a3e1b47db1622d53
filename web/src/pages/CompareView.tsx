/**
 * Two or more recordings side by side: their series overlaid with each aligned at its own start
 * (x = seconds since that capture's first sample), and a summary table with each column's delta
 * against the first recording picked (the baseline).
 *
 * Why the overlay draws the stage total and not the stack: stacks of several captures on top of
 * each other are unreadable; the per-stage differences are in the table, row by row.
 *
 * Why "not in this path" and not "not measured" for a stage: a punktfunk/1 recording has
 * `submit` and a GameStream one `packetize`, and comparing the two is a question operators ask.
 * A stage its path does not have is not a gap in the measurement, and saying so keeps the reader
 * from hunting for a broken counter. Stage rows follow the frame's critical path, whichever
 * recording brought them.
 */
import { useEffect, useMemo, useState } from "react"
import { StageName } from "../../../src/api/Stats.js"
import type { Capture, StatsSample } from "../../../src/api/Stats.js"
import { FIELD_NAMES, FIELDS } from "../../../src/api/Fields.js"
import type { FieldName } from "../../../src/api/Fields.js"
import type { CaptureSummary } from "../../../src/api/Summary.js"
import { delta, fieldStat, summarizeCapture } from "../../../src/api/Summary.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import type { SeriesSource } from "../components/TimeSeriesChart.js"
import { TimeSeriesChart } from "../components/TimeSeriesChart.js"
import { SERIES_COLORS } from "../components/theme.js"
import { ms, num, percent, signed } from "../lib/format.js"
import { BackToRecordings, OpenFailed } from "../components/BackToRecordings.js"
import { pathOf } from "../../../src/api/Paths.js"

interface Row {
  readonly label: string
  readonly unit: string
  /** Value in display units, or null when not measured. */
  readonly value: (s: CaptureSummary) => number | null
  /** Why recording `k` has no value here, when it is not "not measured". */
  readonly absent?: (k: number) => string | undefined
  /** Whether a higher value is better (fps) or worse (latency). */
  readonly higherIsBetter: boolean
  readonly digits: number
  /** The fields this row shows (for the field-table test). */
  readonly fields?: ReadonlyArray<FieldName>
}

/** The stages any of its sessions has: what the recording's path(s) time. */
const stagesOfCapture = (c: Capture): ReadonlySet<string> => new Set(c.meta.sessions.flatMap((s) => s.stages))

const stageRows = (summaries: ReadonlyArray<CaptureSummary>, captures: ReadonlyArray<Capture>): Array<Row> => {
  const present = new Set<string>()
  for (const s of summaries) for (const st of s.stages) present.add(st.name)
  const paths = captures.map(stagesOfCapture)
  const names = StageName.literals.filter((name) => present.has(name))
  return names.flatMap((name) =>
    (["p50_us", "p99_us"] as const).map((field) => ({
      label: `${name} ${field.replace("_us", "")}`,
      unit: "ms",
      value: (s: CaptureSummary) => {
        const st = s.stages.find((x) => x.name === name)
        return st === undefined ? null : st[field] / 1000
      },
      absent: (k: number) => (paths[k] !== undefined && paths[k].size > 0 && !paths[k].has(name) ? "not in this path" : undefined),
      higherIsBetter: false,
      digits: 2
    }))
  )
}

// One row per `compare` entry of the field table, in its order.
const ROWS: ReadonlyArray<Row> = FIELD_NAMES.flatMap((field) =>
  FIELDS[field].compare.map((c): Row => {
    const { show } = FIELDS[field]
    return {
      label: c.label,
      unit: show.unit,
      value: (s) => {
        const v = fieldStat(s, field, c.stat)
        return v === null ? null : v * show.scale
      },
      higherIsBetter: c.better === "higher",
      digits: show.digits,
      fields: [field]
    }
  })
)

const stageTotal = (s: StatsSample, p: "p50_us" | "p99_us"): number | null =>
  s.stages.length === 0 ? null : s.stages.reduce((sum, st) => sum + st[p], 0) / 1000

export const CompareView = ({ api, ids, onBack }: { api: ConsoleApi; ids: ReadonlyArray<string>; onBack: () => void }) => {
  const [captures, setCaptures] = useState<ReadonlyArray<Capture> | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let cancelled = false
    Promise.all(ids.map((id) => api.get(id))).then(
      (cs) => !cancelled && setCaptures(cs),
      (e: unknown) => !cancelled && setError(describeError(e).message)
    )
    return () => {
      cancelled = true
    }
  }, [api, ids])
  const summaries = useMemo(() => (captures ?? []).map((c) => summarizeCapture(c)), [captures])
  const name = (c: Capture, k: number) => `${k + 1}: ${c.meta.label || c.meta.id}`
  const latencySources: Array<SeriesSource> = useMemo(
    () =>
      (captures ?? []).map((c, k) => ({
        samples: c.samples,
        originMs: c.samples[0]?.t_ms ?? 0,
        defs: [{ id: `${name(c, k)} stage sum p50`, value: (s: StatsSample) => stageTotal(s, "p50_us"), color: SERIES_COLORS[k % SERIES_COLORS.length] ?? "#999" }]
      })),
    [captures]
  )
  const fpsSources: Array<SeriesSource> = useMemo(
    () =>
      (captures ?? []).map((c, k) => ({
        samples: c.samples,
        originMs: c.samples[0]?.t_ms ?? 0,
        defs: [{ id: `${name(c, k)} fps`, value: (s: StatsSample) => s.fps, color: SERIES_COLORS[k % SERIES_COLORS.length] ?? "#999" }]
      })),
    [captures]
  )
  if (error !== null) return <OpenFailed error={error} onBack={onBack} />
  if (captures === null) return <p className="muted">Loading {ids.length} recordings…</p>
  const rows = [...stageRows(summaries, captures), ...ROWS]
  const base = summaries[0]
  return (
    <section className="panel compare" data-testid="compare" aria-label="compare recordings">
      <div className="row">
        <BackToRecordings onBack={onBack} />
        <h2>Compare {captures.length} recordings</h2>
      </div>
      <p className="muted small">Aligned at each capture's first sample. Deltas are against recording 1.</p>
      <h3>Stage sum p50 (ms), overlaid</h3>
      <TimeSeriesChart sources={latencySources} unit="ms" digits={2} label="Stage sum p50 of each recording, overlaid" testId="compare-latency-chart" height={260} />
      <h3>Frames per second, overlaid</h3>
      <TimeSeriesChart sources={fpsSources} unit="fps" label="Frames per second of each recording, overlaid" testId="compare-fps-chart" />
      <table className="grid" data-testid="compare-table">
        <caption>Summaries computed over windows (see the detail view); "not measured" where a path does not expose the counter, "not in this path" for a stage the recording's path does not have.</caption>
        <thead>
          <tr>
            <th />
            {captures.map((c, k) => (
              <th key={c.meta.id} scope="col">
                {name(c, k)}
                <div className="muted small">
                  {pathOf(c.meta.kind).title} {c.meta.width}×{c.meta.height}@{c.meta.fps} {c.meta.encoder_backend}
                </div>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label} {...(row.fields === undefined ? {} : { "data-fields": row.fields.join(" ") })}>
              <th scope="row">
                {row.label} {row.unit === "" ? "" : `(${row.unit})`}
              </th>
              {summaries.map((s, k) => {
                const v = row.value(s)
                const d = k === 0 || base === undefined ? null : delta(row.value(base), v)
                const better = d === null || d.absolute === 0 ? "" : d.absolute > 0 === row.higherIsBetter ? " better" : " worse"
                return (
                  <td key={k} className="num">
                    {v === null ? (row.absent?.(k) ?? "not measured") : row.unit === "ms" ? ms(v * 1000) : num(v, row.digits)}
                    {d !== null ? (
                      <span className={`delta${better}`}>
                        {" "}
                        {signed(d.absolute, row.digits)}
                        {percent(d.relative)}
                      </span>
                    ) : null}
                  </td>
                )
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
