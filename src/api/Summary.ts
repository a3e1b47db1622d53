/**
 * Summary math over a capture's samples: what the console's summary table and the CLI's
 * `punktfunk stats show ID` print. Pure functions over the Schemas' types, no I/O, no Effect.
 *
 * Why everything is computed over windows: a sample is one aggregation window (~2 s punktfunk/1,
 * ~1 s GameStream) that already holds p50/p99/max/mean per stage; the frames themselves are not
 * kept. So a capture-level figure is a statistic of window statistics, and the names say which:
 * - `mean_us`: the mean of the window means (each window weighs the same);
 * - `p50_us`: the median of the window p50s (the typical frame in the typical window);
 * - `p95_us` / `p99_us`: the 95th / 99th percentile of the window p99s (how bad the tail gets in
 *   the worse windows — an upper estimate of the frame-level percentile, never a lower one);
 * - `max_us`: the max of the window maxima (exact: the slowest frame measured).
 * Callers must say so where they show the numbers (`SUMMARY_METHOD` is the sentence to print).
 *
 * Why "not measured" is `null` and never 0: a counter a path does not expose is recorded as 0 and
 * left out of `measured` (per session). Summing it would print "0 drops" for a path that cannot
 * see drops. A counter is summarised only over the samples whose session measured it, and is
 * `null` when no session in the range did.
 *
 * Percentiles interpolate linearly between closest ranks (numpy's default), so a summary of
 * one window is that window's value and the figures are stable as windows are added.
 */
import type { Capture, CaptureMeta, MeasuredField, SessionMeta, StageName, StatsSample } from "./Stats.js"
import { StageName as StageNameSchema } from "./Stats.js"
import { FIELD_NAMES, FIELDS } from "./Fields.js"
import type { FieldName, Fields, Stat } from "./Fields.js"

/** The sentence a table of these numbers must carry. */
export const SUMMARY_METHOD =
  "Computed over aggregation windows: mean = mean of window means, p50 = median of window p50s, " +
  "p95/p99 = percentiles of window p99s, max = max of window maxima."

/** An inclusive range of `t_ms` (milliseconds since the capture was armed). */
export interface TimeRange {
  readonly from_ms: number
  readonly to_ms: number
}

/** Distribution of one per-window value over the windows. */
export interface Distribution {
  readonly count: number
  readonly mean: number
  readonly min: number
  readonly p1: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export interface StageSummary {
  readonly name: StageName
  /** Windows that carried this stage. */
  readonly windows: number
  readonly mean_us: number
  readonly p50_us: number
  readonly p95_us: number
  readonly p99_us: number
  readonly max_us: number
}

/** Sum and per-window distribution of a counter; `null` in a summary when nothing measured it. */
export interface CounterSummary {
  readonly total: number
  readonly per_window: Distribution
}

/** A counter (`group: "counter"` in the field table) sums; every other field is a distribution. */
export type FieldSummaryOf<K extends FieldName> = Fields[K]["group"] extends "counter" ? CounterSummary : Distribution

/**
 * One entry per row of the field table: `null` when no session in the range measured it. The
 * host total (`host_p50_us`/`host_p99_us`) is measured from deadline to last datagram, not the sum
 * of the stages; `fps` is frames served per second per window (new pictures and repeats), its `p1`
 * the 1% low (1st percentile of window fps).
 */
export type FieldSummaries = { readonly [K in FieldName]: FieldSummaryOf<K> | null }

export interface CaptureSummary extends FieldSummaries {
  /** Windows in the range (every sample, whatever it measured). */
  readonly windows: number
  readonly from_ms: number
  readonly to_ms: number
  /** Sessions seen in the range, in order of first appearance. */
  readonly session_ids: ReadonlyArray<string>
  /** Target fps (the first session's in the range, else the capture's); 0 when unknown. */
  readonly target_fps: number
  /** 1000 / target fps, in milliseconds; `null` when the target fps is unknown. */
  readonly frame_budget_ms: number | null
  /** Stages in canonical order, only those present in the range. */
  readonly stages: ReadonlyArray<StageSummary>
  /** Target bitrate in Mb/s (mean of the windows' `bitrate_kbps` / 1000). */
  readonly target_mbps: number | null
  /** Fields measured by at least one session in the range. */
  readonly measured: ReadonlyArray<MeasuredField>
}

/** A field's summary, whichever kind it is. */
export const fieldSummary = (summary: FieldSummaries, field: FieldName): CounterSummary | Distribution | null =>
  summary[field] as CounterSummary | Distribution | null

const isCounter = (s: CounterSummary | Distribution): s is CounterSummary => "total" in s

/** One statistic of a field, in the stored unit; `null` when not measured (or not this kind). */
export const fieldStat = (summary: FieldSummaries, field: FieldName, stat: Stat): number | null => {
  const s = fieldSummary(summary, field)
  if (s === null) return null
  if (isCounter(s)) return stat === "total" ? s.total : stat === "max" ? s.per_window.max : stat === "mean" ? s.per_window.mean : null
  return stat === "total" ? null : s[stat]
}

/** Linear-interpolation percentile of an ascending array; `q` in [0, 1]. NaN for an empty array. */
export const percentileSorted = (sorted: ReadonlyArray<number>, q: number): number => {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const clamped = Math.min(1, Math.max(0, q))
  const rank = clamped * (n - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = sorted[lo] ?? Number.NaN
  const b = sorted[hi] ?? a
  return a + (b - a) * (rank - lo)
}

/** Percentile of unsorted values (copies before sorting). */
export const percentile = (values: ReadonlyArray<number>, q: number): number =>
  percentileSorted([...values].sort((x, y) => x - y), q)

/** Distribution of values; `null` for none. */
export const distribution = (values: ReadonlyArray<number>): Distribution | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((x, y) => x - y)
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    p1: percentileSorted(sorted, 0.01),
    p50: percentileSorted(sorted, 0.5),
    p95: percentileSorted(sorted, 0.95),
    p99: percentileSorted(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN
  }
}

/** Frame budget in milliseconds for a frame rate; `null` for 0 (unknown). */
export const frameBudgetMs = (fps: number): number | null => (fps > 0 ? 1000 / fps : null)

/** Samples whose `t_ms` lies in the inclusive range; all of them without a range. */
export const samplesInRange = (
  samples: ReadonlyArray<StatsSample>,
  range?: TimeRange
): ReadonlyArray<StatsSample> =>
  range === undefined ? samples : samples.filter((s) => s.t_ms >= range.from_ms && s.t_ms <= range.to_ms)

/**
 * What each sample's session measured. A sample whose session is not in `meta.sessions` (an old
 * file, a recovered journal) falls back to the capture-level `measured`.
 */
export const measuredOf = (meta: CaptureMeta): ((sample: StatsSample) => ReadonlySet<MeasuredField>) => {
  const bySession = new Map<string, ReadonlySet<MeasuredField>>()
  for (const session of meta.sessions) bySession.set(session.session_id, new Set(session.measured))
  const fallback: ReadonlySet<MeasuredField> = new Set(meta.measured)
  return (sample) => bySession.get(sample.session_id) ?? fallback
}

// The Schema's own list, in its order: one place to add a field.
const MEASURED_ORDER: ReadonlyArray<MeasuredField> = FIELD_NAMES

/** Summary of one stage over the windows that carry it. */
export const summarizeStage = (name: StageName, samples: ReadonlyArray<StatsSample>): StageSummary | null => {
  const p50s: Array<number> = []
  const p99s: Array<number> = []
  let meanSum = 0
  let max = 0
  for (const sample of samples) {
    const stage = sample.stages.find((s) => s.name === name)
    if (stage === undefined) continue
    p50s.push(stage.p50_us)
    p99s.push(stage.p99_us)
    meanSum += stage.mean_us
    if (stage.max_us > max) max = stage.max_us
  }
  if (p50s.length === 0) return null
  p50s.sort((x, y) => x - y)
  p99s.sort((x, y) => x - y)
  return {
    name,
    windows: p50s.length,
    mean_us: meanSum / p50s.length,
    p50_us: percentileSorted(p50s, 0.5),
    p95_us: percentileSorted(p99s, 0.95),
    p99_us: percentileSorted(p99s, 0.99),
    max_us: max
  }
}

const counter = (values: ReadonlyArray<number>): CounterSummary | null => {
  const per_window = distribution(values)
  if (per_window === null) return null
  let total = 0
  for (const v of values) total += v
  return { total, per_window }
}

/** What one pass collects for a stage: its window p50s and p99s, the sum of means, the max. */
interface StageAcc {
  readonly p50s: Array<number>
  readonly p99s: Array<number>
  meanSum: number
  max: number
}

/**
 * Summary of the samples of a capture, optionally restricted to a time range. Every sample in the
 * range is used (the console downsamples only what it draws).
 *
 * Why one pass: a 5,400-sample capture was walked once per stage and once per field (about twenty
 * times, each copying a filtered array); opening a capture in the console waits for this. The
 * pass gathers every stage's and field's values, and only the sorting for percentiles follows.
 */
export const summarizeSamples = (
  meta: CaptureMeta,
  allSamples: ReadonlyArray<StatsSample>,
  range?: TimeRange
): CaptureSummary => {
  const measured = measuredOf(meta)
  const session_ids: Array<string> = []
  const seen = new Set<string>()
  const measuredUnion = new Set<MeasuredField>()
  const stageAcc = new Map<StageName, StageAcc>()
  const values = new Map<MeasuredField, Array<number>>(MEASURED_ORDER.map((f) => [f, []]))
  let windows = 0
  let first: StatsSample | undefined
  let last: StatsSample | undefined
  for (const sample of allSamples) {
    if (range !== undefined && (sample.t_ms < range.from_ms || sample.t_ms > range.to_ms)) continue
    windows++
    first ??= sample
    last = sample
    if (!seen.has(sample.session_id)) {
      seen.add(sample.session_id)
      session_ids.push(sample.session_id)
    }
    const fields = measured(sample)
    for (const field of fields) {
      measuredUnion.add(field)
      const value = sample[field]
      if (value !== undefined) values.get(field)?.push(value)
    }
    for (const stage of sample.stages) {
      let acc = stageAcc.get(stage.name)
      if (acc === undefined) {
        acc = { p50s: [], p99s: [], meanSum: 0, max: 0 }
        stageAcc.set(stage.name, acc)
      }
      acc.p50s.push(stage.p50_us)
      acc.p99s.push(stage.p99_us)
      acc.meanSum += stage.mean_us
      if (stage.max_us > acc.max) acc.max = stage.max_us
    }
  }
  const firstSession: SessionMeta | undefined = meta.sessions.find((s) => s.session_id === session_ids[0])
  const target_fps = firstSession?.fps ?? meta.fps
  const stages: Array<StageSummary> = []
  for (const name of StageNameSchema.literals) {
    const acc = stageAcc.get(name)
    if (acc === undefined) continue
    acc.p50s.sort((x, y) => x - y)
    acc.p99s.sort((x, y) => x - y)
    stages.push({
      name,
      windows: acc.p50s.length,
      mean_us: acc.meanSum / acc.p50s.length,
      p50_us: percentileSorted(acc.p50s, 0.5),
      p95_us: percentileSorted(acc.p99s, 0.95),
      p99_us: percentileSorted(acc.p99s, 0.99),
      max_us: acc.max
    })
  }
  const of = (field: MeasuredField): ReadonlyArray<number> => values.get(field) ?? []
  const fields = Object.fromEntries(
    FIELD_NAMES.map((field) => [field, FIELDS[field].group === "counter" ? counter(of(field)) : distribution(of(field))])
  ) as unknown as FieldSummaries
  const bitrate = fields.bitrate_kbps
  return {
    ...fields,
    windows,
    from_ms: first?.t_ms ?? range?.from_ms ?? 0,
    to_ms: last?.t_ms ?? range?.to_ms ?? 0,
    session_ids,
    target_fps,
    frame_budget_ms: frameBudgetMs(target_fps),
    stages,
    target_mbps: bitrate === null ? null : bitrate.mean / 1000,
    measured: [...MEASURED_ORDER].filter((f) => measuredUnion.has(f))
  }
}

/** Summary of a whole capture, or of the part of it inside `range`. */
export const summarizeCapture = (capture: Capture, range?: TimeRange): CaptureSummary =>
  summarizeSamples(capture.meta, capture.samples, range)

/** `after - before`, and the relative change (`null` when `before` is 0 or either is missing). */
export interface Delta {
  readonly absolute: number
  readonly relative: number | null
}

export const delta = (before: number | null | undefined, after: number | null | undefined): Delta | null => {
  if (before === null || before === undefined || after === null || after === undefined) return null
  if (!Number.isFinite(before) || !Number.isFinite(after)) return null
  return { absolute: after - before, relative: before === 0 ? null : (after - before) / before }
}
