/**
 * The host's connection limits (`PUNKTFUNK_MAX_CONNECTIONS`, `_PER_ADDRESS`, `PUNKTFUNK_HEADER_TIMEOUT_MS`,
 * `PUNKTFUNK_IDLE_TIMEOUT_MS`, `PUNKTFUNK_MAX_LIVE_SUBSCRIBERS`) and the registry of every TCP
 * listener's limiter, so their counters can be read in one place (tests, logs).
 *
 * Why a service and not only the helper: the listeners are built in different layers (the
 * management API, GameStream, punktfunk/1); each asks this service for its limiter, which carries
 * the configured limits and logs through the host's logger, and the counters of all of them are
 * one lookup away for a test that attacks them all at once.
 */
import { Context, Effect, Layer, Runtime } from "effect"
import { HostConfig } from "./Config.js"
import { makeConnectionLimiter } from "../lib/ConnectionLimiter.js"
import type { ConnectionCounters, ConnectionLimiter, LimiterOptions, ListenerLimits } from "../lib/ConnectionLimiter.js"

/** The TCP listeners of a host. */
export type ListenerName = "management" | "nvhttp" | "nvhttps" | "rtsp" | "punktfunk1"

export interface ConnectionLimitsShape {
  /** The configured limits, as every listener gets them. */
  readonly limits: ListenerLimits
  /** Live event streams (SSE) at once on the management API. */
  readonly maxLiveSubscribers: number
  /** A new limiter for a listener, registered under its name (a second one replaces the first). */
  readonly listener: (
    name: ListenerName,
    extra?: Partial<ListenerLimits> & LimiterOptions
  ) => Effect.Effect<ConnectionLimiter>
  readonly counters: Effect.Effect<Readonly<Partial<Record<ListenerName, ConnectionCounters>>>>
}

export class ConnectionLimits extends Context.Tag("punktfunk/ConnectionLimits")<ConnectionLimits, ConnectionLimitsShape>() {}

export const makeConnectionLimits = (limits: ListenerLimits, maxLiveSubscribers: number) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const log = (line: string) => Runtime.runFork(runtime)(Effect.logWarning(line))
    const registry = new Map<ListenerName, ConnectionLimiter>()
    return ConnectionLimits.of({
      limits,
      maxLiveSubscribers,
      listener: (name, extra = {}) =>
        Effect.sync(() => {
          const { onHeaderTimeout, onReport, ...overrides } = extra
          const limiter = makeConnectionLimiter(
            name,
            { ...limits, ...overrides },
            { onReport: onReport ?? log, ...(onHeaderTimeout === undefined ? {} : { onHeaderTimeout }) }
          )
          registry.set(name, limiter)
          return limiter
        }),
      counters: Effect.sync(() => Object.fromEntries([...registry].map(([name, l]) => [name, l.counters()])))
    })
  })

export const ConnectionLimitsLive: Layer.Layer<ConnectionLimits, never, HostConfig> = Layer.effect(
  ConnectionLimits,
  Effect.flatMap(HostConfig, (config) =>
    makeConnectionLimits(
      {
        maxConnections: config.maxConnections,
        maxPerAddress: config.maxConnectionsPerAddress,
        headerTimeoutMs: config.headerTimeoutMs,
        idleTimeoutMs: config.idleTimeoutMs
      },
      config.maxLiveSubscribers
    )
  )
)
