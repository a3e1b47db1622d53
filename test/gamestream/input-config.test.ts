/**
 * `PUNKTFUNK_INPUT`: on by default (a GameStream client's mouse and keyboard reach the captured
 * X display), off makes the host view-only; anything but a flag value stops the start naming it.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { hostConfig } from "../../src/services/Config.js"

const configFrom = (env: Record<string, string>) =>
  hostConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("PUNKTFUNK_INPUT", () => {
  it.effect("on by default, off with 0/false/off, refused when not a flag", () =>
    Effect.gen(function* () {
      expect((yield* configFrom({})).input).toBe(true)
      for (const off of ["0", "false", "off", "no"]) expect((yield* configFrom({ PUNKTFUNK_INPUT: off })).input).toBe(false)
      expect((yield* configFrom({ PUNKTFUNK_INPUT: "1" })).input).toBe(true)
      const refused = yield* Effect.flip(configFrom({ PUNKTFUNK_INPUT: "maybe" }))
      expect(String(refused)).toContain("PUNKTFUNK_INPUT")
    })
  )
})
