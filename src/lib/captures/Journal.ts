/**
 * The journal of the capture in progress: one NDJSON line per event, appended durably at each
 * aggregation boundary, so a host killed mid-capture loses nothing before the last boundary.
 *
 * Why NDJSON and not rewriting the capture file: an append of one line per window costs the same
 * at sample 10 and at sample 5,000, and a torn last line (killed mid-append) is detected and
 * dropped on its own without touching the lines before it.
 */
import { Option, Schema } from "effect"
import { isJsonRecord, renameKindOf } from "../../api/CaptureFormat.js"
import { Marker } from "../../api/Markers.js"
import { SessionMeta, StatsSample } from "../../api/Stats.js"

export const JOURNAL_FILE = ".journal.ndjson"
/** A recovered journal whose capture could not be saved yet is parked under this prefix. */
export const PENDING_JOURNAL_PREFIX = ".journal-pending-"

export const JournalLine = Schema.Union(
  Schema.TaggedStruct("begin", {
    started_unix_ms: Schema.Number,
    label: Schema.String
  }),
  Schema.TaggedStruct("session", { session: SessionMeta }),
  Schema.TaggedStruct("sample", { sample: StatsSample }),
  Schema.TaggedStruct("marker", { marker: Marker }),
  Schema.TaggedStruct("truncated", {})
)
export type JournalLine = typeof JournalLine.Type

const encodeLine = Schema.encodeSync(Schema.parseJson(JournalLine))
const decodeLine = Schema.decodeUnknownOption(JournalLine)

/**
 * One line as the journal holds it. A journal is replayed by the host that starts after a crash,
 * which may be a newer one than the host that wrote it: a session line of a host before capture
 * format 9 names the punktfunk/1 path `native`, read here as `punktfunk1` (the rest of a line has
 * not changed since). A line that is not JSON is `None`, like one that does not decode.
 */
const parseLine = (raw: string) => {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return Option.none()
  }
  if (isJsonRecord(parsed) && parsed["_tag"] === "session" && isJsonRecord(parsed["session"])) renameKindOf(parsed["session"])
  return decodeLine(parsed)
}

export const journalLine = (line: JournalLine): string => encodeLine(line) + "\n"

export interface ReplayedJournal {
  readonly startedUnixMs: number
  readonly label: string
  readonly sessions: ReadonlyArray<SessionMeta>
  readonly samples: ReadonlyArray<StatsSample>
  readonly markers: ReadonlyArray<Marker>
  readonly truncated: boolean
  /** Lines that did not decode (a torn last line after a kill is the expected case). */
  readonly skipped: number
}

/** Rebuild what the journal recorded; `undefined` when it never got past its first line. */
export const replayJournal = (text: string): ReplayedJournal | undefined => {
  let begin: { started_unix_ms: number; label: string } | undefined
  const sessions: Array<SessionMeta> = []
  const samples: Array<StatsSample> = []
  const markers: Array<Marker> = []
  let truncated = false
  let skipped = 0
  for (const raw of text.split("\n")) {
    if (raw.trim() === "") continue
    const decoded = parseLine(raw)
    if (decoded._tag === "None") {
      skipped++
      continue
    }
    const line = decoded.value
    switch (line._tag) {
      case "begin":
        begin = line
        break
      case "session":
        if (!sessions.some((s) => s.session_id === line.session.session_id)) sessions.push(line.session)
        break
      case "sample":
        samples.push(line.sample)
        break
      case "marker":
        markers.push(line.marker)
        break
      case "truncated":
        truncated = true
        break
    }
  }
  if (begin === undefined) return undefined
  return { startedUnixMs: begin.started_unix_ms, label: begin.label, sessions, samples, markers, truncated, skipped }
}
