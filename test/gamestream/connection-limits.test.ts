/**
 * Connection limits on nvhttp (HTTP and HTTPS) of a real host: the per-address cap, the oldest
 * unauthenticated connection evicted when a port is full (a Moonlight client still gets its
 * answer), trickled heads and TLS handshakes cut by the header timeout, and a pairing's
 * `getservercert` wait for the operator's PIN that outlives the idle timeout. Attackers connect
 * from 127.0.0.2–254, the client from 127.0.0.1. Asserted: who gets in, who is closed, the
 * counters; never a time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import type { ListenerName } from "../../src/services/ConnectionLimits.js"
import { closedByHost, countersOf, hold, trickle } from "../support/Sockets.js"
import type { StartedHost } from "../support/TestHost.js"
import { waitFor } from "../support/TestHost.js"
import type { ClientIdentity } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"


const openIs = (host: StartedHost, listener: ListenerName, n: number) =>
  Effect.promise(() => waitFor(async () => (await Effect.runPromise(countersOf(host, listener))).open === n, 5_000, `${n} open on ${listener}`))

/** A TLS connection with `identity`'s certificate that finishes its handshake and then says nothing. */
const tlsQuiet = (port: number, identity: ClientIdentity, localAddress: string) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ readonly socket: tls.TLSSocket; readonly closed: () => boolean }>((resolve, reject) => {
          let closed = false
          const raw = net.connect({ port, host: "127.0.0.1", localAddress })
          raw.on("error", () => raw.destroy())
          const socket = tls.connect({ socket: raw, cert: identity.certPem, key: identity.keyPem, rejectUnauthorized: false })
          socket.once("secureConnect", () => resolve({ socket, closed: () => closed }))
          socket.on("error", (e) => (closed ? undefined : reject(e)))
          socket.on("close", () => (closed = true))
        })
    ),
    (c) => Effect.sync(() => c.socket.destroy())
  )

describe("connection limits on nvhttp", () => {
  it.scopedLive("HTTP and HTTPS: the per-address cap refuses the N+1th; a full port evicts the oldest unauthenticated and the client is answered", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_MAX_CONNECTIONS: "4", PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS: "2" } })
      const gs = gameStreamOf(host)
      const client = clientFor(host, yield* newIdentity("limits-nvhttp"))
      for (const [listener, port, secure] of [["nvhttp", gs.httpPort, false], ["nvhttps", gs.httpsPort, true]] as const) {
        const a = [yield* hold(port, "127.0.0.2"), yield* hold(port, "127.0.0.2")]
        const third = yield* hold(port, "127.0.0.2")
        yield* closedByHost(third)
        expect((yield* countersOf(host, listener)).refused_per_address).toBe(1)
        yield* hold(port, "127.0.0.3")
        yield* hold(port, "127.0.0.3")
        yield* openIs(host, listener, 4)
        const answer = yield* Effect.promise(() => client.request(secure, "/serverinfo"))
        expect(answer.status).toBe(200)
        yield* closedByHost(a[0] as (typeof a)[number], "the oldest silent connection to go")
        expect(a[1]?.closed()).toBe(false)
        expect((yield* countersOf(host, listener)).evicted).toBe(1)
      }
    })
  )

  it.scopedLive("a trickled request head (HTTP) and a trickled TLS handshake (HTTPS) are cut by the header timeout", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_HEADER_TIMEOUT_MS: "500" } })
      const gs = gameStreamOf(host)
      const head = yield* trickle(gs.httpPort, `GET /serverinfo?uniqueid=${"0".repeat(64)} HTTP/1.1\r\nHost: x\r\n`, 100, "127.0.0.4")
      expect(head.sent).toBeLessThan(80)
      expect((yield* countersOf(host, "nvhttp")).header_timeouts).toBe(1)
      const handshake = yield* trickle(gs.httpsPort, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(100, 1)]), 100, "127.0.0.5")
      expect(handshake.sent).toBeLessThan(105)
      expect((yield* countersOf(host, "nvhttps")).header_timeouts).toBe(1)
      expect((yield* countersOf(host, "nvhttps")).in_head_bytes).toBe(0)
    })
  )

  it.scopedLive("a pairing's getservercert wait outlives the idle timeout; a silent connection does not", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_IDLE_TIMEOUT_MS: "500", PUNKTFUNK_HEADER_TIMEOUT_MS: "5000" } })
      const gs = gameStreamOf(host)
      // Silent from the start: the idle timeout (shorter than the header timeout here) cuts it.
      const quiet = yield* hold(gs.httpPort, "127.0.0.6")
      yield* closedByHost(quiet, "the idle timeout to cut the quiet request")
      expect((yield* countersOf(host, "nvhttp")).idle_timeouts).toBe(1)
      // The operator takes longer than the idle timeout to type the PIN.
      const client = clientFor(host, yield* newIdentity("limits-pairing"))
      const paired = yield* pairViaOperator(host, client, "5150", "5150", { operatorDelayMs: 1_500 })
      expect(paired.outcome.paired).toBe(true)
      expect((yield* countersOf(host, "nvhttp")).idle_timeouts).toBe(1)
    })
  )

  it.scopedLive("HTTPS: a paired client's certificate authenticates its connection (never evicted); an unpaired one's is evicted first", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_MAX_CONNECTIONS: "3" } })
      const gs = gameStreamOf(host)
      const paired = yield* newIdentity("limits-paired")
      expect((yield* pairViaOperator(host, clientFor(host, paired), "2580")).outcome.paired).toBe(true)
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(countersOf(host, "nvhttps"))).open === 0, 5_000, "the pairing's connections to close")
      )
      // Both finish TLS and send nothing; the paired one is older.
      const trusted = yield* tlsQuiet(gs.httpsPort, paired, "127.0.0.1")
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(countersOf(host, "nvhttps"))).authenticated === 1, 5_000, "the paired connection authenticated")
      )
      const stranger = yield* tlsQuiet(gs.httpsPort, yield* newIdentity("limits-stranger"), "127.0.0.7")
      const silent = yield* hold(gs.httpsPort, "127.0.0.8")
      yield* openIs(host, "nvhttps", 3)
      // Full: each newcomer evicts the oldest unauthenticated — the stranger, then the silent one —
      // never the paired client's older connection.
      yield* hold(gs.httpsPort, "127.0.0.9")
      yield* Effect.promise(() => waitFor(() => stranger.closed(), 5_000, "the unpaired connection to go"))
      yield* hold(gs.httpsPort, "127.0.0.10")
      yield* closedByHost(silent)
      expect(trusted.closed()).toBe(false)
      expect(yield* countersOf(host, "nvhttps")).toMatchObject({ evicted: 2, authenticated: 1, open: 3 })
    })
  )
})
