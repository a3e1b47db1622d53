/**
 * A capture's kept frames as Chrome trace-event JSON (`GET /stats/recordings/{id}/trace`), the
 * format Perfetto and chrome://tracing open: `{ traceEvents: [...] }` with one process per session
 * and one thread (track) per stage, plus a `frame` track with each frame's deadline → last
 * datagram out. Each stage of each frame is one complete event (`ph: "X"`, `ts` and `dur` in µs,
 * `ts` counted from the capture's arming); track and process names are metadata events
 * (`ph: "M"`, `process_name` / `thread_name` / `thread_sort_index`).
 *
 * Why `dur` is the record's `end − start` and nothing else: the trace is a view of the records,
 * so a slice in Perfetto measures exactly what the capture kept.
 */
import { Either, Schema } from "effect"
import type { FramesFile } from "./Frames.js"

const NonNegative = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const Int = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const TraceSlice = Schema.Struct({
  ph: Schema.Literal("X"),
  name: Schema.String,
  cat: Schema.String,
  ts: NonNegative,
  dur: NonNegative,
  pid: Int,
  tid: Int,
  args: Schema.Struct({
    t_ms: NonNegative,
    bytes: Int,
    packets: Int,
    key: Schema.Boolean,
    repeat: Schema.Boolean,
    span: Schema.String
  })
})
export type TraceSlice = typeof TraceSlice.Type

export const TraceMetadata = Schema.Struct({
  ph: Schema.Literal("M"),
  name: Schema.Literal("process_name", "thread_name", "thread_sort_index"),
  pid: Int,
  tid: Int,
  args: Schema.Struct({ name: Schema.optional(Schema.String), sort_index: Schema.optional(Schema.Number) })
})
export type TraceMetadata = typeof TraceMetadata.Type

export const TraceEvent = Schema.Union(TraceSlice, TraceMetadata)
export type TraceEvent = typeof TraceEvent.Type

export const TraceFile = Schema.Struct({
  traceEvents: Schema.Array(TraceEvent),
  displayTimeUnit: Schema.Literal("ms")
})
export type TraceFile = typeof TraceFile.Type

export const TraceQuery = Schema.Struct({
  /** Only frames whose deadline is at or after this (ms since arming). */
  from_ms: Schema.optional(Schema.String),
  /** Only frames whose deadline is at or before this. */
  to_ms: Schema.optional(Schema.String)
})

export interface TraceRange {
  readonly from_ms: number
  readonly to_ms: number
}

/**
 * The query's range, or the words that say what is wrong with it. Checked here rather than by the
 * URL Schema so the 400 names the parameter and the value in an operator's words.
 */
export const parseTraceRange = (query: typeof TraceQuery.Type): Either.Either<TraceRange, string> => {
  const read = (name: string, raw: string | undefined, fallback: number): Either.Either<number, string> => {
    if (raw === undefined || raw === "") return Either.right(fallback)
    const n = Number(raw)
    if (!Number.isFinite(n) || n < 0 || raw.trim() !== raw) {
      return Either.left(`${name} must be a number of milliseconds, 0 or more; got '${raw.slice(0, 40)}'`)
    }
    return Either.right(n)
  }
  return Either.flatMap(read("from_ms", query.from_ms, 0), (from_ms) =>
    Either.flatMap(read("to_ms", query.to_ms, Number.MAX_SAFE_INTEGER), (to_ms) =>
      from_ms > to_ms ? Either.left(`from_ms (${from_ms}) is after to_ms (${to_ms})`) : Either.right({ from_ms, to_ms })
    )
  )
}

const FRAME_TID = 1
const round3 = (x: number) => Math.round(x * 1000) / 1000

/** The frames of `file` whose deadline lies in `range`, as a trace. */
export const framesToTrace = (file: FramesFile, range: TraceRange): TraceFile => {
  const events: Array<TraceEvent> = []
  const pids = new Map<string, number>()
  const tracks = new Set<string>()
  for (const span of file.spans) {
    let pid = pids.get(span.session_id)
    if (pid === undefined) {
      pid = pids.size + 1
      pids.set(span.session_id, pid)
      events.push({ ph: "M", name: "process_name", pid, tid: 0, args: { name: `session ${span.session_id}` } })
    }
    // One track per stage, after the frame track, in the pipeline's order.
    const tids = span.stages.map((_, i) => FRAME_TID + 1 + i)
    const named = [{ tid: FRAME_TID, name: "frame (deadline → sent)" }, ...span.stages.map((name, i) => ({ tid: tids[i]!, name }))]
    for (const { name, tid } of named) {
      const key = `${pid}/${tid}/${name}`
      if (tracks.has(key)) continue
      tracks.add(key)
      events.push({ ph: "M", name: "thread_name", pid, tid, args: { name } })
      events.push({ ph: "M", name: "thread_sort_index", pid, tid, args: { sort_index: tid } })
    }
    const label = `${span.reason}: ${span.detail}`
    for (const frame of span.frames) {
      if (frame.t_ms < range.from_ms || frame.t_ms > range.to_ms) continue
      const base = frame.t_ms * 1000
      const args = { t_ms: frame.t_ms, bytes: frame.bytes, packets: frame.packets, key: frame.key, repeat: frame.repeat, span: label }
      events.push({ ph: "X", name: "frame", cat: "frame", ts: round3(base), dur: frame.host_us, pid, tid: FRAME_TID, args })
      frame.stages_us.forEach(([start, end], i) => {
        events.push({
          ph: "X",
          name: span.stages[i] ?? `stage ${i}`,
          cat: "stage",
          ts: round3(base + start),
          dur: round3(end - start),
          pid,
          tid: tids[i] ?? FRAME_TID + 1 + i,
          args
        })
      })
    }
  }
  return { traceEvents: events, displayTimeUnit: "ms" }
}
