/**
 * The encrypted envelope of the GameStream control stream, as a Moonlight client expects it from
 * a host reporting appversion 7.1.431 (from that version on, every control message is sealed):
 *
 *     u16 LE  0x0001                    "encrypted" message type
 *     u16 LE  length                    bytes after this field: 4 (seq) + 16 (tag) + ciphertext
 *     u32 LE  seq                       the sender's message counter
 *     16 B    AES-GCM tag
 *     …       AES-128-GCM ciphertext of (u16 LE type, u16 LE payload length, payload)
 *
 * The key is the launch's `rikey`. The IV comes in two generations:
 *  - `legacy` (GFE's, what a client uses when the host's SDP advertises no
 *    `x-ss-general.encryptionSupported` control bit): 16 bytes, all zero but the first, which
 *    is the low byte of `seq` — GFE truncates, and clients mimic it;
 *  - `v2` (Sunshine's, bit 0x01 of `x-ss-general.encryptionEnabled`): 12 bytes, `seq` little
 *    endian in bytes 0–3, zeros, then byte 10 = 'C' (client) or 'H' (host) for who sealed it and
 *    byte 11 = 'C' (control stream), so the two directions never share an IV under one key.
 * No additional authenticated data in either.
 *
 * Why the legacy IV, which repeats every 256 messages (and is the same for both directions), is
 * still spoken here: it is what an old client does against any host; the RTSP part decides which
 * one a session uses (`encryptionFlags`) and refuses the legacy one unless the operator allows
 * it (RtspServer.ts), and this module does both. Note that the envelope's `seq` is not
 * authenticated with the legacy IV (only its low byte is in the nonce).
 */
import { Data, Either } from "effect"
import { createCipheriv, createDecipheriv } from "node:crypto"

export type ControlEncryption = "legacy" | "v2"
export type ControlOrigin = "client" | "host"

export const ENCRYPTED_TYPE = 0x0001
export const ENVELOPE_HEADER_BYTES = 8
export const TAG_BYTES = 16
/** Inner (V2) message header: type and payload length. */
export const INNER_HEADER_BYTES = 4
/** `x-ss-general.encryptionEnabled` bit for the V2 control IV. */
export const SS_ENC_CONTROL_V2 = 0x01

export class ControlEnvelopeMalformed extends Data.TaggedError("ControlEnvelopeMalformed")<{
  readonly reason: string
}> {}
export class ControlAuthFailed extends Data.TaggedError("ControlAuthFailed")<{ readonly seq: number }> {}
export type ControlOpenError = ControlEnvelopeMalformed | ControlAuthFailed

export const controlEncryptionOf = (encryptionFlags: number): ControlEncryption =>
  (encryptionFlags & SS_ENC_CONTROL_V2) !== 0 ? "v2" : "legacy"

/** The IV for message `seq` sealed by `origin`. */
export const controlIv = (mode: ControlEncryption, origin: ControlOrigin, seq: number): Buffer => {
  if (mode === "legacy") {
    const iv = Buffer.alloc(16)
    iv[0] = seq & 0xff
    return iv
  }
  const iv = Buffer.alloc(12)
  iv.writeUInt32LE(seq >>> 0, 0)
  iv[10] = origin === "client" ? 0x43 : 0x48 // 'C' / 'H'
  iv[11] = 0x43 // 'C': control stream
  return iv
}

/** Seals one inner message (type, payload length, payload) into the envelope. */
export const sealControl = (
  key: Uint8Array,
  mode: ControlEncryption,
  origin: ControlOrigin,
  seq: number,
  inner: Uint8Array
): Buffer => {
  const cipher = createCipheriv("aes-128-gcm", key, controlIv(mode, origin, seq))
  const ciphertext = Buffer.concat([cipher.update(inner), cipher.final()])
  const out = Buffer.alloc(ENVELOPE_HEADER_BYTES + TAG_BYTES + ciphertext.length)
  out.writeUInt16LE(ENCRYPTED_TYPE, 0)
  out.writeUInt16LE(4 + TAG_BYTES + ciphertext.length, 2)
  out.writeUInt32LE(seq >>> 0, 4)
  cipher.getAuthTag().copy(out, ENVELOPE_HEADER_BYTES)
  ciphertext.copy(out, ENVELOPE_HEADER_BYTES + TAG_BYTES)
  return out
}

/**
 * The sequence number of a well-formed envelope (before any authentication: the caller may only
 * use it to refuse early, e.g. a replay), or why the envelope is malformed: the length field
 * must match the packet exactly (a Moonlight client sends nothing else), and there must be room
 * for the tag and at least the inner header.
 */
export const envelopeSeq = (packet: Uint8Array): Either.Either<number, ControlEnvelopeMalformed> => {
  const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)
  if (buf.length < ENVELOPE_HEADER_BYTES + TAG_BYTES + INNER_HEADER_BYTES) {
    return Either.left(new ControlEnvelopeMalformed({ reason: `runt envelope (${buf.length} bytes)` }))
  }
  if (buf.readUInt16LE(0) !== ENCRYPTED_TYPE) {
    return Either.left(new ControlEnvelopeMalformed({ reason: `not an encrypted message (type 0x${buf.readUInt16LE(0).toString(16)})` }))
  }
  const length = buf.readUInt16LE(2)
  if (length !== buf.length - 4) {
    return Either.left(new ControlEnvelopeMalformed({ reason: `length field ${length} for ${buf.length - 4} bytes` }))
  }
  return Either.right(buf.readUInt32LE(4))
}

/**
 * Opens an envelope sealed by `origin`: the length field must match the packet exactly (a
 * Moonlight client sends nothing else), and the plaintext must hold at least the inner header.
 */
export const openControl = (
  key: Uint8Array,
  mode: ControlEncryption,
  origin: ControlOrigin,
  packet: Uint8Array
): Either.Either<{ readonly seq: number; readonly inner: Buffer }, ControlOpenError> => {
  const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)
  const framed = envelopeSeq(buf)
  if (Either.isLeft(framed)) return Either.left(framed.left)
  const seq = framed.right
  try {
    const decipher = createDecipheriv("aes-128-gcm", key, controlIv(mode, origin, seq))
    decipher.setAuthTag(buf.subarray(ENVELOPE_HEADER_BYTES, ENVELOPE_HEADER_BYTES + TAG_BYTES))
    const inner = Buffer.concat([decipher.update(buf.subarray(ENVELOPE_HEADER_BYTES + TAG_BYTES)), decipher.final()])
    return Either.right({ seq, inner })
  } catch {
    return Either.left(new ControlAuthFailed({ seq }))
  }
}
