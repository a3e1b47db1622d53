/**
 * `punktfunk-host`'s command line (src/HostCommand.ts, through @effect/cli): the options given
 * become the settings the host reads, in every form the README and the tests use — a value after
 * the flag or after `=`, a bare switch, `--gamestream 0`, `--log-level` (which @effect/cli also
 * knows as its own built-in) — and a typo is refused instead of being ignored.
 */
import { Command } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { hostArgs, hostCommand } from "../src/HostCommand.js"

/** The settings the host would start with, or the parse failure. */
const parse = (argv: ReadonlyArray<string>) => {
  const args = hostArgs(argv)
  let seen: Record<string, string> | undefined
  const run = Command.run(
    hostCommand(args, (flags) => Effect.sync(() => void (seen = flags))),
    { name: "punktfunk-host", version: "0.1.0" }
  )
  return Effect.runPromise(
    run(["node", "main.js", ...args]).pipe(
      Effect.either,
      Effect.map((result) => (Either.isLeft(result) ? { error: String(result.left._tag) } : { flags: seen })),
      // @effect/cli prints its complaint to stderr; the test reads the outcome.
      Effect.provide(NodeContext.layer)
    )
  )
}

describe("punktfunk-host's command line", () => {
  it("maps each form of an option to its setting", async () => {
    expect(await parse(["--port", "0", "--punktfunk1-port=0", "--gamestream", "0", "--width", "320", "--captures-dir", "/x"])).toEqual({
      flags: { PUNKTFUNK_PORT: "0", PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_GAMESTREAM: "0", PUNKTFUNK_WIDTH: "320", PUNKTFUNK_CAPTURES_DIR: "/x" }
    })
    expect(await parse(["--gamestream=0", "--gamestream-mdns", "1"])).toEqual({ flags: { PUNKTFUNK_GAMESTREAM: "0", PUNKTFUNK_GAMESTREAM_MDNS: "1" } })
    expect(await parse([])).toEqual({ flags: {} })
  })

  it("a renamed setting's former flag still works, under the new name (--native-port is --punktfunk1-port)", async () => {
    expect(await parse(["--native-port", "0", "--native-client-timeout-ms=1500"])).toEqual({
      flags: { PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_PUNKTFUNK1_CLIENT_TIMEOUT_MS: "1500" }
    })
  })

  it("a bare switch means 1, wherever it stands", async () => {
    expect(await parse(["--demo"])).toEqual({ flags: { PUNKTFUNK_DEMO: "1" } })
    expect(await parse(["--demo", "--width", "1920", "--perf"])).toEqual({
      flags: { PUNKTFUNK_DEMO: "1", PUNKTFUNK_WIDTH: "1920", PUNKTFUNK_PERF: "1" }
    })
    expect(await parse(["--perf", "0", "--input=0"])).toEqual({ flags: { PUNKTFUNK_PERF: "0", PUNKTFUNK_INPUT: "0" } })
  })

  it("--log-level reaches the host in both forms, beside @effect/cli's own built-in of that name", async () => {
    expect(await parse(["--log-level", "debug"])).toEqual({ flags: { PUNKTFUNK_LOG_LEVEL: "debug" } })
    expect(await parse(["--log-level=warning", "--port", "0"])).toEqual({ flags: { PUNKTFUNK_LOG_LEVEL: "warning", PUNKTFUNK_PORT: "0" } })
    expect(await parse(["--port", "0", "--log-level", "error"])).toEqual({ flags: { PUNKTFUNK_PORT: "0", PUNKTFUNK_LOG_LEVEL: "error" } })
  })

  it("refuses a typo and a stray argument instead of starting on the defaults", async () => {
    expect(await parse(["--prot", "47991"])).toEqual({ error: "InvalidValue" })
    expect(await parse(["--gamestream-mdsn=0"])).toEqual({ error: "InvalidValue" })
    expect(await parse(["stray"])).toEqual({ error: "InvalidValue" })
  })
})
