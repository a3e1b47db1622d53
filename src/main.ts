#!/usr/bin/env node
/**
 * The punktfunk host: `node dist/main.js [--flag value …]` (`--help` lists the flags).
 *
 * Composes every Layer (see `Host.ts`), prints where the console is, and runs until SIGINT or
 * SIGTERM; either releases the Layers in order, which stops an armed capture and saves it before
 * the process exits.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, ConfigError, Console, Effect, Layer } from "effect"
import { makeHostLayer } from "./Host.js"
import { pipelineFor } from "./PipelineChoice.js"
import { argvToEnv, hostConfig, providerFrom } from "./services/Config.js"
import { loggingLayer } from "./lib/Logging.js"
import { usage } from "./lib/Settings.js"

const argv = process.argv.slice(2)

const program = Effect.gen(function* () {
  const flags = yield* argvToEnv(argv)
  const config = yield* hostConfig.pipe(Effect.withConfigProvider(providerFrom(flags)))
  const pipeline = yield* pipelineFor(config)
  yield* Layer.launch(
    makeHostLayer(config, { pipeline, pauseBeforeRename: process.env["PUNKTFUNK_TEST_PAUSE_BEFORE_RENAME"] })
  ).pipe(Effect.provide(loggingLayer(config.logFormat, config.logLevel)))
})

/** A start-up failure in one line an operator can act on; a stack only for the unexpected. */
const explain = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const e = failure.value
    if (ConfigError.isConfigError(e)) {
      const messages = Array.from(String(e).matchAll(/"([^"]+)"/g), (m) => m[1])
      return `invalid configuration: ${messages.length > 0 ? messages.join("; ") : String(e)}`
    }
    if (typeof e === "object" && e !== null && "message" in e) return String(e.message)
  }
  return Cause.pretty(cause)
}

// `--help` answers and exits before anything binds a port.
const help = argv.includes("--help") || argv.includes("-h")

NodeRuntime.runMain(
  (help ? Console.log(usage()) : program).pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.void
        : Console.error(`punktfunk: cannot start: ${explain(cause)}`).pipe(
            Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
          )
    )
  ),
  { disableErrorReporting: true }
)
