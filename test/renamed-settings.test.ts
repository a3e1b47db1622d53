/**
 * Settings renamed when "native" came to mean only the addon (issue 13.8): `PUNKTFUNK_NATIVE_PORT`
 * and `PUNKTFUNK_NATIVE_CLIENT_TIMEOUT_MS` are `PUNKTFUNK_PUNKTFUNK1_*` now. An operator's unit file
 * that still says the old name keeps working, and the host says once, at start, what to write
 * instead; the new name wins when both are set; a bad value under the old name is refused naming
 * the variable the operator wrote. (The former flags: test/host-command.test.ts.)
 */
import { spawn } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { hostConfig } from "../src/services/Config.js"
import { mainJs, requireBuild } from "./support/HostProcess.js"
import { tempDir, waitFor } from "./support/TestHost.js"

const configOf = (env: Record<string, string>) =>
  hostConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("renamed settings", () => {
  it.effect("the former name alone is read, with one deprecation line each", () =>
    Effect.gen(function* () {
      const config = yield* configOf({ PUNKTFUNK_NATIVE_PORT: "48001", PUNKTFUNK_NATIVE_CLIENT_TIMEOUT_MS: "1500" })
      expect([config.punktfunk1Port, config.punktfunk1ClientTimeoutMs]).toEqual([48001, 1500])
      expect(config.deprecations).toEqual([
        "PUNKTFUNK_NATIVE_PORT is deprecated and read as PUNKTFUNK_PUNKTFUNK1_PORT (--punktfunk1-port): rename it where the host's settings are kept",
        "PUNKTFUNK_NATIVE_CLIENT_TIMEOUT_MS is deprecated and read as PUNKTFUNK_PUNKTFUNK1_CLIENT_TIMEOUT_MS (--punktfunk1-client-timeout-ms): rename it where the host's settings are kept"
      ])
    })
  )

  it.effect("the new name wins when both are set, and nothing is deprecated; neither set is the default", () =>
    Effect.gen(function* () {
      const both = yield* configOf({ PUNKTFUNK_PUNKTFUNK1_PORT: "48002", PUNKTFUNK_NATIVE_PORT: "48001" })
      expect([both.punktfunk1Port, both.deprecations]).toEqual([48002, []])
      const neither = yield* configOf({})
      expect([neither.punktfunk1Port, neither.punktfunk1ClientTimeoutMs, neither.deprecations]).toEqual([47970, 10_000, []])
    })
  )

  it.effect("a bad value under the former name is refused naming it", () =>
    Effect.gen(function* () {
      const refused = yield* Effect.flip(configOf({ PUNKTFUNK_NATIVE_PORT: "70000" }))
      expect(String(refused)).toContain("PUNKTFUNK_NATIVE_PORT must be a port number")
    })
  )

  it("the compiled host started with the former name listens for punktfunk/1 and logs the deprecation once", async () => {
    requireBuild()
    const env: Record<string, string | undefined> = {
      ...process.env,
      PUNKTFUNK_PORT: "0",
      PUNKTFUNK_NATIVE_PORT: "0",
      PUNKTFUNK_GAMESTREAM: "0",
      PUNKTFUNK_SOURCE: "none",
      PUNKTFUNK_CONFIG_DIR: tempDir()
    }
    delete env["PUNKTFUNK_PUNKTFUNK1_PORT"]
    const child = spawn(process.execPath, [mainJs], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    try {
      await waitFor(() => /punktfunk\/1 control on \S+:\d+/.test(out) && out.includes("listening on"), 30_000, `the host to start:\n${out}`)
      expect(out.match(/PUNKTFUNK_NATIVE_PORT is deprecated and read as PUNKTFUNK_PUNKTFUNK1_PORT/g)).toHaveLength(1)
      // Port 0 was honoured: the kernel picked the port, not the default 47970.
      expect(Number(/punktfunk\/1 control on \S+:(\d+)/.exec(out)?.[1])).not.toBe(47970)
    } finally {
      child.kill("SIGKILL")
    }
  })
})
