/**
 * The Schemas of budget-breach events (the rules that find them are in `Breaches.ts`): what a
 * capture file stores under `breaches` and its meta under `breach_count`. Kept apart from the
 * rules so `Stats.ts` can import them without a cycle (the rules read `Summary.ts`, which reads
 * `Stats.ts`).
 */
import { Schema } from "effect"

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const BreachKind = Schema.Literal("host_p99", "fps", "drops", "rtt")
export type BreachKind = typeof BreachKind.Type

export const BreachSeverity = Schema.Literal("warning", "critical")
export type BreachSeverity = typeof BreachSeverity.Type

export const BreachEvent = Schema.Struct({
  kind: BreachKind,
  severity: BreachSeverity,
  session_id: Schema.String,
  /** The span the breaching windows cover, in the capture's `t_ms`. */
  from_ms: NonNegative,
  to_ms: NonNegative,
  windows: Count,
  /** The worst window's value (µs, fps, drops or µs) and the line it crossed, in the same unit. */
  worst: NonNegative,
  threshold: NonNegative,
  /** One line an operator reads, e.g. "host p99 31.2 ms over the 16.7 ms budget for 3 windows". */
  message: Schema.String
})
export type BreachEvent = typeof BreachEvent.Type

export const BreachThresholds = Schema.Struct({
  /** Host p99 breaches above this multiple of the frame budget. */
  host_p99_budget: Schema.Number.pipe(Schema.finite(), Schema.positive()),
  /** fps breaches below target × (1 − this). */
  fps_shortfall: Schema.Number.pipe(Schema.finite(), Schema.greaterThan(0), Schema.lessThan(1)),
  /** Drops breach at this many per window or more. */
  drops: Schema.Number.pipe(Schema.int(), Schema.positive()),
  /** RTT breaches above this multiple of the capture's median RTT. */
  rtt_factor: Schema.Number.pipe(Schema.finite(), Schema.greaterThan(1))
})
export type BreachThresholds = typeof BreachThresholds.Type

export const DEFAULT_BREACH_THRESHOLDS: BreachThresholds = {
  host_p99_budget: 1,
  fps_shortfall: 0.05,
  drops: 1,
  rtt_factor: 2
}

/** What a capture stores: the events and the thresholds they were found under. */
export const BreachRecord = Schema.Struct({
  thresholds: BreachThresholds,
  events: Schema.Array(BreachEvent)
})
export type BreachRecord = typeof BreachRecord.Type

/**
 * How many events, and how many of them critical: what the summary and the recordings list show
 * (in the meta, so the list reads it without opening the capture).
 */
export const BreachCountSchema = Schema.Struct({ total: Count, critical: Count })
export type BreachCount = typeof BreachCountSchema.Type
