/**
 * The Recorder: the one place that knows whether a capture is armed and what it holds.
 *
 * Invariants kept here:
 * - the armed flag the per-frame path reads is written only here (`ArmedFlag`), on arm and stop;
 *   `stop` disarms first, then persists, so no window lands in a capture being saved;
 * - a recording keeps its start: past `MAX_SAMPLES` it stops appending and says `truncated`,
 *   it never drops the oldest;
 * - nothing lost: every accepted sample is also journalled (batched, durable) so a host killed
 *   while armed recovers it on the next start; a failed save keeps the capture in memory and a
 *   later `stop` retries it;
 * - one consistent state under concurrent arm/stop: state changes run under one permit.
 */
import { Context, Deferred, Effect, Layer, Option, PubSub, Queue, Ref, Stream } from "effect"
import type { Scope } from "effect"
import { NotArmed } from "../api/Errors.js"
import { MARKER_LABEL_MAX } from "../api/Markers.js"
import type { CaptureSaveError } from "../api/Errors.js"
import type { Marker, MarkerKind } from "../api/Markers.js"
import type { Capture, CaptureMeta, LiveSnapshot, SessionMeta, StatsSample, StatsStatus } from "../api/Stats.js"
import { ArmedFlag } from "./ArmedFlag.js"
import { assembleCapture } from "../lib/captures/CaptureAssembly.js"
import { CaptureStore } from "./CaptureStore.js"
import { makeFlightLog } from "../lib/captures/FlightLog.js"
import type { FlightLog, FrameSource } from "../lib/captures/FlightLog.js"
import { summarizeFrames } from "../api/Frames.js"
import type { FramesFile } from "../api/Frames.js"
import type { JournalLine } from "../lib/captures/Journal.js"
import type { LiveEvent } from "../api/LiveEvents.js"

/** ≈ 3 h at one window every 2 s. */
export const MAX_SAMPLES = 5400


interface Active {
  readonly startedUnixMs: number
  readonly originMs: number
  readonly label: string
  readonly sessions: Array<SessionMeta>
  readonly samples: Array<StatsSample>
  readonly markers: Array<Marker>
  truncated: boolean
  /** Spans of per-frame records kept so far (breaches, markers), saved beside the capture. */
  readonly flight: FlightLog
}

export interface RecorderService {
  readonly start: (label?: string) => Effect.Effect<StatsStatus>
  readonly stop: Effect.Effect<Option.Option<CaptureMeta>, CaptureSaveError>
  readonly status: Effect.Effect<StatsStatus>
  /** `frames`: the session's flight-recorder ring, when its producer keeps one. */
  readonly registerSession: (session: SessionMeta, frames?: FrameSource) => Effect.Effect<void>
  readonly unregisterSession: (sessionId: string) => Effect.Effect<void>
  /** The operator's marker at this instant; `NotArmed` (404) when no capture is armed. */
  readonly mark: (label: string) => Effect.Effect<Marker, NotArmed>
  /**
   * A marker the host adds itself (session start, IDR request, source lost…): a no-op when idle,
   * so the code that notices the event need not know whether anyone records.
   */
  readonly note: (kind: MarkerKind, label: string, sessionId?: string) => Effect.Effect<void>
  /** Called at each aggregation boundary; a no-op when idle. */
  readonly pushSample: (sample: StatsSample) => Effect.Effect<void>
  readonly live: (sinceTMs?: number) => Effect.Effect<LiveSnapshot, NotArmed>
  /**
   * Keep every session's frames from the start of its previous window up to now in the armed
   * capture (what a marker asks for, issue 14.1); the number of spans kept.
   */
  readonly snapshot: (reason: string) => Effect.Effect<number, NotArmed>
  /** Live events from now on; each subscriber gets its own bounded buffer. */
  readonly events: Stream.Stream<LiveEvent>
  readonly isArmed: () => boolean
}

export class Recorder extends Context.Tag("punktfunk/Recorder")<Recorder, RecorderService>() {}

type JournalOp =
  | { readonly _tag: "line"; readonly line: JournalLine; readonly fresh: boolean }
  | { readonly _tag: "clear" }
  | { readonly _tag: "flush"; readonly done: Deferred.Deferred<void> }
  // A capture whose save failed: its journal is set aside so the next arm cannot overwrite it,
  // and removed once a retried save succeeds.
  | { readonly _tag: "park"; readonly startedUnixMs: number }
  | { readonly _tag: "unpark"; readonly startedUnixMs: number }

const nowMs = () => performance.now()

export const makeRecorder = (
  options: { readonly maxSamples?: number; readonly maxFrameSpans?: number; readonly maxFrameRecords?: number } = {}
): Effect.Effect<
  RecorderService,
  never,
  CaptureStore | ArmedFlag | Scope.Scope
> =>
  Effect.gen(function* () {
    const store = yield* CaptureStore
    const flag = yield* ArmedFlag
    const maxSamples = options.maxSamples ?? MAX_SAMPLES
    const lock = yield* Effect.makeSemaphore(1)
    const serialized = lock.withPermits(1)
    const pubsub = yield* PubSub.sliding<LiveEvent>(1024)

    let active: Active | undefined
    const activeSessions = new Map<string, SessionMeta>()
    const frameSources = new Map<string, FrameSource>()
    const unsaved: Array<Capture> = []
    // The flight records of an unsaved capture, by capture id: saved with it when a retry succeeds.
    const unsavedFrames = new Map<string, FramesFile>()
    const newFlightLog = () => makeFlightLog({ maxSpans: options.maxFrameSpans, maxFrames: options.maxFrameRecords })

    // The journal writer: samples arrive at ~1 Hz per session, but a burst (tests, several
    // sessions) must not cost one fsync each — it drains what is queued and appends it in one write.
    const journalQueue = yield* Queue.unbounded<JournalOp>()
    const journalFailing = yield* Ref.make(false)
    const journalBatch = (ops: ReadonlyArray<JournalOp>) =>
      Effect.gen(function* () {
        let pending: Array<JournalLine> = []
        let fresh = false
        const flush = Effect.suspend(() => {
          if (pending.length === 0) return Effect.void
          const lines = pending
          const wasFresh = fresh
          pending = []
          fresh = false
          return Effect.forEach(lines, (line, i) => store.journal(line, wasFresh && i === 0), { discard: true })
        })
        for (const op of ops) {
          if (op._tag === "clear") {
            yield* flush
            yield* store.clearJournal
          } else if (op._tag === "flush") {
            yield* flush
            yield* Deferred.succeed(op.done, undefined)
          } else if (op._tag === "park") {
            yield* flush
            yield* store.parkJournal(op.startedUnixMs)
          } else if (op._tag === "unpark") {
            yield* flush
            yield* store.removeParkedJournal(op.startedUnixMs)
          } else {
            if (op.fresh) {
              yield* flush
              fresh = true
            }
            pending.push(op.line)
          }
        }
        yield* flush
      }).pipe(
        Effect.tap(() => Ref.set(journalFailing, false)),
        Effect.catchAll((e) =>
          Ref.getAndSet(journalFailing, true).pipe(
            Effect.flatMap((already) =>
              already ? Effect.void : Effect.logError(`capture journal: ${e.message}; samples stay in memory`)
            )
          )
        )
      )
    yield* Queue.takeAll(journalQueue).pipe(
      Effect.flatMap((chunk) =>
        chunk.length === 0
          ? Queue.take(journalQueue).pipe(Effect.flatMap((op) => journalBatch([op])))
          : journalBatch(Array.from(chunk))
      ),
      Effect.forever,
      Effect.forkScoped
    )
    const journal = (op: JournalOp) => journalQueue.unsafeOffer(op)

    const statusNow = (): StatsStatus => ({
      armed: active !== undefined,
      sample_count: active?.samples.length ?? 0,
      started_unix_ms: active?.startedUnixMs ?? null,
      elapsed_ms: active === undefined ? 0 : Math.max(0, Math.round(nowMs() - active.originMs)),
      kind: active?.sessions[0]?.kind ?? null,
      truncated: active?.truncated ?? false,
      unsaved_id: unsaved[0]?.meta.id ?? null,
      active_sessions: activeSessions.size
    })

    const publish = (event: LiveEvent) => PubSub.publish(pubsub, event)

    /** Adds a marker to the armed capture (journalled, published); undefined when idle. */
    const addMarker = (kind: MarkerKind, label: string, sessionId?: string): Marker | undefined => {
      const capture = active
      if (capture === undefined) return undefined
      const marker: Marker = {
        t_ms: Math.max(0, Math.round(nowMs() - capture.originMs)),
        label: label.slice(0, MARKER_LABEL_MAX),
        kind,
        ...(sessionId === undefined ? {} : { session_id: sessionId })
      }
      capture.markers.push(marker)
      journal({ _tag: "line", line: { _tag: "marker", marker }, fresh: false })
      pubsub.unsafeOffer({ type: "marker", marker })
      return marker
    }

    const addSessionToCapture = (capture: Active, session: SessionMeta) => {
      if (capture.sessions.some((s) => s.session_id === session.session_id)) return
      capture.sessions.push(session)
      journal({ _tag: "line", line: { _tag: "session", session }, fresh: false })
    }

    const saveUnsaved = Effect.gen(function* () {
      let last: CaptureMeta | undefined
      while (unsaved.length > 0) {
        const capture = unsaved[0]!
        last = yield* store.save(capture, unsavedFrames.get(capture.meta.id))
        unsaved.shift()
        unsavedFrames.delete(capture.meta.id)
        journal({ _tag: "unpark", startedUnixMs: capture.meta.started_unix_ms })
      }
      if (last !== undefined) journal({ _tag: "clear" })
      return last
    })

    const stopLocked: Effect.Effect<Option.Option<CaptureMeta>, CaptureSaveError> = Effect.gen(function* () {
      const capture = active
      if (capture === undefined) {
        // Idle: retry a capture whose save failed earlier, if any.
        const retried = yield* saveUnsaved
        return Option.fromNullable(retried)
      }
      // Disarm first: the per-frame path stops measuring before anything is written.
      flag.set(false)
      active = undefined
      const first = capture.sessions[0]
      const id = yield* store.allocateId(capture.startedUnixMs, first?.width ?? 0, first?.height ?? 0)
      const parts = assembleCapture({
        id,
        label: capture.label,
        startedUnixMs: capture.startedUnixMs,
        durationMs: nowMs() - capture.originMs,
        sessions: capture.sessions,
        samples: capture.samples,
        markers: capture.markers,
        truncated: capture.truncated,
        recovered: false
      })
      const frames = capture.flight.isEmpty() ? undefined : capture.flight.file(id)
      const assembled: Capture = frames === undefined ? parts : { ...parts, meta: { ...parts.meta, frames: summarizeFrames(frames) } }
      unsaved.push(assembled)
      if (frames !== undefined) unsavedFrames.set(id, frames)
      yield* publish({ type: "status", status: statusNow() })
      const meta = yield* saveUnsaved.pipe(
        Effect.tapError((e) =>
          Effect.logError(e.message).pipe(
            Effect.zipRight(Effect.sync(() => journal({ _tag: "park", startedUnixMs: capture.startedUnixMs })))
          )
        ),
        Effect.ensuring(publish({ type: "status", status: statusNow() }))
      )
      yield* Effect.logInfo(`capture ${id} saved: ${assembled.samples.length} samples`)
      return Option.fromNullable(meta)
    })

    // Journals left by a host that died while armed are saved now, or kept in memory to retry.
    for (const { capture, saved } of yield* store.recoverJournals) if (!saved) unsaved.push(capture)

    const service: RecorderService = {
      start: (label = "") =>
        serialized(
          Effect.gen(function* () {
            if (active !== undefined) return statusNow()
            const startedUnixMs = Date.now()
            active = { startedUnixMs, originMs: nowMs(), label, sessions: [], samples: [], markers: [], truncated: false, flight: newFlightLog() }
            journal({ _tag: "line", line: { _tag: "begin", started_unix_ms: startedUnixMs, label }, fresh: true })
            for (const session of activeSessions.values()) addSessionToCapture(active, session)
            flag.set(true)
            const status = statusNow()
            yield* publish({ type: "status", status })
            yield* Effect.logInfo("capture armed")
            return status
          })
        ),
      stop: serialized(stopLocked),
      status: Effect.sync(statusNow),
      registerSession: (session, frames) =>
        serialized(
          Effect.gen(function* () {
            activeSessions.set(session.session_id, session)
            if (frames !== undefined) frameSources.set(session.session_id, frames)
            if (active !== undefined) addSessionToCapture(active, session)
            yield* publish({ type: "session", session })
            addMarker("session_start", `${session.kind} session ${session.width}x${session.height}@${session.fps}${session.client === "" ? "" : ` for ${session.client}`}`, session.session_id)
          })
        ),
      unregisterSession: (sessionId) =>
        Effect.sync(() => {
          frameSources.delete(sessionId)
          if (activeSessions.delete(sessionId)) addMarker("session_end", "session ended", sessionId)
        }),
      mark: (label) =>
        Effect.suspend(() => {
          const marker = addMarker("operator", label)
          // An operator's marker also keeps the frames around it (flight recorder).
          if (marker !== undefined) active?.flight.snapshot(label)
          return marker === undefined ? Effect.fail(new NotArmed({ message: "no capture is armed: arm one, then mark it" })) : Effect.succeed(marker)
        }),
      note: (kind, label, sessionId) => Effect.sync(() => void addMarker(kind, label, sessionId)),
      pushSample: (sample) =>
        Effect.suspend(() => {
          const capture = active
          if (capture === undefined) return Effect.void
          if (capture.samples.length >= maxSamples) {
            if (!capture.truncated) {
              capture.truncated = true
              journal({ _tag: "line", line: { _tag: "truncated" }, fresh: false })
              addMarker("truncated", `capture full at ${maxSamples} samples: no longer appending`)
              return Effect.logWarning(
                `capture reached ${maxSamples} samples: keeping its start, no longer appending (truncated)`
              )
            }
            return Effect.void
          }
          const stamped: StatsSample = { ...sample, t_ms: Math.max(0, Math.round(nowMs() - capture.originMs)) }
          capture.samples.push(stamped)
          journal({ _tag: "line", line: { _tag: "sample", sample: stamped }, fresh: false })
          // The flight recorder: a breaching window keeps its frames (and the window's before).
          const session = activeSessions.get(sample.session_id)
          const breaches =
            session === undefined ? [] : capture.flight.window(session, frameSources.get(sample.session_id), stamped, sample.t_ms)
          return publish({ type: "sample", sample: stamped }).pipe(
            Effect.zipRight(
              breaches.length === 0
                ? Effect.void
                : Effect.logInfo(`frames kept for ${sample.session_id} at ${stamped.t_ms} ms: ${breaches.join("; ")}`)
            )
          )
        }),
      live: (sinceTMs) =>
        Effect.suspend(() => {
          const capture = active
          if (capture === undefined) return Effect.fail(new NotArmed({ message: "no capture is armed" }))
          const samples = sinceTMs === undefined ? capture.samples.slice() : capture.samples.filter((s) => s.t_ms > sinceTMs)
          return Effect.succeed({ status: statusNow(), sessions: capture.sessions.slice(), samples, markers: capture.markers.slice() })
        }),
      snapshot: (reason) =>
        Effect.suspend(() => {
          const capture = active
          if (capture === undefined) return Effect.fail(new NotArmed({ message: "no capture is armed" }))
          return Effect.succeed(capture.flight.snapshot(reason))
        }),
      events: Stream.fromPubSub(pubsub),
      isArmed: () => active !== undefined
    }

    // SIGINT/SIGTERM release the layers: an armed capture is stopped and saved before exit, and the
    // journal writer drains first so the journal never claims less than the saved file.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        if (active !== undefined) {
          yield* Effect.logInfo("host stopping: saving the armed capture")
          yield* serialized(stopLocked).pipe(Effect.catchAll((e) => Effect.logError(e.message)))
        }
        const done = yield* Deferred.make<void>()
        journal({ _tag: "flush", done })
        yield* Deferred.await(done).pipe(Effect.timeout("10 seconds"), Effect.ignore)
      })
    )
    return service
  })

export const RecorderLive = (
  options: { readonly maxSamples?: number; readonly maxFrameSpans?: number; readonly maxFrameRecords?: number } = {}
): Layer.Layer<
  Recorder,
  never,
  CaptureStore | ArmedFlag
> => Layer.scoped(Recorder, makeRecorder(options))
