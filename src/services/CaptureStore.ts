/**
 * The capture store: saved captures under one directory, each as `<id>.json` (the whole capture)
 * and `<id>.meta.json` (its meta alone, written with it), plus `.capture-index` (every meta and
 * each data file's check verdict, a cache checked against the files at start: `CaptureIndex.ts`).
 * Listing answers from memory; opening serves the stored bytes of a file that passed its one
 * full check (`CaptureCheck.ts`), without decoding them per request.
 *
 * Invariants kept here:
 * - every write is temp + fsync + rename (+ directory fsync): a kill at any moment leaves the old
 *   file or the new one, never half of one; stale `.tmp` files are removed at start;
 * - every id is charset-checked before it names a file, and only `dir/<id>.json` /
 *   `dir/<id>.meta.json` are ever touched;
 * - the data file is renamed into place before its meta, and the meta removed before the data,
 *   so the listing never shows a capture whose body is missing;
 * - ids are never reused: a colliding start time gets a `-2`, `-3`… suffix.
 */
import { createHash } from "node:crypto"
import { Context, Effect, Either, Fiber, Layer, Option, Schema } from "effect"
import { CAPTURE_FORMAT_VERSION } from "../api/CaptureFormat.js"
import { CaptureNotFound, CaptureReadError, CaptureSaveError } from "../api/Errors.js"
import { FramesFile } from "../api/Frames.js"
import { Capture, CaptureListItem, CaptureMeta, captureListItem } from "../api/Stats.js"
import { LISTING_COLUMNS, tableRowOf } from "../api/CaptureListing.js"
import { assembleCapture } from "../lib/captures/CaptureAssembly.js"
import { parseCheckedCapture } from "../lib/captures/CaptureCheck.js"
import type { CaptureCheckFailed, CheckedCapture } from "../lib/captures/CaptureCheck.js"
import { makeCaptureChecker } from "../lib/captures/CaptureChecker.js"
import { baseCaptureId, isValidCaptureId, uniqueCaptureId } from "../lib/captures/CaptureIds.js"
import { CaptureIndexFile, IndexEntry, INDEX_FILE } from "../lib/captures/CaptureIndex.js"
import type { CheckVerdict } from "../lib/captures/CaptureIndex.js"
import { DiskOps, joinInside, sameFile } from "./DiskOps.js"
import type { DiskError, FileSignature } from "./DiskOps.js"
import { JOURNAL_FILE, journalLine, PENDING_JOURNAL_PREFIX, replayJournal } from "../lib/captures/Journal.js"
import type { JournalLine } from "../lib/captures/Journal.js"

const DATA_SUFFIX = ".json"
const META_SUFFIX = ".meta.json"
/** Per-frame flight records kept beside a capture (`Frames.ts`); never listed as a capture. */
const FRAMES_SUFFIX = ".frames.json"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture))
const encodeFrames = Schema.encodeSync(Schema.parseJson(FramesFile))
const decodeFrames = Schema.decodeUnknownEither(Schema.parseJson(FramesFile))
const encodeMeta = Schema.encodeSync(Schema.parseJson(CaptureMeta))
const decodeMeta = Schema.decodeUnknownOption(Schema.parseJson(CaptureMeta))

/**
 * A Schema's JSON encoding of one value, made once per value (by identity) and then reused.
 * Why: the listing and the index are arrays of 1,000 metas or entries, and encoding all of them
 * on every change (each save, relabel, delete, and every batch of verdicts the background check
 * records) held the event loop ~100 ms at a time under load. Metas and entries are immutable
 * values replaced on change, so each is encoded when it first appears, and an array is its
 * elements' encodings joined — the same bytes the array's Schema would give (JSON.stringify
 * without spaces; test/capture-check-worker.test.ts compares them).
 */
const encodedOnce = <K extends object, A, I>(schema: Schema.Schema<A, I>, from: (key: K) => A, json: (encoded: I) => string = JSON.stringify) => {
  const encode = Schema.encodeSync(schema)
  const cache = new WeakMap<K, string>()
  return (key: K): string => {
    let text = cache.get(key)
    if (text === undefined) {
      text = json(encode(from(key)))
      cache.set(key, text)
    }
    return text
  }
}
// A meta's listing row (its values in the table's column order), remembered by the meta (a
// relabel replaces the meta, so its row too).
const encodeRowOnce = encodedOnce(CaptureListItem, captureListItem, (row) => JSON.stringify(tableRowOf(row)))
const encodeEntryOnce = encodedOnce(IndexEntry, (entry: IndexEntry) => entry)
const LISTING_HEAD = `{"columns":${JSON.stringify(LISTING_COLUMNS)},"rows":[`
/** `CaptureListing` of these metas as JSON (the table of src/api/CaptureListing.ts), from each meta's remembered row. */
export const encodeListing = (metas: ReadonlyArray<CaptureMeta>): string => `${LISTING_HEAD}${metas.map(encodeRowOnce).join(",")}]}`

/** The listing as served: its bytes and their entity tag, both made once per change. */
export interface ListingBytes {
  readonly bytes: Uint8Array
  /**
   * A strong `ETag` (quoted): a hash of the bytes, so it is the same after a restart for the
   * same listing and a client's cached copy stays good across one.
   */
  readonly etag: string
}

const listingBytes = (json: string): ListingBytes => {
  const bytes = new TextEncoder().encode(json)
  return { bytes, etag: `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"` }
}
/** `CaptureIndexFile` as JSON, from each entry's remembered encoding. */
export const encodeIndex = (entries: ReadonlyArray<IndexEntry>): string =>
  `{"version":1,"entries":[${entries.map(encodeEntryOnce).join(",")}]}`
const decodeIndex = Schema.decodeUnknownEither(Schema.parseJson(CaptureIndexFile))

export interface CaptureStoreOptions {
  readonly dir: string
  /** Test-only: write this marker file and wait before renaming a capture into place. */
  readonly pauseBeforeRename?: string | undefined
  /** The check worker's module (`lib/captures/CaptureChecker.ts`); by default the compiled one beside the checker. */
  readonly checkWorker?: string | undefined
}

export interface CaptureStoreService {
  readonly dir: string
  /** A fresh id for a capture started at `startedUnixMs` with this resolution. */
  readonly allocateId: (startedUnixMs: number, width: number, height: number) => Effect.Effect<string>
  /** Give back an id that was allocated but will not be saved under that name. */
  readonly releaseId: (id: string) => Effect.Effect<void>
  /** Saves a capture, and its flight records (`<id>.frames.json`, written first) when it has some. */
  readonly save: (capture: Capture, frames?: FramesFile) => Effect.Effect<CaptureMeta, CaptureSaveError>
  /**
   * Stores a capture read from an exported file (`POST /stats/recordings/import`): under a new id
   * from its start time and resolution, never one that is taken (no file is overwritten), marked
   * `imported`. Its meta's frame summary is dropped: the flight records are not in the export.
   */
  readonly importCapture: (capture: Capture) => Effect.Effect<CaptureMeta, CaptureSaveError>
  /** A capture's flight records; `CaptureNotFound` when it has none (or no such capture). */
  readonly loadFrames: (id: string) => Effect.Effect<FramesFile, CaptureNotFound | CaptureReadError>
  /** Every stored capture's meta, newest first (from the index: no file is read). */
  readonly list: Effect.Effect<ReadonlyArray<CaptureMeta>, CaptureReadError>
  /**
   * The listing as served: one `CaptureListItem` row per capture (as a table, `CaptureListing`), newest first, as JSON bytes
   * with their ETag — encoded once per change of the directory and then served as they are, so
   * a request for 1,000 rows costs no encode.
   */
  readonly listJson: Effect.Effect<ListingBytes, CaptureReadError>
  /**
   * The stored bytes of a capture, as they are on disk, once they have passed the full check
   * (`CaptureCheck.ts`) — remembered per file version, so a file is decoded once, not per request.
   * A file that failed the check is a `CaptureReadError` naming why, never served.
   */
  readonly open: (id: string) => Effect.Effect<Uint8Array, CaptureNotFound | CaptureReadError>
  readonly load: (id: string) => Effect.Effect<Capture, CaptureNotFound | CaptureReadError>
  readonly setLabel: (
    id: string,
    label: string
  ) => Effect.Effect<CaptureMeta, CaptureNotFound | CaptureReadError | CaptureSaveError>
  readonly remove: (id: string) => Effect.Effect<void, CaptureNotFound | CaptureSaveError>
  /** Append one journal line of the capture in progress, durably. */
  readonly journal: (line: JournalLine, fresh?: boolean) => Effect.Effect<void, DiskError>
  readonly clearJournal: Effect.Effect<void, DiskError>
  /**
   * Sets the journal of a capture whose save failed aside (`.journal-pending-<start>.ndjson`),
   * so arming again cannot overwrite it; removed once that capture is saved.
   */
  readonly parkJournal: (startedUnixMs: number) => Effect.Effect<void, DiskError>
  readonly removeParkedJournal: (startedUnixMs: number) => Effect.Effect<void, DiskError>
  /**
   * Captures left in journals by a host that died while armed, rebuilt and marked `recovered`.
   * Each journal is removed only once its capture is saved.
   */
  readonly recoverJournals: Effect.Effect<ReadonlyArray<{ readonly capture: Capture; readonly saved: boolean }>>
  /** Run the full check on every indexed file that has no verdict yet (in the background at start). */
  readonly checkPending: Effect.Effect<void>
}

export class CaptureStore extends Context.Tag("punktfunk/CaptureStore")<CaptureStore, CaptureStoreService>() {}

const notFound = (id: string) => new CaptureNotFound({ id, message: `no capture with id '${id}'` })

const saveError = (id: string, e: DiskError) =>
  new CaptureSaveError({
    id,
    code: e.code,
    message: `could not save capture ${id}: ${e.message}; it is kept in memory, stop again to retry the save`
  })

const invalidFile = (id: string, reason: string) =>
  new CaptureReadError({ id, message: `capture ${id} is not a valid capture file: ${reason}` })

const verdictOf = (meta: Either.Either<unknown, { readonly reason: string }>): CheckVerdict =>
  Either.isRight(meta) ? { ok: true } : { ok: false, reason: meta.left.reason }

/** The signature of a file that is not there: it matches no file, so the next start reads again. */
const NO_FILE: FileSignature = { size: -1, mtime_ms: -1, ino: -1 }

const migratedLine = (id: string, from: number) =>
  `capture ${id} was of capture format ${from}: migrated to format ${CAPTURE_FORMAT_VERSION} and rewritten`

const notRewrittenLine = (id: string, from: number, why: string) =>
  `capture ${id} is of capture format ${from} and could not be rewritten in format ${CAPTURE_FORMAT_VERSION} (${why}); ` +
  "its file is kept as it was and served migrated; the rewrite is tried again when it is opened and at the next start"

export const makeCaptureStore = (options: CaptureStoreOptions) =>
  Effect.gen(function* () {
    const disk = yield* DiskOps
    const checker = yield* makeCaptureChecker(options.checkWorker)
    const scope = yield* Effect.scope
    const dir = options.dir
    const reserved = new Set<string>()

    yield* disk.mkdirPrivate(dir)
    const fileOf = (name: string) => joinInside(dir, name)
    const dataFile = (id: string) => fileOf(id + DATA_SUFFIX)
    const framesFile = (id: string) => fileOf(id + FRAMES_SUFFIX)
    const metaFile = (id: string) => fileOf(id + META_SUFFIX)
    const indexFile = fileOf(INDEX_FILE)

    function writeAtomic(file: string, data: string, pause = false) {
      return Effect.gen(function* () {
        const tmp = `${file}.tmp`
        yield* disk.writeDurable(tmp, data)
        if (pause && options.pauseBeforeRename !== undefined) {
          yield* disk.writeDurable(options.pauseBeforeRename, "saving")
          yield* Effect.sleep("60 seconds")
        }
        yield* disk.rename(tmp, file)
      })
    }

    /**
     * A capture's files: its flight records first (a capture that is listed has its frames file
     * if its meta says so), then the data file, then its meta, each renamed into place.
     */
    const writeFiles = (capture: Capture, frames?: FramesFile) =>
      Effect.gen(function* () {
        const id = capture.meta.id
        if (frames !== undefined) yield* writeAtomic(framesFile(id), encodeFrames(frames))
        yield* writeAtomic(dataFile(id), encodeCapture(capture), true)
        yield* writeAtomic(metaFile(id), encodeMeta(capture.meta))
        yield* disk.syncDir(dir)
        const data_file = yield* disk.stat(dataFile(id))
        const meta_file = yield* disk.stat(metaFile(id))
        return { data_file, meta_file }
      })

    /**
     * The index: every listed capture's meta and its data file's check verdict, in memory. This
     * store is the directory's only writer, so save, relabel and delete keep it current; it is
     * built before the store is handed out (the host answers no request before), from the index
     * file where its entries still match the files and from the files where they do not.
     */
    const entries = new Map<string, IndexEntry>()
    let listing: ListingBytes | undefined
    const changed = () => {
      listing = undefined
    }

    // Start-up hygiene: stale temp files from a kill mid-save.
    const names = yield* disk.list(dir)
    for (const name of names) if (name.endsWith(".tmp")) yield* disk.remove(fileOf(name))
    const nameSet = new Set(names)

    const known = new Map<string, IndexEntry>()
    if (nameSet.has(INDEX_FILE)) {
      const text = yield* disk.readText(indexFile).pipe(Effect.orElseSucceed(() => ""))
      const decoded = decodeIndex(text)
      if (Either.isRight(decoded)) for (const entry of decoded.right.entries) known.set(entry.meta.id, entry)
      else yield* Effect.logWarning("the capture index could not be read; rebuilding it from the capture files")
    }

    /** One capture's entry at start: from the index where its files are unchanged, else from the files. */
    const indexOne = (id: string) =>
      Effect.gen(function* () {
        const data_file = yield* Effect.option(disk.stat(dataFile(id)))
        if (Option.isNone(data_file)) return
        const old = known.get(id)
        const meta_file = nameSet.has(id + META_SUFFIX) ? yield* Effect.option(disk.stat(metaFile(id))) : Option.none()
        let meta: Option.Option<{ meta: CaptureMeta; meta_file: FileSignature }> = Option.none()
        if (Option.isSome(meta_file)) {
          if (old !== undefined && sameFile(old.meta_file, meta_file.value)) meta = Option.some({ meta: old.meta, meta_file: old.meta_file })
          else {
            const decoded = decodeMeta(yield* disk.readText(metaFile(id)).pipe(Effect.orElseSucceed(() => "")))
            if (Option.isSome(decoded)) meta = Option.some({ meta: decoded.value, meta_file: meta_file.value })
          }
        }
        if (Option.isSome(meta)) {
          const sameData = old !== undefined && sameFile(old.data_file, data_file.value)
          entries.set(id, {
            meta: meta.value.meta,
            meta_file: meta.value.meta_file,
            data_file: data_file.value,
            ...(sameData && old.verdict !== undefined ? { verdict: old.verdict } : {})
          })
          return
        }
        // A data file renamed in just before a kill has no meta yet, and a file of an older format
        // has a meta of that format: check it whole, migrating it, and write what is missing.
        const read = yield* Effect.either(disk.readWithSignature(dataFile(id)))
        if (Either.isLeft(read)) return
        const checked = yield* checker.check(read.right.bytes)
        if (Either.isLeft(checked)) {
          yield* Effect.logWarning(`${invalidFile(id, checked.left.reason).message}; it is not listed`)
          return
        }
        const { upgraded, from } = checked.right
        if (upgraded !== undefined) {
          const rewritten = yield* Effect.either(writeFiles(upgraded))
          if (Either.isRight(rewritten)) {
            entries.set(id, { meta: upgraded.meta, ...rewritten.right, verdict: { ok: true } })
            yield* Effect.logInfo(migratedLine(id, from))
          } else {
            // The old files are as they were (every write is temp + rename). List the capture with
            // its migrated meta and no verdict: opening it, or the background check, migrates it
            // again and retries the rewrite. Its meta file is recorded as none, so the next start
            // does not take the migrated meta from the index for the file's own, and migrates it.
            yield* Effect.logWarning(notRewrittenLine(id, from, rewritten.left.message))
            entries.set(id, { meta: upgraded.meta, meta_file: NO_FILE, data_file: read.right.signature })
          }
          return
        }
        yield* writeAtomic(metaFile(id), encodeMeta(checked.right.meta))
        const written = yield* disk.stat(metaFile(id))
        entries.set(id, { meta: checked.right.meta, meta_file: written, data_file: read.right.signature, verdict: { ok: true } })
      })

    const dataIds = names.flatMap((name) => {
      if (!name.endsWith(DATA_SUFFIX) || name.endsWith(META_SUFFIX)) return []
      const id = name.slice(0, -DATA_SUFFIX.length)
      return isValidCaptureId(id) ? [id] : []
    })
    yield* Effect.forEach(dataIds, indexOne, { concurrency: 16, discard: true })

    // One writer at a time: two writes of one capture share its temp file name, and a relabel
    // racing a delete must end in one state or the other, never in a half-renamed file.
    const writes = yield* Effect.makeSemaphore(1)
    const serialized = writes.withPermits(1)

    /**
     * Write the index file from memory. A failure is logged and otherwise ignored: the index is
     * a cache of what the files say (see `CaptureIndex.ts`), and the next start rebuilds it.
     */
    const persistIndex = Effect.suspend(() => {
      const all = [...entries.values()].sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1))
      return writeAtomic(indexFile, encodeIndex(all))
    }).pipe(Effect.catchAll((e) => Effect.logWarning(`could not write the capture index: ${e.message}`)))

    const indexDiffers =
      known.size !== entries.size ||
      [...entries.values()].some((e) => {
        const k = known.get(e.meta.id)
        return k === undefined || !sameFile(k.meta_file, e.meta_file) || !sameFile(k.data_file, e.data_file) || k.verdict?.ok !== e.verdict?.ok
      })
    if (indexDiffers) yield* persistIndex

    const newestFirst = (a: CaptureMeta, b: CaptureMeta) =>
      b.started_unix_ms - a.started_unix_ms || (a.id < b.id ? 1 : -1)
    const sortedMetas = () => [...entries.values()].map((e) => e.meta).sort(newestFirst)

    const writeCapture = (capture: Capture, frames?: FramesFile) =>
      Effect.gen(function* () {
        const id = capture.meta.id
        // Encoded from a typed capture by its Schema: these bytes are checked by construction.
        const { data_file, meta_file } = yield* writeFiles(capture, frames)
        entries.set(id, { meta: capture.meta, meta_file, data_file, verdict: { ok: true } })
        changed()
        yield* persistIndex
        return capture.meta
      }).pipe(Effect.mapError((e) => saveError(capture.meta.id, e)))

    /**
     * Record a verdict reached outside the index build, unless the entry changed meanwhile (a
     * relabel that renamed a new file in keeps its own, newer entry).
     */
    const recordVerdict = (id: string, seen: IndexEntry, data_file: FileSignature, verdict: CheckVerdict) =>
      Effect.sync(() => {
        if (entries.get(id) !== seen) return false
        entries.set(id, { ...seen, data_file, verdict })
        return true
      })

    /**
     * Rewrite a file of an older format from its migrated capture (run holding the writer),
     * unless the capture changed meanwhile (relabelled, deleted, or its file replaced): then the
     * newer state stands. A failure leaves the old file as it was and is only logged.
     */
    const rewriteUpgraded = (id: string, seen: IndexEntry | undefined, signature: FileSignature, upgraded: Capture, from: number) =>
      Effect.gen(function* () {
        if (entries.get(id) !== seen) return
        const now = yield* Effect.option(disk.stat(dataFile(id)))
        if (Option.isNone(now) || !sameFile(now.value, signature)) return
        yield* writeCapture(upgraded)
        yield* Effect.logInfo(migratedLine(id, from))
      }).pipe(Effect.catchAll((e) => Effect.logWarning(notRewrittenLine(id, from, e.message))))

    /**
     * The check of one file version, shared: an open that arrives while the background check
     * (or another open) is checking the same bytes waits for that outcome instead of checking
     * again. The check runs in the store's scope, not the asker's, so a request that gives up
     * (its client went away) does not take the outcome from the others.
     */
    type Outcome = Either.Either<CheckedCapture, CaptureCheckFailed>
    const checking = new Map<string, { readonly signature: FileSignature; readonly fiber: Fiber.RuntimeFiber<Outcome> }>()
    const checkOnce = (id: string, signature: FileSignature, bytes: Uint8Array) =>
      Effect.gen(function* () {
        const running = checking.get(id)
        if (running !== undefined && sameFile(running.signature, signature)) return yield* Fiber.join(running.fiber)
        const fiber = yield* Effect.forkIn(checker.check(bytes), scope)
        checking.set(id, { signature, fiber })
        fiber.addObserver(() => {
          if (checking.get(id)?.fiber === fiber) checking.delete(id)
        })
        return yield* Fiber.join(fiber)
      })

    const open = (id: string) =>
      Effect.gen(function* () {
        if (!isValidCaptureId(id)) return yield* notFound(id)
        const entry = entries.get(id)
        const read = yield* disk.readWithSignature(dataFile(id)).pipe(
          Effect.catchTag("DiskError", (e) =>
            Effect.fail<CaptureNotFound | CaptureReadError>(
              e.code === "ENOENT" || e.code === "ENOTDIR"
                ? notFound(id)
                : new CaptureReadError({ id, message: `could not read capture ${id}: ${e.message}` })
            )
          )
        )
        let verdict = entry !== undefined && sameFile(entry.data_file, read.signature) ? entry.verdict : undefined
        if (verdict === undefined) {
          // Not checked yet (found at start, check still pending) or changed on disk since: check
          // these very bytes now, and remember the verdict for this version of the file.
          const checked = yield* checkOnce(id, read.signature, read.bytes)
          if (Either.isRight(checked) && checked.right.upgraded !== undefined) {
            // Of an older format (its rewrite at start failed, or it was put there since): serve
            // the bytes its rewrite stores, and rewrite it once the writer is free (not here: a
            // relabel opens the capture while it holds the writer).
            const { upgraded, from } = checked.right
            yield* Effect.forkDaemon(serialized(rewriteUpgraded(id, entry, read.signature, upgraded, from)))
            return new TextEncoder().encode(encodeCapture(upgraded))
          }
          verdict = verdictOf(checked)
          if (entry !== undefined && (yield* recordVerdict(id, entry, read.signature, verdict))) {
            yield* Effect.forkDaemon(serialized(persistIndex))
          }
          if (!verdict.ok) yield* Effect.logWarning(invalidFile(id, verdict.reason).message)
        }
        if (!verdict.ok) return yield* invalidFile(id, verdict.reason)
        return read.bytes
      })

    const load = (id: string) => Effect.map(open(id), parseCheckedCapture)

    const loadFrames = (id: string) =>
      Effect.gen(function* () {
        if (!isValidCaptureId(id) || !entries.has(id)) return yield* notFound(id)
        const text = yield* disk.readText(framesFile(id)).pipe(
          Effect.catchTag("DiskError", (e) =>
            Effect.fail<CaptureNotFound | CaptureReadError>(
              e.code === "ENOENT" || e.code === "ENOTDIR"
                ? new CaptureNotFound({ id, message: `capture ${id} has no frame records` })
                : new CaptureReadError({ id, message: `could not read the frame records of capture ${id}: ${e.message}` })
            )
          )
        )
        const decoded = decodeFrames(text)
        if (Either.isLeft(decoded)) {
          return yield* new CaptureReadError({ id, message: `the frame records of capture ${id} are not valid: ${decoded.left.message}` })
        }
        return decoded.right
      })

    const checkPending = Effect.gen(function* () {
      let checked = 0
      // On the event loop (no worker), after a pause, so the first requests after a start (the
      // console opened right away) do not queue behind a file's parse. A worker starts at once.
      if (checker.where === "event loop") yield* Effect.sleep("2 seconds")
      // Newest first: the captures at the top of the console's list are the ones opened first.
      const order = [...entries].sort(([, a], [, b]) => newestFirst(a.meta, b.meta))
      for (const [id] of order) {
        const entry = entries.get(id)
        if (entry === undefined || entry.verdict !== undefined) continue
        const started = performance.now()
        const read = yield* Effect.either(disk.readWithSignature(dataFile(id)))
        if (Either.isLeft(read)) continue
        const result = yield* checkOnce(id, read.right.signature, read.right.bytes)
        // At most half of one core (of the event loop where there is no worker): the host checks
        // in the background while it streams and answers requests (a 5,400-sample file is
        // ~100 ms of work).
        yield* Effect.sleep(Math.min(1000, performance.now() - started))
        if (Either.isRight(result) && result.right.upgraded !== undefined) {
          // Its rewrite at start failed: try again (the rewrite keeps the index itself).
          yield* serialized(rewriteUpgraded(id, entry, read.right.signature, result.right.upgraded, result.right.from))
          continue
        }
        const verdict = verdictOf(result)
        if (!verdict.ok) yield* Effect.logWarning(`${invalidFile(id, verdict.reason).message}; opening it will say so`)
        if (yield* recordVerdict(id, entry, read.right.signature, verdict)) checked++
        // Persist now and then, so a long first check is not lost to a restart half-way.
        if (checked > 0 && checked % 50 === 0) yield* serialized(persistIndex)
      }
      if (checked > 0) yield* serialized(persistIndex)
    })

    const listJson = Effect.sync(() => {
      if (listing === undefined) listing = listingBytes(encodeListing(sortedMetas()))
      return listing
    })

    // Encode the listing now, before the host answers: the first request after a start is
    // then as fast as the rest (encoding 1,000 metas is tens of milliseconds).
    yield* listJson

    const allocateId = (startedUnixMs: number, width: number, height: number) =>
      Effect.gen(function* () {
        const taken = new Set(reserved)
        for (const id of entries.keys()) taken.add(id)
        for (const name of yield* disk.list(dir).pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<string>))) {
          if (name.endsWith(META_SUFFIX)) taken.add(name.slice(0, -META_SUFFIX.length))
          else if (name.endsWith(DATA_SUFFIX)) taken.add(name.slice(0, -DATA_SUFFIX.length))
        }
        const id = uniqueCaptureId(baseCaptureId(startedUnixMs, width, height), (c) => taken.has(c))
        reserved.add(id)
        return id
      })

    const journalFile = fileOf(JOURNAL_FILE)

    /** The id of a saved capture that started at `startedUnixMs` and holds at least `samples`. */
    const savedCaptureStartedAt = (startedUnixMs: number, samples: number) =>
      Effect.sync(() => {
        for (const { meta } of entries.values()) {
          if (meta.started_unix_ms === startedUnixMs && meta.sample_count >= samples) return meta.id
        }
        return undefined
      })

    const recoverJournals = Effect.gen(function* () {
      const files = (yield* disk.list(dir).pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<string>))).filter(
        (n) => n === JOURNAL_FILE || (n.startsWith(PENDING_JOURNAL_PREFIX) && n.endsWith(".ndjson"))
      )
      const out: Array<{ capture: Capture; saved: boolean }> = []
      for (const name of files) {
        const file = fileOf(name)
        const text = yield* disk.readText(file).pipe(Effect.orElseSucceed(() => ""))
        const replay = replayJournal(text)
        if (replay === undefined) {
          yield* disk.remove(file).pipe(Effect.ignore)
          continue
        }
        // A host killed after its save renamed the capture in but before it cleared the journal
        // left both: the capture is already whole on disk, so the journal only goes away.
        const already = yield* savedCaptureStartedAt(replay.startedUnixMs, replay.samples.length)
        if (already !== undefined) {
          yield* disk.remove(file).pipe(Effect.ignore)
          yield* Effect.logInfo(`journal of capture ${already} was already saved; removed it`)
          continue
        }
        const first = replay.sessions[0]
        const id = yield* allocateId(replay.startedUnixMs, first?.width ?? 0, first?.height ?? 0)
        const last = replay.samples[replay.samples.length - 1]
        const capture = assembleCapture({
          id,
          label: replay.label,
          startedUnixMs: replay.startedUnixMs,
          durationMs: last?.t_ms ?? 0,
          sessions: replay.sessions,
          samples: replay.samples,
          markers: replay.markers,
          truncated: replay.truncated,
          recovered: true
        })
        const saved = yield* serialized(writeCapture(capture)).pipe(
          Effect.as(true),
          Effect.catchAll((e) => Effect.logError(e.message).pipe(Effect.as(false)))
        )
        if (saved) {
          reserved.delete(id)
          yield* disk.remove(file).pipe(Effect.ignore)
          yield* Effect.logInfo(
            `recovered capture ${id} (${capture.samples.length} samples) from a journal left by a host that stopped while armed`
          )
        } else if (name === JOURNAL_FILE) {
          // Park it so the next armed capture's journal cannot overwrite it.
          yield* disk.rename(file, fileOf(`${PENDING_JOURNAL_PREFIX}${replay.startedUnixMs}.ndjson`)).pipe(Effect.ignore)
        }
        out.push({ capture, saved })
      }
      return out
    })

    const service: CaptureStoreService = {
      dir,
      allocateId,
      releaseId: (id) => Effect.sync(() => void reserved.delete(id)),
      save: (capture, frames) =>
        serialized(writeCapture(capture, frames)).pipe(Effect.tap(() => Effect.sync(() => reserved.delete(capture.meta.id)))),
      importCapture: (capture) =>
        serialized(
          Effect.gen(function* () {
            const { frames: _notImported, ...meta } = capture.meta
            const id = yield* allocateId(meta.started_unix_ms, meta.width, meta.height)
            const stored: Capture = { ...capture, meta: { ...meta, id, imported: true, sample_count: capture.samples.length } }
            const saved = yield* writeCapture(stored).pipe(Effect.ensuring(Effect.sync(() => void reserved.delete(id))))
            yield* Effect.logInfo(`imported capture ${id} (${saved.sample_count} samples) from a file`)
            return saved
          })
        ),
      list: Effect.sync(sortedMetas),
      listJson,
      open,
      load,
      loadFrames,
      setLabel: (id, label) =>
        serialized(
          Effect.gen(function* () {
            const capture = yield* load(id)
            const updated: Capture = { ...capture, meta: { ...capture.meta, label } }
            return yield* writeCapture(updated)
          })
        ),
      remove: (id) =>
        serialized(
          Effect.gen(function* () {
            if (!isValidCaptureId(id) || !(yield* disk.exists(dataFile(id)))) return yield* notFound(id)
            yield* disk.remove(metaFile(id)).pipe(Effect.mapError((e) => saveError(id, e)))
            yield* disk.remove(dataFile(id)).pipe(Effect.mapError((e) => saveError(id, e)))
            yield* disk.remove(framesFile(id)).pipe(Effect.mapError((e) => saveError(id, e)))
            entries.delete(id)
            changed()
            yield* persistIndex
          })
        ),
      journal: (line, fresh = false) =>
        Effect.gen(function* () {
          if (fresh) yield* disk.remove(journalFile)
          yield* disk.appendDurable(journalFile, journalLine(line))
        }),
      clearJournal: disk.remove(journalFile),
      parkJournal: (startedUnixMs) =>
        Effect.gen(function* () {
          if (!(yield* disk.exists(journalFile))) return
          yield* disk.rename(journalFile, fileOf(`${PENDING_JOURNAL_PREFIX}${startedUnixMs}.ndjson`))
          yield* disk.syncDir(dir)
        }),
      removeParkedJournal: (startedUnixMs) => disk.remove(fileOf(`${PENDING_JOURNAL_PREFIX}${startedUnixMs}.ndjson`)),
      recoverJournals,
      checkPending
    }
    return service
  })

export const CaptureStoreLive = (options: CaptureStoreOptions): Layer.Layer<CaptureStore, DiskError, DiskOps> =>
  Layer.scoped(
    CaptureStore,
    Effect.tap(makeCaptureStore(options), (store) =>
      // Files found at start without a verdict (new, or changed since the index was written) are
      // checked in the background (`checkPending`); opening one before its turn checks it then.
      Effect.forkScoped(store.checkPending)
    )
  )
