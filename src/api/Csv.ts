/**
 * CSV export of a capture: one row per (sample, stage set) with a fixed column order, so a
 * spreadsheet or pandas can read any capture without knowing the path it came from.
 *
 * Why stage columns are the union over the capture's sessions and not per row: a capture may span
 * a punktfunk/1 and a GameStream session; a fixed header keeps every row the same width, and a stage a
 * session does not have is left empty (not 0 — an empty cell is "not this path", not "took 0 µs").
 * Counters the capture did not measure are empty for the same reason.
 *
 * Budget-breach events go in a last column, `breaches`, per row rather than in a section after the
 * rows: a trailing section would make the file two tables, which a spreadsheet or `read_csv` reads
 * as one broken one. A row's cell lists the events (of its session) whose range covers its window,
 * as `kind:severity` joined by `;` (e.g. `host_p99:critical;drops:warning`), empty where none; the
 * events are the ones stored in the capture, or, for a capture saved before they were stored,
 * found now under the default thresholds.
 */
import type { Capture, MeasuredField, StageName, StatsSample } from "./Stats.js"
import { StageName as StageNameSchema } from "./Stats.js"
import { FIELD_NAMES } from "./Fields.js"
import type { BreachEvent } from "./BreachEvents.js"
import { findBreaches } from "./Breaches.js"

// The field table's rows, in its order: one column per field.
const COUNTERS: ReadonlyArray<MeasuredField> = FIELD_NAMES
const STAGE_FIELDS = ["p50_us", "p99_us", "max_us", "mean_us"] as const

/** Quote a cell when it holds a comma, quote or line break (RFC 4180). */
export const csvCell = (value: string | number): string => {
  const s = typeof value === "number" ? String(value) : value
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, "\"\"")}"` : s
}

/** Stage names present in the capture, in the canonical stage order. */
export const captureStages = (capture: Capture): ReadonlyArray<StageName> => {
  const present = new Set<StageName>()
  for (const session of capture.meta.sessions) for (const stage of session.stages) present.add(stage)
  for (const sample of capture.samples) for (const stage of sample.stages) present.add(stage.name)
  return StageNameSchema.literals.filter((name) => present.has(name))
}

export const csvHeader = (stages: ReadonlyArray<StageName>): ReadonlyArray<string> => [
  "t_ms",
  "session_id",
  ...COUNTERS,
  ...stages.flatMap((stage) => STAGE_FIELDS.map((field) => `${stage}_${field}`)),
  "breaches"
]

/** The breach events an export carries: the stored ones, else found now under the defaults. */
export const exportedBreaches = (capture: Capture): ReadonlyArray<BreachEvent> =>
  capture.breaches?.events ?? findBreaches(capture.meta, capture.samples)

/**
 * A row's `breaches` cell: the events of its session whose span covers its window. A window is
 * stamped at its end and an event spans (start of its first window, end of its last], so the
 * row's `t_ms` lies in `(from_ms, to_ms]` exactly when its window is one of the event's.
 */
export const breachCell = (sample: StatsSample, events: ReadonlyArray<BreachEvent>): string =>
  events
    .filter((e) => e.session_id === sample.session_id && sample.t_ms > e.from_ms && sample.t_ms <= e.to_ms)
    .map((e) => `${e.kind}:${e.severity}`)
    .join(";")

const row = (
  sample: StatsSample,
  stages: ReadonlyArray<StageName>,
  measured: ReadonlySet<MeasuredField>,
  events: ReadonlyArray<BreachEvent>
): ReadonlyArray<string | number> => [
  sample.t_ms,
  sample.session_id,
  ...COUNTERS.map((field) => {
    const value = sample[field]
    return measured.has(field) && value !== undefined ? value : ""
  }),
  ...stages.flatMap((name) => {
    const stage = sample.stages.find((s) => s.name === name)
    return STAGE_FIELDS.map((field) => (stage === undefined ? "" : stage[field]))
  }),
  breachCell(sample, events)
]

/**
 * The capture as CSV text in pieces (the header, then `rowsPerChunk` rows at a time), each ending
 * in `\r\n` as RFC 4180 asks: the host streams them, so a large export starts at once.
 */
export function* captureCsvChunks(capture: Capture, rowsPerChunk = 500): Generator<string> {
  const stages = captureStages(capture)
  const measured = new Set(capture.meta.measured)
  const events = exportedBreaches(capture)
  yield csvHeader(stages).map(csvCell).join(",") + "\r\n"
  for (let from = 0; from < capture.samples.length; from += rowsPerChunk) {
    let chunk = ""
    for (const sample of capture.samples.slice(from, from + rowsPerChunk)) chunk += row(sample, stages, measured, events).map(csvCell).join(",") + "\r\n"
    yield chunk
  }
}

/** The whole capture as CSV text, header first. */
export const captureToCsv = (capture: Capture): string => [...captureCsvChunks(capture)].join("")
