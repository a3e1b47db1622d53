/**
 * The capture file's format version and the migrations that bring any earlier version to the
 * current one. A capture says which version it is in `meta.format_version`; files written before
 * versions were numbered say nothing, and are version 1.
 *
 * The versions, read off the history of `Stats.ts`, `Fields.ts` and the capture store:
 *
 *  1  the first format (2026-11-25, 849b977): meta with its sessions and `measured` lists, each
 *     sample with its stages and the counters fps … host_p99_us, the native send split
 *     (`fec_us`, `seal_us`, `sock_us`) only where measured. No markers, no frame summary.
 *  2  + `client_frames_dropped` in every sample (acd44e5): the client's dropped frames, counted
 *     apart from the host's missed deadlines (`frames_dropped` of a version-1 punktfunk/1
 *     capture may include them; they cannot be told apart afterwards).
 *  3  + `windows_dropped` in every sample (da855c4): stats windows the addon could not hand over.
 *  4  + `markers` beside the samples (d4ec1f8), absent when there are none.
 *  5  + `meta.frames` (3e98b43): what `<id>.frames.json` beside the capture holds; absent when
 *     none were kept.
 *  6  + `e2e_p50_us` / `e2e_p99_us` in samples a client's report reached (c580e22); absent elsewhere.
 *  7  + `breaches` beside the samples and `meta.breach_count` (734da3b): the budget-breach
 *     events found when the capture was saved, and their count; absent in older files (the
 *     console and CSV find them from the samples then).
 *  8  + `meta.format_version` and `meta.imported` (issue 14.4); every sample carries every
 *     counter, 0 where not measured (older files lacked the newer keys, which decoded as 0).
 *
 * Versions 1 to 7 carry no number, so an unnumbered file is migrated from 1: every step only adds
 * what is missing, and a step that finds its key already there leaves it alone, so a version-5
 * file passes the steps to 2 and 3 unchanged.
 *
 *  9  the punktfunk/1 path's kind is `punktfunk1` (issue 13.8), in `meta.kind` and in each of
 *     `meta.sessions`; hosts before wrote `native`, a word that now means only the addon. The
 *     journal of a capture in progress (`lib/captures/Journal.ts`) stores sessions too and renames
 *     them with `renamedStreamKind` when it is replayed; the index and `<id>.meta.json` of an older
 *     host carry an older `format_version`, so they are read again from the migrated data file.
 *
 * How to add a version (say 10): change the Schemas, append one entry to `MIGRATIONS` below —
 * `{ to: 10, what: "…", up: (capture) => { … } }` — whose `up` rewrites a version-9 capture's
 * JSON into version 10, and set `CAPTURE_FORMAT_VERSION` to 10 (a test checks it is the last
 * step's `to`). The Schema's `format_version` follows the constant, the store migrates and
 * rewrites old files when it indexes them, and import accepts every older version. Add a fixture
 * of a version-9 file to `test/support/OldCaptures.ts`. A step must not fail on a value of the
 * wrong shape: it leaves what it does not recognise for the Schema check after the last step to
 * reject, naming the field.
 *
 * Why migrations work on the parsed JSON and not on typed values: an old file does not decode with
 * today's Schemas (that is why it needs migrating), and keeping a Schema per old version would be
 * a copy of the model per version. Each step sees only the keys it changes. Steps change the value
 * in place (it is a fresh `JSON.parse`, owned by the caller) so a 5,400-sample file is not copied
 * once per step.
 */

export type JsonRecord = Record<string, unknown>

export interface Migration {
  /** The version this step produces (from `to - 1`). */
  readonly to: number
  /** What changed, for the log line of a migrated file. */
  readonly what: string
  readonly up: (capture: JsonRecord) => void
}

export const isJsonRecord = (u: unknown): u is JsonRecord => typeof u === "object" && u !== null && !Array.isArray(u)

/** Each sample that is an object (anything else is left for the Schema check to name). */
const eachSample = (capture: JsonRecord, f: (sample: JsonRecord) => void): void => {
  const samples = capture["samples"]
  if (!Array.isArray(samples)) return
  for (const sample of samples) if (isJsonRecord(sample)) f(sample)
}

const metaOf = (capture: JsonRecord): JsonRecord | undefined => {
  const meta = capture["meta"]
  return isJsonRecord(meta) ? meta : undefined
}

/** A counter that older samples lack: 0, and left out of `measured`, so shown as "not measured". */
const addCounter = (key: string) => (capture: JsonRecord) =>
  eachSample(capture, (sample) => {
    if (!(key in sample)) sample[key] = 0
  })

const nothingToChange = () => {}

/** What hosts before capture format 9 (issue 13.8) called the punktfunk/1 path. */
const OLD_PUNKTFUNK1_KIND = "native"

/**
 * A stored stream kind in today's spelling: `native` (format 8 and before) is `punktfunk1`;
 * anything else is returned as it is, for the Schema check to judge.
 */
export const renamedStreamKind = (kind: unknown): unknown => (kind === OLD_PUNKTFUNK1_KIND ? "punktfunk1" : kind)

/** A record's `kind` in today's spelling (a session's meta, the capture's meta), in place. */
export const renameKindOf = (holder: JsonRecord): void => {
  if ("kind" in holder) holder["kind"] = renamedStreamKind(holder["kind"])
}

const renameFormerPunktfunk1Kind = (capture: JsonRecord) => {
  const meta = metaOf(capture)
  if (meta === undefined) return
  renameKindOf(meta)
  const sessions = meta["sessions"]
  if (Array.isArray(sessions)) for (const session of sessions) if (isJsonRecord(session)) renameKindOf(session)
}

export const MIGRATIONS: ReadonlyArray<Migration> = [
  { to: 2, what: "client_frames_dropped in every sample", up: addCounter("client_frames_dropped") },
  { to: 3, what: "windows_dropped in every sample", up: addCounter("windows_dropped") },
  // 4–7 added optional parts (markers, the frame summary, end-to-end latency where measured,
  // breach events): a file of the older version is already a valid file of the newer one.
  { to: 4, what: "markers (optional)", up: nothingToChange },
  { to: 5, what: "meta.frames (optional)", up: nothingToChange },
  { to: 6, what: "e2e_p50_us / e2e_p99_us (optional)", up: nothingToChange },
  { to: 7, what: "breaches and meta.breach_count (optional)", up: nothingToChange },
  {
    to: 8,
    what: "meta.format_version and meta.imported",
    up: (capture) => {
      const meta = metaOf(capture)
      if (meta !== undefined && !("imported" in meta)) meta["imported"] = false
    }
  },
  { to: 9, what: "the punktfunk/1 kind native is punktfunk1", up: renameFormerPunktfunk1Kind }
]

/** The version this host writes: the last step's `to` (`test/capture-format.test.ts` checks). */
export const CAPTURE_FORMAT_VERSION = 9 as const

/** Versions 1–7 carry no number: a file without one is version 1 (see the header). */
export const FIRST_FORMAT_VERSION = 1

/** Why a capture's JSON cannot be migrated (its version is not one this host knows). */
export interface MigrationRefused {
  readonly field: string
  readonly reason: string
}

export interface Migrated {
  /** The version the file said it was (1 when it said nothing). */
  readonly from: number
  /** The same object, now in the current version's shape (the Schema check still follows). */
  readonly value: JsonRecord
}

/** The version a capture's JSON says it is; `undefined` when its `format_version` is not a whole number ≥ 1. */
export const formatVersionOf = (capture: JsonRecord): number | undefined => {
  const meta = metaOf(capture)
  if (meta === undefined || !("format_version" in meta)) return FIRST_FORMAT_VERSION
  const v = meta["format_version"]
  return typeof v === "number" && Number.isInteger(v) && v >= FIRST_FORMAT_VERSION ? v : undefined
}

/**
 * Bring a parsed capture to the current version, in place. Refused only for a version this host
 * cannot read (not a version number, or newer than it writes); everything else is for the Schema
 * check that follows.
 */
export const migrateCapture = (capture: JsonRecord): { readonly ok: true; readonly migrated: Migrated } | { readonly ok: false; readonly refused: MigrationRefused } => {
  const from = formatVersionOf(capture)
  if (from === undefined) {
    return { ok: false, refused: { field: "meta.format_version", reason: "is not a format version (a whole number from 1)" } }
  }
  if (from > CAPTURE_FORMAT_VERSION) {
    return {
      ok: false,
      refused: {
        field: "meta.format_version",
        reason: `is ${from}, newer than this host's capture format (${CAPTURE_FORMAT_VERSION}): update the host to read it`
      }
    }
  }
  for (const step of MIGRATIONS) if (step.to > from) step.up(capture)
  const meta = metaOf(capture)
  if (meta !== undefined) meta["format_version"] = CAPTURE_FORMAT_VERSION
  return { ok: true, migrated: { from, value: capture } }
}
