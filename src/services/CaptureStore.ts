/**
 * The capture store: saved captures under one directory, each as `<id>.json` (the whole capture)
 * and `<id>.meta.json` (its meta alone, written with it, so listing 1,000 captures reads 1,000
 * small files and never a sample body).
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
import { Context, Effect, Layer, Option, Schema } from "effect"
import { CaptureNotFound, CaptureReadError, CaptureSaveError } from "../api/Errors.js"
import { Capture, CaptureMeta } from "../api/Stats.js"
import { assembleCapture } from "./CaptureAssembly.js"
import { baseCaptureId, isValidCaptureId, uniqueCaptureId } from "./CaptureIds.js"
import { DiskOps, joinInside } from "./DiskOps.js"
import type { DiskError } from "./DiskOps.js"
import { JOURNAL_FILE, journalLine, PENDING_JOURNAL_PREFIX, replayJournal } from "./Journal.js"
import type { JournalLine } from "./Journal.js"

const DATA_SUFFIX = ".json"
const META_SUFFIX = ".meta.json"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture))
const encodeMeta = Schema.encodeSync(Schema.parseJson(CaptureMeta))
const decodeCapture = Schema.decodeUnknown(Schema.parseJson(Capture))
const decodeMeta = Schema.decodeUnknownOption(Schema.parseJson(CaptureMeta))

export interface CaptureStoreOptions {
  readonly dir: string
  /** Test-only: write this marker file and wait before renaming a capture into place. */
  readonly pauseBeforeRename?: string | undefined
}

export interface CaptureStoreService {
  readonly dir: string
  /** A fresh id for a capture started at `startedUnixMs` with this resolution. */
  readonly allocateId: (startedUnixMs: number, width: number, height: number) => Effect.Effect<string>
  /** Give back an id that was allocated but will not be saved under that name. */
  readonly releaseId: (id: string) => Effect.Effect<void>
  readonly save: (capture: Capture) => Effect.Effect<CaptureMeta, CaptureSaveError>
  readonly list: Effect.Effect<ReadonlyArray<CaptureMeta>, CaptureReadError>
  readonly load: (id: string) => Effect.Effect<Capture, CaptureNotFound | CaptureReadError>
  /**
   * The capture and the file's own text, checked by the same decode. Serving the checked text
   * spares re-encoding megabytes that were encoded by this very store (a 5,400-sample capture is
   * ~3 MB: the re-encode was a third of the time the console waits for it).
   */
  readonly loadWithText: (
    id: string
  ) => Effect.Effect<{ readonly capture: Capture; readonly text: string }, CaptureNotFound | CaptureReadError>
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
}

export class CaptureStore extends Context.Tag("punktfunk/CaptureStore")<CaptureStore, CaptureStoreService>() {}

const notFound = (id: string) => new CaptureNotFound({ id, message: `no capture with id '${id}'` })

const saveError = (id: string, e: DiskError) =>
  new CaptureSaveError({
    id,
    code: e.code,
    message: `could not save capture ${id}: ${e.message}; it is kept in memory, stop again to retry the save`
  })

export const makeCaptureStore = (options: CaptureStoreOptions) =>
  Effect.gen(function* () {
    const disk = yield* DiskOps
    const dir = options.dir
    const reserved = new Set<string>()

    yield* disk.mkdirPrivate(dir)
    const fileOf = (name: string) => joinInside(dir, name)

    // Start-up hygiene: stale temp files from a kill mid-save, and metas missing for a data file
    // renamed in just before a kill.
    const names = yield* disk.list(dir)
    for (const name of names) if (name.endsWith(".tmp")) yield* disk.remove(fileOf(name))
    const nameSet = new Set(names)
    for (const name of names) {
      if (!name.endsWith(DATA_SUFFIX) || name.endsWith(META_SUFFIX)) continue
      const id = name.slice(0, -DATA_SUFFIX.length)
      if (!isValidCaptureId(id) || nameSet.has(id + META_SUFFIX)) continue
      const text = yield* disk.readText(fileOf(name))
      const decoded = yield* Effect.option(decodeCapture(text))
      if (Option.isSome(decoded)) yield* writeAtomic(fileOf(id + META_SUFFIX), encodeMeta(decoded.value.meta))
    }

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
     * The metas of every stored capture, read from disk once (on the first listing) and then
     * kept: this store is the only writer of the directory, so save, relabel and delete update
     * it, and a listing of 1,000 captures no longer reads and decodes 1,000 files per request.
     */
    let listed: Map<string, CaptureMeta> | undefined
    const newestFirst = (a: CaptureMeta, b: CaptureMeta) =>
      b.started_unix_ms - a.started_unix_ms || (a.id < b.id ? 1 : -1)
    const readIndex = Effect.gen(function* () {
      const names = yield* disk.list(dir).pipe(
        Effect.mapError((e) => new CaptureReadError({ id: "", message: `could not list captures: ${e.message}` }))
      )
      const metas = yield* Effect.forEach(
        names.filter((n) => n.endsWith(META_SUFFIX) && isValidCaptureId(n.slice(0, -META_SUFFIX.length))),
        (name) =>
          disk.readText(fileOf(name)).pipe(
            Effect.map(decodeMeta),
            Effect.orElseSucceed(() => Option.none<CaptureMeta>())
          ),
        { concurrency: 32 }
      )
      return new Map(metas.flatMap((m) => (Option.isSome(m) ? [[m.value.id, m.value] as const] : [])))
    })

    const exists = (id: string) => disk.exists(fileOf(id + DATA_SUFFIX))

    // One writer at a time: two writes of one capture share its temp file name, and a relabel
    // racing a delete must end in one state or the other, never in a half-renamed file.
    const writes = yield* Effect.makeSemaphore(1)
    const serialized = writes.withPermits(1)

    const writeCapture = (capture: Capture) =>
      Effect.gen(function* () {
        const id = capture.meta.id
        yield* writeAtomic(fileOf(id + DATA_SUFFIX), encodeCapture(capture), true)
        yield* writeAtomic(fileOf(id + META_SUFFIX), encodeMeta(capture.meta))
        yield* disk.syncDir(dir)
        listed?.set(id, capture.meta)
        return capture.meta
      }).pipe(Effect.mapError((e) => saveError(capture.meta.id, e)))

    const loadWithText = (id: string) =>
      Effect.gen(function* () {
        if (!isValidCaptureId(id)) return yield* notFound(id)
        const text = yield* disk.readText(fileOf(id + DATA_SUFFIX)).pipe(
          Effect.catchTag("DiskError", (e) =>
            Effect.fail<CaptureNotFound | CaptureReadError>(
              e.code === "ENOENT" || e.code === "ENOTDIR"
                ? notFound(id)
                : new CaptureReadError({ id, message: `could not read capture ${id}: ${e.message}` })
            )
          )
        )
        const capture = yield* decodeCapture(text).pipe(
          Effect.mapError(
            (e) => new CaptureReadError({ id, message: `capture ${id} is not a valid capture file: ${e.message}` })
          )
        )
        return { capture, text }
      })

    const load = (id: string) => Effect.map(loadWithText(id), ({ capture }) => capture)

    const allocateId = (startedUnixMs: number, width: number, height: number) =>
      Effect.gen(function* () {
        const taken = new Set(reserved)
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
      Effect.gen(function* () {
        const names = yield* disk.list(dir).pipe(Effect.orElseSucceed(() => [] as ReadonlyArray<string>))
        for (const name of names) {
          if (!name.endsWith(META_SUFFIX)) continue
          const meta = yield* disk.readText(fileOf(name)).pipe(
            Effect.map(decodeMeta),
            Effect.orElseSucceed(() => Option.none<CaptureMeta>())
          )
          if (Option.isSome(meta) && meta.value.started_unix_ms === startedUnixMs && meta.value.sample_count >= samples) {
            return meta.value.id
          }
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
          truncated: replay.truncated,
          recovered: true
        })
        const saved = yield* writeCapture(capture).pipe(
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
      save: (capture) =>
        serialized(writeCapture(capture)).pipe(Effect.tap(() => Effect.sync(() => reserved.delete(capture.meta.id)))),
      list: serialized(
        Effect.suspend(() => (listed === undefined ? readIndex : Effect.succeed(listed))).pipe(
          Effect.map((metas) => {
            listed = metas
            return [...metas.values()].sort(newestFirst)
          })
        )
      ),
      load,
      loadWithText,
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
            if (!isValidCaptureId(id) || !(yield* exists(id))) return yield* notFound(id)
            yield* disk.remove(fileOf(id + META_SUFFIX)).pipe(Effect.mapError((e) => saveError(id, e)))
            yield* disk.remove(fileOf(id + DATA_SUFFIX)).pipe(Effect.mapError((e) => saveError(id, e)))
            listed?.delete(id)
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
      recoverJournals
    }
    return service
  })

export const CaptureStoreLive = (options: CaptureStoreOptions): Layer.Layer<CaptureStore, DiskError, DiskOps> =>
  Layer.scoped(
    CaptureStore,
    Effect.tap(makeCaptureStore(options), (store) =>
      // Read the metas in the background now, so the operator's first listing is as fast as
      // the later ones; the host does not wait for it to start.
      Effect.forkScoped(Effect.ignore(store.list))
    )
  )
