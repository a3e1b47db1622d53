/**
 * Budget-breach events: the windows of a capture where the stream missed what an operator expects
 * of it, found from the samples alone (pure functions, no I/O), so the host (when it saves a
 * capture), the console (when the operator moves a threshold) and the CLI compute the same list.
 *
 * The four rules, each applied only where the window's session measured the field it reads (an
 * unmeasured 0 is never a breach, and never "no breach" either: the rule is simply not applied):
 * - `host_p99`: the window's host p99 (deadline → last datagram out) over the frame budget
 *   (1000 / the session's target fps ms), times `host_p99_budget` (default 1);
 * - `fps`: new frames per second more than `fps_shortfall` (default 5%) under the session's target;
 * - `drops`: any dropped frame or lost packet in the window (each drop counter the session
 *   measured, summed), at least `drops` of them (default 1);
 * - `rtt`: the window's round-trip time over `rtt_factor` (default 2) times the capture's median
 *   RTT (over every window that measured it, so one bad stretch cannot raise its own bar much).
 *
 * Why consecutive windows merge into one event: a 20-second stall is one thing to look at, not ten
 * lines; the event's range covers all of it and a click selects exactly that span.
 *
 * Why a window's range starts at the previous window of its session: a sample is stamped when its
 * window closes, so the window covers (previous t_ms, t_ms]. The first window of a session has no
 * previous one and is given the session's typical window length (the median gap between its
 * samples, else one second).
 *
 * Severity: `critical` when the worst window is at least twice as far past the line as the line
 * itself — host p99 or RTT at twice their threshold, an fps shortfall twice the allowed one, twice
 * the drops threshold — else `warning`. One rule for all four, so the word means the same thing
 * in every row.
 */
import { LOSS_FIELDS } from "./Fields.js"
import { measuredOf, percentile } from "./Summary.js"
import type { CaptureMeta, MeasuredField, StatsSample } from "./Stats.js"

// The Schemas live in BreachEvents.ts (no imports but Effect), so Stats.ts can hold them in a
// capture without an import cycle through Summary.ts; they are re-exported here.
export {
  BreachCountSchema,
  BreachEvent,
  BreachKind,
  BreachRecord,
  BreachSeverity,
  BreachThresholds,
  DEFAULT_BREACH_THRESHOLDS
} from "./BreachEvents.js"
import type { BreachCount, BreachEvent, BreachRecord, BreachThresholds } from "./BreachEvents.js"
import { BreachKind, DEFAULT_BREACH_THRESHOLDS } from "./BreachEvents.js"
export type { BreachCount } from "./BreachEvents.js"

/** Counters that count something lost on the way: any of them above zero is a `drops` breach. */
export const DROP_FIELDS: ReadonlyArray<MeasuredField> = LOSS_FIELDS

/** What one window says for one rule: its value, the line, and whether it crossed it. */
interface Reading {
  readonly value: number
  readonly threshold: number
  /** How far past the line, as a multiple of the line's own distance (≥ 2 is critical). */
  readonly excess: number
}

const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`

const describe = (kind: BreachKind, worst: number, threshold: number, windows: number): string => {
  const span = windows === 1 ? "in 1 window" : `for ${windows} windows`
  switch (kind) {
    case "host_p99":
      return `host p99 ${ms(worst)} over the ${ms(threshold)} line ${span}`
    case "fps":
      return `${worst.toFixed(1)} fps under the ${threshold.toFixed(1)} fps line ${span}`
    case "drops":
      return `${worst} dropped or lost in a window ${span}`
    case "rtt":
      return `RTT ${ms(worst)} over the ${ms(threshold)} line ${span}`
  }
}

/**
 * The breach events of a capture's samples under `thresholds`, ordered by start then kind.
 * Samples are taken in the order given (the capture's order, which is time order).
 */
export const findBreaches = (
  meta: CaptureMeta,
  samples: ReadonlyArray<StatsSample>,
  thresholds: BreachThresholds = DEFAULT_BREACH_THRESHOLDS
): ReadonlyArray<BreachEvent> => {
  const measured = measuredOf(meta)
  const targetFps = new Map(meta.sessions.map((s) => [s.session_id, s.fps] as const))
  const fpsOf = (sample: StatsSample) => targetFps.get(sample.session_id) ?? meta.fps

  const rtts: Array<number> = []
  for (const sample of samples) if (measured(sample).has("rtt_us")) rtts.push(sample.rtt_us)
  const medianRtt = rtts.length > 0 ? percentile(rtts, 0.5) : 0

  // Each session's windows in order, for window starts and for merging runs.
  const bySession = new Map<string, Array<StatsSample>>()
  for (const sample of samples) {
    const list = bySession.get(sample.session_id)
    if (list === undefined) bySession.set(sample.session_id, [sample])
    else list.push(sample)
  }

  const read = (kind: BreachKind, sample: StatsSample): Reading | undefined => {
    const has = measured(sample)
    const fps = fpsOf(sample)
    switch (kind) {
      case "host_p99": {
        if (!has.has("host_p99_us") || fps <= 0) return undefined
        const line = (1e6 / fps) * thresholds.host_p99_budget
        return { value: sample.host_p99_us, threshold: line, excess: sample.host_p99_us / line }
      }
      case "fps": {
        if (!has.has("fps") || fps <= 0) return undefined
        const line = fps * (1 - thresholds.fps_shortfall)
        const allowed = fps * thresholds.fps_shortfall
        return { value: sample.fps, threshold: line, excess: sample.fps < line ? (fps - sample.fps) / allowed : 0 }
      }
      case "drops": {
        const fields = DROP_FIELDS.filter((f) => has.has(f))
        if (fields.length === 0) return undefined
        let drops = 0
        for (const f of fields) drops += sample[f] ?? 0
        return { value: drops, threshold: thresholds.drops, excess: drops / thresholds.drops }
      }
      case "rtt": {
        if (!has.has("rtt_us") || medianRtt <= 0) return undefined
        const line = medianRtt * thresholds.rtt_factor
        return { value: sample.rtt_us, threshold: line, excess: sample.rtt_us / line }
      }
    }
  }
  const crossed = (kind: BreachKind, r: Reading) => (kind === "drops" ? r.excess >= 1 : r.excess > 1)
  // For fps the worst window is the lowest; for the others the highest.
  const worse = (kind: BreachKind, a: Reading, b: Reading) => (kind === "fps" ? a.value < b.value : a.value > b.value)

  const events: Array<BreachEvent> = []
  for (const [session_id, list] of bySession) {
    const gaps: Array<number> = []
    for (let i = 1; i < list.length; i++) gaps.push(list[i]!.t_ms - list[i - 1]!.t_ms)
    const typical = gaps.length > 0 ? percentile(gaps, 0.5) : 1000
    const startOf = (i: number) => (i > 0 ? list[i - 1]!.t_ms : Math.max(0, list[i]!.t_ms - typical))
    for (const kind of BreachKind.literals) {
      let run: { first: number; last: number; worst: Reading; maxExcess: number } | undefined
      const close = () => {
        if (run === undefined) return
        const windows = run.last - run.first + 1
        events.push({
          kind,
          severity: run.maxExcess >= 2 ? "critical" : "warning",
          session_id,
          from_ms: startOf(run.first),
          to_ms: list[run.last]!.t_ms,
          windows,
          worst: run.worst.value,
          threshold: run.worst.threshold,
          message: describe(kind, run.worst.value, run.worst.threshold, windows)
        })
        run = undefined
      }
      list.forEach((sample, i) => {
        const r = read(kind, sample)
        if (r === undefined || !crossed(kind, r)) return close()
        if (run === undefined) run = { first: i, last: i, worst: r, maxExcess: r.excess }
        else {
          run.last = i
          if (worse(kind, r, run.worst)) run.worst = r
          run.maxExcess = Math.max(run.maxExcess, r.excess)
        }
      })
      close()
    }
  }
  const order = BreachKind.literals
  return events.sort((a, b) => a.from_ms - b.from_ms || order.indexOf(a.kind) - order.indexOf(b.kind))
}

export const countBreaches = (events: ReadonlyArray<BreachEvent>): BreachCount => ({
  total: events.length,
  critical: events.filter((e) => e.severity === "critical").length
})

/**
 * The events a capture is saved with: computed once at save under `thresholds` (the defaults),
 * stored with the thresholds used, so an export of the stored bytes carries them and a reader can
 * tell which lines they were measured against.
 */
export const breachRecordOf = (
  meta: CaptureMeta,
  samples: ReadonlyArray<StatsSample>,
  thresholds: BreachThresholds = DEFAULT_BREACH_THRESHOLDS
): BreachRecord => ({ thresholds, events: findBreaches(meta, samples, thresholds) })

/** The events that overlap `[fromMs, toMs]` (a selected range): what the range's summary counts. */
export const breachesInRange = (events: ReadonlyArray<BreachEvent>, fromMs: number, toMs: number): ReadonlyArray<BreachEvent> =>
  events.filter((e) => e.to_ms >= fromMs && e.from_ms <= toMs)
