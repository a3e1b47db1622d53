/**
 * How the host's log lines look and which it writes: `PUNKTFUNK_LOG_FORMAT` and
 * `PUNKTFUNK_LOG_LEVEL`.
 *
 * Why Effect's own JSON logger (`Logger.json`) and not a format of ours: every line the host
 * writes through `Effect.log*` (sessions, refusals, perf lines, warnings) then becomes one JSON
 * object per line with `message`, `logLevel`, `timestamp`, `fiberId`, `annotations` and `spans`,
 * which journald → Loki/Elastic pipelines parse without a pattern. The default stays the human-readable
 * line the Node runtime installs (`[time] INFO (#fiber): message`). The level is the minimum written: `debug` shows what is
 * normally quiet (a flood's refusals past the first warning), `warning` only what needs a look.
 */
import { Layer, Logger, LogLevel, Schema } from "effect"

export const LogFormat = Schema.Literal("human", "json")
export type LogFormat = typeof LogFormat.Type

export const LogLevelName = Schema.Literal("trace", "debug", "info", "warning", "error")
export type LogLevelName = typeof LogLevelName.Type

const LEVELS: Record<LogLevelName, LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}

/**
 * JSON lines instead of whichever human logger is installed. Why both are removed: Effect's
 * `defaultLogger` is what a bare runtime (tests) has, and `NodeRuntime.runMain` swaps it for
 * `prettyLoggerDefault`; `Logger.json` alone replaces only the first, and the host would then
 * write every line twice, once pretty and once as JSON.
 */
const jsonOnly: Layer.Layer<never> = Layer.mergeAll(
  Logger.remove(Logger.defaultLogger),
  Logger.remove(Logger.prettyLoggerDefault),
  Logger.add(Logger.withConsoleLog(Logger.jsonLogger))
)

/** The logger of the host process: its format and its minimum level. */
export const loggingLayer = (format: LogFormat, level: LogLevelName): Layer.Layer<never> =>
  Layer.merge(format === "json" ? jsonOnly : Layer.empty, Logger.minimumLogLevel(LEVELS[level]))
