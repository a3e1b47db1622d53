/**
 * GameStream video encryption through a whole host, as a Moonlight client asks for it: pair,
 * launch, DESCRIBE (the host offers bit 0x02 in `x-ss-general.encryptionSupported`), ANNOUNCE with
 * bit 0x02 in `encryptionEnabled` and a packetSize 32 bytes smaller (moonlight-common-c's
 * ENCFLG_VIDEO), the control stream, and the video port. The test client opens every datagram
 * with the launch key before reading it, and decodes the picture with libavcodec.
 *
 * What an operator or user would notice: the encrypted picture decodes; the capture measures
 * what sealing costs (`seal_us`); a second stream under the same key (resumed) never reuses a
 * nonce of the first; and a client that does not ask streams plain datagrams, as before.
 */
import { describe, expect, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { Effect, Schema, Stream } from "effect"
import { Capture, CaptureMeta } from "../../../src/api/Stats.js"
import { nativePipelineLayer } from "../../../src/PipelineChoice.js"
import { ControlClient } from "../support/ControlClient.js"
import { launchParams } from "../support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../support/Hosts.js"
import { announcedPacketSize, DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "../support/RtspClient.js"
import type { ClientStreamConfig } from "../support/RtspClient.js"
import { makeVideoReceiver } from "../support/VideoReceiver.js"
import { json, waitFor } from "../../support/TestHost.js"

const BASE: ClientStreamConfig = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 180, fps: 30, bitrateKbps: 2_000 }
const ENCRYPTED: ClientStreamConfig = { ...BASE, encryptVideo: true }
/**
 * Each launch or resume gets a fresh key, as Moonlight does: the host's control stream refuses a
 * second stream's control messages under a key it has seen (the replay window is per key, and a
 * client's counter restarts at 0). Nonces under one key are covered by the fault test
 * (test/faults/gamestream-video-eavesdrop.test.ts).
 */
const freshKey = () => randomBytes(16).toString("hex")
const paramsWith = (appId: number, rikey: string) => ({ ...launchParams(appId), rikey })

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("GameStream encrypted video", () => {
  it.scopedLive(
    "a client that asks gets every datagram sealed under the launch key and a decodable picture; a second stream reuses no nonce; a client that does not ask gets plain video",
    () =>
      Effect.gen(function* () {
        const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer(), env: { PUNKTFUNK_AUDIO: "silence" } })
        const gs = gameStreamOf(host)
        const client = clientFor(host, yield* newIdentity("e2e-video-encryption"))
        expect((yield* pairViaOperator(host, client, "8642")).outcome.paired).toBe(true)
        expect((yield* promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)
        const appId = Number((yield* promise(() => client.applist())).xml.all("ID")[0])
        const firstKey = freshKey()
        yield* promise(() => client.launch(paramsWith(appId, firstKey)))
        const streamEnded = promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 10_000, "the stream to end"))

        /** One stream of `frames` frames, as `config` asks; the datagrams are kept as they arrived. */
        const streamOnce = (config: ClientStreamConfig, frames: number, key: string) =>
          Effect.scoped(
            Effect.gen(function* () {
              const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(config)))
              expect(hs.play.status).toBe(200)
              expect(hs.describe.body).toContain("a=x-ss-general.encryptionSupported:3")
              expect(hs.describe.body).toContain("a=x-ss-general.encryptionRequested:0")
              const control = yield* Effect.acquireRelease(
                promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: key })),
                (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
              )
              expect(control).toBeDefined()
              const video = yield* makeVideoReceiver({
                hostPort: gs.videoPort,
                pingPayload: hs.videoPingPayload ?? "",
                packetSize: announcedPacketSize(config),
                keepRaw: 100_000,
                ...(config.encryptVideo === true ? { keyHex: key } : {})
              })
              const got = [...(yield* video.frames.pipe(Stream.take(frames), Stream.runCollect, Effect.timeout("30 seconds")))]
              return { frames: got, counters: yield* video.counters, raw: yield* video.raw }
            })
          )

        // 1. Encrypted: every datagram opens, the picture decodes, the datagram keeps its size.
        // 75 frames at 30 fps: at least one whole 1 s window, so the capture holds a sample with
        // the sealing cost (a shorter stream may end before its first window closes).
        const first = yield* streamOnce(ENCRYPTED, 75, firstKey)
        expect(first.frames[0]?.frameType).toBe(2)
        expect(first.frames.every((f) => f.decoded)).toBe(true)
        expect([first.counters.width, first.counters.height]).toEqual([320, 180])
        expect([first.counters.decryptFailures, first.counters.noncesReused, first.counters.frameNumberMismatches, first.counters.malformed]).toEqual([0, 0, 0, 0])
        expect(first.raw.every((d) => d.length === BASE.packetSize + 16)).toBe(true)
        yield* streamEnded

        // The capture says what sealing cost, and that it was measured.
        const stopped = yield* promise(() => host.fetch("/stop", { method: "POST" }))
        expect(stopped.status).toBe(200)
        const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* promise(() => json(stopped)))
        const saved = Schema.decodeUnknownSync(Capture)(yield* promise(() => host.fetch(`/recordings/${meta.id}`).then((r) => json(r))))
        expect(saved.meta.measured).toContain("seal_us")
        expect(saved.samples.some((s) => (s.seal_us ?? 0) > 0)).toBe(true)

        // 2. Resumed (with a new key, as Moonlight resumes), encrypted again: no nonce of the
        //    first stream recurs.
        const secondKey = freshKey()
        expect((yield* promise(() => client.resume(paramsWith(appId, secondKey)))).xml.get("resume")).toBe("1")
        const second = yield* streamOnce(ENCRYPTED, 10, secondKey)
        expect(second.frames.every((f) => f.decoded)).toBe(true)
        expect(second.counters.decryptFailures).toBe(0)
        const nonces = new Set(first.raw.map((d) => Buffer.from(d.subarray(0, 12)).toString("hex")))
        expect(second.raw.filter((d) => nonces.has(Buffer.from(d.subarray(0, 12)).toString("hex"))).length).toBe(0)
        yield* streamEnded

        // 3. A client that does not ask: plain datagrams of the size it asked, read without a key.
        const thirdKey = freshKey()
        expect((yield* promise(() => client.resume(paramsWith(appId, thirdKey)))).xml.get("resume")).toBe("1")
        const plain = yield* streamOnce(BASE, 10, thirdKey)
        expect(plain.frames.every((f) => f.decoded)).toBe(true)
        expect(plain.counters.malformed).toBe(0)
        expect(plain.raw.every((d) => d.length === BASE.packetSize + 16 && d[0] === 0x90)).toBe(true)
        yield* streamEnded
        expect((yield* promise(() => client.cancel())).xml.get("cancel")).toBe("1")
      }),
    180_000
  )
})
