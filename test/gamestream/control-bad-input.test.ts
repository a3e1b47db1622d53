/**
 * Bad input on the GameStream control port: garbage datagrams, peers with the wrong connect data
 * or the wrong key, unencrypted, oversized, truncated and tampered messages. Each is ignored or
 * drops the offending peer, is counted, and never crashes the host or touches another session
 * (every test keeps a healthy session running beside the offender and checks it afterwards).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Queue } from "effect"
import { randomBytes, randomInt } from "node:crypto"
import * as dgram from "node:dgram"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import type { ControlStream } from "../../src/streams/gamestream/ControlStream.js"
import { ControlClient, controlSettings, innerMessage } from "./support/ControlClient.js"
import { controlRecorder as recorder, newControlSession as newSession } from "./support/ControlRecorder.js"

const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`never saw ${what}`) }))

/** A running, healthy session to check after each abuse. */
const healthy = (control: ControlStream) =>
  Effect.gen(function* () {
    const s = newSession()
    const r = yield* recorder
    yield* control.expect(controlSettings(s), r.handlers)
    const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
    yield* within("the healthy client's start", Queue.take(r.idr))
    const check = Effect.gen(function* () {
      yield* Effect.promise(() => client.lossStats(5, 1))
      expect(yield* within("the healthy client's loss report", Queue.take(r.loss))).toBe(5)
      expect(yield* Queue.size(r.ended)).toBe(0)
    })
    return { client, r, check }
  })

const sendDatagrams = (port: number, datagrams: ReadonlyArray<Buffer>) =>
  Effect.promise(
    () =>
      new Promise<void>((resolve) => {
        const socket = dgram.createSocket("udp4")
        let left = datagrams.length
        for (const d of datagrams) {
          socket.send(d, port, "127.0.0.1", () => {
            if (--left === 0) {
              socket.close()
              resolve()
            }
          })
        }
      })
  )

describe("GameStream control stream: bad input", () => {
  it.scopedLive("garbage datagrams are ignored", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const ok = yield* healthy(control)
      const junk: Array<Buffer> = [Buffer.alloc(0), Buffer.from([0x80]), Buffer.alloc(4000, 0xff)]
      for (let i = 0; i < 200; i++) junk.push(randomBytes(randomInt(1, 1500)))
      // ENet-shaped lies: a connect asking for 0 channels, a truncated connect, an unknown peer id.
      const connect = Buffer.alloc(52)
      connect.writeUInt16BE(0x8fff, 0)
      connect.writeUInt8(0x82, 4)
      connect.writeUInt8(0xff, 5)
      connect.writeUInt16BE(1, 6)
      junk.push(connect, connect.subarray(0, 20))
      const unknownPeer = Buffer.from(connect)
      unknownPeer.writeUInt16BE(0x8005, 0)
      unknownPeer.writeUInt8(0x86, 4)
      junk.push(unknownPeer)
      yield* sendDatagrams(control.port, junk)
      // Also straight at an established peer's id (0), from another address: still nothing.
      const spoof = Buffer.alloc(14)
      spoof.writeUInt16BE(0x8000, 0)
      spoof.writeUInt8(0x86, 4)
      spoof.writeUInt16BE(1, 8)
      yield* sendDatagrams(control.port, [spoof])
      yield* ok.check
      expect((yield* control.counters).connected).toBe(1)
    })
  )

  it.scopedLive("a peer with connect data no session expects is refused and disconnected", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const ok = yield* healthy(control)
      const stranger = yield* Effect.promise(() =>
        ControlClient.connect({ host: "127.0.0.1", port: control.port, connectData: 0x7777, keyHex: randomBytes(16).toString("hex") })
      )
      yield* within("the refusal", Effect.promise(() => stranger.enet.disconnected))
      expect(yield* control.counters).toMatchObject({ refused: 1, connected: 1 })
      yield* ok.check
    })
  )

  it.scopedLive("a second peer with the connect data of a connected session is refused", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const first = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("start", Queue.take(r.idr))
      const second = yield* Effect.promise(() => ControlClient.connect({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the refusal", Effect.promise(() => second.enet.disconnected))
      yield* Effect.promise(() => first.lossStats(9, 1))
      expect(yield* within("the first peer still served", Queue.take(r.loss))).toBe(9)
      expect((yield* control.counters).refused).toBe(1)
    })
  )

  it.scopedLive("the wrong key: the impostor is dropped, the real client can still connect", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const ok = yield* healthy(control)
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const impostor = yield* Effect.promise(() =>
        ControlClient.connect({ host: "127.0.0.1", port: control.port, connectData: s.connectData, keyHex: randomBytes(16).toString("hex") })
      )
      yield* Effect.promise(() => impostor.requestIdr().catch(() => undefined))
      yield* within("the impostor dropped", Effect.promise(() => impostor.enet.disconnected))
      expect(yield* control.counters).toMatchObject({ malformed: 1, refused: 1 })
      expect(yield* Queue.size(r.idr)).toBe(0)
      const real = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the real client's start", Queue.take(r.idr))
      yield* Effect.promise(() => real.lossStats(4, 1))
      expect(yield* within("the real client's loss", Queue.take(r.loss))).toBe(4)
      expect(yield* Queue.size(r.ended)).toBe(0)
      yield* ok.check
    })
  )

  it.scopedLive("an unencrypted message before authentication drops the peer; the session waits on", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const plain = yield* Effect.promise(() => ControlClient.connect({ host: "127.0.0.1", port: control.port, ...s }))
      // Generation-7 unencrypted start A, as a client for an older host would send it.
      yield* Effect.promise(() => plain.enet.send(0, Buffer.from([0x05, 0x03, 0, 0])).catch(() => undefined))
      yield* within("the peer dropped", Effect.promise(() => plain.enet.disconnected))
      expect(yield* control.counters).toMatchObject({ malformed: 1, refused: 1 })
      const real = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the real client's start", Queue.take(r.idr))
      yield* Effect.promise(() => real.disconnect())
    })
  )

  it.scopedLive("oversized, truncated and lying messages from an authenticated peer are counted and ignored", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const ok = yield* healthy(control)
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("start", Queue.take(r.idr))
      const enc = Buffer.alloc(2000)
      enc.writeUInt16LE(0x0001, 0)
      enc.writeUInt16LE(1996, 2)
      yield* Effect.promise(() => client.enet.send(0, enc)) // oversized
      const runt = Buffer.from([0x01, 0x00, 0x04, 0x00, 0, 0, 0, 0])
      yield* Effect.promise(() => client.enet.send(0, runt)) // shorter than seq + tag + header
      const short = Buffer.alloc(40)
      short.writeUInt16LE(0x0001, 0)
      short.writeUInt16LE(100, 2) // claims more than it holds
      yield* Effect.promise(() => client.enet.send(0, short))
      const lying = innerMessage(0x0201, Buffer.alloc(32))
      lying.writeUInt16LE(200, 2) // inner payload length that is not there
      yield* Effect.promise(() => client.sendSealedPlain(lying))
      yield* Effect.promise(() => client.sendMessage(0x0201, Buffer.alloc(8))) // loss stats cut short
      yield* Effect.promise(() => client.sendSealedPlain(Buffer.from([0x02]))) // not even an inner header
      // The session goes on.
      yield* Effect.promise(() => client.lossStats(6, 1))
      expect(yield* within("the loss report after the junk", Queue.take(r.loss))).toBe(6)
      expect(yield* Queue.size(r.ended)).toBe(0)
      expect((yield* control.counters).malformed).toBe(6)
      yield* ok.check
    })
  )

  it.scopedLive("a tampered message from an authenticated peer ends that session only", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const ok = yield* healthy(control)
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("start", Queue.take(r.idr))
      const tampered = Buffer.from(client.sealForTest(0x0302, Buffer.from([0, 0])))
      tampered[tampered.length - 1]! ^= 0x01
      yield* Effect.promise(() => client.enet.send(1, tampered).catch(() => undefined))
      expect(yield* within("ended", Queue.take(r.ended))).toMatch(/authentication/)
      yield* within("the peer dropped", Effect.promise(() => client.enet.disconnected))
      expect((yield* control.counters).malformed).toBe(1)
      yield* ok.check
    })
  )

  it.scopedLive("a silent peer holding a session's connect data is replaced by the next one", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const squatter = yield* Effect.promise(() => ControlClient.connect({ host: "127.0.0.1", port: control.port, ...s }))
      const real = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("the real client's start", Queue.take(r.idr))
      yield* within("the squatter dropped", Effect.promise(() => squatter.enet.disconnected))
      yield* Effect.promise(() => real.lossStats(3, 1))
      expect(yield* within("the real client's loss", Queue.take(r.loss))).toBe(3)
      expect(yield* control.counters).toMatchObject({ refused: 1, connected: 2 })
    })
  )
})
