/**
 * The live view while armed: the latest minutes of stage latency (stacked p50 against the
 * budget) and fps, redrawn as windows arrive. `animate={false}` on every chart: animating towards
 * a target that moves every window only smears the lines.
 */
import type { MeasuredField, SessionMeta, StageName, StatsSample } from "../../../src/api/Stats.js"
import { StageName as StageNameSchema } from "../../../src/api/Stats.js"
import { frameBudgetMs } from "../../../src/api/Summary.js"
import { StageStackChart } from "./StageStackChart.js"
import { TimeSeriesChart } from "./TimeSeriesChart.js"

export const LiveView = ({ samples, sessions }: { samples: ReadonlyArray<StatsSample>; sessions: ReadonlyArray<SessionMeta> }) => {
  const present = new Set<StageName>()
  for (const s of samples) for (const st of s.stages) present.add(st.name)
  const stages = StageNameSchema.literals.filter((n) => present.has(n))
  const session = sessions.find((s) => s.session_id === samples[samples.length - 1]?.session_id) ?? sessions[0]
  const measured = new Set(session?.measured ?? [])
  const last = samples[samples.length - 1]
  // A window from a session this page has not heard of yet (connected mid-capture) is drawn;
  // one from a session that does not measure the field is not.
  const bySession = new Map(sessions.map((s) => [s.session_id, new Set<MeasuredField>(s.measured)]))
  const measuredBy = (sample: StatsSample, field: MeasuredField) => bySession.get(sample.session_id)?.has(field) ?? true
  return (
    <section className="panel live" aria-label="live view" data-testid="live-view">
      <h2>
        Live <span className="muted small" data-testid="live-count">{samples.length} windows</span>
      </h2>
      {samples.length === 0 ? (
        <p className="muted">Waiting for the first window… (a window arrives every 1–2 s while a session streams)</p>
      ) : (
        <>
          <p className="muted small">
            latest: {last === undefined ? "" : `${(last.t_ms / 1000).toFixed(1)} s, ${last.fps.toFixed(1)} fps`}
          </p>
          <StageStackChart
            samples={samples}
            stages={stages}
            percentile="p50"
            budgetMs={session === undefined ? null : frameBudgetMs(session.fps)}
            hostMeasured={session === undefined || measured.has("host_p50_us")}
            height={240}
            maxPoints={300}
            testId="live-stage-chart"
            label="Live stage latency p50, stacked, against the frame budget"
          />
          <TimeSeriesChart
            sources={[
              {
                samples,
                defs: [
                  { id: "fps", value: (s) => (measuredBy(s, "fps") ? s.fps : null) },
                  { id: "repeat fps", value: (s) => (measuredBy(s, "repeat_fps") ? s.repeat_fps : null) }
                ]
              }
            ]}
            unit="fps"
            label="Live frames per second"
            testId="live-fps-chart"
            height={160}
            maxPoints={300}
          />
        </>
      )}
    </section>
  )
}
