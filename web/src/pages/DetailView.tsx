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

/** A value only where the sample's session measured the field; the line breaks elsewhere. */
const measuredValue =
  (measured: (s: StatsSample) => ReadonlySet<MeasuredField>, field: MeasuredField, scale = 1) =>
  (s: StatsSample): number | null => {
    const v = s[field]
    return v !== undefined && measured(s).has(field) ? v * scale : null
  }

// How the charts of the field table's groups are laid out: two side by side, or one alone.
const LAYOUT: ReadonlyArray<ReadonlyArray<Exclude<ChartGroup, "host">>> = [["fps", "mbps"], ["health", "rtt"], ["e2e", "split"]]

export const CaptureCharts = ({ capture, range, percentile }: { capture: Capture; range: Range | null; percentile: Percentile }) => {
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
        <TimeSeriesChart sources={[{ samples, defs }]} unit={spec.unit} digits={spec.digits} label={spec.label} testId={spec.testId} {...optionalXDomain} />
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
        if (!cancelled) setCapture(c)
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
  if (error !== null)
    return (
      <section className="panel">
        <button type="button" onClick={onBack}>
          ← Recordings
        </button>
        <p className="error" role="alert">
          {error}
        </p>
      </section>
    )
  if (capture === null || summary === null) return <p className="muted">Loading {id}…</p>
  const { meta } = capture
  const first = capture.samples[0]
  const last = capture.samples[capture.samples.length - 1]
  return (
    <section className="panel detail" data-testid="detail" aria-label={`recording ${meta.id}`}>
      <div className="row">
        <button type="button" onClick={onBack}>
          ← Recordings
        </button>
        <h2>{meta.label || meta.id}</h2>
        {meta.truncated ? <span className="badge warn">truncated</span> : null}
        {meta.recovered ? <span className="badge info">recovered</span> : null}
      </div>
      <p className="muted small">
        {meta.id} · {dateTime(meta.started_unix_ms)} · {duration(meta.duration_ms)} · {meta.sample_count} samples ·{" "}
        {meta.sessions.map((s) => `${s.kind} ${s.width}×${s.height}@${s.fps} ${s.codec} (${s.encoder_backend})`).join(", ")}
      </p>
      {capture.samples.length === 0 ? (
        <p className="muted">This capture holds no samples (it was armed with no session streaming).</p>
      ) : (
        <>
          <RangeBrush extent={{ from: (first?.t_ms ?? 0) / 1000, to: (last?.t_ms ?? 0) / 1000 }} outline={outline} value={range} onChange={setRange} />
          <div className="row" role="radiogroup" aria-label="percentile">
            <span>stack shows</span>
            {(["p50", "p99"] as const).map((p) => (
              <label key={p}>
                <input type="radio" name="percentile" checked={percentile === p} onChange={() => setPercentile(p)} /> {p}
              </label>
            ))}
          </div>
          <SummaryTable summary={summary} title={range === null ? "Summary (whole capture)" : "Summary (selected range)"} />
          <CaptureCharts capture={capture} range={range} percentile={percentile} />
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
              {frames.spans[spanIndex] === undefined ? null : <FrameTimeChart span={frames.spans[spanIndex]} height={300} />}
            </div>
          ) : null}
        </>
      )}
    </section>
  )
}
