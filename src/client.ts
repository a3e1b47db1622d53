#!/usr/bin/env node
/**
 * `punktfunk-client` (`dist/client.js`): the punktfunk/1 path's own client (`--help` lists the
 * subcommands; `punktfunk-client stream --help` their options; see `client/Commands.ts`).
 *
 * `pair` shows a PIN, waits for the operator to type it into the host's console, and pins the
 * host's certificate. `stream` receives, reassembles, repairs with FEC, decrypts and decodes, and
 * prints its stats each second; `--loss` drops that share of arriving packets to try FEC.
 *
 * Exit codes: 1 the client failed (its one line says why), 2 a usage error (@effect/cli has
 * already printed it).
 */
import { Command, ValidationError } from "@effect/cli"
// Deep imports: the package index loads every Node integration (cluster, sql…), ~0.5 s more per run.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import { ClientError } from "./client/ControlClient.js"
import { punktfunkClient } from "./client/Commands.js"

const run = Command.run(punktfunkClient, { name: "punktfunk-client", version: "0.1.0" })

NodeRuntime.runMain(
  run(process.argv).pipe(
    Effect.catchAll((e) =>
      ValidationError.isValidationError(e)
        ? Effect.sync(() => (process.exitCode = 2))
        : Console.error(`punktfunk-client: ${e instanceof ClientError ? e.message : String(e)}`).pipe(
            Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
          )
    ),
    // A defect (an addon older than this code, a bug) still says what happened in one line:
    // with error reporting off, the runtime would exit 1 without a word.
    Effect.catchAllDefect((defect) =>
      Console.error(`punktfunk-client: unexpected error: ${defect instanceof Error ? defect.message : String(defect)}`).pipe(
        Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
      )
    ),
    Effect.provide(NodeContext.layer)
  ),
  { disableErrorReporting: true }
)
