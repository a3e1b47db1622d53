/**
 * The GameStream path end to end, as a Moonlight client drives it against a real host (native
 * pipeline: synthetic source, libx264): pair with a PIN the operator types, launch, the RTSP
 * handshake, the encrypted ENet control stream, RTP video with FEC (decoded with libavcodec),
 * Opus audio, and quit — with a capture armed from the operator API the whole time.
 *
 * What is asserted is what an operator (or the Moonlight user) would notice: the picture decodes,
 * FEC repairs what the network lost, an IDR the client asks for arrives, the audio stream runs,
 * quitting ends the stream, and the saved capture is a GameStream one with the GameStream stage
 * set, `packetize` really timed, the client named, and what the client reported (lost packets,
 * packets rebuilt from parity) recorded as `packets_dropped` / `fec_recovered`, listed as measured.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema, Stream } from "effect"
import { randomBytes } from "node:crypto"
import * as dgram from "node:dgram"
import * as net from "node:net"
import { Capture, CaptureMeta } from "../../../src/api/Stats.js"
import { nativePipelineLayer } from "../../../src/PipelineChoice.js"
import { AudioReceiver } from "../support/AudioReceiver.js"
import { ControlClient } from "../support/ControlClient.js"
import { launchParams } from "../support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "../support/RtspClient.js"
import { makeVideoReceiver } from "../support/VideoReceiver.js"
import type { ReceivedFrame } from "../support/VideoReceiver.js"
import { json, waitFor } from "../../support/TestHost.js"

// Audio encrypted, as Moonlight clients ask for by default.
const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 180, fps: 30, bitrateKbps: 2_000, encryptAudio: true }
const RIKEY = launchParams(1).rikey ?? ""
const RIKEYID = Number(launchParams(1).rikeyid)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("GameStream end to end", () => {
  it.scopedLive(
    "pair, launch, RTSP, control, video with FEC under loss, audio, quit — and the armed capture is a GameStream one",
    () =>
      Effect.gen(function* () {
        // Silence on purpose: the default (auto) would record a PulseAudio server's sound where one
        // runs, and this test checks the audio path bit for bit against silence.
        const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer(), env: { PUNKTFUNK_AUDIO: "silence" } })
        const gs = gameStreamOf(host)
        const client = clientFor(host, yield* newIdentity("e2e-moonlight"))
        const paired = yield* pairViaOperator(host, client, "4711")
        expect(paired.outcome.paired).toBe(true)

        // The operator arms capture before the client plays.
        expect((yield* promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)

        const apps = yield* promise(() => client.applist())
        const appId = Number(apps.xml.all("ID")[0])
        const launched = yield* promise(() => client.launch(launchParams(appId)))
        expect(launched.xml.get("sessionUrl0")).toBe(`rtsp://127.0.0.1:${gs.rtspPort}`)

        const rtsp = new RtspClient(gs.rtspPort)
        const hs = yield* promise(() => rtsp.handshake(moonlightAnnounce(STREAM)))
        expect([hs.play.status, hs.videoPort, hs.audioPort, hs.controlPort]).toEqual([200, gs.videoPort, gs.audioPort, gs.controlPort])
        yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) !== undefined, 10_000, "the stream to start"))

        const control = yield* Effect.acquireRelease(
          promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
          (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
        )
        // 5% of the video datagrams lost on the way; the host's 20% parity must repair them.
        const video = yield* makeVideoReceiver({
          hostPort: gs.videoPort,
          pingPayload: hs.videoPingPayload ?? "",
          packetSize: STREAM.packetSize,
          dropFraction: 0.05,
          seed: 7
        })
        const audio = yield* Effect.acquireRelease(
          promise(() =>
            AudioReceiver.open({
              hostPort: gs.audioPort,
              pingPayload: hs.audioPingPayload ?? "",
              channels: 2,
              packetDurationMs: 5,
              encryption: { keyHex: RIKEY, keyId: RIKEYID }
            })
          ),
          (a) => Effect.sync(() => a.close())
        )
        audio.startPinging()

        // The client side of the picture, as Moonlight behaves: every complete frame is decoded;
        // a frame that could not be completed (more lost than the parity covers) shows as a gap
        // in the frame indices, and the client asks for an IDR to get a clean picture again.
        // A frame FEC had to repair is reported as Moonlight does (per-block FEC status): the
        // missing packets count as lost, the data packets rebuilt as recovered.
        const frames: Array<ReceivedFrame> = []
        const reported = { repaired: 0 }
        yield* video.frames.pipe(
          Stream.runForEach((frame) => {
            const previous = frames[frames.length - 1]
            frames.push(frame)
            const gap = previous !== undefined && frame.frameIndex !== previous.frameIndex + 1
            return Effect.all([
              gap ? promise(() => control.requestIdr()) : Effect.void,
              frame.recovered > 0
                ? promise(() => control.frameFecStatus(frame.frameIndex, frame.recovered, frame.recovered)).pipe(
                    Effect.tap(() => Effect.sync(() => void (reported.repaired += frame.recovered)))
                  )
                : Effect.void
            ])
          }),
          Effect.forkScoped
        )
        const framesSoFar = (n: number) => promise(() => waitFor(async () => frames.length >= n, 20_000, `${n} video frames`))
        yield* framesSoFar(45)
        // Moonlight starts with an IDR request; the first complete frame it gets must be one.
        expect(frames[0]?.frameType).toBe(2)

        // The client asks for a new IDR: one arrives.
        const asked = frames[frames.length - 1]?.frameIndex ?? 0
        yield* promise(() => control.requestIdr())
        yield* promise(() =>
          waitFor(async () => frames.some((f) => f.frameIndex > asked && f.frameType === 2), 10_000, "the IDR the client asked for")
        )

        // Let the capture hold a few ~1 s windows, then the client quits (as Moonlight's "quit app").
        yield* promise(() =>
          waitFor(
            async () => {
              const status = (await json(await host.fetch("/status"))) as { sample_count: number }
              return status.sample_count >= 3
            },
            15_000,
            "three GameStream windows in the capture"
          )
        )
        expect((yield* promise(() => client.cancel())).xml.get("cancel")).toBe("1")
        yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 10_000, "the stream to end"))
        // The host told the client over the control stream (graceful termination, 0x0109).
        const bye = yield* promise(() => control.receive())
        expect(bye.type).toBe(0x0109)

        // Judged after the stream ended, so no frame is caught half-sent.
        yield* video.finish
        const counters = yield* video.counters
        expect(counters.dropped).toBeGreaterThan(0)
        expect(counters.recovered).toBeGreaterThan(0)
        expect(counters.framesDecoded).toBeGreaterThan(0)
        expect([counters.width, counters.height]).toEqual([320, 180])
        // ≥ 97% of the frames whole despite the loss (20% parity, at least 2 per block, against
        // 5% random loss; a frame losing 3 of its handful of packets is the rare exception).
        expect(counters.framesComplete / (counters.framesComplete + counters.framesIncomplete)).toBeGreaterThanOrEqual(0.97)
        // Every complete frame decodes, except those that reference a frame the network took
        // (after a gap and before the next IDR): the picture is never broken otherwise.
        let clean = true
        for (let i = 0; i < frames.length; i++) {
          const frame = frames[i]
          if (frame === undefined) continue
          if (frame.frameType === 2) clean = true
          else if (i > 0 && frame.frameIndex !== (frames[i - 1]?.frameIndex ?? 0) + 1) clean = false
          if (clean) expect(frame.decoded, `frame ${frame.frameIndex} decodes`).toBe(true)
        }
        expect(audio.stats.dataPackets).toBeGreaterThan(20)
        expect([audio.stats.decodeErrors, audio.stats.decryptErrors, audio.stats.sequenceGaps]).toEqual([0, 0, 0])
        expect(audio.stats.maxPeak).toBeLessThan(1e-3) // silence, as configured above

        const stopped = yield* promise(() => host.fetch("/stop", { method: "POST" }))
        expect(stopped.status).toBe(200)
        const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* promise(() => json(stopped)))
        const saved = Schema.decodeUnknownSync(Capture)(
          yield* promise(() => host.fetch(`/recordings/${meta.id}`).then((r) => json(r)))
        )
        expect(saved.meta.kind).toBe("gamestream")
        expect(saved.meta.client).toBe(client.identity.fingerprint.slice(0, 16))
        expect([saved.meta.width, saved.meta.height, saved.meta.fps]).toEqual([320, 180, 30])
        const session = saved.meta.sessions[0]
        expect(session?.stages).toEqual(["capture", "encode", "packetize", "send"])
        expect(saved.meta.measured).toEqual(expect.arrayContaining(["packets_dropped", "fec_recovered"]))
        const samples = saved.samples
        expect(samples.length).toBeGreaterThanOrEqual(3)
        // Every window carries the four stages; packetize was really timed (not a 0 stand-in).
        for (const s of samples) expect(s.stages.map((st) => st.name)).toEqual(["capture", "encode", "packetize", "send"])
        const packetize = samples.flatMap((s) => s.stages.filter((st) => st.name === "packetize").map((st) => st.p50_us))
        expect(packetize.some((us) => us > 0)).toBe(true)
        // What the client reported over the control stream is in the capture: the repaired
        // packets (those reported before the last window closed) and at least as many lost.
        const recovered = samples.reduce((n, s) => n + s.fec_recovered, 0)
        expect(recovered).toBeGreaterThan(0)
        expect(recovered).toBeLessThanOrEqual(reported.repaired)
        expect(samples.reduce((n, s) => n + s.packets_dropped, 0)).toBeGreaterThanOrEqual(recovered)
      }),
    180_000
  )

  it.scopedLive(
    "a client that leaves without quitting can resume; one that never opens its control stream is given up; garbage on every socket harms nothing",
    () =>
      Effect.gen(function* () {
        const host = yield* startGameStreamHost({
          pipeline: nativePipelineLayer(),
          env: { PUNKTFUNK_GAMESTREAM_CLIENT_TIMEOUT_MS: "1500" }
        })
        const gs = gameStreamOf(host)
        const client = clientFor(host, yield* newIdentity("e2e-resume"))
        expect((yield* pairViaOperator(host, client, "2468")).outcome.paired).toBe(true)
        const appId = Number((yield* promise(() => client.applist())).xml.all("ID")[0])
        const plain = { ...STREAM, encryptAudio: false }
        const streamUntilFrames = (n: number, keyHex: string = RIKEY) =>
          Effect.gen(function* () {
            const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(plain)))
            expect(hs.play.status).toBe(200)
            const control = yield* promise(() =>
              ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex })
            )
            const video = yield* makeVideoReceiver({ hostPort: gs.videoPort, pingPayload: hs.videoPingPayload ?? "", packetSize: plain.packetSize })
            const frames = yield* video.frames.pipe(Stream.take(n), Stream.runCollect)
            return { control, video, frames: [...frames] }
          })
        const streamEnded = promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 10_000, "the stream to end"))

        // 1. Launch, stream, and leave without quitting (Moonlight's window closed): the stream
        //    ends with the control stream, the launch stays for a resume.
        yield* promise(() => client.launch(launchParams(appId)))
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const run = yield* streamUntilFrames(20)
            // Garbage on every socket while the stream runs: none of it may stop the picture.
            const udp = dgram.createSocket("udp4")
            for (const port of [gs.videoPort, gs.audioPort, gs.controlPort]) {
              for (let i = 0; i < 50; i++) udp.send(randomBytes(1 + ((i * 37) % 1400)), port, "127.0.0.1")
            }
            const tcp = net.connect(gs.rtspPort, "127.0.0.1")
            tcp.on("error", () => undefined)
            tcp.end(randomBytes(3000))
            const more = yield* run.video.frames.pipe(Stream.take(20), Stream.runCollect)
            udp.close()
            expect([...more].every((f) => f.decoded)).toBe(true)
            yield* promise(() => run.control.disconnect())
            return run.frames
          })
        )
        expect(first.length).toBe(20)
        yield* streamEnded
        expect(yield* gs.currentLaunch).toBeDefined()

        // 2. Resume: a new handshake, a new stream, starting with an IDR again. Moonlight sends a
        //    fresh random key with every launch and resume (its control counter starts again at
        //    0, which under the old key the host would refuse as replays).
        const resumeKey = "ffeeddccbbaa99887766554433221100"
        const resumed = yield* promise(() => client.resume({ ...launchParams(appId), rikey: resumeKey }))
        expect(resumed.xml.get("resume")).toBe("1")
        const second = yield* Effect.scoped(
          Effect.gen(function* () {
            const run = yield* streamUntilFrames(10, resumeKey)
            yield* promise(() => run.control.disconnect())
            return run.frames
          })
        )
        expect(second[0]?.frameType).toBe(2)
        expect(second.every((f) => f.decoded)).toBe(true)
        yield* streamEnded

        // 3. A client that plays and never opens its control stream: the host stops encoding
        //    for nobody after the timeout, and the launch is still there to resume.
        const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(plain)))
        expect(hs.play.status).toBe(200)
        yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) !== undefined, 10_000, "the stream to start"))
        yield* streamEnded
        expect(yield* gs.currentLaunch).toBeDefined()
        expect((yield* promise(() => client.cancel())).xml.get("cancel")).toBe("1")
      }),
    180_000
  )

  it.scopedLive("a client that asks for HEVC gets HEVC (libx265), and the capture says so", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer() })
      const gs = gameStreamOf(host)
      const client = clientFor(host, yield* newIdentity("e2e-hevc"))
      expect((yield* pairViaOperator(host, client, "9753")).outcome.paired).toBe(true)
      expect((yield* promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)
      yield* promise(() => client.launch(launchParams(1)))
      const hevc = { ...STREAM, encryptAudio: false, bitStreamFormat: 1 }
      const rtsp = new RtspClient(gs.rtspPort)
      const hs = yield* promise(() => rtsp.handshake(moonlightAnnounce(hevc)))
      expect(hs.describe.body).toContain("sprop-parameter-sets=AAAAAU")
      const control = yield* Effect.acquireRelease(
        promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
        (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
      )
      expect(control).toBeDefined()
      const video = yield* makeVideoReceiver({
        hostPort: gs.videoPort,
        pingPayload: hs.videoPingPayload ?? "",
        packetSize: hevc.packetSize,
        codec: "hevc"
      })
      const frames = [...(yield* video.frames.pipe(Stream.take(20), Stream.runCollect))]
      expect(frames[0]?.frameType).toBe(2)
      expect(frames.every((f) => f.decoded)).toBe(true)
      const counters = yield* video.counters
      expect([counters.width, counters.height, counters.decodeErrors]).toEqual([320, 180, 0])
      const live = (yield* promise(() => host.fetch("/live").then((r) => json(r)))) as { sessions: ReadonlyArray<{ codec: string; kind: string }> }
      expect(live.sessions.map((m) => [m.kind, m.codec])).toEqual([["gamestream", "hevc"]])
    }),
    120_000
  )
})
