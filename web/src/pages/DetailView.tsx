/**
 * One recording: the summary of the selected range and the charts over it.
 *
 * Why the range filters samples before drawing: the downsampler then spends its points on the
 * selection, so zooming in shows real detail rather than a stretched overview. The summary is
 * computed over every sample in the range (never the drawn subset).
 */
import { useCallback, useEffect, useMemo, useState } from "react"
import type { Capture, MeasuredField, StatsSample } from "../../../src/api/Stats.js"
import { measuredOf, samplesInRange, summarizeCapture } from "../../../src/api/Summary.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import type { Range } from "../components/RangeBrush.js"
import { RangeBrush } from "../components/RangeBrush.js"
import type { Percentile } from "../components/StageStackChart.js"
import { StageStackChart } from "../components/StageStackChart.js"
import { SummaryTable } from "../components/SummaryTable.js"
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
  const targetFps = new Map(meta.sessions.map((s) => [s.session_id, s.fps]))
  const fpsDefs: Array<LineDef> = [
    { id: "fps (new)", value: measuredValue(measured, "fps") },
    { id: "repeat fps", value: measuredValue(measured, "repeat_fps"), color: "#edc948" },
    { id: "target fps", value: (s) => targetFps.get(s.session_id) ?? meta.fps, dashed: true, color: "#888" }
  ]
  const mbpsDefs: Array<LineDef> = [
    { id: "Mb/s", value: measuredValue(measured, "mbps") },
    { id: "target Mb/s", value: measuredValue(measured, "bitrate_kbps", 1 / 1000), dashed: true, color: "#888" }
  ]
  const health: Array<LineDef> = (["frames_dropped", "packets_dropped", "send_dropped", "fec_recovered"] as const)
    .filter((f) => fields.has(f))
    .map((f) => ({ id: f.replace("_", " "), value: measuredValue(measured, f) }))
  const split: Array<LineDef> = (["fec_us", "seal_us", "sock_us"] as const)
    .filter((f) => fields.has(f))
    .map((f) => ({ id: f.replace("_us", ""), value: measuredValue(measured, f, 1 / 1000) }))
  const budget = meta.fps > 0 ? 1000 / meta.fps : null
  const hostField = percentile === "p50" ? "host_p50_us" : "host_p99_us"
  const hostMeasuredFor = useCallback((s: StatsSample) => measured(s).has(hostField), [measured, hostField])
  const optionalXDomain = xDomain === undefined ? {} : { xDomain }
  return (
    <div className="charts">
      <h3>Stage latency ({percentile}), stacked</h3>
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
      <div className="two">
        <div>
          <h3>Frames per second vs target</h3>
          <TimeSeriesChart sources={[{ samples, defs: fpsDefs }]} unit="fps" label="Frames per second against the target" testId="fps-chart" {...optionalXDomain} />
        </div>
        <div>
          <h3>Bitrate vs target</h3>
          <TimeSeriesChart sources={[{ samples, defs: mbpsDefs }]} unit="Mb/s" digits={2} label="Megabits per second against the target" testId="mbps-chart" {...optionalXDomain} />
        </div>
      </div>
      <div className="two">
        <div>
          <h3>Health counters (per window)</h3>
          {health.length === 0 ? (
            <p className="muted" data-testid="health-none">
              This path measured no drop or FEC counters; nothing is drawn rather than a false "no loss".
            </p>
          ) : (
            <TimeSeriesChart sources={[{ samples, defs: health }]} unit="count" digits={0} label="Health counters per window" testId="health-chart" {...optionalXDomain} />
          )}
        </div>
        <div>
          <h3>Round-trip time</h3>
          {fields.has("rtt_us") ? (
            <TimeSeriesChart
              sources={[{ samples, defs: [{ id: "RTT", value: measuredValue(measured, "rtt_us", 1 / 1000) }] }]}
              unit="ms"
              digits={2}
              label="Round-trip time"
              testId="rtt-chart"
              {...optionalXDomain}
            />
          ) : (
            <p className="muted" data-testid="rtt-none">
              RTT not measured on this path.
            </p>
          )}
        </div>
      </div>
      {split.length > 0 ? (
        <>
          <h3>Send split (mean µs per frame, shown in ms)</h3>
          <TimeSeriesChart sources={[{ samples, defs: split }]} unit="ms" digits={3} label="Send split: FEC, seal, socket" testId="split-chart" {...optionalXDomain} />
        </>
      ) : null}
    </div>
  )
}

export const DetailView = ({ api, id, onBack }: { api: ConsoleApi; id: string; onBack: () => void }) => {
  const [capture, setCapture] = useState<Capture | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [range, setRange] = useState<Range | null>(null)
  const [percentile, setPercentile] = useState<Percentile>("p50")
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
        </>
      )}
    </section>
  )
}
