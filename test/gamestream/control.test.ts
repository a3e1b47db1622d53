/**
 * The GameStream control stream end to end: our TypeScript ENet client (written from the ENet
 * protocol description) and a Moonlight-like control client against `makeControlStream` on the
 * real libenet host, over loopback. Messages are sealed both ways; each handler is reached with
 * the right values; termination and disconnects are seen by the other side.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Queue } from "effect"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import { ControlClient, controlSettings } from "./support/ControlClient.js"
import { controlRecorder as recorder, newControlSession as newSession } from "./support/ControlRecorder.js"

/** Guards a wait so a broken host fails the test instead of hanging it; not a timing check. */
const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`never saw ${what}`) }))

const clientFor = (port: number, s: { connectData: number; keyHex: string }, mode: "legacy" | "v2" = "v2") =>
  Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port, connectData: s.connectData, keyHex: s.keyHex, mode }))

describe("GameStream control stream", () => {
  it.scopedLive("binds an ephemeral port and reports it", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      expect(control.port).toBeGreaterThan(0)
      expect(yield* control.counters).toEqual({ malformed: 0, refused: 0, connected: 0, replayed: 0 })
    })
  )

  it.scopedLive("start, IDR requests, reference frame invalidation and loss reports reach the handlers", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* clientFor(control.port, s)
      // Start A of this generation is an IDR request.
      yield* within("the start A IDR request", Queue.take(r.idr))
      yield* Effect.promise(() => client.ping())
      yield* Effect.promise(() => client.requestIdr())
      yield* within("an IDR request", Queue.take(r.idr))
      yield* Effect.promise(() => client.invalidateReferenceFrames(100, 104))
      yield* within("an RFI answered with an IDR", Queue.take(r.idr))
      yield* Effect.promise(() => client.lossStats(0, 50)) // nothing lost: no report
      yield* Effect.promise(() => client.lossStats(7, 60))
      expect(yield* within("a loss report", Queue.take(r.loss))).toBe(7)
      yield* Effect.promise(() => client.frameFecStatus(61, 3))
      expect(yield* within("a FEC status loss report", Queue.take(r.loss))).toBe(3)
      // That block (7 data + 2 parity of 10 data) could not be rebuilt: nothing repaired. This
      // one (8 data + 2 parity) was: the 2 missing data packets came back from parity.
      yield* Effect.promise(() => client.frameFecStatus(62, 2, 2))
      expect(yield* within("a second FEC status loss report", Queue.take(r.loss))).toBe(2)
      expect(yield* within("the repaired packets", Queue.take(r.repaired))).toBe(2)
      expect(yield* Queue.size(r.repaired)).toBe(0)
      expect(yield* Queue.size(r.ended)).toBe(0)
      expect(yield* control.counters).toEqual({ malformed: 0, refused: 0, connected: 1, replayed: 0 })
      yield* Effect.promise(() => client.disconnect())
    })
  )

  it.scopedLive("terminate(): the client gets the sealed graceful termination, then an ENet disconnect", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      const session = yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* clientFor(control.port, s)
      yield* within("start", Queue.take(r.idr))
      yield* session.terminate("operator ended the stream")
      const message = yield* Effect.promise(() => client.receive())
      expect(message.type).toBe(0x0109)
      expect(message.payload.readUInt32BE(0)).toBe(0x80030023)
      expect(message.seq).toBe(0)
      const gone = yield* within("the host's disconnect", Effect.promise(() => client.enet.disconnected))
      expect(gone.data).toBe(0)
      // Host-initiated: `ended` is for the client's side only.
      expect(yield* Queue.size(r.ended)).toBe(0)
    })
  )

  it.scopedLive("the client disconnecting ends the session once", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* clientFor(control.port, s)
      yield* within("start", Queue.take(r.idr))
      yield* Effect.promise(() => client.disconnect())
      const reason = yield* within("ended", Queue.take(r.ended))
      expect(reason).toMatch(/disconnected/)
      expect(yield* Queue.size(r.ended)).toBe(0)
    })
  )

  it.scopedLive("a client that vanishes is timed out by ENet and ends the session", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, timeoutMs: 1000 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings(s), r.handlers)
      const client = yield* clientFor(control.port, s)
      yield* within("start", Queue.take(r.idr))
      client.enet.close() // no disconnect: the socket just goes away
      expect(yield* within("ended after the ENet timeout", Queue.take(r.ended))).toMatch(/timed out/)
    })
  )

  it.scopedLive("V2 IVs (x-ss-general.encryptionEnabled bit 0x01): both directions", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      const session = yield* control.expect(controlSettings({ ...s, encryptionFlags: 0x01 }), r.handlers)
      const client = yield* clientFor(control.port, s, "v2")
      yield* within("start", Queue.take(r.idr))
      yield* Effect.promise(() => client.lossStats(2, 10))
      expect(yield* within("a loss report", Queue.take(r.loss))).toBe(2)
      yield* session.terminate("done")
      const message = yield* Effect.promise(() => client.receive())
      expect(message.type).toBe(0x0109)
    })
  )

  it.scopedLive("closing the session's scope terminates its peer", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      const client = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* control.expect(controlSettings(s), r.handlers)
          const c = yield* clientFor(control.port, s)
          yield* within("start", Queue.take(r.idr))
          return c
        })
      )
      const message = yield* Effect.promise(() => client.receive())
      expect(message.type).toBe(0x0109)
      yield* within("the host's disconnect", Effect.promise(() => client.enet.disconnected))
    })
  )

  it.scopedLive("two sessions at once: each peer reaches its own handlers with its own key", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const a = newSession()
      const b = newSession()
      const ra = yield* recorder
      const rb = yield* recorder
      yield* control.expect(controlSettings(a), ra.handlers)
      yield* control.expect(controlSettings(b), rb.handlers)
      const ca = yield* clientFor(control.port, a)
      const cb = yield* clientFor(control.port, b)
      yield* within("start a", Queue.take(ra.idr))
      yield* within("start b", Queue.take(rb.idr))
      yield* Effect.promise(() => ca.lossStats(11, 1))
      yield* Effect.promise(() => cb.lossStats(22, 1))
      expect(yield* within("a's loss", Queue.take(ra.loss))).toBe(11)
      expect(yield* within("b's loss", Queue.take(rb.loss))).toBe(22)
      yield* Effect.promise(() => ca.disconnect())
      yield* within("a ended", Queue.take(ra.ended))
      // b is untouched.
      yield* Effect.promise(() => cb.requestIdr())
      yield* within("b's IDR", Queue.take(rb.idr))
      expect(yield* Queue.size(rb.ended)).toBe(0)
      expect((yield* control.counters).connected).toBe(2)
    })
  )

  it.scopedLive("a client without the session-id feature is matched by its address", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      yield* control.expect(controlSettings({ ...s, mlFeatureFlags: 0, clientAddress: "::ffff:127.0.0.1" }), r.handlers)
      // Such a client sends connect data 0.
      yield* clientFor(control.port, { ...s, connectData: 0 })
      yield* within("start", Queue.take(r.idr))
    })
  )

  it.scopedLive("a client quicker than its session's registration is held, then adopted with what it sent", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const s = newSession()
      const r = yield* recorder
      // RTSP PLAY answered, the client connects and starts before the runner calls expect.
      const client = yield* clientFor(control.port, s)
      yield* Effect.promise(() => client.lossStats(8, 1))
      yield* control.expect(controlSettings(s), r.handlers)
      yield* within("the held start A", Queue.take(r.idr))
      expect(yield* within("the held loss report", Queue.take(r.loss))).toBe(8)
      yield* Effect.promise(() => client.requestIdr())
      yield* within("a live IDR request", Queue.take(r.idr))
      expect(yield* control.counters).toEqual({ malformed: 0, refused: 0, connected: 1, replayed: 0 })
    })
  )
})
