/**
 * The live view while armed: the latest minutes of stage latency (stacked p50 against the
 * budget, with the measured host total over it) and fps, appended to as windows arrive.
 *
 * Why `LiveChart` and not the recorded-capture charts: a live capture can hold 5,400 windows, and
 * redrawing every series per window (downsampling, Nivo's layout of every point and slice) takes
 * longer than a frame; the live charts append to the last chunk of their paths instead.
 */
import { useMemo, useRef } from "react"
import type { MeasuredField, SessionMeta, StageName, StatsSample } from "../../../src/api/Stats.js"
import { StageName as StageNameSchema } from "../../../src/api/Stats.js"
import { frameBudgetMs } from "../../../src/api/Summary.js"
import type { LiveFeed } from "../lib/liveFeed.js"
import { useLiveSamples } from "../lib/liveFeed.js"
import type { LiveLine } from "./LiveChart.js"
import { LiveChart } from "./LiveChart.js"
import type { Marker } from "../../../src/api/Markers.js"
import type { ChartMarker } from "./MarkerLines.js"
import { HOST_COLOR, SERIES_COLORS, STAGE_COLORS } from "./theme.js"

const stageP50 = (name: StageName) => (sample: StatsSample): number | null => {
  if (sample.stages.length === 0) return null
  const stage = sample.stages.find((s) => s.name === name)
  return stage === undefined ? 0 : stage.p50_us / 1000
}

export interface LiveViewProps {
  readonly samples: ReadonlyArray<StatsSample>
  readonly sessions: ReadonlyArray<SessionMeta>
  /** The capture's markers so far, drawn on both charts. */
  readonly markers?: ReadonlyArray<Marker>
}

export const LiveView = ({ samples, sessions, markers = [] }: LiveViewProps) => {
  // Stages seen so far, in pipeline order; recomputed only from the newest window (a new stage
  // appears with a new session), not by walking every sample per window.
  const seenStages = useRef(new Set<StageName>())
  const lastSample = samples[samples.length - 1]
  if (samples.length === 0) seenStages.current = new Set()
  if (seenStages.current.size === 0) for (const s of samples) for (const st of s.stages) seenStages.current.add(st.name)
  else if (lastSample !== undefined) for (const st of lastSample.stages) seenStages.current.add(st.name)
  const stageKey = StageNameSchema.literals.filter((n) => seenStages.current.has(n)).join(",")

  const session = sessions.find((s) => s.session_id === lastSample?.session_id) ?? sessions[0]
  const measured = new Set(session?.measured ?? [])
  // The charts keep their series definitions while they append: the definitions read the
  // sessions through a ref, so a session announced later is used for the windows after it.
  const bySession = useRef(new Map<string, ReadonlySet<MeasuredField>>())
  bySession.current = new Map(sessions.map((s) => [s.session_id, new Set<MeasuredField>(s.measured)]))
  const stageSeries = useMemo<ReadonlyArray<LiveLine>>(
    () =>
      stageKey === ""
        ? []
        : (stageKey.split(",") as Array<StageName>).map((name) => ({ id: name, color: STAGE_COLORS[name] ?? "#999", value: stageP50(name) })),
    [stageKey]
  )
  const hostMeasured = session === undefined || measured.has("host_p50_us")
  const host = useMemo<LiveLine>(
    () => ({
      id: "host total p50 (measured)",
      color: HOST_COLOR,
      value: (s) => (s.stages.length > 0 && (bySession.current.get(s.session_id)?.has("host_p50_us") ?? true) ? s.host_p50_us / 1000 : null)
    }),
    []
  )
  const fpsSeries = useMemo<ReadonlyArray<LiveLine>>(() => {
    // A window from a session this page has not heard of yet (connected mid-capture) is drawn;
    // one from a session that does not measure the field is not.
    const measuredBy = (sample: StatsSample, field: MeasuredField) => bySession.current.get(sample.session_id)?.has(field) ?? true
    return [
      { id: "fps", color: SERIES_COLORS[0] ?? "#4e79a7", value: (s) => (measuredBy(s, "fps") ? s.fps : null) },
      { id: "repeat fps", color: SERIES_COLORS[1] ?? "#f28e2b", value: (s) => (measuredBy(s, "repeat_fps") ? s.repeat_fps : null) }
    ]
  }, [])
  const chartMarkers = useMemo<ReadonlyArray<ChartMarker>>(() => markers.map((m) => ({ x: m.t_ms / 1000, label: m.label, kind: m.kind })), [markers])
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
            latest: {lastSample === undefined ? "" : `${(lastSample.t_ms / 1000).toFixed(1)} s, ${lastSample.fps.toFixed(1)} fps`}
          </p>
          <LiveChart
            samples={samples}
            series={stageSeries}
            stacked
            {...(hostMeasured ? { overlay: host } : {})}
            budgetMs={session === undefined ? null : frameBudgetMs(session.fps)}
            unit="p50 ms"
            digits={2}
            height={240}
            testId="live-stage-chart"
            markers={chartMarkers}
            label="Live stage latency p50, stacked, against the frame budget"
          />
          <LiveChart samples={samples} series={fpsSeries} stacked={false} markers={chartMarkers} unit="fps" height={160} testId="live-fps-chart" label="Live frames per second" />
        </>
      )}
    </section>
  )
}

/** The live view reading the feed itself: a window arriving re-renders this, not the page around it. */
export const LiveFeedView = ({ feed, ...props }: Omit<LiveViewProps, "samples"> & { feed: LiveFeed }) => (
  <LiveView samples={useLiveSamples(feed)} {...props} />
)
