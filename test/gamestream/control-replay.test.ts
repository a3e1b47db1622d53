/**
 * The control stream's replay window at the level of `makeControlStream` (the real libenet host,
 * our TypeScript ENet client): a replayed message never reaches a handler and is counted; the
 * window and the host's own message counter belong to the session KEY, so a second session under
 * the same key (a repeated RTSP PLAY of one launch) neither accepts the first one's numbers again
 * nor makes the host seal two messages with one nonce. The attack test with a whole host and the
 * X display is test/faults/gamestream-replay.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Queue } from "effect"
import { randomBytes, randomInt } from "node:crypto"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import { CHANNEL_GENERIC, ControlClient, controlSettings, sealAsClient } from "./support/ControlClient.js"
import { EnetClient } from "./support/EnetClient.js"
import { controlRecorder as recorder } from "./support/ControlRecorder.js"

const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`never saw ${what}`) }))

const lossPayload = (lost: number) => {
  const p = Buffer.alloc(32)
  p.writeUInt32LE(lost, 0)
  return p
}

describe("GameStream control stream: replays", () => {
  it.scopedLive("a replayed message reaches no handler and is counted; the session goes on", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = { connectData: randomInt(1, 2 ** 31), keyHex: randomBytes(16).toString("hex") }
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...s }))
      yield* within("start", Queue.take(r.idr))
      const report = client.sealForTest(0x0201, lossPayload(5))
      yield* Effect.promise(() => client.enet.send(CHANNEL_GENERIC, report))
      expect(yield* within("the loss report", Queue.take(r.loss))).toBe(5)
      for (let i = 0; i < 3; i++) yield* Effect.promise(() => client.enet.send(CHANNEL_GENERIC, report))
      yield* Effect.promise(() => client.lossStats(1, 2))
      expect(yield* within("the next loss report", Queue.take(r.loss))).toBe(1) // not 5 again
      expect(yield* control.counters).toMatchObject({ replayed: 3, malformed: 0 })
      expect(yield* Queue.size(r.ended)).toBe(0)
    })
  )

  it.scopedLive("a second session under the same key: old numbers are replays, the host's own numbering goes on", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const keyHex = randomBytes(16).toString("hex")
      const key = Buffer.from(keyHex, "hex")
      const first = { connectData: randomInt(1, 2 ** 31), keyHex }
      const r1 = yield* recorder
      // Session 1: messages 0 (start A), 1 (start B), 2 (loss report); the host terminates it.
      const firstTermination = yield* Effect.scoped(
        Effect.gen(function* () {
          const session = yield* control.expect(controlSettings(first), r1.handlers)
          const client = yield* Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...first }))
          yield* within("start", Queue.take(r1.idr))
          yield* Effect.promise(() => client.lossStats(2, 1))
          expect(yield* within("the loss report", Queue.take(r1.loss))).toBe(2)
          yield* session.terminate("done")
          return yield* Effect.promise(() => client.receive())
        })
      )
      expect(firstTermination).toMatchObject({ type: 0x0109, seq: 0 })

      // Session 2, same key: a peer whose first message is number 0 again proves nothing — dropped.
      const second = { connectData: randomInt(1, 2 ** 31), keyHex }
      const r2 = yield* recorder
      const session = yield* control.expect(controlSettings(second), r2.handlers)
      const replayer = yield* Effect.promise(() => EnetClient.connect({ host: "127.0.0.1", port: control.port, connectData: second.connectData }))
      yield* Effect.promise(() => replayer.send(CHANNEL_GENERIC, sealAsClient(key, "v2", 2, 0x0201, lossPayload(2))))
      yield* within("the replayer's drop", Effect.promise(() => replayer.disconnected))
      expect(yield* control.counters).toMatchObject({ replayed: 1 })
      expect(yield* Queue.size(r2.loss)).toBe(0)
      // A peer that goes on above the numbers used is the client: accepted.
      const client = yield* Effect.promise(() => EnetClient.connect({ host: "127.0.0.1", port: control.port, connectData: second.connectData }))
      yield* Effect.promise(() => client.send(CHANNEL_GENERIC, sealAsClient(key, "v2", 3, 0x0302, Buffer.from([0, 0]))))
      yield* within("the second session's start", Queue.take(r2.idr))
      // The host's termination of session 2 is its number 1 under this key, never 0 again.
      yield* session.terminate("done")
      const message = yield* Effect.promise(() => client.receive())
      const sealedSeq = message.bytes.readUInt32LE(4)
      expect(sealedSeq).toBe(1)
    })
  )

  it.scopedLive("unsequenced messages that overtake each other are all accepted", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = { connectData: randomInt(1, 2 ** 31), keyHex: randomBytes(16).toString("hex") }
      const key = Buffer.from(s.keyHex, "hex")
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* Effect.promise(() => EnetClient.connect({ host: "127.0.0.1", port: control.port, connectData: s.connectData }))
      yield* Effect.promise(() => client.send(CHANNEL_GENERIC, sealAsClient(key, "v2", 0, 0x0302, Buffer.from([0, 0]))))
      yield* within("start", Queue.take(r.idr))
      // Numbers 1..20 sent newest first, unsequenced (as Moonlight sends its FEC status).
      for (let seq = 20; seq >= 1; seq--) {
        yield* Effect.promise(() => client.send(CHANNEL_GENERIC, sealAsClient(key, "v2", seq, 0x0201, lossPayload(seq)), "unsequenced"))
      }
      const got: Array<number> = []
      for (let i = 0; i < 20; i++) got.push(yield* within("each report", Queue.take(r.loss)))
      expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
      expect(yield* control.counters).toMatchObject({ replayed: 0, malformed: 0 })
    })
  )
})
