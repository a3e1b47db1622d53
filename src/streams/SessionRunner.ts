/**
 * The one session runner every path uses — the host's own (fake) session, a punktfunk/1 client's,
 * a GameStream client's: open the pipeline session → register it with the Recorder (with its
 * `measured` list) → for each window, fold in what the client reported, write the
 * `PUNKTFUNK_PERF` line when perf is on, and push the sample. A path supplies only what differs:
 * its session config (the stage set follows its kind, the transport is its `media` /
 * `gamestream` target) and its client reports (`ClientReports.ts`); what it does around the
 * session (control messages, pings, input, audio) stays with the path.
 *
 * Invariants: a session is registered only once its pipeline opened, and unregistered when its
 * scope closes, however it ends; the PERF line carries exactly the numbers of the sample the
 * Recorder gets (only `t_ms` differs: the Recorder restamps it from the capture's origin).
 */
import { Duration, Effect, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { StatsSample } from "../api/Stats.js"
import type { SessionMeta } from "../api/Stats.js"
import { HostMarkers } from "../services/HostMarkers.js"
import { Recorder } from "../services/Recorder.js"
import { clientReports, sessionMeasured } from "./ClientReports.js"
import type { ClientReports } from "./ClientReports.js"
import { Pipeline, sourceName } from "./Pipeline.js"
import type { PipelineConfigError, PipelineError, SessionConfig, SessionControl } from "./Pipeline.js"

const encodeSample = Schema.encodeSync(Schema.parseJson(StatsSample))

export interface OpenedSession {
  readonly meta: SessionMeta
  /** Absent where the producer has no encoder to steer. */
  readonly control: SessionControl | undefined
  /**
   * Pushes every window until the pipeline's stream ends (succeeds) or fails. The path decides
   * what else ends its session (a client gone, a launch cancelled) and races this against it.
   */
  readonly pump: Effect.Effect<void, PipelineError>
}

export interface SessionRunnerShape {
  /** Open and register; the caller's scope owns the session (closing it stops the frame loop). */
  readonly open: (
    config: SessionConfig,
    reports: ClientReports
  ) => Effect.Effect<OpenedSession, PipelineConfigError | PipelineError, Scope.Scope>
  /**
   * The host's own session, with no client: pumped until the host stops. A pipeline that dies
   * (encoder error, display gone) must not take the host down or leave the Recorder believing
   * it is still there: it is unregistered, logged, and opened again after a pause. A
   * configuration error, which a retry cannot fix, is logged once and ends it for good. The
   * reopened session is marked `encoder_restart` in an armed capture (the only place the host
   * reopens a source and an encoder by itself: a client's session that fails just ends, and the
   * client's next connection is marked `client_reconnect`).
   */
  readonly runLocal: (config: SessionConfig) => Effect.Effect<void>
}

const describe = (meta: SessionMeta): string =>
  `session ${meta.session_id} (${meta.kind}) ${meta.width}x${meta.height}@${meta.fps} ${meta.codec} via ${meta.encoder_backend}` +
  (meta.client === "" ? "" : ` for client ${meta.client}`)

export const makeSessionRunner: Effect.Effect<SessionRunnerShape, never, Pipeline | Recorder | HostMarkers> = Effect.gen(function* () {
  const pipeline = yield* Pipeline
  const recorder = yield* Recorder
  const markers = yield* HostMarkers

  const open: SessionRunnerShape["open"] = (config, reports) =>
    Effect.gen(function* () {
      const session = yield* pipeline.open(config)
      const meta: SessionMeta = { ...session.meta, measured: sessionMeasured(session.meta.measured, reports.side) }
      yield* recorder.registerSession(meta, session.frames)
      yield* Effect.addFinalizer(() => recorder.unregisterSession(meta.session_id))
      yield* Effect.logInfo(describe(meta))
      // A source lost under an earlier session is back once a session opens on it again.
      const source = sourceName(config)
      yield* markers.sourceOpened(source, meta.session_id)
      const pump = session.windows.pipe(
        Stream.runForEach((window) =>
          Effect.suspend(() => {
            const sample = reports.fold(window)
            // PUNKTFUNK_PERF=1: one line per window, armed or not, the numbers of the sample.
            return (config.perf ? Effect.logInfo(`perf ${encodeSample(sample)}`) : Effect.void).pipe(
              Effect.zipRight(recorder.pushSample(sample))
            )
          })
        ),
        Effect.tapError((e) => (e.part === "source" ? markers.sourceLost(source, meta.session_id, e.message) : Effect.void))
      )
      return { meta, control: session.control, pump }
    })

  const runLocal: SessionRunnerShape["runLocal"] = (config) => {
    // Why the previous session of this loop failed; set until a reopened one is marked.
    let failed: string | undefined
    return open(config, clientReports({ path: "local" })).pipe(
      Effect.tap((session) =>
        failed === undefined ? Effect.void : markers.sessionReopened(session.meta.session_id, failed).pipe(Effect.ensuring(Effect.sync(() => (failed = undefined))))
      ),
      Effect.flatMap((session) => session.pump),
      Effect.scoped,
      Effect.catchTag("PipelineError", (e) =>
        Effect.sync(() => (failed = e.message)).pipe(
          Effect.zipRight(Effect.logError(`session ended: ${e.message}; reopening in 2 s`)),
          Effect.zipRight(Effect.sleep(Duration.seconds(2)))
        )
      ),
      Effect.forever,
      Effect.catchTag("PipelineConfigError", (e) => Effect.logError(`session not started: ${e.message}`))
    )
  }

  return { open, runLocal }
})
