/**
 * Hostile input through the GameStream listeners, generated with fast-check (fixed seeds,
 * bounded counts): each refusal an operator could look for is counted where the listener keeps
 * its counters, and nothing is a 5xx or a crash.
 *
 * - RTSP: valid requests mutated, cut, extended, and random bytes, one connection each. Every
 *   connection gets an answer (the parser's refusal status where it refuses; a request that
 *   never completes gets 408), never 500; `refused` rises by the number of non-200 answers.
 * - RTSP ANNOUNCE after a real SETUP: Moonlight's SDP with attributes altered or removed,
 *   mutated, random. Answered 200 or 400 naming the SDP attribute, never 500; counted.
 * - nvhttp over plain HTTP: random paths and query parameters (valid values, wrong lengths,
 *   bad hex, junk). The XML `status_code` is 200, 400, 401 or 404, never a 5xx; `malformed`
 *   rises by the number of 400/404 answers.
 * - The control stream, from an authenticated peer: sealed inner messages mutated or random
 *   (input events among them), and unsealed junk envelopes. The session goes on, and
 *   `malformed` rises by exactly the number the decoders refuse.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Queue } from "effect"
import fc from "fast-check"
import { randomBytes, randomInt } from "node:crypto"
import { ControlType, decodeControlMessage } from "../../src/streams/gamestream/ControlMessages.js"
import { envelopeSeq } from "../../src/streams/gamestream/ControlCrypto.js"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import type { ControlHandlers } from "../../src/streams/gamestream/ControlStream.js"
import { parseRequest } from "../../src/streams/gamestream/RtspMessage.js"
import { parseXml } from "../gamestream/support/GameStreamClient.js"
import { ControlClient, controlSettings } from "../gamestream/support/ControlClient.js"
import { endpointOf, gameStreamOf, startGameStreamHost } from "../gamestream/support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, exchange, moonlightAnnounce, RtspClient } from "../gamestream/support/RtspClient.js"
import { startRtsp } from "../gamestream/support/RtspHost.js"
import { rawRequest } from "../support/TestHost.js"
import { hostile, hostileText } from "../support/Mutate.js"

const RUNS = Number(process.env["PUNKTFUNK_FUZZ_RUNS"] ?? "40")
const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`never saw ${what}`) }))

const rtspRequest = fc
  .tuple(fc.constantFrom("OPTIONS", "DESCRIBE", "SETUP", "ANNOUNCE", "PLAY", "TEARDOWN"), fc.constantFrom("rtsp://127.0.0.1:48010", "streamid=audio/0/0", "streamid=control/13/0"), fc.nat({ max: 99 }), fc.boolean())
  .map(([method, target, cseq, withBody]) => {
    const body = withBody ? moonlightAnnounce() : ""
    const head = [`${method} ${target} RTSP/1.0`, `CSeq: ${cseq}`, ...(withBody ? ["Content-type: application/sdp", `Content-length: ${body.length}`] : [])]
    return Buffer.from(`${head.join("\r\n")}\r\n\r\n${body}`, "latin1")
  })

const statusOf = (raw: Buffer): number => {
  const m = /^RTSP\/1\.0 ([0-9]{3}) /.exec(raw.toString("latin1"))
  return m === null ? 0 : Number(m[1])
}

const PATHS = ["/serverinfo", "/pair", "/unpair", "/applist", "/appasset", "/launch", "/resume", "/cancel", "/nowhere", "/", "/pair/../serverinfo"]
const PARAMS = ["uniqueid", "phrase", "salt", "clientcert", "clientchallenge", "serverchallengeresp", "clientpairingsecret", "appid", "mode", "rikey", "rikeyid", "__proto__"]
const hexOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString("hex"))
const paramValue = fc.oneof(
  hexOf(16),
  hexOf(32),
  fc.nat({ max: 80 }).chain(hexOf),
  fc.constantFrom("pairchallenge", "sing", "1920x1080x60", "0x0x0", "1", "-1", "4294967296", ""),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 })
)
const nvTarget = fc
  .tuple(fc.constantFrom(...PATHS), fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 8 })), paramValue), { maxLength: 6 }))
  .map(([path, pairs]) => (pairs.length === 0 ? path : `${path}?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`))

/** Inner control messages: known types with payloads of any length, input events, any type. */
const innerMessage = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(ControlType.requestIdr, ControlType.lossStats, ControlType.frameFecStatus, ControlType.invalidateReferenceFrames, ControlType.inputData, ControlType.startB, ControlType.periodicPing),
      fc.nat({ max: 0xffff })
    ),
    fc.uint8Array({ maxLength: 40 })
  )
  .map(([type, payload]) => {
    const out = Buffer.alloc(4 + payload.length)
    out.writeUInt16LE(type, 0)
    out.writeUInt16LE(payload.length, 2)
    Buffer.from(payload).copy(out, 4)
    return out
  })

describe("GameStream listeners: hostile input is answered, refused and counted", () => {
  it.scopedLive("RTSP: every connection answered with the parser's status (or 408), never 500; refusals counted", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 200 })
      const samples = fc.sample(hostile(rtspRequest, 400), { numRuns: RUNS, seed: 5 })
      const before = yield* rtsp.server.counters
      let notOk = 0
      for (const bytes of samples) {
        const status = statusOf(yield* call(() => exchange(rtsp.port, bytes)))
        const parsed = parseRequest(bytes)
        if (parsed._tag === "Refused") expect(status).toBe(parsed.refusal.status)
        if (parsed._tag === "Incomplete") expect(status).toBe(408)
        expect(status).toBeGreaterThanOrEqual(200)
        expect(status).not.toBe(500)
        if (status !== 200) notOk++
      }
      const after = yield* rtsp.server.counters
      expect(after.requests - before.requests).toBe(samples.length)
      expect(after.refused - before.refused).toBe(notOk)
      expect(notOk).toBeGreaterThan(0)
    })
  )

  it.scopedLive("RTSP ANNOUNCE: hostile SDP bodies after a real SETUP get 200 or 400 naming the attribute, never 500; refusals counted", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 2000 })
      const client = new RtspClient(rtsp.port)
      for (const target of ["streamid=audio/0/0", "streamid=video/0/0", "streamid=control/13/0"]) {
        expect((yield* call(() => client.setup(target))).status).toBe(200)
      }
      const names = ["x-nv-video[0].clientViewportWd", "x-nv-video[0].maxFPS", "x-nv-video[0].packetSize", "x-nv-vqos[0].bitStreamFormat", "x-nv-audio.surround.numChannels", "x-ss-general.encryptionEnabled", "x-nv-vqos[0].bw.maximumBitrateKbps"]
      const body = fc
        .dictionary(fc.constantFrom(...names), fc.option(fc.oneof(fc.integer({ min: -3, max: 300 }).map(String), fc.string({ maxLength: 8 })), { nil: undefined }), { maxKeys: 3 })
        .map((overrides) => moonlightAnnounce(DEFAULT_CLIENT_CONFIG, overrides))
      const samples = fc.sample(hostileText(body, 600).filter((b) => b.length > 0), { numRuns: RUNS, seed: 9 })
      const before = yield* rtsp.server.counters
      let notOk = 0
      for (const sdp of samples) {
        // Latin-1 both ways: the declared length is the bytes sent.
        const answer = yield* call(() =>
          client.request("ANNOUNCE", "streamid=control/13/0", [["Session", client.session ?? ""], ["Content-type", "application/sdp"], ["Content-length", String(sdp.length)]], sdp)
        )
        expect([200, 400]).toContain(answer.status)
        if (answer.status === 400) {
          notOk++
          expect(answer.body).toMatch(/SDP attribute|SDP attributes/)
        }
      }
      const after = yield* rtsp.server.counters
      expect(after.refused - before.refused).toBe(notOk)
      expect(notOk).toBeGreaterThan(0)
      expect(notOk).toBeLessThan(samples.length)
    })
  )

  it.scopedLive("nvhttp: random paths and parameters get a status_code of 200/400/401/404, never 5xx; 400s and 404s counted", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const url = `http://127.0.0.1:${endpointOf(host).httpPort}`
      const samples = fc.sample(nvTarget, { numRuns: RUNS, seed: 8 })
      const before = yield* gameStreamOf(host).counters
      let refusals = 0
      for (const target of samples) {
        const answer = yield* call(() => rawRequest(url, "GET", target))
        expect([target, answer.status < 500]).toEqual([target, true])
        const code = parseXml(answer.body).statusCode
        expect([target, [200, 400, 401, 404].includes(code ?? 0)]).toEqual([target, true])
        if (code === 400 || code === 404) refusals++
      }
      const after = yield* gameStreamOf(host).counters
      expect(after.malformed - before.malformed).toBe(refusals)
      expect(refusals).toBeGreaterThan(0)
    })
  )

  it.scopedLive("control stream: refused inner messages, input events and envelopes are each counted; the session goes on", () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0, unmatchedGraceMs: 200 })
      const session = { connectData: randomInt(1, 2 ** 31), keyHex: randomBytes(16).toString("hex") }
      const idr = yield* Queue.unbounded<void>()
      const loss = yield* Queue.unbounded<number>()
      const ended = yield* Queue.unbounded<string>()
      const inputMalformed: Array<string> = []
      const handlers: ControlHandlers = {
        requestIdr: Queue.offer(idr, undefined),
        lossReport: (n) => Queue.offer(loss, n),
        ended: (reason) => Queue.offer(ended, reason),
        input: { event: () => undefined, malformed: (reason) => void inputMalformed.push(reason) }
      }
      yield* control.expect(controlSettings(session), handlers)
      const client = yield* call(() => ControlClient.start({ host: "127.0.0.1", port: control.port, ...session }))
      yield* within("start", Queue.take(idr))
      const before = (yield* control.counters).malformed

      const inner = fc.sample(hostile(innerMessage, 60), { numRuns: RUNS, seed: 3 })
      let expected = 0
      let expectedInput = 0
      for (const plain of inner) {
        const decoded = decodeControlMessage(plain)
        if (Either.isLeft(decoded)) {
          expected++
          if (decoded.left.type === ControlType.inputData) expectedInput++
        }
        yield* call(() => client.sendSealedPlain(plain))
      }
      // Junk envelopes (not sealed): refused before any decryption, without dropping the peer.
      const junk = fc.sample(fc.uint8Array({ maxLength: 120 }), { numRuns: RUNS, seed: 4 }).map((u) => Buffer.from(u)).filter((b) => Either.isLeft(envelopeSeq(b)))
      for (const bytes of junk) yield* call(() => client.enet.send(0, bytes))
      expected += junk.length

      // Everything before this report was handled in order on the same reliable channel.
      yield* call(() => client.lossStats(7, 1))
      let seen = yield* within("the loss report after the junk", Queue.take(loss))
      while (seen !== 7) seen = yield* within("the loss report after the junk", Queue.take(loss))
      expect(yield* Queue.size(ended)).toBe(0)
      expect((yield* control.counters).malformed - before).toBe(expected)
      expect(inputMalformed.length).toBe(expectedInput)
      expect(expected).toBeGreaterThan(0)
    })
  )
})
