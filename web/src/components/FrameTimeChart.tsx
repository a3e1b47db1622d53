/**
 * One kept span's frames (the flight recorder, issue 14.3): one bar per frame, stacked by stage in
 * pipeline order, with the frame budget as a line over it — the host pipeline's CapFrameX view.
 * A bar over the line is a frame that missed its budget, and its bands say in which stage.
 *
 * Why Nivo's plain `Bar` in a `ChartBox`: the box gives the chart a fixed height and a measured
 * width (Nivo's responsive wrapper draws nothing in a parent it measures at 0).
 */
import { Bar } from "@nivo/bar"
import type { BarCustomLayerProps } from "@nivo/bar"
import { useMemo } from "react"
import type { FrameSpan } from "../../../src/api/Frames.js"
import { ChartBox } from "./ChartBox.js"
import { Legend } from "./Legend.js"
import type { ChartMarker } from "./MarkerLines.js"
import { MarkerLines } from "./MarkerLines.js"
import { BUDGET_COLOR, STAGE_COLORS, chartTheme } from "./theme.js"

export interface FrameTimeChartProps {
  readonly span: FrameSpan
  readonly height?: number
  /** Fixed width for tests (jsdom has no layout). */
  readonly width?: number
  /** The capture's markers (x in seconds); those inside the span are drawn at the frame they precede. */
  readonly markers?: ReadonlyArray<ChartMarker>
}

type Row = Record<string, number | string>

export const FrameTimeChart = ({ span, height = 300, width, markers = [] }: FrameTimeChartProps) => {
  const stages = span.stages
  const data = useMemo(
    () =>
      span.frames.map((f, i): Row => {
        const row: Row = { frame: String(i) }
        stages.forEach((name, s) => {
          const pair = f.stages_us[s]
          row[name] = pair === undefined ? 0 : (pair[1] - pair[0]) / 1000
        })
        return row
      }),
    [span, stages]
  )
  const budgetMs = span.budget_us / 1000
  // The x axis counts frames, not time: a marker is placed at the left edge of the first frame
  // at or after it (its frame index as the x), and only when it falls inside the span's frames.
  const frameMarkers = useMemo(() => {
    const first = span.frames[0]
    const last = span.frames[span.frames.length - 1]
    if (first === undefined || last === undefined) return []
    return markers.flatMap((m) => {
      const t = m.x * 1000
      if (t < first.t_ms || t > last.t_ms) return []
      const index = span.frames.findIndex((f) => f.t_ms >= t)
      return index < 0 ? [] : [{ ...m, x: index }]
    })
  }, [markers, span])
  const MarkerLayer = ({ bars, innerWidth, innerHeight }: BarCustomLayerProps<Row>) => {
    const left = new Map<number, number>()
    for (const bar of bars) left.set(Number(bar.data.indexValue), bar.x)
    return <MarkerLines markers={frameMarkers} toX={(i) => left.get(i) ?? Number.NaN} innerWidth={innerWidth} innerHeight={innerHeight} />
  }
  const over = span.frames.filter((f) => f.host_us > span.budget_us).length
  return (
    <div data-testid="frame-time-chart" data-frames={span.frames.length} data-over-budget={over}>
      <Legend items={[...stages.map((s) => ({ id: s, color: STAGE_COLORS[s] ?? "#999" })), { id: `budget ${budgetMs.toFixed(1)} ms`, color: BUDGET_COLOR, dashed: true }]} />
      <ChartBox height={height} label={`frame times, ${span.frames.length} frames stacked by stage, budget ${budgetMs.toFixed(1)} ms`} {...(width === undefined ? {} : { width })}>
        {(w, h) => (
          <Bar
            width={w}
            height={h}
            data={data}
            keys={[...stages]}
            indexBy="frame"
            margin={{ top: 10, right: 20, bottom: 36, left: 56 }}
            padding={0.1}
            animate={false}
            colors={({ id }) => STAGE_COLORS[String(id)] ?? "#999"}
            enableLabel={false}
            theme={chartTheme}
            axisBottom={{ tickValues: [], legend: `frames (${span.from_ms.toFixed(0)}–${span.to_ms.toFixed(0)} ms)`, legendPosition: "middle", legendOffset: 24 }}
            axisLeft={{ legend: "ms", legendPosition: "middle", legendOffset: -44 }}
            valueScale={{ type: "linear", min: 0, max: Math.max(budgetMs * 1.2, ...span.frames.map((f) => (f.host_us / 1000) * 1.05)) }}
            markers={[
              {
                axis: "y",
                value: budgetMs,
                lineStyle: { stroke: BUDGET_COLOR, strokeWidth: 2, strokeDasharray: "6 4" },
                legend: "budget",
                textStyle: { fill: BUDGET_COLOR, fontSize: 11 }
              }
            ]}
            layers={["grid", "axes", "bars", "markers", MarkerLayer]}
            tooltipLabel={(d) => `frame ${d.indexValue} · ${String(d.id)}`}
            valueFormat={(v) => `${v.toFixed(2)} ms`}
          />
        )}
      </ChartBox>
      <p className="muted small">
        {span.reason === "breach" ? "Kept because: " : "Marker: "}
        {span.detail} · {span.frames.length} frames, {over} over the {budgetMs.toFixed(1)} ms budget
      </p>
    </div>
  )
}
