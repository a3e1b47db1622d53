/**
 * What the two charts over elapsed time (`StageStackChart`, `TimeSeriesChart`) draw alike, written
 * once so that charts stacked on one page line up and read the same way: the margins, the x scale
 * (the page's brushed range when it gives one), the elapsed-time axis (a clock reading past two
 * minutes), the left axis, slices for the tooltip, no animation (live data), and the markers'
 * layer. Each chart keeps what is its own: its y scale, its layers and its tooltip.
 */
import { elapsedTick } from "../lib/format.js"
import type { ChartPoint } from "../lib/series.js"
import { MarkerLines } from "./MarkerLines.js"
import type { ChartMarker } from "./MarkerLines.js"
import type { CustomLayerProps } from "./nivoTypes.js"
import { chartTheme } from "./theme.js"

export interface ElapsedAxes {
  /** The x range drawn, in seconds (picks the elapsed axis' wording and ticks). */
  readonly span: number
  /** The range to draw; each end "auto" (the data's) when absent. */
  readonly xDomain: readonly [number, number] | undefined
  /** The left axis' legend (the unit). */
  readonly yLegend: string
  readonly yTicks: number
}

export const elapsedLineProps = ({ span, xDomain, yLegend, yTicks }: ElapsedAxes) => ({
  margin: { top: 12, right: 16, bottom: 40, left: 56 },
  xScale: { type: "linear" as const, min: xDomain?.[0] ?? ("auto" as const), max: xDomain?.[1] ?? ("auto" as const) },
  theme: chartTheme,
  animate: false,
  enablePoints: false,
  enableSlices: "x" as const,
  axisBottom: { legend: span > 120 ? "elapsed" : "elapsed (s)", legendOffset: 32, legendPosition: "middle" as const, tickSize: 4, tickValues: 8, format: elapsedTick(span) },
  axisLeft: { legend: yLegend, legendOffset: -44, legendPosition: "middle" as const, tickSize: 4, tickValues: yTicks }
})

/** The series both charts hand Nivo: points at elapsed seconds. */
export type ElapsedSeries = { id: string; data: ReadonlyArray<ChartPoint> }

/** The capture's markers as a chart layer, at the chart's x (seconds). */
export const markerLayer =
  (markers: ReadonlyArray<ChartMarker> | undefined) =>
  ({ xScale, innerWidth, innerHeight }: CustomLayerProps<ElapsedSeries>) => (
    <MarkerLines markers={markers ?? []} toX={(x) => xScale(x)} innerWidth={innerWidth} innerHeight={innerHeight} />
  )
