#!/usr/bin/env node
/**
 * The punktfunk host: `punktfunk-host [--option value …]`, from a clone `node dist/main.js …`
 * (`--help` lists the options: `HostCommand.ts`, through @effect/cli).
 *
 * Composes every Layer (see `Host.ts`), prints where the console is, and runs until SIGINT or
 * SIGTERM; either releases the Layers in order, which stops an armed capture and saves it before
 * the process exits.
 */
import { Command, ValidationError } from "@effect/cli"
// Deep imports: the package index loads every Node integration (cluster, sql…).
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, ConfigError, Console, Effect, Layer } from "effect"
import { makeHostLayer } from "./Host.js"
import { hostArgs, hostCommand } from "./HostCommand.js"
import { pipelineFor } from "./PipelineChoice.js"
import { hostConfig, providerFrom } from "./services/Config.js"
import { loggingLayer } from "./lib/Logging.js"

const args = hostArgs(process.argv.slice(2))

const program = (flags: Record<string, string>) => Effect.gen(function* () {
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

// `--help` answers (through @effect/cli) and exits before anything binds a port.
const run = Command.run(hostCommand(args, program), { name: "punktfunk-host", version: "0.1.0" })

NodeRuntime.runMain(
  run([process.argv[0] ?? "node", process.argv[1] ?? "punktfunk-host", ...args]).pipe(
    Effect.catchAllCause((cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.void
      const failure = Cause.failureOption(cause)
      // @effect/cli has already printed what is wrong with the command line.
      const message =
        failure._tag === "Some" && ValidationError.isValidationError(failure.value)
          ? "punktfunk: cannot start: the command line is not valid (--help lists every option)"
          : `punktfunk: cannot start: ${explain(cause)}`
      return Console.error(message).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1))))
    }),
    Effect.provide(NodeContext.layer)
  ),
  { disableErrorReporting: true }
)
