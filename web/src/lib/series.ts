/**
 * Samples → chart series: real elapsed time on x, the pen lifted at session boundaries, and
 * downsampled for drawing only.
 *
 * Why a `null` point between sessions: Nivo's line and area generators skip undefined points, so
 * one `{ y: null }` between two sessions breaks the line there instead of drawing a slope across
 * the time no session ran. Why the same x for every series of a chart: Nivo stacks by matching x
 * values, so the downsampler picks one index set per session (the union of each series' LTTB
 * picks) and every series is read at those indices.
 */
import type { StatsSample } from "../../../src/api/Stats.js"
import { lttbUnion } from "./lttb.js"

export interface ChartPoint {
  readonly x: number
  readonly y: number | null
  /** Index of the sample this point was read from; -1 for a pen-lift point. */
  readonly i: number
}

export interface ChartSeries {
  readonly id: string
  readonly data: ReadonlyArray<ChartPoint>
}

export interface SeriesDef {
  readonly id: string
  /** The value to draw for a sample, or `null` to draw nothing there. */
  readonly value: (sample: StatsSample) => number | null
}

export interface Segment {
  readonly session_id: string
  /** Inclusive start and exclusive end index into the samples. */
  readonly start: number
  readonly end: number
}

/** Consecutive runs of samples from one session. */
export const sessionSegments = (samples: ReadonlyArray<StatsSample>): Array<Segment> => {
  const out: Array<Segment> = []
  let start = 0
  for (let i = 1; i <= samples.length; i++) {
    if (i === samples.length || samples[i]?.session_id !== samples[start]?.session_id) {
      if (i > start) out.push({ session_id: samples[start]?.session_id ?? "", start, end: i })
      start = i
    }
  }
  return out
}

export interface BuildOptions {
  /** Upper bound on drawn points per series (the union of every series' picks stays within it). */
  readonly maxPoints: number
  /** Milliseconds subtracted from every `t_ms` (compare view aligns captures at their start). */
  readonly originMs?: number
}

/** Indices of the samples to draw, per session segment, sharing one set across all series. */
export const drawIndices = (
  samples: ReadonlyArray<StatsSample>,
  defs: ReadonlyArray<SeriesDef>,
  maxPoints: number
): Array<ReadonlyArray<number>> => {
  const segments = sessionSegments(samples)
  const total = samples.length
  return segments.map((segment) => {
    const length = segment.end - segment.start
    const budget = Math.max(2, Math.floor((maxPoints * length) / Math.max(1, total)))
    const xs = new Float64Array(length)
    for (let k = 0; k < length; k++) xs[k] = samples[segment.start + k]?.t_ms ?? 0
    const yss = defs.map((def) => {
      const ys = new Float64Array(length)
      for (let k = 0; k < length; k++) {
        const sample = samples[segment.start + k]
        ys[k] = sample === undefined ? 0 : (def.value(sample) ?? 0)
      }
      return ys
    })
    // Each series gets an equal share, so the union stays within the budget: every drawn x is a
    // DOM node per chart (the slice for its tooltip), and that, not the math, is what costs.
    const share = Math.max(2, Math.floor(budget / Math.max(1, defs.length)))
    return lttbUnion(xs, yss, share).map((k) => segment.start + k)
  })
}

/** Nivo series for `defs` over `samples`, x in seconds, downsampled, a gap between sessions. */
export const buildSeries = (
  samples: ReadonlyArray<StatsSample>,
  defs: ReadonlyArray<SeriesDef>,
  options: BuildOptions
): Array<ChartSeries> => {
  const origin = options.originMs ?? 0
  const perSegment = drawIndices(samples, defs, options.maxPoints)
  return defs.map((def) => {
    const data: Array<ChartPoint> = []
    perSegment.forEach((indices, segmentIndex) => {
      if (segmentIndex > 0) {
        const previous = data[data.length - 1]
        const next = samples[indices[0] ?? 0]
        if (previous !== undefined && next !== undefined) {
          data.push({ x: (previous.x + (next.t_ms - origin) / 1000) / 2, y: null, i: -1 })
        }
      }
      for (const i of indices) {
        const sample = samples[i]
        if (sample !== undefined) data.push({ x: (sample.t_ms - origin) / 1000, y: def.value(sample), i })
      }
    })
    return { id: def.id, data }
  })
}
