/**
 * A plain (unstacked) chart of a few series over elapsed time: throughput, health counters, RTT,
 * the send split, and the compare overlays.
 *
 * Why the value functions may return `null`: a sample whose session did not measure a field has
 * no value there, and the line breaks instead of dropping to 0 — an unmeasured counter is never
 * drawn as "no loss". Reference lines (target fps, target Mb/s) are series too, drawn dashed, so
 * they follow a session change of target. Each series is one `<g data-series=…>`.
 */
import { Line } from "@nivo/line"
import type { SliceTooltipProps } from "@nivo/line"
import { useMemo } from "react"
import type { StatsSample } from "../../../src/api/Stats.js"
import { num, seconds } from "../lib/format.js"
import type { ChartPoint, SeriesDef } from "../lib/series.js"
import { buildSeries } from "../lib/series.js"
import { ChartBox } from "./ChartBox.js"
import { elapsedLineProps, markerLayer } from "./elapsedChart.js"
import type { ChartMarker } from "./MarkerLines.js"
import { Legend } from "./Legend.js"
import type { CustomLayerProps } from "./nivoTypes.js"
import { linePath } from "./paths.js"
import { SERIES_COLORS } from "./theme.js"

export interface LineDef extends SeriesDef {
  readonly color?: string
  readonly dashed?: boolean
}

/** One source of samples; the compare view passes several, each aligned at its own start. */
export interface SeriesSource {
  readonly samples: ReadonlyArray<StatsSample>
  readonly defs: ReadonlyArray<LineDef>
  readonly originMs?: number
}

export interface TimeSeriesChartProps {
  readonly sources: ReadonlyArray<SeriesSource>
  readonly unit: string
  readonly label: string
  readonly testId: string
  readonly height?: number
  readonly width?: number
  readonly maxPoints?: number
  readonly digits?: number
  readonly xDomain?: readonly [number, number]
  /** Labelled vertical lines (the capture's markers), at the chart's x (seconds). */
  readonly markers?: ReadonlyArray<ChartMarker>
}

type Drawn = { id: string; data: ReadonlyArray<ChartPoint> }

export const TimeSeriesChart = (props: TimeSeriesChartProps) => {
  const { series, styles, yMax, span } = useMemo(() => {
    const out: Array<Drawn> = []
    const style = new Map<string, { color: string; dashed: boolean }>()
    let max = 0
    for (const source of props.sources) {
      const built = buildSeries(source.samples, source.defs, {
        maxPoints: props.maxPoints ?? 400,
        ...(source.originMs === undefined ? {} : { originMs: source.originMs })
      })
      built.forEach((s, k) => {
        const def = source.defs[k]
        style.set(s.id, { color: def?.color ?? SERIES_COLORS[out.length % SERIES_COLORS.length] ?? "#999", dashed: def?.dashed ?? false })
        for (const p of s.data) if (p.y !== null && p.y > max) max = p.y
        out.push(s)
      })
    }
    let lo = Number.POSITIVE_INFINITY
    let hi = Number.NEGATIVE_INFINITY
    for (const s of out)
      for (const p of s.data) {
        if (p.x < lo) lo = p.x
        if (p.x > hi) hi = p.x
      }
    return { series: out, styles: style, yMax: max > 0 ? max * 1.1 : 1, span: hi > lo ? hi - lo : 0 }
  }, [props.sources, props.maxPoints])
  const digits = props.digits ?? 1

  const SeriesLayer = ({ series: computed }: CustomLayerProps<Drawn>) => (
    <g data-testid="series-lines">
      {computed.map((s) => {
        const st = styles.get(String(s.id))
        return (
          <path
            key={String(s.id)}
            data-series={String(s.id)}
            aria-label={String(s.id)}
            d={linePath(s.data.map((d) => ({ x: d.position.x, y: d.position.y })))}
            fill="none"
            stroke={st?.color ?? s.color}
            strokeWidth={1.5}
            strokeDasharray={st?.dashed === true ? "6 4" : undefined}
          />
        )
      })}
    </g>
  )

  const MarkerLayer = markerLayer(props.markers)

  const Tooltip = ({ slice }: SliceTooltipProps<Drawn>) => (
    <div className="tooltip">
      <strong>{seconds(slice.points[0]?.data.x ?? 0)}</strong>
      <table>
        <tbody>
          {slice.points.map((p) => (
            <tr key={p.id}>
              <td style={{ color: styles.get(String(p.seriesId))?.color ?? p.seriesColor }}>■ {String(p.seriesId)}</td>
              <td className="num">
                {num(typeof p.data.y === "number" ? p.data.y : null, digits)} {props.unit}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )

  return (
    <>
    <Legend items={series.map((s) => ({ id: s.id, color: styles.get(s.id)?.color ?? "#999", dashed: styles.get(s.id)?.dashed ?? false }))} />
    <ChartBox height={props.height ?? 200} label={props.label} testId={props.testId} {...(props.width === undefined ? {} : { width: props.width })}>
      {(width, height) => (
        <Line<Drawn>
          {...elapsedLineProps({ span, xDomain: props.xDomain, yLegend: props.unit, yTicks: 5 })}
          data={series}
          width={width}
          height={height}
          yScale={{ type: "linear", min: 0, max: yMax }}
          colors={(s) => styles.get(String(s.id))?.color ?? "#999"}
          sliceTooltip={Tooltip}
          layers={["grid", "axes", SeriesLayer, MarkerLayer, "crosshair", "slices"]}
          role="img"
          ariaLabel={props.label}
        />
      )}
    </ChartBox>
    </>
  )
}
