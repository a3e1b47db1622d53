/**
 * Known answers for GameStream video (DECISIONS.md: Moonlight compatibility cannot be proven by
 * our own client alone, which could share our mistakes).
 *
 * - `fixtures/rs-nanors.json`: parity that nanors itself computed — the Reed-Solomon library a
 *   Moonlight client decodes video FEC with, at the commit moonlight-common-c pins — built
 *   outside this repository (nothing of it is committed) for a few (data, parity, bytes) cases,
 *   plus nanors' own decode of each case with the first data shards erased. The host's parity
 *   (`gsFecEncode`) and the test client's decoder (support/GsFec.ts) must both agree with it.
 * - `fixtures/rs-nanors-large.json`: the same from nanors for the shapes the packetizer makes
 *   (1,408-byte shards, up to 107 data + 22 parity, a 200 + 55 block) and for odd lengths that
 *   reach each SIMD kernel's tail (33, 63, 65, 96, 100, 1,000 bytes), as SHA-256 per parity
 *   shard over data from a seeded LCG (generator outside this repository, linking nanors at the
 *   pinned commit). The host's parity must equal nanors' under every GF(2^8) kernel this CPU has
 *   (`fecKernel`, src/native/gf256/gf256.h), not only the one it picks.
 * - `fixtures/video-header.json`: the 32 bytes of an RTP + video header laid out with
 *   moonlight-common-c's own packed structs (RTP_PACKET, 4 extension bytes, NV_VIDEO_PACKET),
 *   fields stored as the client reads them, and the client's own decoding of fecInfo and
 *   multiFecBlocks.
 * Then the packetizer's output is checked against the rules the client applies (RtpVideoQueue,
 * VideoDepacketizer): contiguous sequence numbers per block, the parity count the client derives
 * from the advertised percentage, the frame header, and recovery of lost packets.
 */
import { describe, expect, it } from "vitest"
import { Chunk, Effect, Schedule, Stream } from "effect"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { kernelsOf, lcgShards, sha256Hex, withKernel } from "../support/FecKernels.js"
import { encodeParity, gfInv, gfMul, reconstruct } from "./support/GsFec.js"
import { makeVideoReceiver, parseVideoPacket } from "./support/VideoReceiver.js"

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")

interface RsCase {
  readonly data_shards: number
  readonly parity_shards: number
  readonly bytes: number
  readonly data: ReadonlyArray<string>
  readonly parity: ReadonlyArray<string>
  readonly nanors_decode_lost_first: number
  readonly nanors_decode_ok: boolean
}
const rs = JSON.parse(fs.readFileSync(path.join(fixtures, "rs-nanors.json"), "utf8")) as { readonly cases: ReadonlyArray<RsCase> }
interface RsLargeCase {
  readonly data_shards: number
  readonly parity_shards: number
  readonly bytes: number
  readonly seed: number
  readonly parity_sha256: ReadonlyArray<string>
  readonly nanors_decode_lost_first: number
  readonly nanors_decode_ok: boolean
}
const rsLarge = JSON.parse(fs.readFileSync(path.join(fixtures, "rs-nanors-large.json"), "utf8")) as { readonly cases: ReadonlyArray<RsLargeCase> }
const header = JSON.parse(fs.readFileSync(path.join(fixtures, "video-header.json"), "utf8")) as {
  readonly size: number
  readonly bytes: string
  readonly fields: {
    readonly seq: number
    readonly rtpTimestamp: number
    readonly streamPacketIndex: number
    readonly frameIndex: number
    readonly flags: number
    readonly block: number
    readonly lastBlock: number
    readonly shardIndex: number
    readonly dataShards: number
    readonly fecPercent: number
  }
  readonly offsets: Readonly<Record<string, number>>
  readonly client_reads: { readonly shardIndex: number; readonly dataShards: number; readonly fecPercent: number; readonly block: number; readonly lastBlock: number }
}

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"))
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex")
const addon = nativeTestHooks()
const kernels = kernelsOf(addon)

describe("Reed-Solomon parity as nanors computes it", () => {
  it("the GF(2^8) arithmetic is the field nanors uses (polynomial 0x11d)", () => {
    expect(gfMul(2, 0x80)).toBe(0x1d)
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1)
  })

  for (const c of rs.cases) {
    const label = `${c.data_shards} data + ${c.parity_shards} parity × ${c.bytes} bytes`
    it(`host parity equals nanors' under every kernel (${label})`, () => {
      for (const kernel of kernels) {
        const parity = withKernel(addon, kernel, () => addon.gsFecEncode(c.data.map(bytes), c.parity_shards))
        expect(parity.map(hexOf), kernel).toEqual(c.parity)
      }
    })
    it(`the test client's parity and decoder agree with nanors (${label})`, () => {
      expect(c.nanors_decode_ok).toBe(true)
      const data = c.data.map(bytes)
      expect(encodeParity(data, c.parity_shards).map(hexOf)).toEqual(c.parity)
      // The erasure nanors decoded: the first data shards lost.
      const shards: Array<Uint8Array | undefined> = [...data, ...c.parity.map(bytes)]
      for (let i = 0; i < c.nanors_decode_lost_first; i++) shards[i] = undefined
      expect(reconstruct(shards, c.data_shards, c.parity_shards, c.bytes)?.map(hexOf)).toEqual(c.data)
      // Any other pattern of up to m losses, data and parity mixed.
      const mixed: Array<Uint8Array | undefined> = [...data, ...c.parity.map(bytes)]
      for (let i = 0; i < c.parity_shards; i++) mixed[(i * 7 + 3) % (c.data_shards + c.parity_shards)] = undefined
      expect(reconstruct(mixed, c.data_shards, c.parity_shards, c.bytes)?.map(hexOf)).toEqual(c.data)
    })
  }

  for (const kernel of kernels) {
    for (const c of rsLarge.cases) {
      it(`${kernel}: host parity equals nanors' (${c.data_shards} data + ${c.parity_shards} parity × ${c.bytes} bytes)`, () => {
        expect(c.nanors_decode_ok).toBe(true)
        const parity = withKernel(addon, kernel, () => addon.gsFecEncode(lcgShards(c.seed, c.data_shards, c.bytes), c.parity_shards))
        expect(parity.map(sha256Hex)).toEqual(c.parity_sha256)
      })
    }
  }

  it("the test client's decoder rebuilds a packetizer-sized block from nanors-equal parity", () => {
    const c = rsLarge.cases[2]!
    const data = lcgShards(c.seed, c.data_shards, c.bytes)
    const parity = addon.gsFecEncode(data, c.parity_shards)
    const shards: Array<Uint8Array | undefined> = [...data, ...parity]
    for (let i = 0; i < c.nanors_decode_lost_first; i++) shards[i] = undefined
    expect(reconstruct(shards, c.data_shards, c.parity_shards, c.bytes)?.map(hexOf)).toEqual(data.map(hexOf))
  })

  it("too few shards is refused, not guessed", () => {
    const c = rs.cases[1]!
    const shards: Array<Uint8Array | undefined> = [...c.data.map(bytes), ...c.parity.map(bytes)]
    for (let i = 0; i <= c.parity_shards; i++) shards[i] = undefined
    expect(reconstruct(shards, c.data_shards, c.parity_shards, c.bytes)).toBeUndefined()
  })
})

describe("video packet header layout", () => {
  it("matches moonlight-common-c's structs byte for byte", () => {
    expect(header.size).toBe(32)
    expect(hexOf(addon.gsVideoHeaders(header.fields))).toBe(header.bytes)
  })

  it("the test client reads back what the client library reads", () => {
    const packet = new Uint8Array(1024 + 16)
    packet.set(bytes(header.bytes))
    const p = parseVideoPacket(packet, 1024)
    expect(p).toBeDefined()
    expect(p?.shardIndex).toBe(header.client_reads.shardIndex)
    expect(p?.dataShards).toBe(header.client_reads.dataShards)
    expect(p?.block).toBe(header.client_reads.block)
    expect(p?.lastBlock).toBe(header.client_reads.lastBlock)
    expect(p?.frameIndex).toBe(header.fields.frameIndex)
  })

  it("a parity packet carries only what the client restores on a rebuilt data packet", () => {
    const parity = addon.gsVideoHeaders(header.fields, true)
    const full = bytes(header.bytes)
    const o = header.offsets
    const written = new Set<number>([0, 2, 3, 4, 5, 6, 7])
    for (let i = 0; i < 4; i++) written.add(o["frameIndex"]! + i).add(o["fecInfo"]! + i)
    written.add(o["multiFecBlocks"]!)
    for (let i = 0; i < 32; i++) expect(parity[i], `byte ${i}`).toBe(written.has(i) ? full[i] : 0)
  })
})

describe("packetization follows the client's rules", () => {
  const packetSize = 1024
  const payload = packetSize - 16
  const frameOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff)

  it("one block: contiguous sequence numbers, flags, frame header, and the parity count the client derives", () => {
    const frame = frameOf(5000)
    const packets = addon.gsPacketizeFrame(frame, { packetSize, fecPercent: 20, minRequiredFecPackets: 2, idr: true, rtpTimestamp: 9000, latency: 12 })
    const k = Math.ceil((frame.length + 8) / payload)
    const m = Math.max(Math.ceil((k * 20) / 100), 2)
    expect(packets.length).toBe(k + m)
    packets.forEach((p, i) => {
      expect(p.length).toBe(packetSize + 16)
      const view = new DataView(p.buffer, p.byteOffset)
      expect(p[0]).toBe(0x90)
      expect(view.getUint16(2)).toBe(i)
      expect(view.getUint32(4)).toBe(9000)
      expect(view.getUint32(20, true)).toBe(1) // frame indices start at 1
      const parsed = parseVideoPacket(p, packetSize)!
      expect(parsed.shardIndex).toBe(i)
      expect(parsed.dataShards).toBe(k)
      expect(parsed.parityShards).toBe(m)
      expect(parsed.lastBlock).toBe(0)
      if (i < k) {
        expect(p[24]).toBe(0x1 | (i === 0 ? 0x4 : 0) | (i === k - 1 ? 0x2 : 0))
        expect(view.getUint32(16, true) >>> 8).toBe(i) // streamPacketIndex: consecutive data packets
      }
    })
    const first = packets[0]!
    expect([...first.subarray(32, 40)]).toEqual([0x01, 12, 0, 2, (frame.length + 8) % payload & 0xff, ((frame.length + 8) % payload) >> 8, 0, 0])
    expect([...first.subarray(40, 48)]).toEqual([...frame.subarray(0, 8)])
  })

  it("lost data packets come back through parity, headers included", () => {
    const frame = frameOf(20000)
    const packets = addon.gsPacketizeFrame(frame, { packetSize, fecPercent: 20, minRequiredFecPackets: 2 })
    const k = parseVideoPacket(packets[0]!, packetSize)!.dataShards
    const m = parseVideoPacket(packets[0]!, packetSize)!.parityShards
    const shards: Array<Uint8Array | undefined> = [...packets]
    const lost = [0, 3, k - 1].slice(0, m)
    for (const i of lost) shards[i] = undefined
    const data = reconstruct(shards, k, m, packetSize + 16)!
    for (const i of lost) {
      // Payload and the fields the client does not rewrite (flags, streamPacketIndex) are exact.
      expect(hexOf(data[i]!.subarray(32))).toBe(hexOf(packets[i]!.subarray(32)))
      expect(data[i]![24]).toBe(packets[i]![24])
      expect(hexOf(data[i]!.subarray(16, 20))).toBe(hexOf(packets[i]!.subarray(16, 20)))
    }
    const joined = Buffer.concat(data.map((d) => d.subarray(32)))
    expect(hexOf(joined.subarray(8, 8 + frame.length))).toBe(hexOf(frame))
  })

  it("a frame too large for one block is split into up to four, numbered as the client expects", () => {
    const frame = frameOf(400_000)
    const packets = addon.gsPacketizeFrame(frame, { packetSize, fecPercent: 20, minRequiredFecPackets: 2, frames: 2 })
    const parsed = packets.map((p) => parseVideoPacket(p, packetSize)!)
    const firstFrame = parsed.filter((p) => p.frameIndex === 1)
    const lastBlock = firstFrame[0]!.lastBlock
    expect(lastBlock).toBeGreaterThan(0)
    expect(lastBlock).toBeLessThan(4)
    let seq = 0
    let dataTotal = 0
    for (let b = 0; b <= lastBlock; b++) {
      const block = firstFrame.filter((p) => p.block === b)
      const { dataShards, parityShards } = block[0]!
      expect(dataShards + parityShards).toBeLessThanOrEqual(255)
      expect(parityShards).toBe(Math.max(Math.ceil((dataShards * 20) / 100), 2))
      expect(block.length).toBe(dataShards + parityShards)
      // seq − shardIndex is the block's first sequence number for every packet of the block.
      for (const p of block) expect(new DataView(p.bytes.buffer, p.bytes.byteOffset).getUint16(2) - p.shardIndex).toBe(seq)
      seq += block.length
      dataTotal += dataShards
    }
    expect(dataTotal).toBe(Math.ceil((frame.length + 8) / payload))
    // The next frame continues the sequence and the frame index.
    const second = parsed.filter((p) => p.frameIndex === 2)
    expect(new DataView(second[0]!.bytes.buffer, second[0]!.bytes.byteOffset).getUint16(2)).toBe(seq)
  })

  it("the test client reassembles multi-block frames through loss, byte for byte", async () => {
    const frame = frameOf(300_000)
    const packets = addon.gsPacketizeFrame(frame, { packetSize, fecPercent: 20, minRequiredFecPackets: 2, frames: 3 })
    const program = Effect.gen(function* () {
      const receiver = yield* makeVideoReceiver({ hostPort: 9, pingPayload: "", packetSize, ping: false, decode: false, dropFraction: 0.03, seed: 7 })
      const socket = yield* Effect.acquireRelease(
        Effect.sync(() => dgram.createSocket("udp4")),
        (s) => Effect.sync(() => s.close())
      )
      for (const p of packets) {
        yield* Effect.async<void>((resume) => {
          socket.send(p, receiver.port, "127.0.0.1", () => resume(Effect.void))
        })
      }
      // Loopback delivers everything; wait until it has (no time asserted, only a generous cap).
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
    expect(c.dropped).toBeGreaterThan(0)
    expect(c.recovered).toBeGreaterThan(0)
    expect(c.framesComplete).toBe(3)
    expect(c.multiBlockFrames).toBe(3)
    expect(c.framesIncomplete).toBe(0)
    expect(c.recoveredBadHeader).toBe(0)
    for (const f of frames) expect(hexOf(f.annexB)).toBe(hexOf(frame))
    expect(frames.map((f) => f.frameIndex)).toEqual([1, 2, 3])
  })

  it("block plans: parity = max(ceil(k·p/100), minimum), within 255, and derivable by the client", () => {
    for (const total of [1, 2, 3, 7, 50, 100, 212, 213, 600, 850, 851, 4000]) {
      for (const [pct, min] of [[20, 2], [0, 0], [50, 4], [5, 10], [255, 3]] as const) {
        const plan = addon.gsPlanBlocks(total, pct, min)
        expect(plan, `${total} shards at ${pct}%`).not.toBeNull()
        expect(plan!.blocks.length).toBeLessThanOrEqual(4)
        expect(plan!.blocks.reduce((s, b) => s + b.data, 0)).toBe(total)
        for (const b of plan!.blocks) {
          if (!plan!.fec || pct === 0) {
            expect(b.parity).toBe(0)
            continue
          }
          expect(b.data + b.parity).toBeLessThanOrEqual(255)
          expect(Math.ceil((b.data * b.percent) / 100)).toBe(b.parity)
          expect(b.percent).toBeLessThanOrEqual(255)
          const wanted = Math.min(Math.max(Math.ceil((b.data * pct) / 100), min), 255 - b.data)
          expect(b.parity).toBeGreaterThanOrEqual(Math.min(wanted, Math.ceil((b.data * 255) / 100)))
        }
      }
    }
    expect(addon.gsPlanBlocks(5000, 20, 2)).toBeNull() // more than 4 × 1023 packets even without parity
  })
})
