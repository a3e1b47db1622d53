/**
 * The punktfunk/1 media plane on loopback: what arrives is exactly what was sent, FEC repairs
 * random loss, real H.264 decodes on the far side, and forged, tampered, replayed or malformed
 * datagrams are dropped and counted.
 *
 * The packet builder and the GF(2^8) arithmetic here are written from the wire description in
 * `src/native/media/wire.h` and the field's definition, independently of the C++: if either side
 * drifts from the spec, these known-answer checks fail.
 */
import { afterEach, describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import { createCipheriv, randomBytes } from "node:crypto"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { media } from "../../src/native/media.js"
import type { MediaReceiver, ReceiverCounters } from "../../src/native/media.js"
import { nativeTestHooks, type MediaSender } from "../../src/native/testHooks.js"

const open: Array<{ close(): void }> = []
afterEach(() => {
  for (const o of open.splice(0)) o.close()
})

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-media-"))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const waitFor = async (f: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (f()) return
    await sleep(20)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const openReceiver = (options: { keyHex: string; codec?: "h264" | "none"; simulateLoss?: number; savePath?: string }): MediaReceiver => {
  const r = new (media().MediaReceiver)(options)
  open.push(r)
  return r
}
const openSender = (keyHex: string, port: number, fecPercent = 20): MediaSender => {
  const s = new (nativeTestHooks().MediaSender)({ keyHex, host: "127.0.0.1", port, fecPercent, fps: 60 })
  open.push(s)
  return s
}

/** Frame i: a size and content that depend only on i, so a saved stream can be checked. */
const frameOf = (i: number): Buffer => {
  const size = 3_000 + ((i * 7919) % 23) * 1_700
  const out = Buffer.alloc(size)
  let x = (i + 1) * 2654435761
  for (let b = 0; b < size; b++) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    out[b] = x & 0xff
  }
  return out
}

/** Splits a saved stream into the frame indices it holds, in order; throws on any byte that differs. */
const framesIn = (saved: Buffer, count: number): Array<number> => {
  const found: Array<number> = []
  let at = 0
  let next = 0
  while (at < saved.length) {
    let matched = false
    for (let i = next; i < count && !matched; i++) {
      const f = frameOf(i)
      if (at + f.length <= saved.length && saved.subarray(at, at + f.length).equals(f)) {
        found.push(i)
        at += f.length
        next = i + 1
        matched = true
      }
    }
    if (!matched) throw new Error(`bytes at offset ${at} of the saved stream match no frame sent`)
  }
  return found
}

const sendPaced = async (sender: MediaSender, count: number, make: (i: number) => Buffer) => {
  for (let i = 0; i < count; i++) {
    sender.sendFrame(make(i), i === 0)
    await sleep(8)
  }
}

// ── GF(2^8) from its definition: polynomial 0x11d ─────────────────────────────────────────────
const gfMul = (a: number, b: number): number => {
  let p = 0
  while (b > 0) {
    if (b & 1) p ^= a
    a <<= 1
    if (a & 0x100) a ^= 0x11d
    b >>= 1
  }
  return p
}

// ── a packet built from the wire description ──────────────────────────────────────────────────
const MTU = 1400
const SHARD = MTU - 28 - 36 - 16

const sealPacket = (keyHex: string, seq: bigint, frameId: number, payload: Buffer): Buffer => {
  const keyBytes = Buffer.from(keyHex, "hex")
  const header = Buffer.alloc(36)
  header.writeBigUInt64BE(seq, 0)
  header[8] = 1 // version
  header[9] = 2 // keyframe
  header.writeUInt16BE(SHARD, 10)
  header.writeUInt32BE(frameId, 12)
  header[16] = 0 // block index
  header[17] = 1 // block count
  header[18] = 0 // shard index
  header[19] = 1 // data shards
  header[20] = 0 // parity shards
  header.writeUInt32BE(payload.length, 24)
  header.writeBigUInt64BE(0n, 28)
  const shard = Buffer.alloc(SHARD)
  payload.copy(shard)
  const nonce = Buffer.concat([keyBytes.subarray(16, 20), header.subarray(0, 8)])
  const cipher = createCipheriv("aes-128-gcm", keyBytes.subarray(0, 16), nonce)
  cipher.setAAD(header)
  const body = Buffer.concat([cipher.update(shard), cipher.final()])
  return Buffer.concat([header, body, cipher.getAuthTag()])
}

const udpSend = async (port: number, packets: ReadonlyArray<Buffer>) => {
  const socket = dgram.createSocket("udp4")
  for (const p of packets) await new Promise<void>((r, j) => socket.send(p, port, "127.0.0.1", (e) => (e ? j(e) : r())))
  socket.close()
}

describe("media plane", () => {
  it("GF(2^8) multiplication and the Cauchy parity coefficients match their definitions", () => {
    const m = nativeTestHooks()
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b += 3) expect(m.gfMul(a, b)).toBe(gfMul(a, b))
    for (const k of [1, 4, 64]) {
      for (let i = 0; i < 8; i++) for (let j = 0; j < k; j++) expect(gfMul(m.fecCoefficient(i, j, k), (k + i) ^ j)).toBe(1)
    }
  })

  it("a packet sealed from the wire description is accepted; replays, tampering, a wrong key and short datagrams are counted and dropped", async () => {
    const dir = tmp()
    const keyHex = randomBytes(20).toString("hex")
    const savePath = path.join(dir, "frames.bin")
    const r = openReceiver({ keyHex, codec: "none", savePath })
    const good = sealPacket(keyHex, 7n, 1, Buffer.from("hello, punktfunk"))
    const payloadFlip = Buffer.from(good)
    payloadFlip[40] = (payloadFlip[40] ?? 0) ^ 1
    const headerFlip = sealPacket(keyHex, 8n, 2, Buffer.from("second"))
    headerFlip[15] = (headerFlip[15] ?? 0) ^ 1 // frame_id: authenticated as additional data
    const wrongKey = sealPacket(randomBytes(20).toString("hex"), 9n, 3, Buffer.from("stranger"))
    await udpSend(r.port, [good, good, payloadFlip, headerFlip, wrongKey, Buffer.from("short"), Buffer.alloc(0)])
    await waitFor(() => {
      const c = r.counters()
      return c.packets_received + c.packets_replayed + c.packets_tampered + c.packets_malformed >= 7
    }, 5_000, "seven datagrams handled")
    const c = r.counters()
    expect(c).toMatchObject({ packets_received: 1, frames_complete: 1, packets_replayed: 2, packets_tampered: 2, packets_malformed: 2 })
    r.close()
    expect(fs.readFileSync(savePath).toString()).toBe("hello, punktfunk")
  })

  it("300 frames on loopback arrive whole and byte for byte", async () => {
    const dir = tmp()
    const keyHex = randomBytes(20).toString("hex")
    const savePath = path.join(dir, "frames.bin")
    const r = openReceiver({ keyHex, codec: "none", savePath })
    const s = openSender(keyHex, r.port)
    await sendPaced(s, 300, frameOf)
    await waitFor(() => r.counters().frames_complete === 300, 10_000, "300 frames")
    const c = r.counters()
    expect(c.frames_dropped).toBe(0)
    expect(c.fec_recovered).toBe(0)
    expect(s.counters().send_dropped).toBe(0)
    r.close()
    expect(framesIn(fs.readFileSync(savePath), 300)).toEqual(Array.from({ length: 300 }, (_, i) => i))
  })

  it("5% random loss with 20% parity: FEC rebuilds shards and at least 95% of frames arrive intact", async () => {
    const dir = tmp()
    const keyHex = randomBytes(20).toString("hex")
    const savePath = path.join(dir, "frames.bin")
    const r = openReceiver({ keyHex, codec: "none", savePath, simulateLoss: 0.05 })
    const s = openSender(keyHex, r.port, 20)
    await sendPaced(s, 300, frameOf)
    await waitFor(() => {
      const c = r.counters()
      return c.frames_complete + c.frames_dropped >= 299
    }, 10_000, "every frame settled")
    const c: ReceiverCounters = r.counters()
    expect(c.packets_simulated_lost).toBeGreaterThan(0)
    expect(c.packets_lost).toBeGreaterThan(0)
    expect(c.fec_recovered).toBeGreaterThan(0)
    expect(c.frames_complete).toBeGreaterThanOrEqual(285)
    r.close()
    // Every frame that completed is exactly the frame sent, FEC-rebuilt shards included.
    expect(framesIn(fs.readFileSync(savePath), 300).length).toBe(c.frames_complete)
  })

  it("real H.264 sent through the media plane decodes on the far side, under loss too", async () => {
    const dir = tmp()
    const stream = path.join(dir, "in.h264")
    execFileSync("ffmpeg", [
      "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=60", "-frames:v", "120",
      "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-bsf:v", "h264_mp4toannexb",
      "-f", "h264", stream
    ])
    // Access-unit boundaries from ffprobe's parser: one unit per encoded frame.
    const probed = JSON.parse(
      execFileSync("ffprobe", ["-v", "error", "-show_entries", "packet=pos,size", "-of", "json", stream]).toString()
    ) as { packets: Array<{ pos: string; size: string }> }
    const data = fs.readFileSync(stream)
    const units = probed.packets.map((p) => data.subarray(Number(p.pos), Number(p.pos) + Number(p.size)))
    expect(units.length).toBe(120)

    for (const loss of [0, 0.05]) {
      const keyHex = randomBytes(20).toString("hex")
      const r = openReceiver({ keyHex, codec: "h264", simulateLoss: loss })
      const s = openSender(keyHex, r.port, 20)
      await sendPaced(s, units.length, (i) => units[i] ?? Buffer.alloc(1))
      await waitFor(() => {
        const c = r.counters()
        return c.frames_complete + c.frames_dropped >= 119
      }, 10_000, "every frame settled")
      const c = r.counters()
      if (loss === 0) {
        expect(c.frames_decoded).toBe(120)
        expect(c.decode_errors).toBe(0)
      } else {
        expect(c.fec_recovered).toBeGreaterThan(0)
        expect(c.frames_decoded).toBeGreaterThanOrEqual(114) // ≥ 95%
      }
      expect(r.latenciesSince(0).length).toBe(c.frames_decoded)
    }
  })
})
