/**
 * Connection limits on the management API and the punktfunk/1 control port of a real host:
 * the per-address cap, the oldest unauthenticated connection evicted when a port is full, a
 * trickled head cut by the header timeout, live event streams (authenticated, held open) that
 * outlive the idle timeout but are capped in number, and a punktfunk/1 pairing's wait for the PIN
 * that outlives it too. Attackers connect from 127.0.0.2–254; the operator and the clients from
 * 127.0.0.1. Asserted: who gets in, who is closed, the counters; never a time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Schema } from "effect"
import * as http from "node:http"
import { PendingPairing } from "../src/api/Pairing.js"
import { newPin, pair } from "../src/client/ControlClient.js"
import type { Endpoint } from "../src/client/ControlClient.js"
import { ControlServer } from "../src/streams/punktfunk1/ControlServer.js"
import { closedByHost, countersOf, hold, trickle } from "./support/Sockets.js"
import { json, startHost, waitFor } from "./support/TestHost.js"
import type { StartedHost } from "./support/TestHost.js"
import { identity, typePin } from "./support/PairedClient.js"


const portOf = (host: StartedHost) => Number(new URL(host.url).port)

/** One request on its own connection (no keep-alive pool whose idle sockets the host may close). */
const request = (host: StartedHost, method: string, route: string, token: string | null = host.token) =>
  Effect.promise(
    () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: portOf(host),
            method,
            path: `/api/v1/stats${route}`,
            agent: false,
            headers: token === null ? {} : { authorization: `Bearer ${token}` }
          },
          (res) => {
            let body = ""
            res.setEncoding("utf8")
            res.on("data", (c: string) => (body += c))
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
          }
        )
        req.on("error", reject)
        req.end()
      })
  )

interface Subscriber {
  readonly status: number
  readonly body: () => string
  readonly ended: () => boolean
  readonly close: () => void
}

/** `GET /live/events` on its own connection, read as it arrives. */
const subscribe = (host: StartedHost) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<Subscriber>((resolve, reject) => {
          const req = http.get(
            {
              host: "127.0.0.1",
              port: portOf(host),
              path: "/api/v1/stats/live/events",
              agent: false,
              headers: { authorization: `Bearer ${host.token}` }
            },
            (res) => {
              let body = ""
              let ended = false
              res.setEncoding("utf8")
              res.on("data", (c: string) => (body += c))
              res.on("close", () => (ended = true))
              res.on("error", () => (ended = true))
              resolve({ status: res.statusCode ?? 0, body: () => body, ended: () => ended, close: () => req.destroy() })
            }
          )
          req.on("error", reject)
        })
    ),
    (s) => Effect.sync(() => s.close())
  )

const punktfunk1Endpoint = (host: StartedHost): Endpoint => ({ host: "127.0.0.1", port: Context.get(host.context, ControlServer).port })

const caps = { PUNKTFUNK_MAX_CONNECTIONS: "4", PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS: "2" }

describe("connection limits on the management API and punktfunk/1", () => {
  it.scopedLive("management API: the per-address cap (socket address, not X-Forwarded-For) refuses the N+1th; a full port evicts the oldest unauthenticated for the operator", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: caps })
      const port = portOf(host)
      // Each claims another client in X-Forwarded-For: the cap counts the socket's address only.
      const claiming = (n: number) => `GET /api/v1/stats/status HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.${n}\r\n`
      const a = [yield* hold(port, "127.0.0.2", claiming(1)), yield* hold(port, "127.0.0.2", claiming(2))]
      const third = yield* hold(port, "127.0.0.2", claiming(3))
      yield* closedByHost(third)
      expect((yield* countersOf(host, "management")).refused_per_address).toBe(1)

      const b = [yield* hold(port, "127.0.0.3"), yield* hold(port, "127.0.0.3")]
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(countersOf(host, "management"))).open === 4, 5_000, "4 open")
      )
      // The port is full of silent connections; the operator's request still gets through.
      expect((yield* request(host, "GET", "/status")).status).toBe(200)
      yield* closedByHost(a[0] as (typeof a)[number], "the oldest silent connection to go")
      expect([a[1]?.closed(), b[0]?.closed(), b[1]?.closed()]).toEqual([false, false, false])
      expect((yield* countersOf(host, "management")).evicted).toBe(1)
      // The operator sees it in /metrics too.
      const metrics = yield* Effect.promise(() => host.fetch(`${host.url}/metrics`).then((r) => r.text()))
      expect(metrics).toContain('punktfunk_connections_refused_total{listener="management",reason="per_address"} 1')
      expect(metrics).toContain('punktfunk_connections_evicted_total{listener="management"} 1')
      expect(metrics).toMatch(/punktfunk_connections_open\{listener="punktfunk1"\} 0/)
    })
  )

  it.scopedLive("management API: a trickled head is cut by the header timeout; live event streams outlive the idle timeout, the one past the cap is refused", () =>
    Effect.gen(function* () {
      const host = yield* startHost({
        env: { PUNKTFUNK_HEADER_TIMEOUT_MS: "500", PUNKTFUNK_IDLE_TIMEOUT_MS: "500", PUNKTFUNK_MAX_LIVE_SUBSCRIBERS: "2" }
      })
      const cut = yield* trickle(portOf(host), "GET /api/v1/stats/status HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100, "127.0.0.4")
      expect(cut.sent).toBeLessThan(60)
      expect((yield* countersOf(host, "management")).header_timeouts).toBe(1)

      const first = yield* subscribe(host)
      const second = yield* subscribe(host)
      expect([first.status, second.status]).toEqual([200, 200])
      const third = yield* subscribe(host)
      expect(third.status).toBe(503)
      yield* Effect.promise(() => waitFor(() => third.ended(), 5_000, "the refusal's body"))
      const refusal = JSON.parse(third.body()) as { _tag: string; message: string; max: number }
      expect(refusal).toMatchObject({ _tag: "TooManySubscribers", max: 2 })
      expect(refusal.message).toMatch(/2 live event streams are open already \(PUNKTFUNK_MAX_LIVE_SUBSCRIBERS\)/)

      // A connection that asked once and went quiet is cut by the idle timeout; the streams,
      // silent as long (no source: no samples), are not.
      const quiet = yield* hold(portOf(host), "127.0.0.5", "GET /api/v1/stats/status HTTP/1.1\r\nHost: x\r\n\r\n")
      yield* closedByHost(quiet, "the idle timeout to cut a quiet keep-alive connection")
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(countersOf(host, "management"))).idle_timeouts >= 1, 5_000, "an idle timeout")
      )
      expect([first.ended(), second.ended()]).toEqual([false, false])
      // They still carry events: arming is announced on both.
      expect((yield* request(host, "POST", "/start")).status).toBe(200)
      yield* Effect.promise(() =>
        waitFor(() => first.body().split("event: status").length === 3 && second.body().split("event: status").length === 3, 5_000, "the armed status on both streams")
      )
      expect((yield* countersOf(host, "management")).streams).toBe(2)
      expect((yield* countersOf(host, "management")).streams_refused).toBe(1)

      // One stream closes: a new subscriber is accepted again.
      first.close()
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(countersOf(host, "management"))).streams === 1, 5_000, "the stream count to drop")
      )
      expect((yield* subscribe(host)).status).toBe(200)
    })
  )

  it.scopedLive("punktfunk/1: the per-address cap, eviction of the oldest unauthenticated, a trickled TLS handshake cut; a pairing waiting for the PIN outlives the idle timeout", () =>
    Effect.gen(function* () {
      const host = yield* startHost({
        env: { ...caps, PUNKTFUNK_HEADER_TIMEOUT_MS: "1000", PUNKTFUNK_IDLE_TIMEOUT_MS: "1000" }
      })
      const port = punktfunk1Endpoint(host).port
      const counters = countersOf(host, "punktfunk1")
      const openIs = (n: number) =>
        Effect.promise(() => waitFor(async () => (await Effect.runPromise(counters)).open === n, 5_000, `${n} open`))
      const a = [yield* hold(port, "127.0.0.2"), yield* hold(port, "127.0.0.2")]
      const third = yield* hold(port, "127.0.0.2")
      yield* closedByHost(third)
      expect((yield* counters).refused_per_address).toBe(1)
      yield* hold(port, "127.0.0.3")
      yield* hold(port, "127.0.0.3")
      yield* openIs(4)
      // Full of silent connections: a client pairing still gets in (the oldest silent one goes),
      // and its wait for the operator outlasts the idle timeout (it is held open).
      const client = yield* identity("limits-punktfunk1")
      const pin = newPin()
      const pairing = yield* Effect.fork(pair({ endpoint: punktfunk1Endpoint(host), identity: client, name: "limits-punktfunk1", pin }))
      yield* closedByHost(a[0] as (typeof a)[number], "the oldest silent connection to go")
      // The silent ones are cut by the header timeout meanwhile; the pairing waits on.
      yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(counters)).header_timeouts >= 3, 10_000, "the silent connections cut")
      )
      const [pending] = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(
        yield* Effect.promise(() => host.fetch(`${host.url}/api/v1/pairing/pending`).then(json))
      )
      expect(pending?.name).toBe("limits-punktfunk1")
      expect((yield* counters).streams).toBe(1)
      // Longer than the idle timeout without a byte on the pairing's connection.
      yield* Effect.sleep("1500 millis")
      const entered = yield* typePin(host, pending?.request_id ?? "", pin)
      expect(entered.status).toBe(200)
      yield* Fiber.join(pairing)

      // A TLS handshake trickled a byte every 100 ms is cut by the header timeout.
      const before = (yield* counters).header_timeouts
      const trickled = yield* trickle(port, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(100, 1)]), 100, "127.0.0.4")
      expect(trickled.sent).toBeLessThan(105)
      expect((yield* counters).header_timeouts).toBe(before + 1)
      expect((yield* counters).evicted).toBe(1)
    })
  )
})
