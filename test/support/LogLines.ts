/**
 * What a host logs, for tests that read it: the lines an in-process host writes (its fibers
 * inherit the test's loggers), and the `PUNKTFUNK_PERF` lines among them or in a spawned host's
 * output, decoded as the samples they carry.
 */
import { Effect, Logger, Schema } from "effect"
import { StatsSample } from "../../src/api/Stats.js"

/** Log lines written while `effect` runs (the host's fibers inherit the test's loggers). */
export const withLogLines = <A, E, R>(effect: (lines: Array<string>) => Effect.Effect<A, E, R>) => {
  const lines: Array<string> = []
  const capture = Logger.make(({ message }) => void lines.push(Array.isArray(message) ? message.map(String).join(" ") : String(message)))
  return effect(lines).pipe(Effect.provide(Logger.add(capture)))
}

const decodeLine = Schema.decodeUnknownSync(Schema.parseJson(StatsSample))

/** The samples of the `perf {…}` lines in `output` (a process's output, or log lines joined). */
export const perfLines = (output: string): Array<StatsSample> =>
  output
    .split("\n")
    .map((line) => /\bperf (\{.*\})\s*$/.exec(line)?.[1])
    .filter((json): json is string => json !== undefined)
    .map((json) => decodeLine(json))
