/**
 * The punktfunk/1 path's control plane against a real host (fake frame producer, real TLS 1.3
 * on loopback, real pairing store on disk): pairing by PIN, refusals an operator would read,
 * sessions that end alone when their client misbehaves, a capture of a client session, and a
 * bitrate storm that cannot flood the host's log.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Logger, Schema } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { PairedClient, PendingPairing } from "../src/api/Pairing.js"
import { CaptureMeta } from "../src/api/Stats.js"
import { connect, newPin, pair } from "../src/client/ControlClient.js"
import type { ClientIdentity } from "../src/client/ControlClient.js"
import { HostIdentity } from "../src/services/HostIdentity.js"
import { ControlServer } from "../src/streams/punktfunk1/ControlServer.js"
import { frame, ReceiverReport } from "../src/streams/punktfunk1/Protocol.js"
import { armedSamples, json, savedCapture, startHost, tempDir, waitFor } from "./support/TestHost.js"
import type { StartedHost } from "./support/TestHost.js"
import { endpointOf, identity } from "./support/PairedClient.js"


const pairingApi = (host: StartedHost, route: string, init: RequestInit = {}) =>
  Effect.promise(() => host.fetch(`${host.url}/api/v1/pairing${route}`, init))

const pendingList = (host: StartedHost) =>
  pairingApi(host, "/pending").pipe(
    Effect.flatMap((r) => Effect.promise(() => json(r))),
    Effect.map(Schema.decodeUnknownSync(Schema.Array(PendingPairing)))
  )

const waitPending = (host: StartedHost, count: number) =>
  Effect.promise(() =>
    waitFor(async () => (await Effect.runPromise(pendingList(host))).length >= count, 10_000, "a pending pairing request")
  ).pipe(Effect.zipRight(pendingList(host)))

const enterPin = (host: StartedHost, requestId: string, pin: string) =>
  pairingApi(host, `/pending/${requestId}/pin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pin })
  })

/** Pairs `client` through the operator API; returns the pinned host fingerprint. */
const pairThroughApi = (host: StartedHost, client: ClientIdentity, name: string) =>
  Effect.gen(function* () {
    const pin = newPin()
    const waiting = yield* Effect.fork(pair({ endpoint: endpointOf(host), identity: client, name, pin }))
    const [request] = yield* waitPending(host, 1)
    expect(request?.name).toBe(name)
    expect(request?.fingerprint).toBe(client.fingerprint)
    const res = yield* enterPin(host, request?.request_id ?? "", pin)
    expect(res.status).toBe(200)
    return yield* Fiber.join(waiting)
  })

const request = { width: 1280, height: 720, fps: 60, codec: "h264", bitrate_kbps: 8000 } as const

describe("punktfunk/1 control plane", () => {
  it.scopedLive("pairs with the PIN the client shows; the pairing survives a restart", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const host = yield* startHost({ dir })
      const client = yield* identity("living-room")
      const hostFp = yield* pairThroughApi(host, client, "living-room")
      expect(hostFp).toBe(Context.get(host.context, HostIdentity).fingerprint)

      const clients = Schema.decodeUnknownSync(Schema.Array(PairedClient))(
        yield* pairingApi(host, "/clients").pipe(Effect.flatMap((r) => Effect.promise(() => json(r))))
      )
      expect(clients.map((c) => [c.fingerprint, c.path, c.name])).toEqual([[client.fingerprint, "punktfunk1", "living-room"]])
      expect(yield* pendingList(host)).toEqual([])

      // A second host on the same directory: same certificate, same paired client.
      const again = yield* startHost({ dir })
      expect(Context.get(again.context, HostIdentity).fingerprint).toBe(hostFp)
      const session = yield* connect({ endpoint: endpointOf(again), identity: client, pinnedHost: hostFp, name: "living-room", request })
      expect(session.welcome.width).toBe(1280)
    })
  )

  it.scopedLive("a wrong PIN refuses the request on both sides", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const client = yield* identity("guess")
      const waiting = yield* Effect.fork(pair({ endpoint: endpointOf(host), identity: client, name: "guess", pin: "1234" }))
      const [pending] = yield* waitPending(host, 1)
      const res = yield* enterPin(host, pending?.request_id ?? "", "4321")
      expect(res.status).toBe(403)
      expect(yield* Effect.promise(() => json(res))).toMatchObject({ _tag: "WrongPin" })
      const outcome = yield* Fiber.join(waiting).pipe(Effect.flip)
      expect(outcome.message).toMatch(/PIN entered on the host does not match/)
      // One attempt per request: the right PIN now finds nothing.
      expect((yield* enterPin(host, pending?.request_id ?? "", "1234")).status).toBe(404)
      expect(yield* pairingApi(host, "/clients").pipe(Effect.flatMap((r) => Effect.promise(() => json(r))))).toEqual([])
    })
  )

  it.scopedLive("an unpaired certificate, a foreign host and plain TCP garbage are refused; the host goes on", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const paired = yield* identity("paired")
      const hostFp = yield* pairThroughApi(host, paired, "paired")
      const stranger = yield* identity("stranger")

      const refused = yield* connect({ endpoint: endpointOf(host), identity: stranger, pinnedHost: hostFp, name: "stranger", request }).pipe(Effect.flip)
      expect(refused.message).toMatch(/not paired with the host/)

      // The client refuses a host whose certificate is not the one it paired with.
      const foreign = yield* connect({ endpoint: endpointOf(host), identity: paired, pinnedHost: "0".repeat(64), name: "paired", request }).pipe(Effect.flip)
      expect(foreign.message).toMatch(/not the one paired/)

      // Garbage instead of a TLS handshake, and a TLS connection without a client certificate.
      yield* Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(endpointOf(host).port, "127.0.0.1", () => s.end(Buffer.from("GET / HTTP/1.1\r\n\r\n")))
            s.on("close", () => resolve())
            s.on("error", () => resolve())
          })
      )
      const noCert = yield* Effect.promise(
        () =>
          new Promise<string>((resolve) => {
            let got = ""
            const s = tls.connect({ host: "127.0.0.1", port: endpointOf(host).port, rejectUnauthorized: false })
            s.on("data", (d: Buffer) => (got += d.toString()))
            s.on("close", () => resolve(got))
            s.on("error", () => resolve(got))
          })
      )
      expect(noCert).toMatch(/a client certificate is required/)

      const ok = yield* connect({ endpoint: endpointOf(host), identity: paired, pinnedHost: hostFp, name: "paired", request })
      expect(ok.welcome.session_id).not.toBe("")
      const counters = yield* Context.get(host.context, ControlServer).counters
      expect(counters.refused).toBeGreaterThanOrEqual(3)
    })
  )

  it.scopedLive("garbage from one client ends only its session; a silent client is dropped; unpairing ends a session", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_PUNKTFUNK1_CLIENT_TIMEOUT_MS: "1500" } })
      const a = yield* identity("a")
      const b = yield* identity("b")
      const c = yield* identity("c")
      const hostFp = yield* pairThroughApi(host, a, "a")
      yield* pairThroughApi(host, b, "b")
      yield* pairThroughApi(host, c, "c")
      const control = Context.get(host.context, ControlServer)

      const sa = yield* connect({ endpoint: endpointOf(host), identity: a, pinnedHost: hostFp, name: "a", request })
      const sb = yield* connect({ endpoint: endpointOf(host), identity: b, pinnedHost: hostFp, name: "b", request })
      const ra = yield* Effect.fork(sa.run)
      const rb = yield* Effect.fork(sb.run)
      yield* Effect.promise(() => waitFor(async () => (await Effect.runPromise(control.counters)).active_sessions === 2, 10_000, "two sessions"))

      yield* sa.conn.send(frame("{ this is not json"))
      expect(yield* Fiber.join(ra)).toMatch(/malformed control message/)
      const pingsBefore = sb.pings()
      yield* Effect.promise(() => waitFor(() => sb.pings() > pingsBefore + 2, 10_000, "b still pinged"))
      expect((yield* control.counters).active_sessions).toBe(1)

      // A client that stays connected but says nothing is gone after the timeout.
      const sc = yield* connect({ endpoint: endpointOf(host), identity: c, pinnedHost: hostFp, name: "c", request, answerPings: false })
      expect(yield* sc.run).toMatch(/no word from the client/)

      // Removing b from the Devices list ends its running session, and it cannot come back.
      expect((yield* pairingApi(host, `/clients/${b.fingerprint}`, { method: "DELETE" })).status).toBe(204)
      expect(yield* Fiber.join(rb)).toMatch(/removed from the host/)
      const back = yield* connect({ endpoint: endpointOf(host), identity: b, pinnedHost: hostFp, name: "b", request }).pipe(Effect.flip)
      expect(back.message).toMatch(/not paired/)
      yield* Effect.promise(() => waitFor(async () => (await Effect.runPromise(control.counters)).active_sessions === 0, 10_000, "no sessions"))
    })
  )

  it.scopedLive("an armed capture of a client session is punktfunk1, names the client and carries measured RTT", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ windowMs: 300 })
      const client = yield* identity("desk")
      const hostFp = yield* pairThroughApi(host, client, "desk")
      expect((yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)
      const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "desk", request })
      const running = yield* Effect.fork(session.run)
      yield* armedSamples(host, 4)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(
        yield* Effect.promise(async () => json(await host.fetch("/stop", { method: "POST" })))
      )
      yield* session.goodbye("done")
      yield* Fiber.interrupt(running)
      const capture = yield* savedCapture(host, meta.id)
      expect(capture.meta.kind).toBe("punktfunk1")
      expect(capture.meta.client).toBe(client.fingerprint.slice(0, 16))
      expect(capture.meta.sessions[0]?.stages).toEqual(["capture", "submit", "encode", "send"])
      expect(capture.meta.measured).toContain("rtt_us")
      // Pings go out every 500 ms; windows after the first carry a real round trip.
      expect(capture.samples.filter((s) => s.rtt_us > 0).length).toBeGreaterThanOrEqual(2)
    })
  )

  it.scopedLive("the client's dropped frames are their own field, never added to the host's missed deadlines", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ windowMs: 300 })
      const client = yield* identity("couch")
      const hostFp = yield* pairThroughApi(host, client, "couch")
      expect((yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)
      // A media port makes the session one that sends to this client, whose reports then count.
      const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "couch", request: { ...request, udp_port: 9 } })
      const running = yield* Effect.fork(session.run)
      const report = { packets_received: 100, packets_lost: 4, fec_recovered: 3, frames_decoded: 30, frames_dropped: 5, decode_us: 900 }
      yield* session.report(new ReceiverReport(report))
      yield* session.report(new ReceiverReport(report))
      yield* armedSamples(host, 4)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(
        yield* Effect.promise(async () => json(await host.fetch("/stop", { method: "POST" })))
      )
      yield* session.goodbye("done")
      yield* Fiber.interrupt(running)
      const capture = yield* savedCapture(host, meta.id)
      const sum = (f: "client_frames_dropped" | "frames_dropped" | "packets_dropped") => capture.samples.reduce((n, s) => n + s[f], 0)
      expect(capture.meta.measured).toEqual(expect.arrayContaining(["client_frames_dropped", "packets_dropped", "fec_recovered"]))
      expect(sum("client_frames_dropped")).toBe(10)
      expect(sum("packets_dropped")).toBe(8)
      // The fake producer misses no deadline: the host's own counter stays 0 whatever the client reports.
      expect(sum("frames_dropped")).toBe(0)
    })
  )

  it.scopedLive("a client's bitrate storm: at most one log line per session and second, every change counted", () => {
    const lines: Array<string> = []
    const collect = Logger.make(({ message }) => {
      const text = Array.isArray(message) ? message.join(" ") : String(message)
      if (text.includes("bitrate")) lines.push(text)
    })
    return Effect.gen(function* () {
      const host = yield* startHost()
      const client = yield* identity("storm")
      const hostFp = yield* pairThroughApi(host, client, "storm")
      const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "storm", request })
      const running = yield* Effect.fork(session.run)
      // 200 changes as fast as the client can send them, to a target that moves every time.
      const STORM = 200
      for (let i = 1; i <= STORM; i++) yield* session.setBitrate(4000 + i)
      yield* Effect.promise(() => waitFor(() => session.bitrateKbps() === 4000 + STORM, 10_000, "the host to apply the last change"))
      // Every change is in the log once its burst's summary is out.
      const counted = () =>
        lines.reduce((n, l) => n + (/: (\d+) more bitrate changes? /.exec(l) !== null ? Number(/: (\d+) more/.exec(l)![1]) : 1), 0)
      yield* Effect.promise(() => waitFor(() => counted() === STORM, 10_000, `${STORM} changes counted in the log: ${lines.join(" | ")}`))
      expect(lines[0]).toMatch(/^punktfunk\/1 session \S+: bitrate 4001 kb\/s at the client's request$/)
      expect(lines.at(-1)).toMatch(new RegExp(`the last to ${4000 + STORM} kb/s$`))
      // One line at once, then at most one a second while the storm lasts: a handful, not 200.
      expect(lines.length).toBeLessThan(STORM / 10)
      yield* session.goodbye("done")
      yield* Fiber.await(running)
    }).pipe(Effect.provide(Logger.add(collect)))
  })
})
