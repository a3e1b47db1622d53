/**
 * One recording: the summary of the selected range and the charts over it.
 *
 * Why the range filters samples before drawing: the downsampler then spends its points on the
 * selection, so zooming in shows real detail rather than a stretched overview. The summary is
 * computed over every sample in the range (never the drawn subset).
 */
import { useCallback, useEffect, useMemo, useState } from "react"
import { CHART_GROUPS, FIELDS, chartFields } from "../../../src/api/Fields.js"
import type { ChartGroup, FieldName } from "../../../src/api/Fields.js"
import type { Capture, MeasuredField, StatsSample } from "../../../src/api/Stats.js"
import { measuredOf, samplesInRange, summarizeCapture } from "../../../src/api/Summary.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import type { Range } from "../components/RangeBrush.js"
import { RangeBrush } from "../components/RangeBrush.js"
import type { Percentile } from "../components/StageStackChart.js"
import { StageStackChart } from "../components/StageStackChart.js"
import { SummaryTable } from "../components/SummaryTable.js"
import { FrameTimeChart } from "../components/FrameTimeChart.js"
import type { FramesFile } from "../../../src/api/Frames.js"
import type { LineDef } from "../components/TimeSeriesChart.js"
import { TimeSeriesChart } from "../components/TimeSeriesChart.js"
import { captureStages } from "../../../src/api/Csv.js"
import { dateTime, duration } from "../lib/format.js"
import type { BreachEvent, BreachThresholds } from "../../../src/api/Breaches.js"
import { DEFAULT_BREACH_THRESHOLDS, breachesInRange, countBreaches, findBreaches } from "../../../src/api/Breaches.js"
import type { Marker } from "../../../src/api/Markers.js"
import { BreachList, BreachThresholdsForm } from "../components/BreachList.js"
import type { ChartMarker } from "../components/MarkerLines.js"
import { MarkerList } from "../components/MarkerList.js"
import { ImportedBadge } from "../components/ImportedBadge.js"
import { BackToRecordings, OpenFailed } from "../components/BackToRecordings.js"
import { pathOf } from "../../../src/api/Paths.js"

const sameThresholds = (a: BreachThresholds, b: BreachThresholds) =>
  a.host_p99_budget === b.host_p99_budget && a.fps_shortfall === b.fps_shortfall && a.drops === b.drops && a.rtt_factor === b.rtt_factor

/**
 * The range a click on a marker zooms to: the marker in the middle of a window a tenth of the
 * capture wide (at least 10 s, so a few windows either side show), kept inside the capture.
 */
export const rangeAround = (tSeconds: number, extent: Range): Range => {
  const width = Math.max(10, (extent.to - extent.from) / 10)
  let from = tSeconds - width / 2
  let to = tSeconds + width / 2
  if (from < extent.from) [from, to] = [extent.from, Math.min(extent.to, extent.from + width)]
  if (to > extent.to) [from, to] = [Math.max(extent.from, extent.to - width), extent.to]
  return { from, to }
}

/** A value only where the sample's session measured the field; the line breaks elsewhere. */
const measuredValue =
  (measured: (s: StatsSample) => ReadonlySet<MeasuredField>, field: MeasuredField, scale = 1) =>
  (s: StatsSample): number | null => {
    const v = s[field]
    return v !== undefined && measured(s).has(field) ? v * scale : null
  }

// How the charts of the field table's groups are laid out: two side by side, or one alone.
const LAYOUT: ReadonlyArray<ReadonlyArray<Exclude<ChartGroup, "host">>> = [["fps", "mbps"], ["health", "rtt"], ["e2e", "split"]]

export interface CaptureChartsProps {
  readonly capture: Capture
  readonly range: Range | null
  readonly percentile: Percentile
  /** Drawn as labelled vertical lines on every chart (x in seconds, as the samples). */
  readonly markers?: ReadonlyArray<ChartMarker>
}

export const CaptureCharts = ({ capture, range, percentile, markers = [] }: CaptureChartsProps) => {
  const { meta } = capture
  const samples = useMemo(
    () => samplesInRange(capture.samples, range === null ? undefined : { from_ms: range.from * 1000, to_ms: range.to * 1000 }),
    [capture, range]
  )
  const measured = useMemo(() => measuredOf(meta), [meta])
  const fields = useMemo(() => {
    const set = new Set<MeasuredField>(meta.measured)
    for (const s of meta.sessions) for (const f of s.measured) set.add(f)
    return set
  }, [meta])
  const stages = useMemo(() => captureStages(capture), [capture])
  const xDomain = range === null ? undefined : ([range.from, range.to] as const)
  const optionalXDomain = xDomain === undefined ? {} : { xDomain }
  const targetFps = new Map(meta.sessions.map((s) => [s.session_id, s.fps]))
  // Each field draws in its chart group (the field table's `chart` column); the fps chart also
  // draws each session's target, which is the session's, not a field of its windows.
  const extraDefs: Partial<Record<ChartGroup, ReadonlyArray<LineDef>>> = {
    fps: [{ id: "target fps", value: (s) => targetFps.get(s.session_id) ?? meta.fps, dashed: true, color: "#888" }]
  }
  const groupChart = (group: Exclude<ChartGroup, "host">) => {
    const spec = CHART_GROUPS[group]
    const drawn = chartFields(group).filter((f) => spec.whenNone === "draw" || fields.has(f))
    if (drawn.length === 0) {
      if (spec.whenNone === "hide" || spec.whenNone === "draw") return null
      return (
        <div key={group}>
          <h3>{spec.title}</h3>
          <p className="muted" data-testid={spec.whenNone.testId}>
            {spec.whenNone.text}
          </p>
        </div>
      )
    }
    const defs: Array<LineDef> = [
      ...drawn.map((f: FieldName): LineDef => {
        const { chart, show } = FIELDS[f]
        return {
          id: chart.label,
          value: measuredValue(measured, f, show.scale),
          ...("dashed" in chart ? { dashed: chart.dashed } : {}),
          ...("color" in chart ? { color: chart.color } : {})
        }
      }),
      ...(extraDefs[group] ?? [])
    ]
    return (
      <div key={group} data-fields={drawn.join(" ")}>
        <h3>{spec.title}</h3>
        <TimeSeriesChart sources={[{ samples, defs }]} markers={markers} unit={spec.unit} digits={spec.digits} label={spec.label} testId={spec.testId} {...optionalXDomain} />
      </div>
    )
  }
  const budget = meta.fps > 0 ? 1000 / meta.fps : null
  const hostField = percentile === "p50" ? "host_p50_us" : "host_p99_us"
  const hostMeasuredFor = useCallback((s: StatsSample) => measured(s).has(hostField), [measured, hostField])
  return (
    <div className="charts">
      <h3>Stage latency ({percentile}), stacked</h3>
      <div data-fields={fields.has(hostField) ? hostField : undefined}>
        <StageStackChart
          samples={samples}
          stages={stages}
          percentile={percentile}
          budgetMs={budget}
          hostMeasured={fields.has(hostField)}
          hostMeasuredFor={hostMeasuredFor}
          height={320}
          markers={markers}
          {...optionalXDomain}
        />
      </div>
      {LAYOUT.map((row) =>
        row.length === 1 ? (
          groupChart(row[0]!)
        ) : (
          <div className="two" key={row.join(" ")}>
            {row.map(groupChart)}
          </div>
        )
      )}
    </div>
  )
}

export const DetailView = ({ api, id, onBack }: { api: ConsoleApi; id: string; onBack: () => void }) => {
  const [capture, setCapture] = useState<Capture | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [range, setRange] = useState<Range | null>(null)
  const [percentile, setPercentile] = useState<Percentile>("p50")
  const [frames, setFrames] = useState<FramesFile | null>(null)
  const [spanIndex, setSpanIndex] = useState(0)
  const [thresholds, setThresholds] = useState<BreachThresholds>(DEFAULT_BREACH_THRESHOLDS)
  // The flight recorder's kept spans, fetched only for a capture whose meta says it has some.
  const hasFrames = capture?.meta.frames !== undefined && capture.meta.frames.spans > 0
  useEffect(() => {
    setFrames(null)
    setSpanIndex(0)
    if (!hasFrames || api.frames === undefined) return
    let cancelled = false
    api.frames(id).then(
      (f) => !cancelled && setFrames(f),
      () => undefined
    )
    return () => {
      cancelled = true
    }
  }, [api, id, hasFrames])
  useEffect(() => {
    let cancelled = false
    setCapture(null)
    setError(null)
    api.get(id).then(
      (c) => {
        // For the benchmark's breakdown: fetched and decoded, before any chart renders.
        performance.mark("punktfunk:capture-loaded")
        if (!cancelled) {
          setCapture(c)
          setThresholds(c.breaches?.thresholds ?? DEFAULT_BREACH_THRESHOLDS)
        }
      },
      (e: unknown) => !cancelled && setError(describeError(e).message)
    )
    return () => {
      cancelled = true
    }
  }, [api, id])
  const summary = useMemo(
    () =>
      capture === null
        ? null
        : summarizeCapture(capture, range === null ? undefined : { from_ms: range.from * 1000, to_ms: range.to * 1000 }),
    [capture, range]
  )
  // The stored events while the thresholds are the ones they were saved with; otherwise (or for
  // a capture saved before events were stored) the same rules over the samples, here.
  const savedThresholds = capture?.breaches?.thresholds ?? DEFAULT_BREACH_THRESHOLDS
  const storedEvents = capture?.breaches !== undefined && sameThresholds(thresholds, savedThresholds) ? capture.breaches.events : null
  const events = useMemo<ReadonlyArray<BreachEvent>>(
    () => (capture === null ? [] : storedEvents ?? findBreaches(capture.meta, capture.samples, thresholds)),
    [capture, storedEvents, thresholds]
  )
  const rangeCount = useMemo(
    () => countBreaches(range === null ? events : breachesInRange(events, range.from * 1000, range.to * 1000)),
    [events, range]
  )
  const markers = useMemo<ReadonlyArray<Marker>>(() => capture?.markers ?? [], [capture])
  const chartMarkers = useMemo<ReadonlyArray<ChartMarker>>(
    () => markers.map((m) => ({ x: m.t_ms / 1000, label: m.label, kind: m.kind })),
    [markers]
  )
  const outline = useMemo(() => {
    if (capture === null) return []
    const step = Math.max(1, Math.floor(capture.samples.length / 400))
    const out: Array<readonly [number, number]> = []
    for (let i = 0; i < capture.samples.length; i += step) {
      const s = capture.samples[i]
      if (s !== undefined) out.push([s.t_ms / 1000, s.stages.reduce((sum, st) => sum + st.p50_us, 0)])
    }
    return out
  }, [capture])
  if (error !== null) return <OpenFailed error={error} onBack={onBack} />
  if (capture === null || summary === null) return <p className="muted">Loading {id}…</p>
  const { meta } = capture
  const first = capture.samples[0]
  const last = capture.samples[capture.samples.length - 1]
  const extent: Range = { from: (first?.t_ms ?? 0) / 1000, to: (last?.t_ms ?? 0) / 1000 }
  return (
    <section className="panel detail" data-testid="detail" aria-label={`recording ${meta.id}`}>
      <div className="row">
        <BackToRecordings onBack={onBack} />
        <h2>{meta.label || meta.id}</h2>
        {meta.truncated ? <span className="badge warn">truncated</span> : null}
        {meta.recovered ? <span className="badge info">recovered</span> : null}
        <ImportedBadge meta={meta} />
      </div>
      <p className="muted small">
        {meta.id} · {dateTime(meta.started_unix_ms)} · {duration(meta.duration_ms)} · {meta.sample_count} samples ·{" "}
        {meta.sessions.map((s) => `${pathOf(s.kind).title} ${s.width}×${s.height}@${s.fps} ${s.codec} (${s.encoder_backend})`).join(", ")}
      </p>
      {capture.samples.length === 0 ? (
        <p className="muted">This capture holds no samples (it was armed with no session streaming).</p>
      ) : (
        <>
          <RangeBrush extent={extent} outline={outline} value={range} onChange={setRange} />
          <div className="row" role="radiogroup" aria-label="percentile">
            <span>stack shows</span>
            {(["p50", "p99"] as const).map((p) => (
              <label key={p}>
                <input type="radio" name="percentile" checked={percentile === p} onChange={() => setPercentile(p)} /> {p}
              </label>
            ))}
          </div>
          <SummaryTable summary={summary} breaches={rangeCount} title={range === null ? "Summary (whole capture)" : "Summary (selected range)"} />
          <BreachThresholdsForm value={thresholds} saved={savedThresholds} budgetMs={meta.fps > 0 ? 1000 / meta.fps : null} onChange={setThresholds} />
          <div className="events">
            <BreachList
              events={events}
              source={storedEvents === null ? "computed" : "stored"}
              onSelect={(e) => setRange({ from: e.from_ms / 1000, to: e.to_ms / 1000 })}
            />
            <MarkerList markers={markers} onSelect={(m) => setRange(rangeAround(m.t_ms / 1000, extent))} />
          </div>
          <CaptureCharts capture={capture} range={range} percentile={percentile} markers={chartMarkers} />
          {frames !== null && frames.spans.length > 0 ? (
            <div className="frames" data-testid="frame-spans">
              <h3>Frame times (kept spans{frames.bound_hit ? ", bound reached: later spans not kept" : ""})</h3>
              <div className="row" role="radiogroup" aria-label="kept span">
                {frames.spans.map((s, i) => (
                  <label key={`${s.session_id}-${s.from_ms}`}>
                    <input type="radio" name="span" checked={spanIndex === i} onChange={() => setSpanIndex(i)} /> {s.reason}{" "}
                    {(s.from_ms / 1000).toFixed(1)}–{(s.to_ms / 1000).toFixed(1)} s
                  </label>
                ))}
              </div>
              {frames.spans[spanIndex] === undefined ? null : <FrameTimeChart span={frames.spans[spanIndex]} height={300} markers={chartMarkers} />}
            </div>
          ) : null}
        </>
      )}
    </section>
  )
}
