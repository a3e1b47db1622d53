/**
 * `punktfunk-host`'s command line, through @effect/cli like `punktfunk` and `punktfunk-client`:
 * every setting of `HOST_SETTINGS` is an option (`PUNKTFUNK_GAMESTREAM_HTTP_PORT` is
 * `--gamestream-http-port`) whose help says what it does, its environment variable and its
 * default; `--help` lists them all, an unknown option or a stray argument is refused by name.
 *
 * Why every option is read as text and left to `Config.ts`: each setting is also an environment
 * variable, and both are checked in one place (`hostConfig`), so `--fps 0` and `PUNKTFUNK_FPS=0`
 * are refused with the same words. The command only turns the options given into the settings'
 * names; the environment fills the rest, and an option wins over it.
 *
 * Three adjustments to @effect/cli's parsing keep the flags that worked before working:
 * - A renamed setting's former flag (`--native-port`) is written as its new one (`hostArgs`).
 * - A switch (a setting whose default is 0 or 1: `--demo`, `--perf`, `--gamestream`…) may stand
 *   bare and means 1 (`--demo`, `--demo --width 1920`) — @effect/cli would take the next flag as
 *   its value. `bareSwitches` writes such a bare switch as `--demo=1` before parsing; `--demo 0`
 *   and `--gamestream=0` are parsed as written.
 * - `--log-level` is also @effect/cli's own built-in option (the minimum level of the command's
 *   logger), which takes `--log-level debug` out of the arguments before the command sees them
 *   (`--log-level=debug` reaches the command's own option). When the command line has it and the
 *   command's option got nothing, the level the built-in set is the host's `PUNKTFUNK_LOG_LEVEL`.
 */
import { Command, Options } from "@effect/cli"
import { Effect, FiberRef, Option } from "effect"
import type { Setting } from "./lib/Settings.js"
import { flagOf, HOST_SETTINGS } from "./lib/Settings.js"

/** A setting that is on or off: its default is 0 or 1, and a bare flag means 1. */
export const isSwitch = (s: Setting): boolean => s.fallback === "0" || s.fallback === "1"

const SWITCHES = new Set(HOST_SETTINGS.filter(isSwitch).map((s) => flagOf(s.name)))

/** `--demo --width 1920` → `--demo=1 --width 1920`; a switch followed by a value is left alone. */
export const bareSwitches = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  args.map((arg, i) => {
    const next = args[i + 1]
    return SWITCHES.has(arg) && (next === undefined || next.startsWith("-")) ? `${arg}=1` : arg
  })

const describe = (s: Setting): string =>
  `${s.about}. Environment: ${s.name}` +
  (s.fallback === "" ? "" : `, default ${s.fallback}`) +
  (isSwitch(s) ? ` (0 or 1; a bare ${flagOf(s.name)} means 1)` : "") +
  (s.formerly === undefined ? "" : `. Formerly ${s.formerly} and ${flagOf(s.formerly)}, still read (deprecated)`)

const options: Record<string, Options.Options<Option.Option<string>>> = Object.fromEntries(
  HOST_SETTINGS.map((s) => {
    const text = Options.text(flagOf(s.name).slice(2)).pipe(Options.withDescription(describe(s)))
    return [s.name, (isSwitch(s) ? Options.withPseudoName(text, "0|1") : text).pipe(Options.optional)]
  })
)

/** A renamed setting's former flag → its flag now (`--native-port` → `--punktfunk1-port`). */
const FORMER_FLAGS = new Map(
  HOST_SETTINGS.flatMap((s) => (s.formerly === undefined ? [] : [[flagOf(s.formerly), flagOf(s.name)] as const]))
)

/**
 * The command line as @effect/cli parses it: a renamed setting's former flag written as the new
 * one (so `--help` lists only the new name, and an operator's old unit file still starts the
 * host), then bare switches made explicit (`bareSwitches`).
 */
export const hostArgs = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  bareSwitches(
    args.map((arg) => {
      const [flag = arg, ...value] = arg.split("=")
      const now = FORMER_FLAGS.get(flag)
      return now === undefined ? arg : [now, ...value].join("=")
    })
  )

const LOG_LEVEL_FLAG = "--log-level"

/**
 * The command; `run` gets the settings given on the command line, by name (`PUNKTFUNK_PORT` →
 * "0"), and starts the host with them.
 */
export const hostCommand = <E, R>(args: ReadonlyArray<string>, run: (flags: Record<string, string>) => Effect.Effect<void, E, R>) =>
  Command.make("punktfunk-host", options, (given) =>
    Effect.gen(function* () {
      const flags: Record<string, string> = {}
      for (const [name, value] of Object.entries(given)) if (Option.isSome(value)) flags[name] = value.value
      // Taken by the built-in option before the command parsed (see the header).
      const logLevelGiven = args.some((a) => a === LOG_LEVEL_FLAG || a.startsWith(`${LOG_LEVEL_FLAG}=`))
      if (logLevelGiven && flags["PUNKTFUNK_LOG_LEVEL"] === undefined) {
        flags["PUNKTFUNK_LOG_LEVEL"] = (yield* FiberRef.get(FiberRef.currentMinimumLogLevel))._tag.toLowerCase()
      }
      yield* run(flags)
    })
  ).pipe(
    Command.withDescription(
      "the punktfunk game-streaming host: serves the console and management API, punktfunk/1 and GameStream (Moonlight) " +
        "clients, and records run-time stats. Every option is also an environment variable (named in its help); an option wins."
    )
  )
