/**
 * The control-stream side of a Moonlight client, for the tests, written from the protocol
 * description rather than from the host's modules: its own AES-GCM sealing (node:crypto), its
 * own message layouts, so a host that got a field, an IV or an endianness wrong fails here.
 *
 * As a Moonlight client does against a host reporting appversion 7.1.431.-1: every message is
 * sealed (u16 LE 0x0001, u16 LE length, u32 LE seq, 16-byte tag, ciphertext of u16 LE type,
 * u16 LE payload length, payload) with the launch's rikey; the IV is, for V2 (the default, what
 * a current client takes from our DESCRIBE), seq LE + 'C' 'C' at bytes 10–11 (the host uses
 * 'H' 'C'), or GFE's legacy 16 bytes with only the low byte of seq (`mode: "legacy"`). It starts with 0x0302 (request IDR, two zero bytes: "start A" of this
 * generation) and 0x0307 (start B, one zero byte), then pings 0x0200 every 100 ms, requests
 * IDRs on channel 1 (urgent), and reports losses (0x0201, or per-frame FEC status 0x5502 with
 * big-endian fields, sent unsequenced).
 */
import { createCipheriv, createDecipheriv } from "node:crypto"
import { EnetClient } from "./EnetClient.js"

export type ControlIvMode = "legacy" | "v2"

export const CHANNEL_GENERIC = 0
export const CHANNEL_URGENT = 1

export const clientIv = (mode: ControlIvMode, sender: "C" | "H", seq: number): Buffer => {
  if (mode === "legacy") {
    const iv = Buffer.alloc(16)
    iv[0] = seq & 0xff
    return iv
  }
  const iv = Buffer.alloc(12)
  iv.writeUInt32LE(seq >>> 0, 0)
  iv.write(sender, 10, "latin1")
  iv.write("C", 11, "latin1")
  return iv
}

export const innerMessage = (type: number, payload: Uint8Array): Buffer => {
  const plain = Buffer.alloc(4 + payload.length)
  plain.writeUInt16LE(type, 0)
  plain.writeUInt16LE(payload.length, 2)
  Buffer.from(payload).copy(plain, 4)
  return plain
}

export const sealAsClient = (key: Buffer, mode: ControlIvMode, seq: number, type: number, payload: Uint8Array): Buffer =>
  sealPlainAsClient(key, mode, seq, innerMessage(type, payload))

/** Seals any plaintext (tests use it for inner headers that lie). */
export const sealPlainAsClient = (key: Buffer, mode: ControlIvMode, seq: number, plain: Buffer): Buffer => {
  const cipher = createCipheriv("aes-128-gcm", key, clientIv(mode, "C", seq))
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  const head = Buffer.alloc(8)
  head.writeUInt16LE(0x0001, 0)
  head.writeUInt16LE(4 + 16 + body.length, 2)
  head.writeUInt32LE(seq, 4)
  return Buffer.concat([head, cipher.getAuthTag(), body])
}

export interface HostMessage {
  readonly seq: number
  readonly type: number
  readonly payload: Buffer
}

/** Opens a host message; throws when it is not a well-formed, authentic envelope. */
export const openAsClient = (key: Buffer, mode: ControlIvMode, packet: Buffer): HostMessage => {
  if (packet.readUInt16LE(0) !== 0x0001) throw new Error("host message is not encrypted")
  const length = packet.readUInt16LE(2)
  if (length + 4 !== packet.length) throw new Error(`host message length field ${length} for ${packet.length} bytes`)
  const seq = packet.readUInt32LE(4)
  const decipher = createDecipheriv("aes-128-gcm", key, clientIv(mode, "H", seq))
  decipher.setAuthTag(packet.subarray(8, 24))
  const plain = Buffer.concat([decipher.update(packet.subarray(24)), decipher.final()])
  const payloadLength = plain.readUInt16LE(2)
  if (payloadLength !== plain.length - 4) throw new Error("inner length mismatch")
  return { seq, type: plain.readUInt16LE(0), payload: plain.subarray(4) }
}

export interface ControlClientOptions {
  readonly host: string
  readonly port: number
  readonly connectData: number
  readonly keyHex: string
  readonly mode?: ControlIvMode
}

export class ControlClient {
  private seq = 0
  private readonly key: Buffer
  readonly mode: ControlIvMode

  private constructor(readonly enet: EnetClient, keyHex: string, mode: ControlIvMode) {
    this.key = Buffer.from(keyHex, "hex")
    this.mode = mode
  }

  /** ENet connect only (no start messages). */
  static async connect(options: ControlClientOptions): Promise<ControlClient> {
    const enet = await EnetClient.connect({ host: options.host, port: options.port, connectData: options.connectData })
    return new ControlClient(enet, options.keyHex, options.mode ?? "v2")
  }

  /** Connect and send start A (an IDR request in this generation) and start B, as Moonlight does. */
  static async start(options: ControlClientOptions): Promise<ControlClient> {
    const client = await ControlClient.connect(options)
    await client.sendMessage(0x0302, Buffer.from([0, 0]))
    await client.sendMessage(0x0307, Buffer.from([0]))
    return client
  }

  /** Seals and sends one message; resolves when ENet acknowledged it (reliable). */
  sendMessage(type: number, payload: Uint8Array, channel = CHANNEL_GENERIC, mode: "reliable" | "unsequenced" = "reliable"): Promise<void> {
    const packet = sealAsClient(this.key, this.mode, this.seq, type, payload)
    this.seq = (this.seq + 1) >>> 0
    return this.enet.send(channel, packet, mode)
  }

  /** The next sealed message, not sent (tests tamper with it). */
  sealForTest(type: number, payload: Uint8Array): Buffer {
    const packet = sealAsClient(this.key, this.mode, this.seq, type, payload)
    this.seq = (this.seq + 1) >>> 0
    return packet
  }

  /** Seals `plain` as it is (no inner header added) and sends it. */
  sendSealedPlain(plain: Buffer, channel = CHANNEL_GENERIC): Promise<void> {
    const packet = sealPlainAsClient(this.key, this.mode, this.seq, plain)
    this.seq = (this.seq + 1) >>> 0
    return this.enet.send(channel, packet, "reliable")
  }

  ping(): Promise<void> {
    const payload = Buffer.alloc(8)
    payload.writeUInt16LE(4, 0)
    return this.sendMessage(0x0200, payload)
  }

  requestIdr(): Promise<void> {
    return this.sendMessage(0x0302, Buffer.from([0, 0]), CHANNEL_URGENT)
  }

  /** Reference frame invalidation, frames first..last (24 bytes, little endian). */
  invalidateReferenceFrames(first: number, last: number): Promise<void> {
    const payload = Buffer.alloc(24)
    payload.writeBigUInt64LE(BigInt(first), 0)
    payload.writeBigUInt64LE(BigInt(last), 8)
    return this.sendMessage(0x0301, payload, CHANNEL_URGENT)
  }

  /** The older periodic loss report: `lost` packets since the previous one. */
  lossStats(lost: number, lastGoodFrame: number): Promise<void> {
    const payload = Buffer.alloc(32)
    payload.writeUInt32LE(lost, 0)
    payload.writeUInt32LE(50, 4)
    payload.writeUInt32LE(1000, 8)
    payload.writeBigUInt64LE(BigInt(lastGoodFrame), 12)
    payload.writeUInt32LE(0x14, 28)
    return this.sendMessage(0x0201, payload)
  }

  /** Sunshine's per-frame FEC status (big endian), sent unsequenced as Moonlight does. */
  frameFecStatus(frame: number, missing: number, receivedParity = 2): Promise<void> {
    const payload = Buffer.alloc(21)
    payload.writeUInt32BE(frame, 0)
    payload.writeUInt16BE(100, 4) // highest received sequence number
    payload.writeUInt16BE(90, 6) // next contiguous
    payload.writeUInt16BE(missing, 8)
    payload.writeUInt16BE(10, 10) // data shards
    payload.writeUInt16BE(2, 12) // parity shards
    payload.writeUInt16BE(10 - missing, 14)
    payload.writeUInt16BE(receivedParity, 16)
    payload.writeUInt8(20, 18)
    payload.writeUInt8(0, 19)
    payload.writeUInt8(1, 20)
    return this.sendMessage(0x5502, payload, CHANNEL_GENERIC, "unsequenced")
  }

  /** The next host message, opened. */
  async receive(timeoutMs = 5000): Promise<HostMessage> {
    const message = await this.enet.receive(timeoutMs)
    return openAsClient(this.key, this.mode, message.bytes)
  }

  disconnect(): Promise<void> {
    return this.enet.disconnect()
  }
}

/** Stream settings for a control-stream test: only the fields the control stream reads matter. */
export const controlSettings = (overrides: {
  readonly connectData: number
  readonly keyHex: string
  readonly encryptionFlags?: number
  readonly mlFeatureFlags?: number
  readonly clientAddress?: string
}) => ({
  client: "0123456789abcdef",
  clientAddress: overrides.clientAddress ?? "127.0.0.1",
  width: 1280,
  height: 720,
  fps: 60,
  packetSize: 1024,
  bitrateKbps: 10_000,
  codec: "h264" as const,
  fecPercent: 20,
  minRequiredFecPackets: 2,
  slicesPerFrame: 1,
  audioPacketDurationMs: 5,
  audioChannels: 2,
  audioChannelMask: 3,
  // The V2 IV by default: what every current Moonlight client takes when the host offers it.
  encryptionFlags: overrides.encryptionFlags ?? 0x01,
  mlFeatureFlags: overrides.mlFeatureFlags ?? 0x03, // FEC status + session id (connect data)
  rikey: overrides.keyHex,
  rikeyid: 1,
  pingPayload: "",
  connectData: overrides.connectData
})
