/**
 * The summary of a capture (or of the selected range): per stage mean/p50/p95/p99/max against
 * the frame budget, the measured host total, then one row per field of the field table
 * (`src/api/Fields.ts`) in the form its `summary` column names — fps with the 1% low, Mb/s vs
 * target, counters' totals, RTT and the send split's spread. Every number is computed by
 * `src/api/Summary.ts` over every sample in the range; the caption says how (a statistic of window
 * statistics), and a field the path did not measure reads "not measured", never 0. Each row says
 * which fields it shows (`data-fields`), which is how the field-table test finds them.
 */
import { FIELD_NAMES, FIELDS } from "../../../src/api/Fields.js"
import type { FieldName } from "../../../src/api/Fields.js"
import type { CaptureSummary, CounterSummary, Distribution } from "../../../src/api/Summary.js"
import { SUMMARY_METHOD, fieldSummary } from "../../../src/api/Summary.js"
import type { BreachCount } from "../../../src/api/Breaches.js"
import { ms, num, seconds } from "../lib/format.js"
import { TableHead } from "./TableHead.js"

const NOT_MEASURED = "not measured"

const overBudget = (us: number, budgetMs: number | null) => budgetMs !== null && us / 1000 > budgetMs

const Cell = ({ us, budget }: { us: number | null; budget: number | null }) => (
  <td className={`num${us !== null && overBudget(us, budget) ? " over" : ""}`}>{ms(us)}</td>
)

interface FieldRow {
  readonly label: string
  readonly text: string
  readonly fields: ReadonlyArray<FieldName>
}

/** The row a field's `summary` form asks for; null for fields shown elsewhere. */
const fieldRow = (summary: CaptureSummary, field: FieldName): FieldRow | null => {
  const spec = FIELDS[field]
  const s = fieldSummary(summary, field)
  const show = (v: number) => num(v * spec.show.scale, spec.show.digits)
  const d = s !== null && !("total" in s) ? (s as Distribution) : null
  switch (spec.summary) {
    case "in_stages":
    case "with":
      return null
    case "total":
      return { label: spec.label, text: s === null ? NOT_MEASURED : String((s as CounterSummary).total), fields: [field] }
    case "mean":
      return { label: `${spec.label} (mean)`, text: d === null ? NOT_MEASURED : show(d.mean), fields: [field] }
    case "mean_low":
      return {
        label: `${spec.label} (mean / 1% low)`,
        text: (d === null ? NOT_MEASURED : `${show(d.mean)} / ${show(d.p1)}`) + (summary.target_fps > 0 ? ` (target ${summary.target_fps})` : ""),
        fields: [field]
      }
    case "vs_target": {
      const target = "target" in spec ? (spec.target as FieldName) : undefined
      const t = target === undefined ? null : (fieldSummary(summary, target) as Distribution | null)
      const targetText = target === undefined || t === null ? "" : ` vs ${num(t.mean * FIELDS[target].show.scale, spec.show.digits)}`
      return {
        label: `${spec.label} ${spec.show.unit} (mean vs target)`,
        text: (d === null ? NOT_MEASURED : show(d.mean)) + targetText,
        fields: target === undefined ? [field] : [field, target]
      }
    }
    case "spread":
      return {
        label: `${spec.label} ${spec.show.unit} (mean / p50 / p99 / max)`,
        text: d === null ? NOT_MEASURED : `${show(d.mean)} / ${show(d.p50)} / ${show(d.p99)} / ${show(d.max)}`,
        fields: [field]
      }
  }
}

export interface SummaryTableProps {
  readonly summary: CaptureSummary
  readonly title?: string
  /** Budget-breach events overlapping the summarised range (the detail view's, under its thresholds). */
  readonly breaches?: BreachCount
}

export const SummaryTable = ({ summary, title, breaches }: SummaryTableProps) => {
  const budget = summary.frame_budget_ms
  const host50 = summary.host_p50_us
  const host99 = summary.host_p99_us
  return (
    <section className="summary" data-testid="summary" aria-label="summary">
      <h3>
        {title ?? "Summary"}{" "}
        <span className="muted">
          {summary.windows} windows, {seconds(summary.from_ms / 1000)} – {seconds(summary.to_ms / 1000)}
        </span>
      </h3>
      <table className="grid">
        <caption>
          Stage latency in ms. Frame budget {budget === null ? "unknown" : `${budget.toFixed(2)} ms (1000 / ${summary.target_fps} fps)`};
          values over budget are marked. {SUMMARY_METHOD}
        </caption>
        <TableHead columns={["stage", "mean", "p50", "p95", "p99", "max", "p50 % of budget"]} />
        <tbody>
          {summary.stages.map((s) => (
            <tr key={s.name} data-stage={s.name}>
              <th scope="row">{s.name}</th>
              <Cell us={s.mean_us} budget={budget} />
              <Cell us={s.p50_us} budget={budget} />
              <Cell us={s.p95_us} budget={budget} />
              <Cell us={s.p99_us} budget={budget} />
              <Cell us={s.max_us} budget={budget} />
              <td className="num">{budget === null ? "—" : `${((s.p50_us / 1000 / budget) * 100).toFixed(0)}%`}</td>
            </tr>
          ))}
          <tr data-stage="host" data-fields="host_p50_us host_p99_us">
            <th scope="row">host total (measured)</th>
            {host50 === null || host99 === null ? (
              <td colSpan={6}>{NOT_MEASURED}</td>
            ) : (
              <>
                <td className="num">—</td>
                <Cell us={host50.p50} budget={budget} />
                <Cell us={host99.p95} budget={budget} />
                <Cell us={host99.p99} budget={budget} />
                <Cell us={host99.max} budget={budget} />
                <td className="num">{budget === null ? "—" : `${((host50.p50 / 1000 / budget) * 100).toFixed(0)}%`}</td>
              </>
            )}
          </tr>
        </tbody>
      </table>
      <p className="muted small">
        The host total is measured from the frame's deadline to its last datagram, not summed; the host reports no
        per-window mean or max for it, so its max column is the largest window p99.
      </p>
      <table className="grid compact">
        <tbody>
          {breaches === undefined ? null : (
            <tr data-fields="breaches">
              <th scope="row">budget-breach events</th>
              <td data-testid="breach-count">
                {breaches.total} ({breaches.critical} critical)
              </td>
            </tr>
          )}
          {FIELD_NAMES.map((field) => {
            const row = fieldRow(summary, field)
            return row === null ? null : (
              <tr key={field} data-fields={row.fields.join(" ")}>
                <th scope="row">{row.label}</th>
                <td data-testid={field}>{row.text}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}
