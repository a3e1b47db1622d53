/**
 * Tools of the datagram fuzz driver (test/streaming/native-datagram-fuzz.test.ts): a seeded
 * generator, mutations of real datagrams, punktfunk/1 sealing done in JavaScript (so the driver
 * can play a hostile *key holder* as well as an attacker without the key), and a sender that
 * waits for the receiver to have taken each batch.
 *
 * Why a seeded generator: a failure prints its seed, and `PUNKTFUNK_FUZZ_SEED=<seed>` replays
 * exactly the same datagrams. Why batches that wait for the receiver's counters: UDP on
 * loopback drops when a socket buffer fills, and a dropped datagram would make the exact
 * accounting the tests assert (every datagram counted once) a race instead of a fact.
 */
import * as crypto from "node:crypto"
import * as dgram from "node:dgram"

/** Iterations per receive path: small in the normal suite, raised by `npm run test:asan`. */
export const fuzzIterations = (fallback: number): number => {
  const n = Number(process.env["PUNKTFUNK_FUZZ_ITERATIONS"] ?? "")
  return Number.isInteger(n) && n > 0 ? n : fallback
}

export const fuzzSeed = (): number => {
  const text = process.env["PUNKTFUNK_FUZZ_SEED"]
  const n = text === undefined || text.trim() === "" ? NaN : Number(text)
  return Number.isInteger(n) ? n >>> 0 : crypto.randomInt(0, 2 ** 32)
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: ReadonlyArray<T>): T {
    return items[this.int(items.length)]!
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
  shuffle<T>(items: Array<T>): Array<T> {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i]!
      items[i] = items[j]!
      items[j] = t
    }
    return items
  }
}

/**
 * One mutation of a real datagram, never equal to it: bit flips, a byte overwritten, cut short
 * (down to nothing), extended, a header field (the first `headerBytes`) set to an edge value,
 * two regions swapped, or the header kept and the rest replaced.
 */
export const mutate = (rng: Rng, original: Buffer, headerBytes: number): Buffer => {
  for (;;) {
    const d = Buffer.from(original)
    switch (rng.int(8)) {
      case 0: {
        const flips = 1 + rng.int(8)
        for (let i = 0; i < flips && d.length > 0; i++) {
          const at = rng.int(d.length)
          d[at] = d[at]! ^ (1 << rng.int(8))
        }
        break
      }
      case 1:
        if (d.length > 0) d[rng.int(d.length)] = rng.int(256)
        break
      case 2:
        return d.subarray(0, rng.int(d.length))
      case 3:
        return Buffer.concat([d, rng.bytes(1 + rng.int(rng.next() < 0.9 ? 64 : 4096))])
      case 4: {
        // A header byte (or a run of them) set to 0x00, 0xff, 0x7f, 0x80 or 0x01.
        const h = Math.min(headerBytes, d.length)
        if (h === 0) break
        const at = rng.int(h)
        const run = 1 + rng.int(Math.min(4, h - at))
        d.fill(rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01]), at, at + run)
        break
      }
      case 5: {
        if (d.length < 4) break
        const n = 1 + rng.int(Math.floor(d.length / 2))
        const a = rng.int(d.length - n + 1)
        const b = rng.int(d.length - n + 1)
        const copy = Buffer.from(d.subarray(a, a + n))
        d.copy(d, a, b, b + n)
        copy.copy(d, b)
        break
      }
      case 6:
        return Buffer.concat([d.subarray(0, Math.min(headerBytes, d.length)), rng.bytes(rng.int(d.length + 1))])
      default:
        return rng.bytes(rng.int(rng.next() < 0.8 ? 2 * original.length + 1 : 65_000))
    }
    if (!d.equals(original)) return d
  }
}

// ---- punktfunk/1 media datagrams (the layout of src/native/media/wire.h) ---------------------

export const HEADER_BYTES = 36
export const TAG_BYTES = 16

export interface MediaHeader {
  seq: bigint
  version: number
  flags: number
  shardBytes: number
  frameId: number
  blockIndex: number
  blockCount: number
  shardIndex: number
  dataShards: number
  parityShards: number
  frameBytes: number
  captureUs: bigint
}

export const writeHeader = (h: MediaHeader): Buffer => {
  const b = Buffer.alloc(HEADER_BYTES)
  b.writeBigUInt64BE(BigInt.asUintN(64, h.seq), 0)
  b.writeUInt8(h.version & 0xff, 8)
  b.writeUInt8(h.flags & 0xff, 9)
  b.writeUInt16BE(h.shardBytes & 0xffff, 10)
  b.writeUInt32BE(h.frameId >>> 0, 12)
  b.writeUInt8(h.blockIndex & 0xff, 16)
  b.writeUInt8(h.blockCount & 0xff, 17)
  b.writeUInt8(h.shardIndex & 0xff, 18)
  b.writeUInt8(h.dataShards & 0xff, 19)
  b.writeUInt8(h.parityShards & 0xff, 20)
  b.writeUInt32BE(h.frameBytes >>> 0, 24)
  b.writeBigUInt64BE(BigInt.asUintN(64, h.captureUs), 28)
  return b
}

export const readHeader = (d: Buffer): MediaHeader => ({
  seq: d.readBigUInt64BE(0),
  version: d.readUInt8(8),
  flags: d.readUInt8(9),
  shardBytes: d.readUInt16BE(10),
  frameId: d.readUInt32BE(12),
  blockIndex: d.readUInt8(16),
  blockCount: d.readUInt8(17),
  shardIndex: d.readUInt8(18),
  dataShards: d.readUInt8(19),
  parityShards: d.readUInt8(20),
  frameBytes: d.readUInt32BE(24),
  captureUs: d.readBigUInt64BE(28)
})

/** The session key as the receiver takes it: 16 bytes of AES-128 key, then 4 of nonce salt. */
export interface MediaKey {
  readonly key: Buffer
  readonly salt: Buffer
  readonly hex: string
}

export const mediaKey = (rng: Rng): MediaKey => {
  const raw = rng.bytes(20)
  return { key: raw.subarray(0, 16), salt: raw.subarray(16), hex: raw.toString("hex") }
}

const nonce = (k: MediaKey, seq: bigint): Buffer => {
  const iv = Buffer.alloc(12)
  k.salt.copy(iv, 0)
  iv.writeBigUInt64BE(BigInt.asUintN(64, seq), 4)
  return iv
}

/** A datagram the receiver authenticates: the header as additional data, the shard encrypted. */
export const seal = (k: MediaKey, h: MediaHeader, plain: Buffer): Buffer => {
  const header = writeHeader(h)
  const c = crypto.createCipheriv("aes-128-gcm", k.key, nonce(k, h.seq))
  c.setAAD(header)
  const body = Buffer.concat([c.update(plain), c.final()])
  return Buffer.concat([header, body, c.getAuthTag()])
}

/** The shard inside a real datagram (throws if it does not authenticate). */
export const open = (k: MediaKey, d: Buffer): Buffer => {
  const h = readHeader(d)
  const c = crypto.createDecipheriv("aes-128-gcm", k.key, nonce(k, h.seq))
  c.setAAD(d.subarray(0, HEADER_BYTES))
  c.setAuthTag(d.subarray(d.length - TAG_BYTES))
  return Buffer.concat([c.update(d.subarray(HEADER_BYTES, d.length - TAG_BYTES)), c.final()])
}

// ---- sockets ----------------------------------------------------------------------------------

export interface Socket {
  readonly port: number
  send(d: Uint8Array, port: number, host?: string): Promise<void>
  close(): void
}

export const openSocket = async (address = "127.0.0.1", onMessage?: (d: Buffer, from: dgram.RemoteInfo) => void): Promise<Socket> => {
  // A deep receive buffer (capped by net.core.rmem_max): a sink capturing a paced burst of a
  // large frame must not drop any while a slowed-down (sanitized, busy) event loop catches up.
  const s = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 })
  if (onMessage !== undefined) s.on("message", onMessage)
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject)
    s.bind(0, address, () => resolve())
  })
  return {
    port: s.address().port,
    send: (d, port, host = "127.0.0.1") =>
      new Promise<void>((resolve, reject) => s.send(d, port, host, (e) => (e ? reject(e) : resolve()))),
    close: () => s.close()
  }
}

/** Polls `done` every 10 ms; fails naming `what` after `ms`. */
export const until = async (what: string, done: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** One datagram to send: what, from which socket, to which port on 127.0.0.1. */
export interface Outgoing {
  readonly d: Buffer
  readonly via: Socket
  readonly port: number
}

/**
 * Sends `items` in batches of at most 64 datagrams and 32 KiB (a datagram larger than that goes
 * alone), waiting after each batch until `taken()` (what the receiver has counted) has caught up
 * with what was sent. Why the byte budget: a socket with the default receive buffer (~208 KiB,
 * where a 64 KiB datagram takes far more than 64 KiB of it) drops a burst of large datagrams
 * while its reader is not scheduled, and a drop would make the exact count a race.
 */
export const sendCounted = async (items: ReadonlyArray<Outgoing>, taken: () => number, what: string, ms = 60_000): Promise<void> => {
  const base = taken()
  let sent = 0
  let batch: Array<Outgoing> = []
  let bytes = 0
  const flush = async () => {
    for (const x of batch) await x.via.send(x.d, x.port)
    sent += batch.length
    batch = []
    bytes = 0
    const want = base + sent
    await until(`${what}: ${sent} of ${items.length} datagrams counted (at ${taken() - base})`, () => taken() >= want, ms)
  }
  for (const x of items) {
    if (batch.length > 0 && (batch.length >= 64 || bytes + x.d.length > 32 * 1024)) await flush()
    batch.push(x)
    bytes += x.d.length
  }
  if (batch.length > 0) await flush()
}
