/**
 * A chart for the live view that appends: the series live in a `LiveTrack` (chunks of points that
 * never change once full), each chunk is its own memoised SVG group, and the time window and the
 * y range are one transform on the group that holds them. A window arriving re-renders the last
 * chunk's paths, the axes and the transform; the thousands of points before it are left alone,
 * and (drawn in a layer of their own, below the growing chunk's) are not even repainted.
 *
 * Stacked mode draws stage bands (each on the ones before it, in pipeline order) with an optional
 * overlay line (the measured host total) and the frame budget; line mode draws plain series. The
 * hover read-out finds the sample under the pointer by binary search, so it costs nothing until
 * used. Test ids follow the recorded-capture charts (`stack-series`, `series-lines`, `host-total`,
 * `frame-budget`).
 */
import { memo, useId, useRef, useState } from "react"
import type { MouseEvent } from "react"
import type { StatsSample } from "../../../src/api/Stats.js"
import { elapsedTick, num, seconds } from "../lib/format.js"
import type { Chunk, LiveSeriesDef } from "../lib/liveTrack.js"
import { LiveTrack, chunkBandPath, chunkLinePath } from "../lib/liveTrack.js"
import { ChartBox } from "./ChartBox.js"
import { Legend } from "./Legend.js"
import type { ChartMarker } from "./MarkerLines.js"
import { MarkerLines } from "./MarkerLines.js"
import { BUDGET_COLOR } from "./theme.js"

export interface LiveLine extends LiveSeriesDef {
  readonly color: string
  readonly dashed?: boolean
}

export interface LiveChartProps {
  readonly samples: ReadonlyArray<StatsSample>
  readonly series: ReadonlyArray<LiveLine>
  /** Stage bands stacked in order; otherwise plain lines. */
  readonly stacked: boolean
  /** A line drawn over the stack (the measured host total). */
  readonly overlay?: LiveLine
  readonly budgetMs?: number | null
  readonly unit: string
  readonly digits?: number
  readonly label: string
  readonly testId: string
  readonly height: number
  /** Fixed width for tests (jsdom has no layout). */
  readonly width?: number
  /** The armed capture's markers (x in seconds), drawn as labelled lines where they are in view. */
  readonly markers?: ReadonlyArray<ChartMarker>
}

const MARGIN = { top: 10, right: 16, bottom: 26, left: 52 }

/** The next "nice" number (1, 2, 5 × 10^k) at or above `v`: the y range steps, it does not creep. */
const niceCeil = (v: number): number => {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/**
 * The time axis moves in steps, not with every window: its ends snap to a grid a few percent of
 * the span wide, so most windows land inside the current range. Then nothing but the last chunk's
 * paths changes, and the browser repaints that strip instead of the whole chart.
 */
const steppedDomain = (first: number, last: number): readonly [number, number] => {
  const span = Math.max(1, last - first)
  const q = 10 ** Math.floor(Math.log10(span)) / 4
  const lo = Math.floor(first / q) * q
  const hi = Math.max(lo + q, Math.ceil((last + span * 0.02) / q) * q)
  return [lo, hi]
}

/** One chunk's path; memoised on the chunk and its point count, so only the last chunk re-renders. */
const ChunkLine = memo(function ChunkLine({ chunk, count: _count, k, color, dashed }: { chunk: Chunk; count: number; k: number; color: string; dashed: boolean }) {
  return (
    <path
      d={chunkLinePath(chunk, k)}
      fill="none"
      stroke={color}
      strokeWidth={1.5}
      strokeDasharray={dashed ? "6 4" : undefined}
      vectorEffect="non-scaling-stroke"
    />
  )
})

/**
 * The chart is two SVGs, one over the other, each its own compositing layer (`will-change`): the
 * settled chunks with the axes below, the growing last chunk (with the budget, the markers and the
 * hover line) above. Why: a browser re-records and re-commits a layer's display list as a whole
 * once anything in it changes; with everything in one SVG, each window arriving made Chromium
 * repaint and commit thousands of points that had not moved (paint, layerize and commit were
 * most of the main thread's time per window, not script). Now a window changes only the top
 * layer, whose paths hold at most `CHUNK` points.
 */
const BASE = { display: "block", willChange: "transform" } as const
const LAYER = { position: "absolute", top: 0, left: 0, willChange: "transform" } as const

/**
 * What a layer draws, as a key: its chunks' first and last keys and the last one's point count
 * (chunks are appended and dropped only at the ends, and only the last one grows).
 */
const versionOf = (chunks: ReadonlyArray<Chunk>, overChunks: ReadonlyArray<Chunk>): string =>
  [chunks, overChunks].map((cs) => `${cs[0]?.key ?? -1}-${cs[cs.length - 1]?.key ?? -1}:${cs[cs.length - 1]?.count ?? 0}`).join("|")

/**
 * The series of one layer: stage bands (stacked) or lines, and the overlay line, per chunk.
 * Memoised on `version`, so the settled layer is not even reconciled while windows arrive.
 */
interface DataProps {
  readonly layer: string
  readonly chunks: ReadonlyArray<Chunk>
  readonly overChunks: ReadonlyArray<Chunk>
  readonly series: ReadonlyArray<LiveLine>
  readonly stacked: boolean
  readonly overlay: LiveLine | undefined
  /** `versionOf(chunks, overChunks)`: the chunk arrays are new each render, their content is not. */
  readonly version: string
}

const Data = memo(
  function Data({ layer, chunks, overChunks, series, stacked, overlay }: DataProps) {
    return (
      <g data-layer={layer}>
        {stacked ? (
          <g data-testid="stage-stack">
            {series.map((s, k) => (
              <g key={s.id} data-testid="stack-series" data-series={s.id} aria-label={`stage ${s.id}`}>
                {chunks.map((chunk) => (
                  <StackBand key={chunk.key} chunk={chunk} count={chunk.count} k={k} color={s.color} />
                ))}
              </g>
            ))}
          </g>
        ) : (
          <g data-testid="series-lines">
            {series.map((s, k) => (
              <g key={s.id} data-series={s.id} aria-label={s.id}>
                {chunks.map((chunk) => (
                  <ChunkLine key={chunk.key} chunk={chunk} count={chunk.count} k={k} color={s.color} dashed={s.dashed === true} />
                ))}
              </g>
            ))}
          </g>
        )}
        {overlay === undefined || overChunks.length === 0 ? null : (
          <g data-testid="host-total" aria-label="measured host total">
            {overChunks.map((chunk) => (
              <ChunkLine key={chunk.key} chunk={chunk} count={chunk.count} k={0} color={overlay.color} dashed={false} />
            ))}
          </g>
        )}
      </g>
    )
  },
  (a, b) => a.version === b.version && a.layer === b.layer && a.series === b.series && a.stacked === b.stacked && a.overlay === b.overlay
)

export const LiveChart = (props: LiveChartProps) => {
  const { samples, series, stacked, overlay } = props
  const clipId = useId()
  // The tracks are kept across renders and brought up to date by appending; new definitions
  // (another stage set) start them afresh.
  const key = `${stacked}|${series.map((s) => s.id).join(",")}|${overlay?.id ?? ""}`
  const tracks = useRef<{ key: string; main: LiveTrack; overlay: LiveTrack | null } | null>(null)
  if (tracks.current === null || tracks.current.key !== key) {
    tracks.current = { key, main: new LiveTrack(series, stacked), overlay: overlay === undefined ? null : new LiveTrack([overlay], false) }
  }
  const { main, overlay: over } = tracks.current
  main.sync(samples)
  over?.sync(samples)
  // The last chunk is the one that grows; the settled ones before it change only when the axes do.
  const settled = main.chunks.slice(0, -1)
  const tail = main.chunks.slice(-1)
  const overSettled = over?.chunks.slice(0, -1) ?? []
  const overTail = over?.chunks.slice(-1) ?? []
  const [hover, setHover] = useState<number | null>(null)

  const first = samples[0]
  const last = samples[samples.length - 1]
  const [lo, hi] = steppedDomain((first?.t_ms ?? 0) / 1000, (last?.t_ms ?? 0) / 1000)
  const yMax = niceCeil(Math.max(main.max, over?.max ?? 0, props.budgetMs ?? 0) * 1.1)
  const digits = props.digits ?? 1
  const tick = elapsedTick(hi - lo)

  return (
    <>
      <Legend
        items={[
          ...series.map((s) => ({ id: s.id, color: s.color, ...(s.dashed === true ? { dashed: true } : {}) })),
          ...(overlay === undefined ? [] : [{ id: overlay.id, color: overlay.color }]),
          ...(props.budgetMs === undefined || props.budgetMs === null ? [] : [{ id: "frame budget", color: BUDGET_COLOR, dashed: true }])
        ]}
      />
      <ChartBox height={props.height} label={props.label} testId={props.testId} {...(props.width === undefined ? {} : { width: props.width })}>
        {(width, height) => {
          const w = Math.max(1, width - MARGIN.left - MARGIN.right)
          const h = Math.max(1, height - MARGIN.top - MARGIN.bottom)
          const sx = w / (hi - lo)
          const sy = h / yMax
          // Data units → pixels: x seconds from `lo`, y up from the bottom.
          const transform = `matrix(${sx} 0 0 ${-sy} ${-lo * sx} ${h})`
          const xTicks = Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5)
          const yTicks = Array.from({ length: 5 }, (_, i) => (yMax * i) / 4)
          const hovered = hover === null ? undefined : samples[hover]
          const onMove = (event: MouseEvent<SVGRectElement>) => {
            const box = event.currentTarget.getBoundingClientRect()
            const t = (lo + ((event.clientX - box.left) / Math.max(1, box.width)) * (hi - lo)) * 1000
            let a = 0
            let b = samples.length - 1
            while (a < b) {
              const m = (a + b) >> 1
              if ((samples[m]?.t_ms ?? 0) < t) a = m + 1
              else b = m
            }
            setHover(samples.length === 0 ? null : a)
          }
          return (
            <div style={{ position: "relative" }}>
              <svg width={width} height={height} role="img" aria-label={props.label} style={BASE}>
                <defs>
                  <clipPath id={clipId}>
                    <rect x={0} y={0} width={w} height={h} />
                  </clipPath>
                </defs>
                <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
                  {yTicks.map((v) => (
                    <g key={v} transform={`translate(0,${h - v * sy})`}>
                      <line x1={0} x2={w} stroke="#2c2c2c" />
                      <text x={-6} dy="0.32em" textAnchor="end" fill="#bbb" fontSize={11}>
                        {num(v, v < 10 ? 1 : 0)}
                      </text>
                    </g>
                  ))}
                  {xTicks.map((v, i) => (
                    <text key={i} x={(v - lo) * sx} y={h + 16} textAnchor="middle" fill="#bbb" fontSize={11}>
                      {tick(v)}
                    </text>
                  ))}
                  <text transform={`translate(${-40},${h / 2}) rotate(-90)`} textAnchor="middle" fill="#ddd" fontSize={12}>
                    {props.unit}
                  </text>
                  <g clipPath={`url(#${clipId})`} pointerEvents="none">
                    <g transform={transform}>
                      <Data layer="settled" chunks={settled} overChunks={overSettled} series={series} stacked={stacked} overlay={overlay} version={versionOf(settled, overSettled)} />
                    </g>
                  </g>
                </g>
              </svg>
              <svg width={width} height={height} style={LAYER}>
                <defs>
                  <clipPath id={`${clipId}-tail`}>
                    <rect x={0} y={0} width={w} height={h} />
                  </clipPath>
                </defs>
                <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
                  <g clipPath={`url(#${clipId}-tail)`} pointerEvents="none">
                    <g transform={transform}>
                      <Data layer="tail" chunks={tail} overChunks={overTail} series={series} stacked={stacked} overlay={overlay} version={versionOf(tail, overTail)} />
                    </g>
                  </g>
                  {props.budgetMs === undefined || props.budgetMs === null ? null : (
                    <g data-testid="frame-budget" aria-label={`frame budget ${props.budgetMs.toFixed(2)} ms`}>
                      <line x1={0} x2={w} y1={h - props.budgetMs * sy} y2={h - props.budgetMs * sy} stroke={BUDGET_COLOR} strokeWidth={1.5} strokeDasharray="6 4" />
                      <text x={w - 4} y={h - props.budgetMs * sy - 4} textAnchor="end" fill={BUDGET_COLOR} fontSize={11}>
                        frame budget {props.budgetMs.toFixed(1)} ms
                      </text>
                    </g>
                  )}
                  <MarkerLines markers={props.markers ?? []} toX={(x) => (x - lo) * sx} innerWidth={w} innerHeight={h} />
                  {hovered === undefined ? null : <line x1={(hovered.t_ms / 1000 - lo) * sx} x2={(hovered.t_ms / 1000 - lo) * sx} y1={0} y2={h} stroke="#eee" strokeOpacity={0.6} />}
                  <rect width={w} height={h} fill="transparent" onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
                </g>
              </svg>
              {hovered === undefined ? null : (
                <div className="tooltip" style={{ position: "absolute", top: 4, left: Math.min(width - 220, MARGIN.left + (hovered.t_ms / 1000 - lo) * sx + 12), pointerEvents: "none" }}>
                  <strong>{seconds(hovered.t_ms / 1000)}</strong> <span className="muted">session {hovered.session_id}</span>
                  <table>
                    <tbody>
                      {[...series, ...(overlay === undefined ? [] : [overlay])].map((s) => (
                        <tr key={s.id}>
                          <td style={{ color: s.color }}>■ {s.id}</td>
                          <td className="num">
                            {num(s.value(hovered), digits)} {props.unit}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
          )
        }}
      </ChartBox>
    </>
  )
}

const StackBand = memo(function StackBand({ chunk, count: _count, k, color }: { chunk: Chunk; count: number; k: number; color: string }) {
  return (
    <>
      <path d={chunkBandPath(chunk, k)} fill={color} fillOpacity={0.55} stroke="none" />
      <path d={chunkLinePath(chunk, k)} fill="none" stroke={color} strokeWidth={1.2} vectorEffect="non-scaling-stroke" />
    </>
  )
})
