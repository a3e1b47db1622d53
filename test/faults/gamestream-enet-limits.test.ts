/**
 * Attack: exhausting the GameStream control port (ENet, UDP) before authentication. ENet gives a
 * peer slot to anyone who sends one CONNECT datagram, and keeps a connected peer until it times
 * out; without limits, strangers fill the table and the real client cannot connect. Attackers
 * here send from 127.0.0.2–127.0.0.254 (loopback only), the real client from 127.0.0.1, against
 * `makeControlStream` on the real libenet host:
 *  - the per-address cap (libenet's `duplicatePeers`): a fifth peer from one address is not let in;
 *  - a silent peer — matching a session's connect data or none — and a half-done handshake are
 *    dropped after the authentication timeout, counted;
 *  - a table full of strangers (handshakes and silent peers from many addresses) does not keep
 *    the real client out: the oldest stranger makes room, the client authenticates and its
 *    session works, and a second flood after that never touches it.
 * The counts asserted are the ENet host's own: peers and handshakes held, what each limit dropped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Queue } from "effect"
import { randomInt } from "node:crypto"
import * as dgram from "node:dgram"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import { ControlClient, controlSettings } from "../gamestream/support/ControlClient.js"
import { connectDatagram, EnetClient } from "../gamestream/support/EnetClient.js"
import { controlRecorder as recorder, newControlSession as newSession } from "../gamestream/support/ControlRecorder.js"

const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new Error(`never saw ${what}`) }))

const until = (what: string, check: () => boolean) =>
  Effect.promise(async () => {
    const deadline = Date.now() + 15_000
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  })

/** `n` CONNECT datagrams from `address` (one socket each: a new source port, as a flood sends). */
const handshakeFlood = (port: number, address: string, n: number) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const sockets: Array<dgram.Socket> = []
      for (let i = 0; i < n; i++) {
        const socket = dgram.createSocket("udp4")
        await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()))
        socket.send(connectDatagram(randomInt(1, 2 ** 31)), port, "127.0.0.1")
        sockets.push(socket)
      }
      return sockets
    }),
    (sockets) => Effect.sync(() => sockets.forEach((s) => s.close()))
  )

/** A full ENet connection that then says nothing (it acknowledges, so ENet keeps it alive). */
const silentPeer = (port: number, address: string, connectData = randomInt(1, 2 ** 31)) =>
  Effect.acquireRelease(
    Effect.promise(() => EnetClient.connect({ host: "127.0.0.1", port, connectData, bindAddress: address, timeoutMs: 2000 }).then(
      (c) => c,
      () => undefined
    )),
    (c) => Effect.sync(() => c?.close())
  )

describe("attack: exhausting the GameStream control port before authentication", () => {
  it.scopedLive("per-address cap: a fifth peer from one address is not let in; another address is", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, peersPerAddress: 4, authTimeoutMs: 60_000, unmatchedGraceMs: 60_000 })
      const four = yield* Effect.forEach([1, 2, 3, 4], () => silentPeer(control.port, "127.0.0.2"))
      expect(four.every((c) => c?.isConnected === true)).toBe(true)
      const fifth = yield* silentPeer(control.port, "127.0.0.2")
      expect(fifth).toBeUndefined()
      const other = yield* silentPeer(control.port, "127.0.0.3")
      expect(other?.isConnected).toBe(true)
      // The host counts a peer once it acknowledged the handshake (a moment after the client).
      yield* until("five peers held", () => Effect.runSync(control.enet).peers_connected === 5)
      expect((yield* control.enet).peers_handshaking).toBe(0)
    })
  )

  it.scopedLive("a silent peer (with a session's connect data, or none) and a half-done handshake are dropped after the authentication timeout", () =>
    Effect.gen(function* () {
      // 3 s: long enough that on a loaded machine both peers are still connected when the test
      // looks, short enough to watch them go.
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, authTimeoutMs: 3000, unmatchedGraceMs: 60_000 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const squatter = yield* silentPeer(control.port, "127.0.0.4", s.connectData)
      const stranger = yield* silentPeer(control.port, "127.0.0.5")
      expect(squatter?.isConnected && stranger?.isConnected).toBe(true)
      yield* handshakeFlood(control.port, "127.0.0.6", 3)
      yield* until("the handshakes to be seen", () => Effect.runSync(control.enet).peers_handshaking === 3)
      yield* Effect.promise(() => Promise.all([squatter?.disconnected, stranger?.disconnected]))
      yield* until("the handshakes to be dropped", () => Effect.runSync(control.enet).handshakes_dropped === 3)
      expect(yield* control.enet).toMatchObject({ unauthenticated_dropped: 2, handshakes_dropped: 3, peers_connected: 0, peers_handshaking: 0 })
      yield* until("the drops to be counted as refusals", () => Effect.runSync(control.counters).refused === 2)
      // The real client still comes in, and stays past the timeout once it authenticated.
      const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the client's start", Queue.take(r.idr))
      yield* Effect.sleep("1500 millis")
      yield* Effect.promise(() => client.lossStats(3, 1))
      expect(yield* within("a loss report after the timeout", Queue.take(r.loss))).toBe(3)
      expect(yield* Queue.size(r.ended)).toBe(0)
      expect((yield* control.enet).unauthenticated_dropped).toBe(2)
    })
  )

  it.scopedLive("a table full of strangers does not keep the real client out, and a flood after it authenticated never touches it", () =>
    Effect.gen(function* () {
      const maxPeers = 16
      const control = yield* makeControlStream({
        bind: "127.0.0.1",
        port: 0,
        maxPeers,
        peersPerAddress: 4,
        authTimeoutMs: 60_000, // only eviction acts here
        unmatchedGraceMs: 60_000
      })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      // 200 handshakes from 50 addresses, then 30 silent peers from 30 more.
      for (let a = 10; a < 60; a++) yield* handshakeFlood(control.port, `127.0.0.${a}`, 4)
      yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => `127.0.0.${60 + i}`), (address) => silentPeer(control.port, address), {
        concurrency: 10
      })
      const flooded = yield* control.enet
      expect(flooded.peers_connected + flooded.peers_handshaking).toBeLessThanOrEqual(maxPeers)
      // Strangers displaced strangers (a CONNECT that found no free slot within a turn was ignored
      // by ENet, so not every one of the 230 was let in to be evicted).
      expect(flooded.evicted).toBeGreaterThan(maxPeers)

      const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the real client's start", Queue.take(r.idr))

      // Another flood, now that the client authenticated: strangers displace strangers only.
      for (let a = 100; a < 150; a++) yield* handshakeFlood(control.port, `127.0.0.${a}`, 4)
      yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => `127.0.0.${150 + i}`), (address) => silentPeer(control.port, address), {
        concurrency: 10
      })
      yield* Effect.promise(() => client.lossStats(7, 1))
      expect(yield* within("a loss report after the second flood", Queue.take(r.loss))).toBe(7)
      expect(client.enet.isConnected).toBe(true)
      expect(yield* Queue.size(r.ended)).toBe(0)
      const after = yield* control.enet
      expect(after.peers_connected + after.peers_handshaking).toBeLessThanOrEqual(maxPeers)
      expect(after.evicted).toBeGreaterThan(flooded.evicted + maxPeers)
      expect(yield* control.counters).toMatchObject({ malformed: 0, replayed: 0 })
    })
  )
})
