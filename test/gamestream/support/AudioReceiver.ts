/**
 * The audio side of the test GameStream client, written from the protocol description (what a
 * Moonlight client sends and how it reads what comes back), not from the host's C++:
 *
 * - it pings the host's audio port from its own UDP socket: the 16-byte X-SS-Ping-Payload then
 *   a big-endian ping counter (20 bytes), or the 4 bytes "PING" for a legacy client;
 * - every datagram back is RTP: 0x80, payload type 97 (Opus) or 127 (FEC), BE sequence number,
 *   BE timestamp (advancing by the packet duration in ms), SSRC;
 * - FEC: 4 data packets whose first sequence number is a multiple of 4 form a block; 2 FEC
 *   packets carry, after their RTP header, a 12-byte FEC header (shard index, payload type 97,
 *   BE base sequence number, BE base timestamp, SSRC) and a parity shard. Parity is Reed-Solomon
 *   over GF(2^8) (polynomial 0x11d) with the fixed 2×4 matrix Moonlight installs. This file has
 *   its own small GF arithmetic and solver, so a lost data packet is rebuilt here the way the
 *   client rebuilds it;
 * - encrypted audio is AES-128-CBC (PKCS#7) keyed with rikey, IV = BE32(rikeyid + sequence
 *   number) then 12 zero bytes (node:crypto);
 * - payloads are decoded with libopus through the audio module's test-only `decodeOpus`.
 *
 * `dropData` lets a test lose chosen data packets on arrival (before anything else looks at
 * them) and then check that FEC gave back the exact bytes.
 */
import { createDecipheriv } from "node:crypto"
import * as dgram from "node:dgram"
import { nativeTestHooks } from "../../../src/native/testHooks.js"
import { gfInv, gfMul } from "./GsFec.js"

export const PT_AUDIO = 97
export const PT_FEC = 127
export const DATA_SHARDS = 4
export const PARITY_SHARDS = 2
export const PARITY_MATRIX: ReadonlyArray<ReadonlyArray<number>> = [
  [0x77, 0x40, 0x38, 0x0e],
  [0xc7, 0xa7, 0x0d, 0x6c]
]

// GF(2^8) arithmetic is the video test client's (same field, x^8 + x^4 + x^3 + x^2 + 1): only the
// matrix differs — audio uses the fixed 2×4 matrix above.
export { gfMul }

/** The two parity shards for four equal-length data shards. */
export const parityOf = (data: ReadonlyArray<Uint8Array>): [Uint8Array, Uint8Array] => {
  const n = data[0]!.length
  const out: [Uint8Array, Uint8Array] = [new Uint8Array(n), new Uint8Array(n)]
  for (let j = 0; j < PARITY_SHARDS; j++)
    for (let k = 0; k < n; k++) {
      let v = 0
      for (let i = 0; i < DATA_SHARDS; i++) v ^= gfMul(PARITY_MATRIX[j]![i]!, data[i]![k]!)
      out[j]![k] = v
    }
  return out
}

/**
 * Rebuilds missing data shards (undefined entries) from the present ones and the parity shards
 * (undefined when lost). Returns all four data shards, or undefined when fewer than four shards
 * in total arrived. Solves the |missing|×|missing| system over GF(2^8) by Gauss-Jordan.
 */
export const reconstruct = (
  data: ReadonlyArray<Uint8Array | undefined>,
  parity: ReadonlyArray<Uint8Array | undefined>
): Array<Uint8Array> | undefined => {
  const missing = [0, 1, 2, 3].filter((i) => data[i] === undefined)
  if (missing.length === 0) return data as Array<Uint8Array>
  const rows = [0, 1].filter((j) => parity[j] !== undefined).slice(0, missing.length)
  if (rows.length < missing.length) return undefined
  const n = parity[rows[0]!]!.length
  // Right-hand sides: parity minus the known data's contribution.
  const rhs = rows.map((j) => {
    const r = Uint8Array.from(parity[j]!)
    for (let i = 0; i < DATA_SHARDS; i++) {
      const d = data[i]
      if (d === undefined) continue
      const c = PARITY_MATRIX[j]![i]!
      for (let k = 0; k < n; k++) r[k]! ^= gfMul(c, d[k]!)
    }
    return r
  })
  const m = rows.map((j) => missing.map((i) => PARITY_MATRIX[j]![i]!))
  const size = missing.length
  for (let col = 0; col < size; col++) {
    const pivot = m.findIndex((row, r) => r >= col && row[col] !== 0)
    if (pivot < 0) return undefined
    ;[m[col], m[pivot]] = [m[pivot]!, m[col]!]
    ;[rhs[col], rhs[pivot]] = [rhs[pivot]!, rhs[col]!]
    const inv = gfInv(m[col]![col]!)
    m[col] = m[col]!.map((v) => gfMul(v, inv))
    rhs[col] = rhs[col]!.map((v) => gfMul(v, inv))
    for (let r = 0; r < size; r++) {
      const f = m[r]![col]!
      if (r === col || f === 0) continue
      m[r] = m[r]!.map((v, c) => v ^ gfMul(f, m[col]![c]!))
      const src = rhs[col]!
      rhs[r] = rhs[r]!.map((v, k) => v ^ gfMul(f, src[k]!))
    }
  }
  const out = data.slice() as Array<Uint8Array | undefined>
  missing.forEach((i, idx) => (out[i] = rhs[idx]!))
  return out as Array<Uint8Array>
}

// ---- packets ----------------------------------------------------------------------------------

export interface RtpHeader {
  readonly version: number
  readonly payloadType: number
  readonly sequenceNumber: number
  readonly timestamp: number
  readonly ssrc: number
}

export const parseRtp = (b: Uint8Array): RtpHeader | undefined => {
  if (b.length < 12) return undefined
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return {
    version: b[0]! >> 6,
    payloadType: b[1]! & 0x7f,
    sequenceNumber: v.getUint16(2),
    timestamp: v.getUint32(4),
    ssrc: v.getUint32(8)
  }
}

export interface FecHeader {
  readonly shardIndex: number
  readonly payloadType: number
  readonly baseSequenceNumber: number
  readonly baseTimestamp: number
  readonly ssrc: number
}

export const parseFecHeader = (b: Uint8Array): FecHeader | undefined => {
  if (b.length < 24) return undefined
  const v = new DataView(b.buffer, b.byteOffset + 12, 12)
  return {
    shardIndex: b[12]!,
    payloadType: b[13]!,
    baseSequenceNumber: v.getUint16(2),
    baseTimestamp: v.getUint32(4),
    ssrc: v.getUint32(8)
  }
}

export const audioIv = (keyId: number, sequenceNumber: number): Buffer => {
  const iv = Buffer.alloc(16)
  iv.writeUInt32BE(((keyId + sequenceNumber) % 2 ** 32 + 2 ** 32) % 2 ** 32, 0)
  return iv
}

export const decryptAudio = (keyHex: string, keyId: number, sequenceNumber: number, payload: Uint8Array): Buffer => {
  const d = createDecipheriv("aes-128-cbc", Buffer.from(keyHex, "hex"), audioIv(keyId, sequenceNumber))
  return Buffer.concat([d.update(payload), d.final()])
}

export const makePing = (payload: string, counter: number): Buffer => {
  if (payload === "") return Buffer.from("PING", "ascii")
  const b = Buffer.alloc(20)
  b.write(payload, 0, 16, "latin1")
  b.writeUInt32BE(counter >>> 0, 16)
  return b
}

// ---- the receiver -----------------------------------------------------------------------------

export interface AudioReceiverOptions {
  readonly hostPort: number
  readonly host?: string
  /** Where this client's socket binds (its address is what the host checks pings against). */
  readonly bind?: string
  readonly pingPayload: string
  readonly channels: 2 | 6 | 8
  readonly packetDurationMs: number
  readonly encryption?: { readonly keyHex: string; readonly keyId: number }
  /** Lose these data packets on arrival (by sequence number), to exercise FEC. */
  readonly dropData?: (sequenceNumber: number) => boolean
  /** Keep every data payload as it arrived (still encrypted), by sequence number. */
  readonly keepPayloads?: boolean
  /** Keep every datagram (data and FEC) that was not dropped, in arrival order. */
  readonly keepDatagrams?: boolean
}

export interface AudioReceiverStats {
  dataPackets: number
  fecPackets: number
  /** Datagrams that were not well-formed RTP audio/FEC as described above. */
  malformed: number
  /** Data packets (as delivered by the network) whose sequence number was not previous + 1. */
  sequenceGaps: number
  /** Data packets whose timestamp was not first + (seq − first) × packet duration. */
  timestampErrors: number
  /** FEC packets whose header disagreed with the block layout (base not a multiple of 4, index ≥ 2, base timestamp off). */
  fecHeaderErrors: number
  /** Data payloads of one block with unequal lengths (the client could not use that block's FEC). */
  unequalShards: number
  dropped: number
  /** Dropped data packets rebuilt from FEC. */
  recovered: number
  /** …of which byte-identical to what was dropped (RTP header included). */
  recoveredExact: number
  decoded: number
  decodeErrors: number
  decryptErrors: number
  /** Samples per channel of the last decoded packet. */
  lastSamples: number
  /** Largest |sample| over every decoded packet. */
  maxPeak: number
  payloadBytes: Set<number>
  /** First byte (Opus TOC) of every decrypted payload: constant for a constant layout. */
  tocBytes: Set<number>
}

interface Block {
  readonly data: Array<Uint8Array | undefined>
  readonly parity: Array<Uint8Array | undefined>
  readonly dropped: Map<number, Uint8Array>
  fec: FecHeader | undefined
  done: boolean
}

export class AudioReceiver {
  readonly stats: AudioReceiverStats = {
    dataPackets: 0,
    fecPackets: 0,
    malformed: 0,
    sequenceGaps: 0,
    timestampErrors: 0,
    fecHeaderErrors: 0,
    unequalShards: 0,
    dropped: 0,
    recovered: 0,
    recoveredExact: 0,
    decoded: 0,
    decodeErrors: 0,
    decryptErrors: 0,
    lastSamples: 0,
    maxPeak: 0,
    payloadBytes: new Set(),
    tocBytes: new Set()
  }
  /** Sequence numbers of data packets in arrival order (network view, drops included). */
  readonly sequence: Array<number> = []
  /** Data payloads as they arrived, when `keepPayloads` is set. */
  readonly payloads = new Map<number, Uint8Array>()
  /** Datagrams as they arrived (minus `dropData`), when `keepDatagrams` is set. */
  readonly datagrams: Array<Uint8Array> = []
  private lastSeq: number | undefined
  private first: { seq: number; ts: number } | undefined
  private readonly blocks = new Map<number, Block>()
  private pingCounter = 0
  private pinger: ReturnType<typeof setInterval> | undefined

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: AudioReceiverOptions
  ) {
    socket.on("message", (m) => this.onDatagram(new Uint8Array(m.buffer, m.byteOffset, m.byteLength)))
  }

  static open(options: AudioReceiverOptions): Promise<AudioReceiver> {
    const bind = options.bind ?? "127.0.0.1"
    const socket = dgram.createSocket(bind.includes(":") ? "udp6" : "udp4")
    return new Promise((resolve, reject) => {
      socket.once("error", reject)
      socket.bind(0, bind, () => {
        socket.off("error", reject)
        socket.on("error", () => undefined) // ICMP unreachable before the host binds, as on a real network
        resolve(new AudioReceiver(socket, options))
      })
    })
  }

  get port(): number {
    return this.socket.address().port
  }

  /** Sends one ping (by default the configured one; `raw` sends any bytes instead). */
  ping(raw?: Uint8Array): void {
    this.socket.send(raw ?? makePing(this.options.pingPayload, ++this.pingCounter), this.options.hostPort, this.options.host ?? "127.0.0.1")
  }

  /** Pings every `intervalMs` (Moonlight pings every 500 ms; tests go faster). */
  startPinging(intervalMs = 100): void {
    this.ping()
    this.pinger ??= setInterval(() => this.ping(), intervalMs)
  }

  stopPinging(): void {
    if (this.pinger !== undefined) clearInterval(this.pinger)
    this.pinger = undefined
  }

  close(): void {
    this.stopPinging()
    try {
      this.socket.close()
    } catch {
      // already closed
    }
  }

  private onDatagram(b: Uint8Array): void {
    const rtp = parseRtp(b)
    if (rtp === undefined || rtp.version !== 2) {
      this.stats.malformed++
      return
    }
    if (rtp.payloadType === PT_AUDIO) this.onData(rtp, b)
    else if (rtp.payloadType === PT_FEC) this.onFec(b)
    else this.stats.malformed++
  }

  private blockOf(base: number): Block {
    let block = this.blocks.get(base)
    if (block === undefined) {
      block = { data: [undefined, undefined, undefined, undefined], parity: [undefined, undefined], dropped: new Map(), fec: undefined, done: false }
      this.blocks.set(base, block)
      // Keep a bounded window, as a client does.
      if (this.blocks.size > 64) this.blocks.delete(this.blocks.keys().next().value!)
    }
    return block
  }

  private onData(rtp: RtpHeader, b: Uint8Array): void {
    this.stats.dataPackets++
    const seq = rtp.sequenceNumber
    this.sequence.push(seq)
    if (this.lastSeq !== undefined && seq !== ((this.lastSeq + 1) & 0xffff)) this.stats.sequenceGaps++
    this.lastSeq = seq
    this.first ??= { seq, ts: rtp.timestamp }
    const expectedTs = (this.first.ts + ((seq - this.first.seq) & 0xffff) * this.options.packetDurationMs) >>> 0
    if (rtp.timestamp !== expectedTs) this.stats.timestampErrors++
    const base = seq - (seq % DATA_SHARDS)
    const block = this.blockOf(base)
    const copy = Uint8Array.from(b)
    if (this.options.dropData?.(seq) === true) {
      this.stats.dropped++
      block.dropped.set(seq % DATA_SHARDS, copy)
      return
    }
    if (this.options.keepPayloads === true) this.payloads.set(seq, copy.subarray(12))
    if (this.options.keepDatagrams === true) this.datagrams.push(copy)
    block.data[seq % DATA_SHARDS] = copy.subarray(12)
    this.consume(seq, copy.subarray(12))
    this.tryRecover(base, block)
  }

  private onFec(b: Uint8Array): void {
    const h = parseFecHeader(b)
    if (h === undefined) {
      this.stats.malformed++
      return
    }
    this.stats.fecPackets++
    if (this.options.keepDatagrams === true) this.datagrams.push(Uint8Array.from(b))
    if (h.baseSequenceNumber % DATA_SHARDS !== 0 || h.shardIndex >= PARITY_SHARDS || h.payloadType !== PT_AUDIO) {
      this.stats.fecHeaderErrors++
      return
    }
    if (this.first !== undefined) {
      const expectedTs = (this.first.ts + ((h.baseSequenceNumber - this.first.seq) & 0xffff) * this.options.packetDurationMs) >>> 0
      if (h.baseTimestamp !== expectedTs) this.stats.fecHeaderErrors++
    }
    const block = this.blockOf(h.baseSequenceNumber)
    block.parity[h.shardIndex] = Uint8Array.from(b.subarray(24))
    block.fec = h
    this.tryRecover(h.baseSequenceNumber, block)
  }

  private tryRecover(base: number, block: Block): void {
    if (block.done) return
    const fec = block.fec
    const present = block.data.filter((d) => d !== undefined)
    const lengths = new Set([...present, ...block.parity.filter((p) => p !== undefined)].map((s) => s!.length))
    if (lengths.size > 1) {
      this.stats.unequalShards++
      block.done = true
      return
    }
    if (present.length === DATA_SHARDS) {
      block.done = true
      return
    }
    const rebuilt = reconstruct(block.data, block.parity)
    if (rebuilt === undefined) return
    block.done = true
    for (let i = 0; i < DATA_SHARDS; i++) {
      if (block.data[i] !== undefined) continue
      const seq = (base + i) & 0xffff
      // The RTP header comes back from the FEC header, as the client rebuilds it.
      const header = Buffer.alloc(12)
      header[0] = 0x80
      header[1] = fec?.payloadType ?? PT_AUDIO
      header.writeUInt16BE(seq, 2)
      const baseTs = fec?.baseTimestamp ?? 0
      header.writeUInt32BE((baseTs + i * this.options.packetDurationMs) >>> 0, 4)
      header.writeUInt32BE(fec?.ssrc ?? 0, 8)
      const packet = Buffer.concat([header, rebuilt[i]!])
      this.stats.recovered++
      const original = block.dropped.get(i)
      if (original !== undefined && fec !== undefined && Buffer.compare(Buffer.from(original), packet) === 0) this.stats.recoveredExact++
      block.data[i] = rebuilt[i]
      this.consume(seq, rebuilt[i]!)
    }
  }

  private consume(seq: number, payload: Uint8Array): void {
    this.stats.payloadBytes.add(payload.length)
    let opus: Uint8Array = payload
    if (this.options.encryption !== undefined) {
      try {
        opus = decryptAudio(this.options.encryption.keyHex, this.options.encryption.keyId, seq, payload)
      } catch {
        this.stats.decryptErrors++
        return
      }
    }
    if (opus.length > 0) this.stats.tocBytes.add(opus[0]!)
    try {
      const r = nativeTestHooks().decodeOpus(opus, this.options.channels)
      this.stats.decoded++
      this.stats.lastSamples = r.samples
      this.stats.maxPeak = Math.max(this.stats.maxPeak, r.peak)
    } catch {
      this.stats.decodeErrors++
    }
  }
}
