/**
 * The connection limiter on a bare TCP server (no protocol): what every listener relies on.
 * Attackers connect from 127.0.0.2–254, the well-behaved client from 127.0.0.1. What is asserted
 * is who gets in and who is closed, and the counters an operator would read; never a time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { makeConnectionLimiter } from "../src/lib/ConnectionLimiter.js"
import type { ConnectionLimiter, ListenerLimits } from "../src/lib/ConnectionLimiter.js"
import { closedByHost, hold, trickle } from "./support/Sockets.js"
import { waitFor } from "./support/TestHost.js"

/** A server whose connections say nothing back; `onConnection` sees each admitted socket. */
const serve = (limits: ListenerLimits, onConnection: (socket: net.Socket, limiter: ConnectionLimiter) => void = () => undefined) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ port: number; limiter: ConnectionLimiter; server: net.Server }>((resolve) => {
          const limiter = makeConnectionLimiter("test", limits)
          const server = limiter.guard(net.createServer())
          // After the limiter's own listener: a refused socket is already destroyed here.
          server.on("connection", (socket) => {
            if (!socket.destroyed) onConnection(socket, limiter)
          })
          server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, limiter, server }))
        })
    ),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

const LONG = { headerTimeoutMs: 60_000, idleTimeoutMs: 60_000 }
const openIs = (limiter: ConnectionLimiter, n: number) =>
  Effect.promise(() => waitFor(() => limiter.counters().open === n, 5_000, `${n} open connections`))

describe("connection limiter", () => {
  it.scopedLive("the per-address cap refuses the N+1th from one address; other addresses still get in", () =>
    Effect.gen(function* () {
      const { port, limiter } = yield* serve({ maxConnections: 100, maxPerAddress: 3, ...LONG })
      const first = [yield* hold(port, "127.0.0.2"), yield* hold(port, "127.0.0.2"), yield* hold(port, "127.0.0.2")]
      yield* openIs(limiter, 3)
      const fourth = yield* hold(port, "127.0.0.2")
      yield* closedByHost(fourth)
      const other = yield* hold(port, "127.0.0.3")
      yield* openIs(limiter, 4)
      expect(first.some((h) => h.closed())).toBe(false)
      expect(other.closed()).toBe(false)
      expect(limiter.counters()).toMatchObject({ open: 4, refused_per_address: 1, evicted: 0 })
    })
  )

  it.scopedLive("a full listener evicts the oldest unauthenticated connection; authenticated ones stay; all authenticated: the newcomer is refused", () =>
    Effect.gen(function* () {
      // The first connection authenticates itself (as a paired client would), the rest are silent.
      let n = 0
      const accepted = new Map<number, net.Socket>()
      const { port, limiter } = yield* serve({ maxConnections: 4, maxPerAddress: 100, ...LONG }, (socket, l) => {
        accepted.set(socket.remotePort ?? 0, socket)
        if (n++ === 0) l.connectionOf(socket)?.authenticate()
      })
      const serverSide = (client: net.Socket | undefined) => {
        const socket = accepted.get(client?.localPort ?? -1)
        return socket === undefined ? undefined : limiter.connectionOf(socket)
      }
      const trusted = yield* hold(port, "127.0.0.1")
      yield* openIs(limiter, 1)
      const silent = [yield* hold(port, "127.0.0.2"), yield* hold(port, "127.0.0.3"), yield* hold(port, "127.0.0.4")]
      yield* openIs(limiter, 4)
      // Full: the newcomer gets in, the oldest silent one (not the older, authenticated one) goes.
      const newcomer = yield* hold(port, "127.0.0.5")
      yield* closedByHost(silent[0] as (typeof silent)[number])
      expect([trusted.closed(), silent[1]?.closed(), silent[2]?.closed(), newcomer.closed()]).toEqual([false, false, false, false])
      expect(limiter.counters()).toMatchObject({ open: 4, authenticated: 1, evicted: 1 })

      // Authenticate everyone still open: the next newcomer has nobody to replace and is refused.
      for (const h of [silent[1], silent[2], newcomer]) serverSide(h?.socket)?.authenticate()
      const refused = yield* hold(port, "127.0.0.6")
      yield* closedByHost(refused)
      expect(limiter.counters()).toMatchObject({ open: 4, authenticated: 4, evicted: 1, refused_full: 1 })
    })
  )

  it.scopedLive("the header timeout cuts a trickler; a connection that sent its head but then went silent is cut by the idle timeout; a held-open stream is not", () =>
    Effect.gen(function* () {
      const accepted = new Map<number, net.Socket>()
      const { port, limiter } = yield* serve({ maxConnections: 100, maxPerAddress: 100, headerTimeoutMs: 400, idleTimeoutMs: 400, maxStreams: 1 }, (socket) =>
        void accepted.set(socket.remotePort ?? 0, socket)
      )
      const serverSide = (client: net.Socket) => {
        const socket = accepted.get(client.localPort ?? -1)
        return socket === undefined ? undefined : limiter.connectionOf(socket)
      }
      // A byte every 100 ms of a head that would take 6 s: cut at the header timeout, long before.
      const trickled = yield* trickle(port, "x".repeat(60), 100, "127.0.0.7")
      expect(trickled.sent).toBeLessThan(60)
      expect(limiter.counters().header_timeouts).toBe(1)

      // Two connections send their head and go quiet; one of them becomes a long-lived stream.
      const quiet = yield* hold(port, "127.0.0.8")
      const stream = yield* hold(port, "127.0.0.9")
      yield* openIs(limiter, 2)
      serverSide(quiet.socket)?.headerDone()
      expect(serverSide(stream.socket)?.holdOpen()).toBe(true)
      // A second stream is over the cap of one: refused (the listener answers that as it likes).
      const third = yield* hold(port, "127.0.0.10")
      yield* openIs(limiter, 3)
      expect(serverSide(third.socket)?.holdOpen()).toBe(false)
      yield* closedByHost(quiet, "the idle timeout to cut the quiet connection")
      yield* closedByHost(third, "the refused stream's connection to be cut in turn")
      // Long past both timeouts, the stream is still open.
      yield* Effect.promise(() => waitFor(() => limiter.counters().idle_timeouts + limiter.counters().header_timeouts >= 3, 5_000, "timeouts"))
      expect(stream.closed()).toBe(false)
      expect(limiter.counters()).toMatchObject({ open: 1, streams: 1, streams_refused: 1 })
    })
  )
})
