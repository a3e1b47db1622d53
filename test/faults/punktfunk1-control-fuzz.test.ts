/**
 * Hostile input on the `punktfunk/1` control port, through the real listener (in-process host,
 * fake frame producer, real TLS 1.3 on loopback):
 *
 * - Before any pairing: fast-check frames — random bytes, client messages mutated, cut or
 *   extended, JSON of the wrong shape, oversized length headers — as a connection's first
 *   words. Each connection is closed by the host and counted once in `malformed`; a paired
 *   client streaming meanwhile keeps its session.
 * - From a paired client: receiver reports with counts beyond anything a receiver can see (the
 *   old Schema took any safe integer, and two of them summed past 2^53 into the capture, whose
 *   save then failed: the operator lost the recording). Now refused and counted; a capture
 *   armed meanwhile saves and decodes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Schema } from "effect"
import fc from "fast-check"
import * as tls from "node:tls"
import { CaptureMeta } from "../../src/api/Stats.js"
import { connect } from "../../src/client/ControlClient.js"
import type { ClientIdentity, Endpoint } from "../../src/client/ControlClient.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { frame, MAX_FRAME_BYTES } from "../../src/streams/punktfunk1/FrameReader.js"
import { ClientMessage } from "../../src/streams/punktfunk1/Protocol.js"
import { applyEdits, edits } from "../support/Mutate.js"
import { endpointOf, identity, pairThroughApi } from "../support/PairedClient.js"
import { armedSamples, json, savedCapture, startHost, waitFor } from "../support/TestHost.js"
import type { StartedHost } from "../support/TestHost.js"

const RUNS = Number(process.env["PUNKTFUNK_FUZZ_RUNS"] ?? "30")

const counters = (host: StartedHost) => Context.get(host.context, ControlServer).counters

/** Connects with a throwaway certificate, sends `bytes`, resolves once the host has closed. */
const sendRaw = (endpoint: Endpoint, cert: ClientIdentity, bytes: Buffer) =>
  new Promise<void>((resolve) => {
    const s = tls.connect({ host: endpoint.host, port: endpoint.port, cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false, minVersion: "TLSv1.3" })
    s.on("secureConnect", () => s.write(bytes))
    s.on("data", () => undefined)
    s.on("error", () => s.destroy())
    s.on("close", () => resolve())
  })

const VALID: ReadonlyArray<string> = [
  '{"_tag":"IdrRequest"}',
  '{"_tag":"Echo","id":3}',
  '{"_tag":"BitrateChange","kbps":5000}',
  '{"_tag":"Goodbye","reason":"bye"}',
  '{"_tag":"ReceiverReport","packets_received":10,"packets_lost":0,"fec_recovered":0,"frames_dropped":0,"frames_decoded":2,"decode_us":800}',
  '{"_tag":"Hello","protocol":"punktfunk/1","name":"x","width":1280,"height":720,"fps":60,"codec":"h264","bitrate_kbps":8000}',
  '{"_tag":"Pair","name":"x","pin_proof":"' + "ab".repeat(32) + '"}'
]
const decodeClient = Schema.decodeUnknownEither(Schema.parseJson(ClientMessage))

/**
 * A first frame that must be refused as malformed: a mutated, cut or extended client message
 * (kept only if it no longer decodes as Pair or Hello, which would start a pairing or a
 * session), random bytes, JSON of another shape, or a length header over the limit.
 */
const garbageFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...VALID), edits)
    .map(([json, list]) => applyEdits(Buffer.from(json), list).toString("utf8"))
    .filter((body) => {
      const decoded = decodeClient(body)
      return decoded._tag === "Left" || (decoded.right._tag !== "Pair" && decoded.right._tag !== "Hello")
    })
    .map(frame),
  fc.uint8Array({ maxLength: 200 }).map((u) => frame(Buffer.from(u).toString("utf8"))),
  fc.jsonValue({ maxDepth: 2 }).map((v) => frame(JSON.stringify(v) ?? "null")),
  fc.integer({ min: MAX_FRAME_BYTES + 1, max: 0xffffffff }).map((n) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(n, 0)
    return head
  })
)

describe("punktfunk/1 control listener: hostile input is refused and counted", () => {
  it.scopedLive("garbage as a connection's first words: closed by the host, counted once each; a streaming client goes on", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const paired = yield* identity("paired")
      const hostFp = yield* pairThroughApi(host, paired, "paired")
      const session = yield* connect({ endpoint: endpointOf(host), identity: paired, pinnedHost: hostFp, name: "paired", request: { width: 640, height: 360, fps: 30, codec: "h264", bitrate_kbps: 2000 } })
      const running = yield* Effect.fork(session.run)
      const stranger = yield* identity("stranger")
      const samples = fc.sample(garbageFrame, { numRuns: RUNS, seed: 11 })
      const before = (yield* counters(host)).malformed
      for (const bytes of samples) yield* Effect.promise(() => sendRaw(endpointOf(host), stranger, bytes))
      expect((yield* counters(host)).malformed - before).toBe(samples.length)
      // The paired client's session saw none of it.
      const pings = session.pings()
      yield* Effect.promise(() => waitFor(() => session.pings() > pings, 10_000, "a ping after the garbage"))
      expect((yield* counters(host)).active_sessions).toBe(1)
      yield* session.goodbye("done")
      yield* Fiber.interrupt(running)
    })
  )

  it.scopedLive("receiver reports beyond what a receiver can count are refused and counted; an armed capture still saves", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ windowMs: 200 })
      const client = yield* identity("reporter")
      const hostFp = yield* pairThroughApi(host, client, "reporter")
      expect((yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)
      const request = { width: 640, height: 360, fps: 30, codec: "h264", bitrate_kbps: 2000 } as const
      const huge = Number.MAX_SAFE_INTEGER
      const report = (n: number) =>
        Buffer.from(
          `{"_tag":"ReceiverReport","packets_received":${n},"packets_lost":${n},"fec_recovered":${n},"frames_dropped":${n},"frames_decoded":0,"decode_us":0}`
        )

      // In range: folded into the capture, summed without overflowing a count.
      const ok = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "reporter", request })
      const okRun = yield* Effect.fork(ok.run)
      for (let i = 0; i < 5; i++) yield* ok.conn.send(frame(report(2 ** 32 - 1).toString()))
      yield* armedSamples(host, 3)
      yield* ok.goodbye("done")
      yield* Fiber.interrupt(okRun)

      // Out of range (what the old Schema let through, twice): the session ends, counted.
      const before = (yield* counters(host)).malformed
      const bad = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "reporter", request })
      const badRun = yield* Effect.fork(bad.run)
      yield* bad.conn.send(frame(report(huge).toString()))
      yield* bad.conn.send(frame(report(huge).toString()))
      expect(yield* Fiber.join(badRun)).toMatch(/malformed control message/)
      expect((yield* counters(host)).malformed - before).toBe(1)
      const decodeUs = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "reporter", request })
      const decodeUsRun = yield* Effect.fork(decodeUs.run)
      yield* decodeUs.conn.send(frame('{"_tag":"ReceiverReport","packets_received":0,"packets_lost":0,"fec_recovered":0,"frames_dropped":0,"frames_decoded":0,"decode_us":1e999}'))
      expect(yield* Fiber.join(decodeUsRun)).toMatch(/malformed control message/)
      expect((yield* counters(host)).malformed - before).toBe(2)

      const stopped = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      expect(stopped.status).toBe(200)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(() => json(stopped)))
      const capture = yield* savedCapture(host, meta.id)
      const lost = capture.samples.reduce((sum, s) => sum + s.packets_dropped, 0)
      expect(lost).toBe(5 * (2 ** 32 - 1))
    })
  )
})
