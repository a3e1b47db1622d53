/**
 * Markers drawn on a chart: one labelled vertical line per marker inside the chart's x range.
 * Every chart of the detail view (and the live view) draws the same markers through this one
 * component, so a marker looks the same everywhere and tests find it the same way
 * (`[data-testid="marker-line"]`, `data-label`).
 *
 * Why the labels are staggered over three rows: markers close together (a session start and an
 * operator's mark a second later) would print over each other on one row; the full label is in
 * the line's `<title>` (the browser's hover text) and in the marker list below the charts.
 * Why the operator's markers have their own colour: they are what the operator came to find; the
 * host's own markers explain the graphs around them and stay in the background.
 */
import type { MarkerKind } from "../../../src/api/Markers.js"

export interface ChartMarker {
  /** Position on the chart's x axis (seconds, as the chart's samples). */
  readonly x: number
  readonly label: string
  readonly kind: MarkerKind
}

export const OPERATOR_MARKER_COLOR = "#edc948"
export const HOST_MARKER_COLOR = "#9aa0a6"

export const markerColor = (kind: MarkerKind) => (kind === "operator" ? OPERATOR_MARKER_COLOR : HOST_MARKER_COLOR)

const LABEL_MAX = 24
const short = (label: string) => (label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label)

export interface MarkerLinesProps {
  readonly markers: ReadonlyArray<ChartMarker>
  /** The chart's x scale: value → pixel inside the plot area. */
  readonly toX: (x: number) => number
  readonly innerWidth: number
  readonly innerHeight: number
}

export const MarkerLines = ({ markers, toX, innerWidth, innerHeight }: MarkerLinesProps) => {
  const visible = markers.map((m) => ({ m, px: toX(m.x) })).filter(({ px }) => Number.isFinite(px) && px >= 0 && px <= innerWidth)
  if (visible.length === 0) return null
  return (
    <g data-testid="marker-lines" pointerEvents="none">
      {visible.map(({ m, px }, i) => {
        const color = markerColor(m.kind)
        // Near the right edge the label goes to the line's left, so it stays inside the plot.
        const right = px > innerWidth - 120
        return (
          <g key={`${m.x}-${m.kind}-${i}`} data-testid="marker-line" data-label={m.label} data-kind={m.kind} aria-label={`marker ${m.label} at ${m.x.toFixed(1)} s`}>
            <title>{`${m.label} (${m.kind}) at ${m.x.toFixed(1)} s`}</title>
            <line x1={px} x2={px} y1={0} y2={innerHeight} stroke={color} strokeWidth={m.kind === "operator" ? 1.5 : 1} strokeDasharray={m.kind === "operator" ? undefined : "3 3"} />
            <text x={right ? px - 3 : px + 3} y={10 + (i % 3) * 12} textAnchor={right ? "end" : "start"} fill={color} fontSize={10}>
              {short(m.label)}
            </text>
          </g>
        )
      })}
    </g>
  )
}
