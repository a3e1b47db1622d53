/**
 * The live charts' drawing state, built by appending: samples go into chunks of `CHUNK` points,
 * and a chunk once full never changes again, so the chart redraws only the last one when a window
 * arrives. The points are kept in data units (seconds, and the series' unit); the chart maps them
 * to pixels with one transform, so a sliding time window or a taller y range changes an attribute,
 * not the paths.
 *
 * Why this and not the recorded-capture charts: those downsample the whole series and let Nivo
 * lay out every point and slice again — right for a capture opened once, but at 5,400 live
 * samples that is tens of milliseconds per window, longer than a frame.
 */
import type { StatsSample } from "../../../src/api/Stats.js"

export const CHUNK = 128

export interface LiveSeriesDef {
  readonly id: string
  /** The value to draw, or `null` to lift the pen (not measured, no timings in this window). */
  readonly value: (sample: StatsSample) => number | null
}

/** A run of consecutive points; `ys[k][j]` is series k at point j (stack tops when stacked). */
export interface Chunk {
  readonly key: number
  readonly xs: Array<number>
  readonly ys: Array<Array<number | null>>
  /** Pen lifted before this point (a new session starts there). */
  readonly breaks: Array<boolean>
  /** Windows drawn in this chunk (its first point may also repeat the previous chunk's last, to join). */
  count: number
  lastT: number
}

export class LiveTrack {
  readonly chunks: Array<Chunk> = []
  /** The largest value drawn so far (stack top when stacked): the y range grows, never jitters. */
  max = 0
  private last: StatsSample | undefined
  private nextKey = 0

  constructor(
    readonly defs: ReadonlyArray<LiveSeriesDef>,
    readonly stacked: boolean
  ) {}

  /**
   * Bring the track up to `samples` (the live view's kept window): append what is new after the
   * last sample seen, drop chunks now entirely before the first kept sample, and start over when
   * the last sample seen is gone (a new capture). Returns whether anything changed.
   */
  sync(samples: ReadonlyArray<StatsSample>): boolean {
    let from = 0
    if (this.last !== undefined) {
      const seen = samples.lastIndexOf(this.last)
      if (seen === -1) this.reset()
      else from = seen + 1
    }
    let changed = false
    for (let i = from; i < samples.length; i++) {
      const sample = samples[i]
      if (sample !== undefined) this.append(sample)
      changed = true
    }
    const firstT = samples[0]?.t_ms
    while (firstT !== undefined && this.chunks.length > 1 && (this.chunks[0]?.lastT ?? Number.POSITIVE_INFINITY) < firstT) {
      this.chunks.shift()
      changed = true
    }
    return changed
  }

  private reset() {
    this.chunks.length = 0
    this.max = 0
    this.last = undefined
  }

  private append(sample: StatsSample) {
    const values = this.defs.map((d) => d.value(sample))
    let ys: Array<number | null> = values
    if (this.stacked) {
      // A window without timings lifts every band; a stage a session lacks counts 0 in the stack.
      if (values.some((v) => v === null)) ys = values.map(() => null)
      else {
        let sum = 0
        ys = values.map((v) => (sum += v ?? 0))
      }
    }
    for (const y of ys) if (y !== null && y > this.max) this.max = y
    const previous = this.last
    const newSession = previous !== undefined && previous.session_id !== sample.session_id
    let tail = this.chunks[this.chunks.length - 1]
    if (tail === undefined || tail.count >= CHUNK) {
      const joined = tail
      tail = { key: this.nextKey++, xs: [], ys: this.defs.map(() => []), breaks: [], count: 0, lastT: sample.t_ms }
      // Start the new chunk at the previous one's last point, so the line runs on without a gap.
      if (joined !== undefined && !newSession) {
        const j = joined.xs.length - 1
        tail.xs.push(joined.xs[j] ?? 0)
        tail.ys.forEach((series, k) => series.push(joined.ys[k]?.[j] ?? null))
        tail.breaks.push(true)
      }
      this.chunks.push(tail)
    }
    tail.xs.push(sample.t_ms / 1000)
    tail.ys.forEach((series, k) => series.push(ys[k] ?? null))
    tail.breaks.push(newSession || tail.xs.length === 1)
    tail.count++
    tail.lastT = sample.t_ms
    this.last = sample
  }
}

const n = (v: number) => (Math.round(v * 1000) / 1000).toString()

/** An SVG path through one series of a chunk, in data units, lifting the pen at nulls and breaks. */
export const chunkLinePath = (chunk: Chunk, k: number): string => {
  const ys = chunk.ys[k] ?? []
  let d = ""
  let pen = false
  for (let j = 0; j < chunk.xs.length; j++) {
    const y = ys[j]
    if (y === null || y === undefined) {
      pen = false
      continue
    }
    d += `${pen && chunk.breaks[j] !== true ? "L" : "M"}${n(chunk.xs[j] ?? 0)},${n(y)}`
    pen = true
  }
  return d
}

/** The band of stacked series `k` between its top and the series below (or 0), per unbroken run. */
export const chunkBandPath = (chunk: Chunk, k: number): string => {
  const tops = chunk.ys[k] ?? []
  const bottoms = k > 0 ? (chunk.ys[k - 1] ?? []) : null
  let d = ""
  let run: Array<number> = []
  const flush = () => {
    if (run.length > 1) {
      d += run.map((j, i) => `${i === 0 ? "M" : "L"}${n(chunk.xs[j] ?? 0)},${n(tops[j] ?? 0)}`).join("")
      for (let i = run.length - 1; i >= 0; i--) {
        const j = run[i] ?? 0
        d += `L${n(chunk.xs[j] ?? 0)},${n(bottoms === null ? 0 : (bottoms[j] ?? 0))}`
      }
      d += "Z"
    }
    run = []
  }
  for (let j = 0; j < chunk.xs.length; j++) {
    if (tops[j] === null || tops[j] === undefined || chunk.breaks[j] === true) flush()
    if (tops[j] !== null && tops[j] !== undefined) run.push(j)
  }
  flush()
  return d
}
