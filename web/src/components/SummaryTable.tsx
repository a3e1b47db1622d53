/**
 * The summary of a capture (or of the selected range): per stage mean/p50/p95/p99/max against
 * the frame budget, the measured host total, fps new vs repeat with the 1% low, Mb/s vs target,
 * health counters and RTT. Every number is computed by `src/api/Summary.ts` over every sample in
 * the range; the caption says how (a statistic of window statistics), and a counter the path did
 * not measure reads "not measured", never 0.
 */
import type { CaptureSummary, CounterSummary, Distribution } from "../../../src/api/Summary.js"
import { SUMMARY_METHOD } from "../../../src/api/Summary.js"
import { ms, num, seconds } from "../lib/format.js"

const NOT_MEASURED = "not measured"

const overBudget = (us: number, budgetMs: number | null) => budgetMs !== null && us / 1000 > budgetMs

const Cell = ({ us, budget }: { us: number | null; budget: number | null }) => (
  <td className={`num${us !== null && overBudget(us, budget) ? " over" : ""}`}>{ms(us)}</td>
)

const counterText = (c: CounterSummary | null): string => (c === null ? NOT_MEASURED : String(c.total))
const distText = (d: Distribution | null, f: (v: number) => string): string => (d === null ? NOT_MEASURED : f(d.mean))

export const SummaryTable = ({ summary, title }: { summary: CaptureSummary; title?: string }) => {
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
        <thead>
          <tr>
            <th>stage</th>
            <th>mean</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99</th>
            <th>max</th>
            <th>p50 % of budget</th>
          </tr>
        </thead>
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
          <tr data-stage="host">
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
          <tr>
            <th scope="row">fps new (mean / 1% low)</th>
            <td data-testid="fps">
              {summary.fps === null ? NOT_MEASURED : `${num(summary.fps.mean)} / ${num(summary.fps.p1)}`}
              {summary.target_fps > 0 ? ` (target ${summary.target_fps})` : ""}
            </td>
          </tr>
          <tr>
            <th scope="row">fps repeat (mean)</th>
            <td>{distText(summary.repeat_fps, (v) => num(v, 2))}</td>
          </tr>
          <tr>
            <th scope="row">Mb/s (mean vs target)</th>
            <td>
              {distText(summary.mbps, (v) => num(v, 2))}
              {summary.target_mbps === null ? "" : ` vs ${num(summary.target_mbps, 2)}`}
            </td>
          </tr>
          <tr>
            <th scope="row">frames dropped</th>
            <td data-testid="frames_dropped">{counterText(summary.frames_dropped)}</td>
          </tr>
          <tr>
            <th scope="row">packets dropped</th>
            <td data-testid="packets_dropped">{counterText(summary.packets_dropped)}</td>
          </tr>
          <tr>
            <th scope="row">send dropped</th>
            <td data-testid="send_dropped">{counterText(summary.send_dropped)}</td>
          </tr>
          <tr>
            <th scope="row">FEC recovered</th>
            <td data-testid="fec_recovered">{counterText(summary.fec_recovered)}</td>
          </tr>
          <tr>
            <th scope="row">RTT ms (mean / p50 / p99 / max)</th>
            <td data-testid="rtt">
              {summary.rtt_us === null
                ? NOT_MEASURED
                : `${ms(summary.rtt_us.mean)} / ${ms(summary.rtt_us.p50)} / ${ms(summary.rtt_us.p99)} / ${ms(summary.rtt_us.max)}`}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  )
}
