/**
 * The test client's GameStream video side, written from the protocol description (Moonlight's
 * VideoStream / RtpVideoQueue / VideoDepacketizer behaviour), sharing no code with the host:
 *
 * - pings the host's video port from the socket it receives on: the 16-byte ping payload and a
 *   big-endian counter every `pingIntervalMs` (or the 4 bytes "PING" when the payload is "");
 * - parses each datagram: RTP (big-endian; extension bit set, so 16 bytes) then the 16-byte video
 *   header (little-endian): streamPacketIndex << 8, frameIndex, flags, extraFlags,
 *   multiFecFlags, multiFecBlocks (block << 4 | lastBlock << 6), fecInfo (shard index << 12 |
 *   data shards << 22 | percent << 4), and derives the block's parity count the way the client
 *   does, ceil(data · percent / 100);
 * - groups packets by frame and FEC block; a block with at least `data` packets is rebuilt with
 *   the test's own Reed-Solomon (GsFec.ts) over shards zero-padded to packetSize + 16 bytes;
 * - a frame whose blocks are all whole is joined, its 8-byte frame header (0x01, latency, frame
 *   type, last payload length) read and stripped, and the Annex B access unit decoded with
 *   libavcodec (the media module's `Decoder`).
 *
 * - with `keyHex` (a client that asked for encrypted video, moonlight-common-c's ENCFLG_VIDEO):
 *   each datagram is a 32-byte prefix — the 12-byte AES-GCM nonce, the frame index
 *   (little-endian), the 16-byte tag — then the whole datagram above encrypted with the launch
 *   key, no additional data. It is opened before anything else reads it, as the client does, and
 *   one that does not authenticate is counted and dropped. The nonce is taken as sent (clients do
 *   not rebuild it); the receiver only counts a nonce it saw twice, which would be a broken host.
 *
 * `dropFraction` drops that share of arriving datagrams with a seeded generator, so a loss test
 * is repeatable. A frame is judged when the next frame's first packet arrives (or at `finish`):
 * on loopback packets do not reorder, and the host sends a frame's parity before the next frame.
 */
import { Data, Effect, Queue, Schedule, Stream } from "effect"
import type { Scope } from "effect"
import { createDecipheriv } from "node:crypto"
import * as dgram from "node:dgram"
import { nativeTestHooks, type Decoder } from "../../../src/native/testHooks.js"
import { reconstruct } from "./GsFec.js"

export class VideoReceiverError extends Data.TaggedError("VideoReceiverError")<{ readonly message: string }> {}

export interface VideoReceiverOptions {
  /** The host's video port and address. */
  readonly hostPort: number
  readonly host?: string
  /** Local address to receive on (its host is what the host's ping check sees). */
  readonly bind?: string
  /** 16 characters, or "" for the legacy "PING". */
  readonly pingPayload: string
  /** Moonlight's packetSize: video header + payload per datagram. */
  readonly packetSize: number
  readonly pingIntervalMs?: number
  /** Share (0 ≤ p < 1) of arriving datagrams to drop, and the generator's seed. */
  readonly dropFraction?: number
  readonly seed?: number
  readonly codec?: "h264" | "hevc"
  /** false: reassemble only (no libavcodec). */
  readonly decode?: boolean
  /** false: do not ping (a test sends its own datagrams with `send`). */
  readonly ping?: boolean
  /** The launch's rikey (32 hex digits): the client asked for encrypted video. */
  readonly keyHex?: string
  /** Keep a copy of the first this many datagrams as they arrived (what the network carried). */
  readonly keepRaw?: number
}

export interface VideoReceiverCounters {
  readonly datagrams: number
  /** Datagrams dropped on purpose (`dropFraction`). */
  readonly dropped: number
  /** Datagrams not parseable as GameStream video. */
  readonly malformed: number
  /** Packets of finished frames that never arrived (dropped or lost). */
  readonly lost: number
  /** Data packets rebuilt from parity. */
  readonly recovered: number
  /** Rebuilt data packets whose flags came back wrong (parity that does not cover the header). */
  readonly recoveredBadHeader: number
  readonly parityReceived: number
  readonly framesComplete: number
  /** Frames begun but not whole, plus frame indices never seen at all. */
  readonly framesIncomplete: number
  readonly idrFrames: number
  readonly multiBlockFrames: number
  readonly framesDecoded: number
  readonly decodeErrors: number
  readonly badFrameHeaders: number
  readonly width: number
  readonly height: number
  readonly firstFrameIndex: number
  /** Encrypted video: datagrams that did not authenticate (or were too short to). */
  readonly decryptFailures: number
  /** Encrypted video: datagrams whose nonce was already used. */
  readonly noncesReused: number
  /** Encrypted video: prefixes whose frame index differs from the decrypted header's. */
  readonly frameNumberMismatches: number
}

export interface ReceivedFrame {
  readonly frameIndex: number
  /** 1 P-frame, 2 IDR (from the frame header). */
  readonly frameType: number
  readonly annexB: Uint8Array
  readonly recovered: number
  readonly decoded: boolean
}

export interface VideoReceiver {
  /** The local port pings leave from and video arrives at. */
  readonly port: number
  readonly counters: Effect.Effect<VideoReceiverCounters>
  /** Complete frames, in order of completion. */
  readonly frames: Stream.Stream<ReceivedFrame>
  /** Sends raw bytes to the host's video port from the receiving socket. */
  readonly send: (bytes: Uint8Array) => Effect.Effect<void>
  /** Judges every pending frame now (call before reading final counters). */
  readonly finish: Effect.Effect<void>
  /** The first `keepRaw` datagrams, as they arrived. */
  readonly raw: Effect.Effect<ReadonlyArray<Uint8Array>>
}

interface Packet {
  readonly bytes: Uint8Array
  readonly frameIndex: number
  readonly flags: number
  readonly block: number
  readonly lastBlock: number
  readonly shardIndex: number
  readonly dataShards: number
  readonly parityShards: number
}

interface BlockState {
  readonly dataShards: number
  readonly parityShards: number
  readonly shards: Array<Uint8Array | undefined>
  received: number
  data: Array<Uint8Array> | undefined
  recovered: number
}

interface FrameState {
  readonly frameIndex: number
  readonly lastBlock: number
  readonly blocks: Map<number, BlockState>
  done: boolean
}

const RTP_BYTES = 16
const HEADERS_BYTES = 32
const FRAME_HEADER_BYTES = 8
const ENC_PREFIX_BYTES = 32

/**
 * Opens one encrypted video datagram: the nonce, frame index and tag in front, the datagram
 * after; undefined when it does not authenticate under `key`.
 */
export const openVideoDatagram = (
  key: Buffer,
  sealed: Uint8Array
): { readonly plain: Uint8Array; readonly nonce: Uint8Array; readonly frameIndex: number } | undefined => {
  if (sealed.length < ENC_PREFIX_BYTES + HEADERS_BYTES) return undefined
  const nonce = sealed.subarray(0, 12)
  const frameIndex = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength).getUint32(12, true)
  try {
    const d = createDecipheriv("aes-128-gcm", key, nonce)
    d.setAuthTag(sealed.subarray(16, 32))
    const plain = Buffer.concat([d.update(sealed.subarray(ENC_PREFIX_BYTES)), d.final()])
    return { plain: new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength), nonce, frameIndex }
  } catch {
    return undefined
  }
}

/** mulberry32: a small seeded generator, so a loss pattern repeats run to run. */
const seeded = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Parses one datagram; undefined when it is not GameStream video. */
export const parseVideoPacket = (bytes: Uint8Array, packetSize: number): Packet | undefined => {
  if (bytes.length < HEADERS_BYTES || bytes.length > packetSize + RTP_BYTES) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if ((bytes[0]! & 0xc0) !== 0x80 || (bytes[0]! & 0x10) === 0) return undefined
  const fecInfo = view.getUint32(28, true)
  const dataShards = fecInfo >>> 22
  const percent = (fecInfo >>> 4) & 0xff
  const parityShards = Math.ceil((dataShards * percent) / 100)
  const shardIndex = (fecInfo >>> 12) & 0x3ff
  const multiFecBlocks = bytes[27]!
  const block = (multiFecBlocks >> 4) & 3
  const lastBlock = (multiFecBlocks >> 6) & 3
  if (dataShards === 0 || shardIndex >= dataShards + parityShards || block > lastBlock) return undefined
  return { bytes, frameIndex: view.getUint32(20, true), flags: bytes[24]!, block, lastBlock, shardIndex, dataShards, parityShards }
}

export const makeVideoReceiver = (
  options: VideoReceiverOptions
): Effect.Effect<VideoReceiver, VideoReceiverError, Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const blockSize = options.packetSize + RTP_BYTES
    const payloadBytes = options.packetSize - 16
    const random = seeded(options.seed ?? 1)
    const dropFraction = options.dropFraction ?? 0
    const queue = yield* Effect.acquireRelease(Queue.unbounded<ReceivedFrame>(), Queue.shutdown)
    const decoder: Decoder | undefined =
      options.decode === false
        ? undefined
        : yield* Effect.acquireRelease(
            Effect.try({
              try: () => new (nativeTestHooks().Decoder)(options.codec ?? "h264"),
              catch: (e) => new VideoReceiverError({ message: `decoder: ${String(e)}` })
            }),
            (d) => Effect.sync(() => d.close())
          )

    const c = {
      datagrams: 0,
      dropped: 0,
      malformed: 0,
      lost: 0,
      recovered: 0,
      recoveredBadHeader: 0,
      parityReceived: 0,
      framesComplete: 0,
      framesIncomplete: 0,
      idrFrames: 0,
      multiBlockFrames: 0,
      framesDecoded: 0,
      decodeErrors: 0,
      badFrameHeaders: 0,
      width: 0,
      height: 0,
      firstFrameIndex: 0,
      decryptFailures: 0,
      noncesReused: 0,
      frameNumberMismatches: 0
    }
    const key = options.keyHex === undefined ? undefined : Buffer.from(options.keyHex, "hex")
    const nonces = new Set<string>()
    const raw: Array<Uint8Array> = []
    const pending = new Map<number, FrameState>()
    let highestFrame = 0

    const blockDone = (b: BlockState): boolean => {
      if (b.data !== undefined) return true
      if (b.received < b.dataShards) return false
      const padded = b.shards.map((s) => {
        if (s === undefined || s.length === blockSize) return s
        const p = new Uint8Array(blockSize)
        p.set(s)
        return p
      })
      const data = reconstruct(padded, b.dataShards, b.parityShards, blockSize)
      if (data === undefined) return false
      for (let i = 0; i < b.dataShards; i++) {
        if (b.shards[i] !== undefined) continue
        b.recovered++
        // Flags come back from the parity: PIC_DATA, SOF on the first, EOF on the last.
        const want = 0x1 | (i === 0 ? 0x4 : 0) | (i === b.dataShards - 1 ? 0x2 : 0)
        if (data[i]![24] !== want) c.recoveredBadHeader++
      }
      b.data = data
      return true
    }

    const assemble = (f: FrameState): void => {
      const parts: Array<Uint8Array> = []
      let recovered = 0
      for (let i = 0; i <= f.lastBlock; i++) {
        const b = f.blocks.get(i)!
        recovered += b.recovered
        for (const shard of b.data!) parts.push(shard.subarray(HEADERS_BYTES, HEADERS_BYTES + payloadBytes))
      }
      const stream = new Uint8Array(parts.length * payloadBytes)
      parts.forEach((p, i) => stream.set(p, i * payloadBytes))
      const view = new DataView(stream.buffer)
      const lastLen = view.getUint16(4, true)
      const frameType = stream[3]!
      const total = (parts.length - 1) * payloadBytes + lastLen
      if (stream[0] !== 0x01 || lastLen === 0 || lastLen > payloadBytes || total <= FRAME_HEADER_BYTES) {
        c.badFrameHeaders++
        c.framesIncomplete++
        return
      }
      const annexB = stream.slice(FRAME_HEADER_BYTES, total)
      c.framesComplete++
      c.recovered += recovered
      if (frameType === 2) c.idrFrames++
      if (f.lastBlock > 0) c.multiBlockFrames++
      if (c.firstFrameIndex === 0) c.firstFrameIndex = f.frameIndex
      let decoded = false
      if (decoder !== undefined) {
        const r = decoder.decode(annexB)
        decoded = r.ok && r.frames > 0
        if (decoded) c.framesDecoded++
        else c.decodeErrors++
        c.width = r.width
        c.height = r.height
      }
      Queue.unsafeOffer(queue, { frameIndex: f.frameIndex, frameType, annexB, recovered, decoded })
    }

    const judge = (f: FrameState): void => {
      pending.delete(f.frameIndex)
      for (const b of f.blocks.values()) c.lost += b.dataShards + b.parityShards - b.received
      // Blocks never seen at all: their size is unknown, so they count as one lost packet each.
      c.lost += f.lastBlock + 1 - f.blocks.size
      if (!f.done) c.framesIncomplete++
    }

    const onPacket = (p: Packet): void => {
      if (p.frameIndex > highestFrame) {
        for (const f of [...pending.values()]) if (f.frameIndex < p.frameIndex) judge(f)
        if (highestFrame !== 0 && p.frameIndex > highestFrame + 1) c.framesIncomplete += p.frameIndex - highestFrame - 1
        highestFrame = p.frameIndex
      }
      const f = pending.get(p.frameIndex)
      const frame: FrameState = f ?? { frameIndex: p.frameIndex, lastBlock: p.lastBlock, blocks: new Map(), done: false }
      if (f === undefined) {
        if (p.frameIndex < highestFrame) return // a late packet of a frame already judged
        pending.set(p.frameIndex, frame)
      }
      let b = frame.blocks.get(p.block)
      if (b === undefined) {
        b = {
          dataShards: p.dataShards,
          parityShards: p.parityShards,
          shards: new Array<Uint8Array | undefined>(p.dataShards + p.parityShards).fill(undefined),
          received: 0,
          data: undefined,
          recovered: 0
        }
        frame.blocks.set(p.block, b)
      }
      if (b.shards[p.shardIndex] !== undefined || b.dataShards !== p.dataShards) return
      b.shards[p.shardIndex] = p.bytes
      b.received++
      if (p.shardIndex >= p.dataShards) c.parityReceived++
      if (frame.done || !blockDone(b)) return
      for (let i = 0; i <= frame.lastBlock; i++) {
        const x = frame.blocks.get(i)
        if (x === undefined || x.data === undefined) return
      }
      frame.done = true
      assemble(frame)
    }

    const socket = yield* Effect.acquireRelease(
      Effect.async<dgram.Socket, VideoReceiverError>((resume) => {
        const s = dgram.createSocket({ type: host.includes(":") ? "udp6" : "udp4", recvBufferSize: 8 << 20 })
        s.once("error", (e) => resume(Effect.fail(new VideoReceiverError({ message: `bind: ${e.message}` }))))
        s.bind(0, options.bind ?? "127.0.0.1", () => resume(Effect.succeed(s)))
      }),
      (s) =>
        Effect.async<void>((resume) => {
          s.close(() => resume(Effect.void))
        })
    )
    socket.on("error", () => {
      // ICMP port-unreachable before the host listens, and the like: the next ping retries.
    })
    socket.on("message", (msg: Buffer) => {
      c.datagrams++
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice()
      if (raw.length < (options.keepRaw ?? 0)) raw.push(bytes)
      if (dropFraction > 0 && random() < dropFraction) {
        c.dropped++
        return
      }
      let datagram: Uint8Array = bytes
      let sealedFrame: number | undefined
      if (key !== undefined) {
        const opened = openVideoDatagram(key, bytes)
        if (opened === undefined) {
          c.decryptFailures++
          return
        }
        const nonce = Buffer.from(opened.nonce).toString("hex")
        if (nonces.has(nonce)) c.noncesReused++
        nonces.add(nonce)
        datagram = opened.plain
        sealedFrame = opened.frameIndex
      }
      const p = parseVideoPacket(datagram, options.packetSize)
      if (p === undefined) return void c.malformed++
      if (sealedFrame !== undefined && sealedFrame !== p.frameIndex) c.frameNumberMismatches++
      onPacket(p)
    })

    const send = (bytes: Uint8Array) =>
      Effect.async<void>((resume) => {
        socket.send(bytes, options.hostPort, host, () => resume(Effect.void))
      })

    if (options.ping !== false) {
      let sequence = 0
      const ping = Effect.suspend(() => {
        if (options.pingPayload === "") return send(Buffer.from("PING", "ascii"))
        const b = Buffer.alloc(20)
        b.write(options.pingPayload.slice(0, 16), 0, "latin1")
        b.writeUInt32BE(++sequence, 16)
        return send(b)
      })
      yield* Effect.forkScoped(Effect.repeat(ping, Schedule.spaced(`${options.pingIntervalMs ?? 500} millis`)))
    }

    return {
      port: socket.address().port,
      counters: Effect.sync(() => ({ ...c })),
      frames: Stream.fromQueue(queue),
      send,
      finish: Effect.sync(() => {
        for (const f of [...pending.values()]) judge(f)
      }),
      raw: Effect.sync(() => [...raw])
    }
  })
