/**
 * Metrics: what `/metrics` exposes, fed by the same windows the Recorder receives, armed or not.
 *
 * Why the Recorder is wrapped instead of each window producer calling a second service: windows
 * reach the Recorder from two places (the local `SessionRunner` and the punktfunk/1 control
 * server's per-client sessions), and both already call `registerSession` / `pushSample` /
 * `unregisterSession`. Wrapping those three calls once (`MeteredRecorderLive`) feeds every path,
 * present and future, and leaves the Recorder's own behaviour (a no-op `pushSample` when idle)
 * untouched.
 *
 * What is kept: per live session its meta and last window (gauges: "the last window"), and per
 * path monotonic totals accumulated from the windows' counter deltas. A counter a session does
 * not measure is 0 in its windows and absent from its `measured`: it is never added, and a path
 * on which no session ever measured a counter has no series for it (no fabricated "0 drops").
 * Totals outlive sessions, so `_total` never goes down while the host runs.
 */
import { Context, Effect, Layer } from "effect"
import type { MeasuredField, SessionMeta, StatsSample, StreamKind } from "../api/Stats.js"
import { COUNTER_FIELDS } from "../api/Fields.js"
import type { CounterFieldName } from "../api/Fields.js"
import { Recorder } from "./Recorder.js"
import type { RecorderService } from "./Recorder.js"

/** Counters carried as per-window deltas: the field table's `counter` rows. */
export { COUNTER_FIELDS }
export type CounterField = CounterFieldName

export interface SessionGauges {
  readonly meta: SessionMeta
  /** The session's latest window; undefined until its first one. */
  readonly last: StatsSample | undefined
}

export interface PathTotals {
  /** Windows seen on this path (every window, measured or not). */
  readonly windows: number
  /** Sum of the window deltas, only for counters some session of this path measured. */
  readonly counters: Readonly<Partial<Record<CounterField, number>>>
}

export interface MetricsSnapshot {
  readonly sessions: ReadonlyArray<SessionGauges>
  readonly paths: Readonly<Partial<Record<StreamKind, PathTotals>>>
}

export interface MetricsService {
  readonly sessionStarted: (meta: SessionMeta) => Effect.Effect<void>
  readonly sessionEnded: (sessionId: string) => Effect.Effect<void>
  readonly observe: (sample: StatsSample) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<MetricsSnapshot>
}

export class Metrics extends Context.Tag("punktfunk/Metrics")<Metrics, MetricsService>() {}

interface MutableTotals {
  windows: number
  counters: Partial<Record<CounterField, number>>
}

export const makeMetrics = (): MetricsService => {
  const sessions = new Map<string, { meta: SessionMeta; measured: ReadonlySet<MeasuredField>; last: StatsSample | undefined }>()
  const paths = new Map<StreamKind, MutableTotals>()
  const totalsOf = (kind: StreamKind): MutableTotals => {
    let t = paths.get(kind)
    if (t === undefined) {
      t = { windows: 0, counters: {} }
      paths.set(kind, t)
    }
    return t
  }
  return {
    sessionStarted: (meta) =>
      Effect.sync(() => {
        sessions.set(meta.session_id, { meta, measured: new Set(meta.measured), last: undefined })
        // The path's series exist from its first session on, so a scrape sees them before a window.
        const totals = totalsOf(meta.kind)
        for (const field of COUNTER_FIELDS) if (meta.measured.includes(field)) totals.counters[field] ??= 0
      }),
    sessionEnded: (sessionId) => Effect.sync(() => void sessions.delete(sessionId)),
    observe: (sample) =>
      Effect.sync(() => {
        const session = sessions.get(sample.session_id)
        // A window from a session nobody registered has no path to be counted under.
        if (session === undefined) return
        session.last = sample
        const totals = totalsOf(session.meta.kind)
        totals.windows++
        for (const field of COUNTER_FIELDS) {
          if (!session.measured.has(field)) continue
          totals.counters[field] = (totals.counters[field] ?? 0) + sample[field]
        }
      }),
    snapshot: Effect.sync(() => ({
      sessions: Array.from(sessions.values(), ({ meta, last }) => ({ meta, last })),
      paths: Object.fromEntries(
        Array.from(paths, ([kind, t]) => [kind, { windows: t.windows, counters: { ...t.counters } }])
      )
    }))
  }
}

export const MetricsLive: Layer.Layer<Metrics> = Layer.sync(Metrics, makeMetrics)

/** The Recorder as seen by every window producer: the same service, with metrics fed first. */
export const meteredRecorder = (recorder: RecorderService, metrics: MetricsService): RecorderService => ({
  ...recorder,
  registerSession: (session, frames) => Effect.zipRight(metrics.sessionStarted(session), recorder.registerSession(session, frames)),
  unregisterSession: (sessionId) => Effect.zipRight(metrics.sessionEnded(sessionId), recorder.unregisterSession(sessionId)),
  pushSample: (sample) => Effect.zipRight(metrics.observe(sample), recorder.pushSample(sample))
})

/** Replaces the Recorder below it with its metered self; needs the plain Recorder and Metrics. */
export const MeteredRecorderLive: Layer.Layer<Recorder, never, Recorder | Metrics> = Layer.effect(
  Recorder,
  Effect.map(Effect.all([Recorder, Metrics]), ([recorder, metrics]) => meteredRecorder(recorder, metrics))
)
