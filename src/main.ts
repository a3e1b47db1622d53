/**
 * The punktfunk host: `node dist/main.js [--flag value …]`.
 *
 * Composes every Layer (see `Host.ts`), prints where the console is, and runs until SIGINT or
 * SIGTERM; either releases the Layers in order, which stops an armed capture and saves it before
 * the process exits.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import { makeHostLayer } from "./Host.js"
import { pipelineFor } from "./PipelineChoice.js"
import { argvToEnv, hostConfig, providerFrom } from "./services/Config.js"

const program = Effect.gen(function* () {
  const flags = yield* argvToEnv(process.argv.slice(2))
  const config = yield* hostConfig.pipe(Effect.withConfigProvider(providerFrom(flags)))
  const pipeline = yield* pipelineFor(config)
  yield* Layer.launch(
    makeHostLayer(config, { pipeline, pauseBeforeRename: process.env["PUNKTFUNK_TEST_PAUSE_BEFORE_RENAME"] })
  )
})

NodeRuntime.runMain(
  program.pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.void
        : Console.error(`punktfunk: cannot start: ${Cause.pretty(cause)}`).pipe(
            Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
          )
    )
  ),
  { disableErrorReporting: true }
)
