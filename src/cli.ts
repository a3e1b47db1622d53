#!/usr/bin/env node
/**
 * `punktfunk` (`dist/cli.js`): the operator's command line against a running host.
 *
 * Why errors are printed here and not by the runtime: a `CliError` is already one sentence
 * ("no punktfunk host answers at …", "the host refused the token from …"); the runtime's report
 * would wrap it in a stack. Exit codes: 1 the host refused or failed the request, 2 no usable
 * token file, 3 no host answers, 4 the token was refused, 5 an `https://` host's certificate is
 * not the pinned one (or none was pinned), or an `http://` host beyond loopback (the token would
 * cross the network in clear) — nothing was sent; usage errors are @effect/cli's own.
 */
import { Command } from "@effect/cli"
// Deep imports: the package index loads every Node integration (cluster, sql…), ~0.5 s more per run.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { punktfunk } from "./cli/Commands.js"

const run = Command.run(punktfunk, { name: "punktfunk", version: "0.1.0" })

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.catchTag("CliError", (e) =>
      Console.error(`punktfunk: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = e.exitCode))))
    ),
    // @effect/cli has already printed what was wrong with the command line.
    Effect.catchAll(() => Effect.sync(() => (process.exitCode = 2))),
    Effect.provide(NodeContext.layer)
  ),
  { disableErrorReporting: true }
)
