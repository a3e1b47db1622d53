/**
 * Runs one streaming session and hands its windows to the Recorder.
 *
 * Why the loop restarts instead of failing: a session whose pipeline dies (encoder error, display
 * gone) must not take the host down or leave the Recorder believing it is still there; it is
 * unregistered, logged, and opened again after a pause. A configuration error, which a retry
 * cannot fix, is logged once and ends that session for good.
 */
import { Duration, Effect, Schema, Stream } from "effect"
import { StatsSample } from "../api/Stats.js"
import { Recorder } from "../services/Recorder.js"
import { Pipeline } from "./Pipeline.js"
import type { SessionConfig } from "./Pipeline.js"

const encodeSample = Schema.encodeSync(Schema.parseJson(StatsSample))

export const runSession = (config: SessionConfig) =>
  Effect.gen(function* () {
    const pipeline = yield* Pipeline
    const recorder = yield* Recorder
    const once = Effect.scoped(
      Effect.gen(function* () {
        const session = yield* pipeline.open(config)
        yield* recorder.registerSession(session.meta)
        yield* Effect.logInfo(
          `session ${session.meta.session_id} (${session.meta.kind}) ${session.meta.width}x${session.meta.height}@${session.meta.fps} ${session.meta.codec} via ${session.meta.encoder_backend}`
        )
        yield* session.windows.pipe(
          Stream.runForEach((window) =>
            Effect.gen(function* () {
              // PUNKTFUNK_PERF=1: one line per window, armed or not, the numbers of the sample.
              if (config.perf) yield* Effect.logInfo(`perf ${encodeSample(window)}`)
              yield* recorder.pushSample(window)
            })
          ),
          Effect.ensuring(recorder.unregisterSession(session.meta.session_id))
        )
      })
    )
    yield* once.pipe(
      Effect.catchTag("PipelineError", (e) =>
        Effect.logError(`session ended: ${e.message}; reopening in 2 s`).pipe(Effect.zipRight(Effect.sleep(Duration.seconds(2))))
      ),
      Effect.forever,
      Effect.catchTag("PipelineConfigError", (e) => Effect.logError(`session not started: ${e.message}`))
    )
  })
