/**
 * GameStream video end to end on loopback: a real synthetic session (320x180@30, libx264) with a
 * video target packetizes in the addon and sends from a `GameStreamVideoPort` to the test client
 * (test/gamestream/support/VideoReceiver.ts), which learns nothing from the host's code: it pings
 * as Moonlight does, rebuilds lost packets with its own Reed-Solomon, and decodes with libavcodec.
 *
 * No assertion is about time: frame counts and ratios only (the machine is shared). Judged frames
 * are read while the session still runs, so the frame in flight at the end is never counted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import type { Scope } from "effect"
import { nativeModule } from "../../../src/native/binding.js"
import type { GameStreamVideoPort } from "../../../src/native/binding.js"
import { openNative } from "../../../src/streams/NativePipeline.js"
import type { SessionConfig } from "../../../src/streams/Pipeline.js"
import { makeVideoReceiver } from "../support/VideoReceiver.js"
import type { VideoReceiverCounters } from "../support/VideoReceiver.js"
import { baseConfig, takeWindows } from "../../streaming/nativeSupport.js"

const PAYLOAD = "0123456789abcdef"
const PACKET_SIZE = 1024
/** A launch's rikey, for the encrypted-video case. */
const KEY = "8f1e2d3c4b5a69788796a5b4c3d2e1f0"

const videoPort: Effect.Effect<GameStreamVideoPort, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => new (nativeModule().GameStreamVideoPort)("127.0.0.1", 0)),
  (p) => Effect.sync(() => p.close())
)

const gsConfig = (
  port: GameStreamVideoPort,
  video: Partial<NonNullable<SessionConfig["gamestream"]>> = {}
): SessionConfig =>
  baseConfig({
    kind: "gamestream",
    width: 320,
    height: 180,
    fps: 30,
    bitrate_kbps: 1500,
    perf: true,
    gamestream: {
      videoFd: port.fd,
      clientHost: "127.0.0.1",
      pingPayload: PAYLOAD,
      packetSize: PACKET_SIZE,
      fecPercent: 20,
      minRequiredFecPackets: 2,
      ...video
    }
  })

const judged = (c: VideoReceiverCounters) => c.framesComplete + c.framesIncomplete

describe("GameStream video", () => {
  it.live("streams whole, decodable frames to a client that pings, with packetize measured", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const port = yield* videoPort
        const receiver = yield* makeVideoReceiver({ hostPort: port.port, pingPayload: PAYLOAD, packetSize: PACKET_SIZE })
        const { meta, session, windows } = yield* openNative(gsConfig(port))
        expect(meta.stages).toEqual(["capture", "encode", "packetize", "send"])
        expect(meta.measured).toEqual(expect.arrayContaining(["send_dropped", "fec_us", "sock_us"]))
        // A client that did not ask for encrypted video gets plain datagrams: nothing is sealed.
        expect(meta.measured).not.toContain("seal_us")
        const got = yield* takeWindows(windows, 4)
        const c = yield* receiver.counters
        const first = yield* receiver.frames.pipe(Stream.take(1), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
        const video = session.videoCounters()

        // The client was learned from its ping, and the first frame it got is an IDR.
        expect(video.pings_accepted).toBeGreaterThan(0)
        expect(video.peer).toBe(`127.0.0.1:${receiver.port}`)
        expect(first[0]?.frameIndex).toBe(1)
        expect(first[0]?.frameType).toBe(2)
        expect(c.firstFrameIndex).toBe(1)

        // ≥ 99% of the frames judged are whole and decode, at the size the session encodes.
        expect(judged(c)).toBeGreaterThan(60)
        expect(c.framesComplete).toBeGreaterThanOrEqual(0.99 * judged(c))
        expect(c.framesDecoded).toBeGreaterThanOrEqual(0.99 * judged(c))
        expect(c.decodeErrors).toBe(0)
        expect([c.width, c.height]).toEqual([320, 180])
        expect(c.malformed).toBe(0)
        expect(c.badFrameHeaders).toBe(0)
        expect(c.parityReceived).toBeGreaterThan(0)
        expect(video.parity_sent).toBeGreaterThan(0)
        expect(video.packets_sealed).toBe(0)

        for (const w of got) {
          expect(w.stages.map((s) => s.name)).toEqual(["capture", "encode", "packetize", "send"])
          const packetize = w.stages.find((s) => s.name === "packetize")!
          expect(packetize.p50_us).toBeGreaterThan(0)
          expect(packetize.mean_us).toBeGreaterThan(0)
          expect(w.fec_us).toBeDefined()
          expect(w.sock_us).toBeDefined()
          expect(w.seal_us).toBeUndefined()
        }
        expect(got.some((w) => (w.fec_us ?? 0) > 0)).toBe(true)
      })
    )
  )

  it.live("a client that asked for encrypted video: every datagram sealed, opened and decoded through loss; without the key nothing is readable", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const port = yield* videoPort
        // The client announced a packetSize 32 bytes smaller (moonlight-common-c does), so each
        // datagram keeps its size with the 32-byte prefix.
        const packetSize = PACKET_SIZE - 32
        const receiver = yield* makeVideoReceiver({
          hostPort: port.port,
          pingPayload: PAYLOAD,
          packetSize,
          keyHex: KEY,
          dropFraction: 0.05,
          seed: 9,
          keepRaw: 400
        })
        const { meta, session, windows } = yield* openNative(gsConfig(port, { packetSize, keyHex: KEY }))
        expect(meta.measured).toEqual(expect.arrayContaining(["send_dropped", "fec_us", "seal_us", "sock_us"]))
        const got = yield* takeWindows(windows, 4)
        const c = yield* receiver.counters
        const video = session.videoCounters()

        // Every datagram that arrived opened with the launch key, under a nonce never used before.
        expect(c.datagrams).toBeGreaterThan(100)
        expect([c.decryptFailures, c.noncesReused, c.frameNumberMismatches, c.malformed]).toEqual([0, 0, 0, 0])
        // And the picture is whole: FEC repaired the loss, every judged frame nearly decodes.
        expect(c.recovered).toBeGreaterThan(0)
        expect(c.firstFrameIndex).toBe(1)
        expect(judged(c)).toBeGreaterThan(60)
        expect(c.framesDecoded).toBeGreaterThanOrEqual(0.95 * judged(c))
        expect([c.width, c.height]).toEqual([320, 180])
        // The host sealed everything it queued and nothing failed.
        expect(video.packets_sealed).toBeGreaterThanOrEqual(video.packets_sent)
        expect(video.seal_failed).toBe(0)
        for (const w of got) expect(w.seal_us).toBeDefined()
        expect(got.some((w) => (w.seal_us ?? 0) > 0)).toBe(true)

        // What the network carried, replayed to a client without the key: no frame, no picture.
        const raw = yield* receiver.raw
        expect(raw.length).toBe(400)
        for (const d of raw) expect(d.length).toBe(PACKET_SIZE + 16)
        const eavesdropper = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: PACKET_SIZE, ping: false })
        const wire = dgram.createSocket("udp4")
        yield* Effect.addFinalizer(() => Effect.sync(() => wire.close()))
        for (const d of raw) {
          yield* Effect.async<void>((resume) => {
            wire.send(d, eavesdropper.port, "127.0.0.1", () => resume(Effect.void))
          })
        }
        yield* eavesdropper.counters.pipe(
          Effect.flatMap((e) => (e.datagrams >= raw.length ? Effect.void : Effect.fail("waiting"))),
          Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds")))
        )
        yield* eavesdropper.finish
        const e = yield* eavesdropper.counters
        expect(e.datagrams).toBe(raw.length)
        expect([e.framesComplete, e.framesDecoded]).toEqual([0, 0])
      })
    )
  )

  it.live("5% loss with 20% FEC: lost packets are rebuilt and counted, ≥ 95% of frames decode", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const port = yield* videoPort
        const receiver = yield* makeVideoReceiver({
          hostPort: port.port,
          pingPayload: PAYLOAD,
          packetSize: PACKET_SIZE,
          dropFraction: 0.05,
          seed: 42
        })
        const { windows } = yield* openNative(gsConfig(port))
        yield* takeWindows(windows, 5)
        const c = yield* receiver.counters
        expect(c.dropped).toBeGreaterThan(0)
        expect(c.lost).toBeGreaterThanOrEqual(c.dropped - 64) // the frame in flight is not judged yet
        expect(c.recovered).toBeGreaterThan(0)
        expect(c.recoveredBadHeader).toBe(0)
        expect(judged(c)).toBeGreaterThan(80)
        expect(c.framesDecoded).toBeGreaterThanOrEqual(0.95 * judged(c))
      })
    )
  )

  it.live("bad pings (wrong payload, wrong host) and garbage are ignored; nothing is sent until a valid ping", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const port = yield* videoPort
        const wrongPayload = yield* makeVideoReceiver({ hostPort: port.port, pingPayload: "fedcba9876543210", packetSize: PACKET_SIZE, pingIntervalMs: 100 })
        // The right payload from another host (127.0.0.2 is loopback too, but not the client).
        const wrongHost = yield* makeVideoReceiver({ hostPort: port.port, bind: "127.0.0.2", pingPayload: PAYLOAD, packetSize: PACKET_SIZE, pingIntervalMs: 100 })
        const quiet = yield* makeVideoReceiver({ hostPort: port.port, pingPayload: PAYLOAD, packetSize: PACKET_SIZE, ping: false })
        const { session, windows } = yield* openNative(gsConfig(port))
        // Garbage: empty, legacy ping (this session has a payload), truncated ping, noise, oversize.
        const garbage = [
          new Uint8Array(0),
          new Uint8Array(Buffer.from("PING")),
          new Uint8Array(Buffer.from(PAYLOAD)),
          Uint8Array.from({ length: 20 }, (_, i) => (i * 37) & 0xff),
          Uint8Array.from({ length: 1500 }, (_, i) => (i * 101) & 0xff),
          new Uint8Array(9000)
        ]
        for (const g of garbage) yield* quiet.send(g)
        yield* takeWindows(windows, 2)
        const before = session.videoCounters()
        expect(before.pings_accepted).toBe(0)
        expect(before.pings_ignored).toBeGreaterThanOrEqual(garbage.length)
        expect(before.packets_sent).toBe(0)
        expect(before.frames_unsent).toBeGreaterThan(0)
        expect(before.peer).toBe("")
        expect((yield* wrongPayload.counters).datagrams).toBe(0)
        expect((yield* wrongHost.counters).datagrams).toBe(0)

        // The session survived all of it: a valid ping now starts the stream, IDR first.
        const good = Buffer.alloc(20)
        good.write(PAYLOAD, 0, "latin1")
        good.writeUInt32BE(1, 16)
        yield* quiet.send(new Uint8Array(good))
        const frames = yield* quiet.frames.pipe(Stream.take(3), Stream.runCollect, Effect.map(Chunk.toReadonlyArray), Effect.timeout("30 seconds"))
        expect(frames.map((f) => f.frameIndex)).toEqual([1, 2, 3])
        expect(frames[0]!.frameType).toBe(2)
        expect(frames.every((f) => f.decoded)).toBe(true)
        const after = session.videoCounters()
        expect(after.pings_accepted).toBe(1)
        expect(after.peer).toBe(`127.0.0.1:${quiet.port}`)
        expect((yield* wrongHost.counters).datagrams).toBe(0)
      })
    )
  )

  it.live("a session without a ping payload accepts the legacy PING", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const port = yield* videoPort
        const receiver = yield* makeVideoReceiver({ hostPort: port.port, pingPayload: "", packetSize: PACKET_SIZE, pingIntervalMs: 200 })
        yield* openNative(gsConfig(port, { pingPayload: "" }))
        const frames = yield* receiver.frames.pipe(Stream.take(2), Stream.runCollect, Effect.map(Chunk.toReadonlyArray), Effect.timeout("30 seconds"))
        expect(frames[0]?.frameType).toBe(2)
        expect(frames.every((f) => f.decoded)).toBe(true)
      })
    )
  )

  it.live("a bad video target is a configuration error; closing a session leaves no native thread", () =>
    Effect.gen(function* () {
      const addon = nativeModule()
      const refused = yield* Effect.scoped(
        Effect.gen(function* () {
          const port = yield* videoPort
          return yield* Effect.flip(openNative(gsConfig(port, { pingPayload: "short" })))
        })
      )
      expect(refused._tag).toBe("PipelineConfigError")
      expect(refused.message).toContain("pingPayload")
      // A key that is not the launch's 16 bytes in hex is refused before anything is sent.
      const badKey = yield* Effect.scoped(
        Effect.gen(function* () {
          const port = yield* videoPort
          return yield* Effect.flip(openNative(gsConfig(port, { keyHex: "00ff" })))
        })
      )
      expect(badKey._tag).toBe("PipelineConfigError")
      expect(badKey.message).toContain("keyHex must be 32 hex digits")
      // A descriptor that is not a UDP socket is refused before any thread starts.
      const file = fs.openSync("/dev/null", "r")
      const notSocket = yield* Effect.flip(openNative(gsConfig({ fd: file } as GameStreamVideoPort))).pipe(
        Effect.scoped,
        Effect.ensuring(Effect.sync(() => fs.closeSync(file)))
      )
      expect(notSocket.message).toContain("is not an open UDP socket")
      expect(addon.activeThreads()).toBe(0)

      const counters = yield* Effect.scoped(
        Effect.gen(function* () {
          const port = yield* videoPort
          yield* makeVideoReceiver({ hostPort: port.port, pingPayload: PAYLOAD, packetSize: PACKET_SIZE })
          const { session, windows } = yield* openNative(gsConfig(port))
          yield* takeWindows(windows, 1)
          expect(addon.activeThreads()).toBe(2) // the frame loop and the video pacer
          return session
        })
      )
      expect(addon.activeThreads()).toBe(0)
      // Counters stay readable after close.
      expect(counters.videoCounters().frames_sent).toBeGreaterThan(0)
    })
  )

  it("the video port refuses a port in use with a clear error", () => {
    const addon = nativeModule()
    const a = new addon.GameStreamVideoPort("127.0.0.1", 0)
    try {
      expect(a.port).toBeGreaterThan(0)
      expect(a.fd).toBeGreaterThanOrEqual(0)
      expect(() => new addon.GameStreamVideoPort("127.0.0.1", a.port)).toThrow(/cannot bind the video port.*in use/)
      expect(() => new addon.GameStreamVideoPort("not an address", 0)).toThrow(/cannot bind the video port/)
    } finally {
      a.close()
    }
    expect(a.fd).toBe(-1)
    a.close()
  })
})
