/**
 * Known answers for GameStream video encryption (a client that asked for it with
 * moonlight-common-c's ENCFLG_VIDEO, `x-ss-general.encryptionEnabled` bit 0x02), written from the
 * protocol description: moonlight-common-c's VideoStream.c reads a 32-byte ENC_VIDEO_HEADER —
 * the 12-byte AES-GCM nonce, the frame index (little-endian), the 16-byte tag — and decrypts
 * what follows with the launch's rikey (AES-128-GCM, no additional data) into the datagram it
 * would otherwise have received, before its FEC queue sees it.
 *
 * The nonce is the host's choice (the client takes it as sent); ours, NIST SP 800-38D's
 * deterministic construction: the packet counter (8 bytes LE), the stream number (3 bytes LE),
 * 'V'. The expected ciphertext and tag below were computed outside this repository's code (with
 * Python's `cryptography` AESGCM) from the key, nonce and plaintext written here.
 *
 * Then: a sealed packetization is the plain one, datagram for datagram, each sealed under a
 * fresh nonce; and the test client opens sealed datagrams and rebuilds frames through loss.
 */
import { describe, expect, it } from "vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import { createDecipheriv } from "node:crypto"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { makeVideoReceiver, openVideoDatagram, parseVideoPacket } from "./support/VideoReceiver.js"

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")
const header = JSON.parse(fs.readFileSync(path.join(fixtures, "video-header.json"), "utf8")) as { readonly bytes: string }
const addon = nativeTestHooks()
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex")

const KEY = "000102030405060708090a0b0c0d0e0f"

describe("one sealed video datagram (known answer)", () => {
  // The fixture's 32 header bytes and 32 bytes of payload 00..1f.
  const plain = Buffer.concat([Buffer.from(header.bytes, "hex"), Buffer.from(Array.from({ length: 32 }, (_, i) => i))])
  const fields = { counter: 0x0a0b0c0d0e0f, stream: 7, frameIndex: 0x11223344 }
  const nonce = "0f0e0d0c0b0a0000" + "070000" + "56" // counter LE, stream LE, 'V'
  const ciphertext =
    "6f3c6a0f5ba4604de5e75729aaed078114679911fe6536d80dec83c1cfcd345af6580f9b0715b8fbe5664dd201fab62275cc985627db1b39161ea0e11eda9c7f"
  const tag = "af90ddb7a2d4dfaf789977addc864aed"

  it("key, nonce and plaintext give the expected prefix, ciphertext and tag", () => {
    const sealed = addon.gsSealVideoDatagram(KEY, plain, fields)
    expect(sealed.length).toBe(32 + plain.length)
    expect(hexOf(sealed.subarray(0, 12))).toBe(nonce)
    expect(hexOf(sealed.subarray(12, 16))).toBe("44332211")
    expect(hexOf(sealed.subarray(16, 32))).toBe(tag)
    expect(hexOf(sealed.subarray(32))).toBe(ciphertext)
  })

  it("opens as the client opens it, and not with another key or a changed byte", () => {
    const sealed = addon.gsSealVideoDatagram(KEY, plain, fields)
    const d = createDecipheriv("aes-128-gcm", Buffer.from(KEY, "hex"), Buffer.from(nonce, "hex"))
    d.setAuthTag(Buffer.from(tag, "hex"))
    expect(hexOf(Buffer.concat([d.update(sealed.subarray(32)), d.final()]))).toBe(hexOf(plain))
    expect(openVideoDatagram(Buffer.from(KEY, "hex"), sealed)?.frameIndex).toBe(fields.frameIndex)
    expect(openVideoDatagram(Buffer.alloc(16, 0x55), sealed)).toBeUndefined()
    for (const at of [0, 11, 16, 31, 32, sealed.length - 1]) {
      const bent = Uint8Array.from(sealed)
      bent[at]! ^= 0x01
      expect(openVideoDatagram(Buffer.from(KEY, "hex"), bent), `byte ${at} changed`).toBeUndefined()
    }
  })

  it("a key that is not 32 hex digits is refused", () => {
    expect(() => addon.gsSealVideoDatagram("00", plain, fields)).toThrow(/32 hex digits/)
    expect(() => addon.gsSealVideoDatagram("zz".repeat(16), plain, fields)).toThrow(/32 hex digits/)
    expect(() => addon.gsPacketizeFrame(plain, { packetSize: 1024, fecPercent: 20, minRequiredFecPackets: 2, keyHex: "0f" })).toThrow(/32 hex digits/)
  })
})

describe("a sealed frame", () => {
  const packetSize = 1024
  const frameOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff)
  const key = Buffer.from(KEY, "hex")

  it("is the plain packetization, datagram for datagram, parity included, each under a fresh nonce", () => {
    const frame = frameOf(300_000) // several FEC blocks
    const options = { packetSize, fecPercent: 20, minRequiredFecPackets: 2, idr: true, rtpTimestamp: 9000, latency: 3, frames: 2 }
    const plain = addon.gsPacketizeFrame(frame, options)
    const sealed = addon.gsPacketizeFrame(frame, { ...options, keyHex: KEY, nonceStream: 0x123456 })
    expect(sealed.length).toBe(plain.length)
    let parity = 0
    sealed.forEach((s, i) => {
      // The datagram stays what the client sized its buffer for: packetSize + 16 + 32.
      expect(s.length).toBe(packetSize + 16 + 32)
      const opened = openVideoDatagram(key, s)
      expect(opened, `datagram ${i} opens`).toBeDefined()
      expect(hexOf(opened!.plain)).toBe(hexOf(plain[i]!))
      // Counter i in send order, this stream, 'V'.
      const n = Buffer.alloc(12)
      n.writeBigUInt64LE(BigInt(i), 0)
      n.writeUIntLE(0x123456, 8, 3)
      n[11] = 0x56
      expect(hexOf(opened!.nonce)).toBe(n.toString("hex"))
      const p = parseVideoPacket(opened!.plain, packetSize)!
      expect(opened!.frameIndex).toBe(p.frameIndex)
      if (p.shardIndex >= p.dataShards) parity++
    })
    expect(parity).toBeGreaterThan(0)
    expect(parseVideoPacket(plain[0]!, packetSize)!.lastBlock).toBeGreaterThan(0)
  })

  it("the bench's timed hook does the same work: the same packets, sealing only with a key", () => {
    const frame = frameOf(50_000)
    const options = { packetSize, fecPercent: 20, minRequiredFecPackets: 2, frames: 3 }
    const plain = addon.gsPacketizeTimed(frame, options)
    const sealed = addon.gsPacketizeTimed(frame, { ...options, keyHex: KEY })
    expect(plain.packets).toBe(addon.gsPacketizeFrame(frame, options).length)
    expect(sealed.packets).toBe(plain.packets)
    expect(plain.seal_ns).toBe(0)
    expect(sealed.seal_ns).toBeGreaterThan(0)
  })

  it("the test client opens sealed datagrams and rebuilds multi-block frames through loss, byte for byte", async () => {
    const frame = frameOf(300_000)
    const packets = addon.gsPacketizeFrame(frame, { packetSize, fecPercent: 20, minRequiredFecPackets: 2, frames: 3, keyHex: KEY })
    const program = Effect.gen(function* () {
      const receiver = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize, ping: false, decode: false, dropFraction: 0.03, seed: 7, keyHex: KEY })
      const socket = yield* Effect.acquireRelease(
        Effect.sync(() => dgram.createSocket("udp4")),
        (s) => Effect.sync(() => s.close())
      )
      for (const p of packets) {
        yield* Effect.async<void>((resume) => {
          socket.send(p, receiver.port, "127.0.0.1", () => resume(Effect.void))
        })
      }
      yield* receiver.counters.pipe(
        Effect.flatMap((c) => (c.datagrams >= packets.length ? Effect.void : Effect.fail("waiting"))),
        Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds")))
      )
      yield* receiver.finish
      const c = yield* receiver.counters
      const frames = yield* receiver.frames.pipe(Stream.take(3), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
      return { c, frames }
    })
    const { c, frames } = await Effect.runPromise(Effect.scoped(program))
    expect([c.decryptFailures, c.noncesReused, c.frameNumberMismatches, c.malformed]).toEqual([0, 0, 0, 0])
    expect(c.recovered).toBeGreaterThan(0)
    expect([c.framesComplete, c.multiBlockFrames, c.framesIncomplete]).toEqual([3, 3, 0])
    for (const f of frames) expect(hexOf(f.annexB)).toBe(hexOf(frame))
  })
})
