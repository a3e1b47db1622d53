/**
 * Attack surface: GameStream video on the network path. Plain GameStream video is RTP anyone on
 * the path can reassemble and decode; a client that asked for encrypted video (Moonlight's
 * ENCFLG_VIDEO) gets every datagram sealed with AES-GCM under its launch key. These tests try
 * what an attacker on the LAN would:
 *  - watch: with the datagrams of a sealed frame, a receiver without the key reassembles no
 *    frame and finds none of the picture's bytes, where the same frame sent plain gives them up;
 *  - inject: datagrams of the attacker's own frame (plain, or sealed under another key) and
 *    sealed datagrams with one byte changed, mixed into a real stream, are refused by the
 *    client (counted) and the real frames arrive byte for byte;
 *  - change the frame number in front of the tag (outside it, by Moonlight's layout): nothing
 *    the client uses after opening changes;
 *  - collect a nonce twice: two sessions under one key (a client that resumes with the same
 *    launch parameters) never seal two datagrams under one nonce.
 * A client that does not ask for encryption is not protected, by its own choice (README).
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import * as dgram from "node:dgram"
import { nativeModule } from "../../src/native/binding.js"
import type { GameStreamVideoPort } from "../../src/native/binding.js"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { makeVideoReceiver } from "../gamestream/support/VideoReceiver.js"
import type { VideoReceiver } from "../gamestream/support/VideoReceiver.js"
import { baseConfig, takeWindows } from "../streaming/nativeSupport.js"

const KEY = "3c4d5e6f708192a3b4c5d6e7f8091a2b"
const OTHER_KEY = "00000000000000000000000000000001"
const PACKET_SIZE = 1024
const addon = nativeModule()
const hooks = nativeTestHooks()
const options = { packetSize: PACKET_SIZE, fecPercent: 20, minRequiredFecPackets: 2 }

/** A frame whose bytes are easy to look for: a 64-byte marker repeated. */
const marker = Buffer.from("punktfunk-secret-picture:0123456789abcdefghijklmnopqrstuvwxyzABCD")
const frame = new Uint8Array(Buffer.concat(Array.from({ length: 300 }, () => marker)))

/** Sends datagrams to a receiver on loopback and waits until it has them all. */
const deliver = (receiver: VideoReceiver, datagrams: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function* () {
    const socket = yield* Effect.acquireRelease(
      Effect.sync(() => dgram.createSocket("udp4")),
      (s) => Effect.sync(() => s.close())
    )
    const before = (yield* receiver.counters).datagrams
    for (const d of datagrams) {
      yield* Effect.async<void>((resume) => {
        socket.send(d, receiver.port, "127.0.0.1", () => resume(Effect.void))
      })
    }
    yield* receiver.counters.pipe(
      Effect.flatMap((c) => (c.datagrams >= before + datagrams.length ? Effect.void : Effect.fail("waiting"))),
      Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds")))
    )
  })

const contains = (datagrams: ReadonlyArray<Uint8Array>, needle: Buffer) => datagrams.some((d) => Buffer.from(d).includes(needle))

describe("GameStream encrypted video against an attacker on the path", () => {
  it.scopedLive("watching: a sealed frame gives a receiver without the key no frame and none of its bytes", () =>
    Effect.gen(function* () {
      const plain = hooks.gsPacketizeFrame(frame, { ...options, frames: 3 })
      const sealed = hooks.gsPacketizeFrame(frame, { ...options, frames: 3, keyHex: KEY })
      // The control: sent plain, the picture is on the wire and an eavesdropper rebuilds it.
      expect(contains(plain, marker.subarray(0, 32))).toBe(true)
      const watcherOfPlain = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: PACKET_SIZE, ping: false, decode: false })
      yield* deliver(watcherOfPlain, plain)
      yield* watcherOfPlain.finish
      expect((yield* watcherOfPlain.counters).framesComplete).toBe(3)

      // Sealed: not one 16-byte piece of the picture on the wire, and no frame without the key.
      for (let at = 0; at + 16 <= marker.length; at += 8) expect(contains(sealed, marker.subarray(at, at + 16))).toBe(false)
      for (const size of [PACKET_SIZE, PACKET_SIZE + 32]) {
        const watcher = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: size, ping: false, decode: false })
        yield* deliver(watcher, sealed)
        yield* watcher.finish
        const c = yield* watcher.counters
        expect([c.datagrams, c.framesComplete]).toEqual([sealed.length, 0])
      }
      // Nor with a wrong key: nothing opens.
      const guesser = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: PACKET_SIZE, ping: false, decode: false, keyHex: OTHER_KEY })
      yield* deliver(guesser, sealed)
      expect((yield* guesser.counters).decryptFailures).toBe(sealed.length)
    })
  )

  it.scopedLive("injecting: forged and altered datagrams are refused and counted; the real frames arrive whole", () =>
    Effect.gen(function* () {
      const real = hooks.gsPacketizeFrame(frame, { ...options, frames: 2, keyHex: KEY })
      const forgedFrame = new Uint8Array(frame.length).fill(0x41)
      // The attacker's own frame 1, plain and sealed under a key of its own; and real datagrams
      // with one byte changed (nonce, tag, ciphertext).
      const forgedPlain = hooks.gsPacketizeFrame(forgedFrame, { ...options })
      const forgedSealed = hooks.gsPacketizeFrame(forgedFrame, { ...options, keyHex: OTHER_KEY })
      const altered = [0, 11, 20, 40, PACKET_SIZE + 47].map((at, i) => {
        const d = Uint8Array.from(real[i]!)
        d[at]! ^= 0x80
        return d
      })
      const client = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: PACKET_SIZE, ping: false, decode: false, keyHex: KEY })
      // The injections arrive first, so they would win a race for the frame's slots.
      const injected = [...forgedPlain, ...forgedSealed, ...altered]
      yield* deliver(client, [...injected, ...real])
      yield* client.finish
      const c = yield* client.counters
      expect(c.decryptFailures).toBe(injected.length)
      expect([c.noncesReused, c.malformed, c.framesComplete, c.framesIncomplete]).toEqual([0, 0, 2, 0])
      const frames = yield* client.frames.pipe(Stream.take(2), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
      for (const f of frames) expect(Buffer.from(f.annexB).equals(Buffer.from(frame))).toBe(true)
    })
  )

  it.scopedLive("the prefix's frame number is outside the tag (Moonlight's layout): changed, the datagram still opens to the real one", () =>
    Effect.gen(function* () {
      // Moonlight reads it only to skip a stale datagram before decrypting; an attacker who
      // lowers it makes the client drop that datagram — what dropping it on the path does.
      // Nothing it changes reaches the picture: the frame index the client uses is inside.
      const real = hooks.gsPacketizeFrame(frame, { ...options, keyHex: KEY })
      const bent = Uint8Array.from(real[0]!)
      bent[12]! ^= 0x7f
      const client = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize: PACKET_SIZE, ping: false, decode: false, keyHex: KEY })
      yield* deliver(client, [bent, ...real.slice(1)])
      yield* client.finish
      const c = yield* client.counters
      expect([c.decryptFailures, c.frameNumberMismatches, c.framesComplete]).toEqual([0, 1, 1])
      const [f] = yield* client.frames.pipe(Stream.take(1), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
      expect(Buffer.from(f!.annexB).equals(Buffer.from(frame))).toBe(true)
    })
  )

  it.scopedLive("collecting nonces: two sessions under one key never seal under the same nonce", () =>
    Effect.gen(function* () {
      const nonces = new Set<string>()
      let total = 0
      for (let session = 0; session < 2; session++) {
        const seen = yield* Effect.scoped(
          Effect.gen(function* () {
            const port: GameStreamVideoPort = yield* Effect.acquireRelease(
              Effect.sync(() => new addon.GameStreamVideoPort("127.0.0.1", 0)),
              (p) => Effect.sync(() => p.close())
            )
            const receiver = yield* makeVideoReceiver({
              hostPort: port.port,
              pingPayload: "0123456789abcdef",
              packetSize: PACKET_SIZE,
              keyHex: KEY,
              decode: false,
              keepRaw: 100_000
            })
            const { windows } = yield* openNative(
              baseConfig({
                kind: "gamestream",
                width: 320,
                height: 180,
                fps: 30,
                bitrate_kbps: 1500,
                gamestream: { videoFd: port.fd, clientHost: "127.0.0.1", pingPayload: "0123456789abcdef", ...options, keyHex: KEY }
              })
            )
            yield* takeWindows(windows, 2)
            expect((yield* receiver.counters).decryptFailures).toBe(0)
            return yield* receiver.raw
          })
        )
        expect(seen.length).toBeGreaterThan(20)
        for (const d of seen) nonces.add(Buffer.from(d.subarray(0, 12)).toString("hex"))
        total += seen.length
      }
      expect(nonces.size).toBe(total)
    })
  )
})
