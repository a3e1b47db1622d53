/**
 * Stage latency stacked against the frame budget, with the measured host total drawn over it.
 *
 * Why stacked: the question is "where does the frame time go", so each stage's band sits on the
 * ones before it in pipeline order, and the top of the stack reads as the sum. Why the host total
 * is a separate line and not the top of the stack: the host measures deadline → last datagram on
 * its own clock; where the line sits above the stack is time no stage accounts for (queueing,
 * hand-offs), and that gap is worth seeing. Note that a sum of per-stage p99s is not the p99 of
 * the sum — the tooltip shows both numbers for that reason.
 *
 * Why our own layers: each stage is one `<g data-series=…>` (findable by tests and assistive
 * tech), the budget is a labelled line, and the host line is read from the same downsampled
 * indices as the stack. A stage a session does not have counts 0 in the stack (Nivo would make
 * every band above a missing value vanish) and the tooltip shows it as "—".
 */
import type { CustomLayerProps } from "./nivoTypes.js"
import { Line } from "@nivo/line"
import type { SliceTooltipProps } from "@nivo/line"
import { useMemo } from "react"
import type { StageName, StatsSample } from "../../../src/api/Stats.js"
import { ms, seconds } from "../lib/format.js"
import type { ChartPoint } from "../lib/series.js"
import { buildSeries } from "../lib/series.js"
import { ChartBox } from "./ChartBox.js"
import { elapsedLineProps, markerLayer } from "./elapsedChart.js"
import type { ChartMarker } from "./MarkerLines.js"
import { Legend } from "./Legend.js"
import { bandPath, linePath } from "./paths.js"
import type { Px } from "./paths.js"
import { BUDGET_COLOR, HOST_COLOR, STAGE_COLORS } from "./theme.js"

export type Percentile = "p50" | "p99"

export interface StageStackChartProps {
  readonly samples: ReadonlyArray<StatsSample>
  readonly stages: ReadonlyArray<StageName>
  readonly percentile: Percentile
  readonly budgetMs: number | null
  /** Whether the host total was measured anywhere (the line and its legend are drawn only then). */
  readonly hostMeasured: boolean
  /** Whether this sample's session measured the host total; the line breaks where it did not. */
  readonly hostMeasuredFor?: (sample: StatsSample) => boolean
  readonly maxPoints?: number
  readonly height?: number
  readonly width?: number
  readonly originMs?: number
  readonly label?: string
  readonly testId?: string
  readonly xDomain?: readonly [number, number]
  /** Labelled vertical lines (the capture's markers), at the chart's x (seconds). */
  readonly markers?: ReadonlyArray<ChartMarker>
}

type StackSeries = { id: string; data: ReadonlyArray<ChartPoint> }

const stageValue = (name: StageName, p: Percentile) => (sample: StatsSample): number | null => {
  if (sample.stages.length === 0) return null
  const stage = sample.stages.find((s) => s.name === name)
  if (stage === undefined) return 0
  return (p === "p50" ? stage.p50_us : stage.p99_us) / 1000
}

export const StageStackChart = (props: StageStackChartProps) => {
  const { samples, stages, percentile, budgetMs, hostMeasured } = props
  const { series, host, yMax, span } = useMemo(() => {
    const defs = stages.map((name) => ({ id: name, value: stageValue(name, percentile) }))
    const hostDef = {
      id: "host total",
      value: (s: StatsSample) =>
        hostMeasured && s.stages.length > 0 && (props.hostMeasuredFor?.(s) ?? true)
          ? (percentile === "p50" ? s.host_p50_us : s.host_p99_us) / 1000
          : null
    }
    const all = buildSeries(samples, [...defs, hostDef], {
      maxPoints: props.maxPoints ?? 700,
      ...(props.originMs === undefined ? {} : { originMs: props.originMs })
    })
    const stack = all.slice(0, defs.length)
    const hostSeries = all[defs.length] ?? { id: "host total", data: [] }
    let max = budgetMs ?? 0
    const sums = new Map<number, number>()
    for (const s of stack) for (const p of s.data) if (p.y !== null) sums.set(p.x, (sums.get(p.x) ?? 0) + p.y)
    for (const v of sums.values()) max = Math.max(max, v)
    for (const p of hostSeries.data) if (p.y !== null) max = Math.max(max, p.y)
    const xs = hostSeries.data.map((p) => p.x)
    const span = xs.length > 1 ? (xs[xs.length - 1] ?? 0) - (xs[0] ?? 0) : 0
    return { series: stack, host: hostSeries, yMax: max > 0 ? max * 1.08 : 1, span }
  }, [samples, stages, percentile, budgetMs, hostMeasured, props.hostMeasuredFor, props.maxPoints, props.originMs])

  const label = props.label ?? `Stage latency ${percentile}, stacked, against the frame budget`

  // The layers close over this render's data (the host series, the budget, the samples for the
  // tooltip), so they are defined here; Nivo renders each as a component inside its SVG.
  const StackLayer = ({ series: computed, innerHeight }: CustomLayerProps<StackSeries>) => {
    let below: ReadonlyArray<Px> | null = null
    return (
      <g data-testid="stage-stack">
        {computed.map((s) => {
          const top: Array<Px> = s.data.map((d) => ({ x: d.position.x, y: d.position.y }))
          const bottom: ReadonlyArray<Px> = below ?? top.map((p) => ({ x: p.x, y: p.y === null ? null : innerHeight }))
          below = top
          const color = STAGE_COLORS[String(s.id)] ?? s.color
          return (
            <g key={String(s.id)} data-testid="stack-series" data-series={String(s.id)} aria-label={`stage ${String(s.id)}`}>
              <path d={bandPath(top, bottom)} fill={color} fillOpacity={0.55} stroke="none" />
              <path d={linePath(top)} fill="none" stroke={color} strokeWidth={1.2} />
            </g>
          )
        })}
      </g>
    )
  }

  const HostLayer = ({ xScale, yScale }: CustomLayerProps<StackSeries>) =>
    hostMeasured ? (
      <path
        data-testid="host-total"
        aria-label="measured host total"
        d={linePath(host.data.map((p) => ({ x: xScale(p.x), y: p.y === null ? null : yScale(p.y) })))}
        fill="none"
        stroke={HOST_COLOR}
        strokeWidth={1.6}
      />
    ) : null

  const BudgetLayer = ({ yScale, innerWidth }: CustomLayerProps<StackSeries>) => {
    if (budgetMs === null) return null
    const y = yScale(budgetMs)
    return (
      <g data-testid="frame-budget" aria-label={`frame budget ${budgetMs.toFixed(2)} ms`}>
        <line x1={0} x2={innerWidth} y1={y} y2={y} stroke={BUDGET_COLOR} strokeWidth={1.5} strokeDasharray="6 4" />
        <text x={innerWidth - 4} y={y - 4} textAnchor="end" fill={BUDGET_COLOR} fontSize={11}>
          frame budget {budgetMs.toFixed(1)} ms
        </text>
      </g>
    )
  }

  const MarkerLayer = markerLayer(props.markers)

  const Tooltip = ({ slice }: SliceTooltipProps<StackSeries>) => {
    const first = slice.points[0]
    const sample = first === undefined ? undefined : samples[first.data.i]
    if (sample === undefined) return null
    let sum = 0
    return (
      <div className="tooltip">
        <strong>{seconds(first?.data.x ?? 0)}</strong> <span className="muted">session {sample.session_id}</span>
        <table>
          <tbody>
            {stages.map((name) => {
              const stage = sample.stages.find((s) => s.name === name)
              const v = stage === undefined ? null : percentile === "p50" ? stage.p50_us : stage.p99_us
              if (v !== null) sum += v
              return (
                <tr key={name}>
                  <td style={{ color: STAGE_COLORS[name] }}>■ {name}</td>
                  <td className="num">{ms(v)} ms</td>
                </tr>
              )
            })}
            <tr>
              <td>sum of stages</td>
              <td className="num">{ms(sum)} ms</td>
            </tr>
            {hostMeasured ? (
              <tr>
                <td>host total (measured)</td>
                <td className="num">{ms(percentile === "p50" ? sample.host_p50_us : sample.host_p99_us)} ms</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    )
  }

  return (
    <>
    <Legend
      items={[
        ...stages.map((name) => ({ id: name, color: STAGE_COLORS[name] ?? "#999" })),
        ...(hostMeasured ? [{ id: `host total ${percentile} (measured)`, color: HOST_COLOR }] : []),
        ...(budgetMs === null ? [] : [{ id: "frame budget", color: BUDGET_COLOR, dashed: true }])
      ]}
    />
    <ChartBox height={props.height ?? 300} label={label} testId={props.testId ?? "stage-chart"} {...(props.width === undefined ? {} : { width: props.width })}>
      {(width, height) => (
        <Line<StackSeries>
          {...elapsedLineProps({ span, xDomain: props.xDomain, yLegend: `${percentile} ms`, yTicks: 6 })}
          data={series}
          width={width}
          height={height}
          yScale={{ type: "linear", stacked: true, min: 0, max: yMax }}
          colors={(s) => STAGE_COLORS[String(s.id)] ?? "#999"}
          sliceTooltip={Tooltip}
          layers={["grid", "axes", StackLayer, HostLayer, BudgetLayer, MarkerLayer, "crosshair", "slices"]}
          role="img"
          ariaLabel={label}
        />
      )}
    </ChartBox>
    </>
  )
}
