/**
 * CPace, the CFRG's balanced PAKE, as specified by draft-irtf-cfrg-cpace-21 (the revision tagged
 * `draft-irtf-cfrg-cpace-21` in the draft's repository), cipher suite CPACE-RISTR255-SHA512:
 * group ristretto255 (RFC 9496) from `@noble/curves`, hash SHA-512 from `@noble/hashes`. Nothing
 * here does curve arithmetic of its own: decoding, encoding, element derivation and scalar
 * multiplication are the library's; this file is the draft's string encodings and the order of
 * the steps.
 *
 * What it buys: both sides turn a low-entropy password (PRS: here the 4-digit pairing PIN) into a
 * secret generator, exchange one Diffie-Hellman share each over that generator, and derive the
 * same key ISK only if they used the same PRS, channel identifier CI, session id sid and saw the
 * same two messages. A party in the middle can test one PIN per run it takes part in, and a
 * recording of a run lets nobody test any PIN offline: checking a candidate needs the discrete
 * logarithm of a share, which only its sender knows.
 *
 * Names follow the draft (PRS, CI, sid, ADa/ADb, Ya/Yb, K, ISK), so the file reads beside it.
 * The initiator-responder setting is used (`transcript_ir`): the client always speaks first.
 */
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js"
import { bytesToNumberLE } from "@noble/curves/utils.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { Data, Either } from "effect"
import { randomBytes, timingSafeEqual } from "node:crypto"

export const DRAFT = "draft-irtf-cfrg-cpace-21"

type Point = InstanceType<typeof ristretto255.Point>

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** G_Ristretto255.DSI */
export const DSI = utf8("CPaceRistretto255")
/** SHA-512's input block size (H.s_in_bytes), which sizes the PRS zero padding. */
const S_IN_BYTES = 128
/** G.field_size_bytes: the generator is derived from 2 × 32 hash bytes. */
const FIELD_SIZE_BYTES = 32
/** Encoded group elements and the identity G.I (all zero bytes for ristretto255). */
export const ELEMENT_BYTES = 32
export const IDENTITY = new Uint8Array(ELEMENT_BYTES)
/** ISK and the confirmation tags are SHA-512 / HMAC-SHA-512 outputs. */
export const HASH_BYTES = 64

export const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** `prepend_len`: the length as LEB128, then the bytes. */
export const prependLen = (data: Uint8Array): Uint8Array => {
  const length: Array<number> = []
  let n = data.length
  do {
    length.push(n < 128 ? n : (n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  } while (n > 0)
  return concat(Uint8Array.from(length), data)
}

/** `lv_cat`: each argument with its length prepended (a prefix-free encoding of a tuple). */
export const lvCat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => concat(...parts.map(prependLen))

/**
 * `generator_string`: DSI and PRS padded with zeros to fill SHA-512's first input block, then CI
 * and sid. The padding makes the bytes hashed independent of a short password's length.
 */
export const generatorString = (prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array => {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length)
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid)
}

// The hasher's type marks element derivation optional (not every curve has one); ristretto255's has.
const derive = ristretto255_hasher.deriveToCurve
if (derive === undefined) throw new Error("@noble/curves: ristretto255 element derivation is missing")
const deriveElement = (bytes: Uint8Array): Point => derive.call(ristretto255_hasher, bytes)

/** `G.calculate_generator(H, PRS, CI, sid)`: element derivation (RFC 9496 §4.3.4) of 64 hash bytes. */
export const calculateGenerator = (prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Point =>
  deriveElement(sha512(generatorString(prs, ci, sid)).subarray(0, 2 * FIELD_SIZE_BYTES))

/**
 * `G.sample_scalar()` as the draft recommends for ristretto255: 32 random bytes with the bits
 * above bit 252 cleared, read little-endian (so below the group order). Zero, which has odds of
 * 2^-252, is drawn again: the library refuses it and it would give away the generator.
 */
export const sampleScalar = (): bigint => {
  for (;;) {
    const bytes = randomBytes(32)
    bytes[31] = (bytes[31] ?? 0) & 0x0f
    const y = bytesToNumberLE(bytes)
    if (y !== 0n) return y
  }
}

/** Reads a scalar given as 32 little-endian bytes (the draft's test vectors give them so). */
export const scalarFromBytes = (bytes: Uint8Array): bigint => bytesToNumberLE(bytes)

/** `G.scalar_mult(y, g)`: the encoding of y·g. */
export const scalarMult = (y: bigint, g: Point): Uint8Array => g.multiply(y).toBytes()

/**
 * `G.scalar_mult_vfy(y, X)`: decode X, multiply, encode; G.I for a string that is not the
 * canonical encoding of a group element (the caller aborts on G.I, and so on the identity too).
 */
export const scalarMultVfy = (y: bigint, x: Uint8Array): Uint8Array => {
  let point: Point
  try {
    point = ristretto255.Point.fromBytes(x)
  } catch {
    return IDENTITY
  }
  return point.is0() ? IDENTITY : point.multiply(y).toBytes()
}

export const isIdentity = (k: Uint8Array): boolean => k.length === IDENTITY.length && timingSafeEqual(k, IDENTITY)

/** `transcript_ir(Ya, ADa, Yb, ADb)`: the initiator's message, then the responder's. */
export const transcriptIr = (ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array =>
  concat(lvCat(ya, ada), lvCat(yb, adb))

/** ISK = H.hash(lv_cat(G.DSI ‖ "_ISK", sid, K) ‖ transcript_ir(Ya, ADa, Yb, ADb)). */
export const intermediateSessionKey = (
  sid: Uint8Array,
  k: Uint8Array,
  ya: Uint8Array,
  ada: Uint8Array,
  yb: Uint8Array,
  adb: Uint8Array
): Uint8Array => sha512(concat(lvCat(concat(DSI, utf8("_ISK")), sid, k), transcriptIr(ya, ada, yb, adb)))

/**
 * Explicit key confirmation as the draft's "Key confirmation" section suggests: mac_key =
 * H.hash("CPaceMac" ‖ sid ‖ ISK), and each party's tag is HMAC-SHA-512(mac_key, lv_cat(its own
 * share, its own AD)). A tag is worth something only to whoever derived the same ISK.
 */
export const confirmationTags = (
  sid: Uint8Array,
  isk: Uint8Array,
  ya: Uint8Array,
  ada: Uint8Array,
  yb: Uint8Array,
  adb: Uint8Array
): { readonly ta: Uint8Array; readonly tb: Uint8Array } => {
  const macKey = sha512(concat(utf8("CPaceMac"), sid, isk))
  return { ta: hmac(sha512, macKey, lvCat(ya, ada)), tb: hmac(sha512, macKey, lvCat(yb, adb)) }
}

/** Constant-time equality of two tags (a different length is simply unequal). */
export const tagsEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)

/** The inputs both parties share: the password, the channel identifier and the session id. */
export interface CpaceInputs {
  readonly prs: Uint8Array
  readonly ci: Uint8Array
  readonly sid: Uint8Array
}

/** What a party holds after the exchange: the key and both tags (its own to send, the other's to check). */
export interface CpaceResult {
  readonly isk: Uint8Array
  readonly ta: Uint8Array
  readonly tb: Uint8Array
}

/** Why a run aborted: the other party's share was not a usable group element. */
export class CpaceAbort extends Data.TaggedError("CpaceAbort")<{ readonly message: string }> {}

/** Party A (initiator): its secret scalar and the share Ya it sends with ADa. */
export const initiate = (inputs: CpaceInputs, y: bigint = sampleScalar()): { readonly y: bigint; readonly ya: Uint8Array } => ({
  y,
  ya: scalarMult(y, calculateGenerator(inputs.prs, inputs.ci, inputs.sid))
})

/** Party A, on B's message: K = ya·Yb, then ISK and the tags; aborts on G.I as the draft demands. */
export const initiatorFinish = (
  inputs: CpaceInputs,
  mine: { readonly y: bigint; readonly ya: Uint8Array },
  ada: Uint8Array,
  yb: Uint8Array,
  adb: Uint8Array
): Either.Either<CpaceResult, CpaceAbort> => {
  const k = scalarMultVfy(mine.y, yb)
  if (isIdentity(k)) return Either.left(new CpaceAbort({ message: "the responder's share is not a valid ristretto255 element" }))
  const isk = intermediateSessionKey(inputs.sid, k, mine.ya, ada, yb, adb)
  return Either.right({ isk, ...confirmationTags(inputs.sid, isk, mine.ya, ada, yb, adb) })
}

/** Party B (responder), on A's message: its share Yb, and ISK and the tags; aborts on G.I. */
export const respond = (
  inputs: CpaceInputs,
  ya: Uint8Array,
  ada: Uint8Array,
  adb: Uint8Array,
  y: bigint = sampleScalar()
): Either.Either<CpaceResult & { readonly yb: Uint8Array }, CpaceAbort> => {
  const k = scalarMultVfy(y, ya)
  if (isIdentity(k)) return Either.left(new CpaceAbort({ message: "the initiator's share is not a valid ristretto255 element" }))
  const yb = scalarMult(y, calculateGenerator(inputs.prs, inputs.ci, inputs.sid))
  const isk = intermediateSessionKey(inputs.sid, k, ya, ada, yb, adb)
  return Either.right({ yb, isk, ...confirmationTags(inputs.sid, isk, ya, ada, yb, adb) })
}

/** Is `bytes` the encoding of a group element other than the identity (a share worth answering)? */
export const isValidShare = (bytes: Uint8Array): boolean => {
  try {
    return !ristretto255.Point.fromBytes(bytes).is0()
  } catch {
    return false
  }
}
