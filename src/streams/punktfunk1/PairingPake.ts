/**
 * How `punktfunk/1` pairing runs CPace (`Cpace.ts`, draft-irtf-cfrg-cpace-21,
 * CPACE-RISTR255-SHA512): the inputs each side feeds it, and the two halves of the exchange for
 * the client (initiator A) and the host (responder B).
 *
 *   client                                            host
 *   Pair { name, ya }                  ─────────────▶  listed; waits for the operator's PIN
 *                                      ◀─────────────  PairResponse { yb }     (PIN typed)
 *   PairConfirm { ta }                 ─────────────▶  checks Ta: wrong → "wrong PIN", refused
 *                                      ◀─────────────  Paired { tb }  (client pinned)
 *   checks Tb, then pins the host
 *
 * The inputs, and why:
 * - PRS: the PIN as UTF-8 digits.
 * - CI: `lv_cat("punktfunk/1 pairing", client fingerprint, host fingerprint)` (32 raw bytes
 *   each), the initiator's identity first as the draft asks. Each side puts in the certificate
 *   it holds and the one its TLS peer presented, so a relay that terminates TLS with its own
 *   certificate leaves the two ends with different generators: neither tag checks, nobody pins.
 * - sid: 32 bytes exported from this TLS 1.3 connection (RFC 8446 §7.5, label below). Both ends
 *   compute it and it is never sent. It binds the run to the one TLS session it travels in, so
 *   even a relay holding both certificates' keys could not splice two sessions, and it gives the
 *   draft's recommended unique sid for free.
 * - ADa: the client's name as sent in `Pair` (what the operator sees is authenticated). ADb:
 *   empty.
 *
 * Why the host's tag comes last: the host shows Tb only after the client's Ta proved the same
 * PIN, so a machine posing as the client, with one guess per connection, learns nothing from the
 * host but "wrong" (which the operator sees and the per-address limit counts). A machine posing
 * as the host gets Ta for the one generator it guessed, likewise one PIN per run.
 */
import { Either } from "effect"
import type * as tls from "node:tls"
import { CpaceAbort, initiate, initiatorFinish, lvCat, respond, tagsEqual } from "./Cpace.js"
import type { CpaceInputs } from "./Cpace.js"
import { PROTOCOL } from "./Protocol.js"

/** The TLS exporter label of the pairing sid (RFC 8446 exporter labels start with "EXPORTER-"). */
export const SID_LABEL = `EXPORTER-${PROTOCOL} pairing`
export const SID_BYTES = 32

/** The pairing sid of a TLS connection (the same on both ends; empty exporter context). */
export const sessionIdOf = (socket: tls.TLSSocket): Uint8Array =>
  new Uint8Array(socket.exportKeyingMaterial(SID_BYTES, SID_LABEL, Buffer.alloc(0)))

/** What both ends know going in; each fills in the fingerprints as it sees them. */
export interface PairingParties {
  readonly pin: string
  readonly clientFingerprint: string
  readonly hostFingerprint: string
  readonly sid: Uint8Array
  readonly clientName: string
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
const ADB = new Uint8Array(0)

export const channelIdentifier = (clientFingerprint: string, hostFingerprint: string): Uint8Array =>
  lvCat(utf8(`${PROTOCOL} pairing`), fromHex(clientFingerprint), fromHex(hostFingerprint))

export const cpaceInputs = (p: PairingParties): CpaceInputs => ({
  prs: utf8(p.pin),
  ci: channelIdentifier(p.clientFingerprint, p.hostFingerprint),
  sid: p.sid
})

export interface ClientStart {
  /** The secret scalar: never leaves this process. */
  readonly y: bigint
  readonly ya: Uint8Array
  /** Ya as `Pair` carries it. */
  readonly yaHex: string
}

/** The client's first half: its share for `Pair`. */
export const clientStart = (p: PairingParties): ClientStart => {
  const mine = initiate(cpaceInputs(p))
  return { ...mine, yaHex: toHex(mine.ya) }
}

/** The client's second half, on `PairResponse`: Ta to send, and the Tb the host must show. */
export const clientFinish = (
  p: PairingParties,
  mine: ClientStart,
  ybHex: string
): Either.Either<{ readonly taHex: string; readonly tb: Uint8Array }, CpaceAbort> =>
  Either.map(initiatorFinish(cpaceInputs(p), mine, utf8(p.clientName), fromHex(ybHex), ADB), (r) => ({
    taHex: toHex(r.ta),
    tb: r.tb
  }))

/** The host's half, once the operator typed the PIN: Yb to send, the Ta to expect, its own Tb. */
export const hostRespond = (
  p: PairingParties,
  yaHex: string
): Either.Either<{ readonly ybHex: string; readonly ta: Uint8Array; readonly tbHex: string }, CpaceAbort> =>
  Either.map(respond(cpaceInputs(p), fromHex(yaHex), utf8(p.clientName), ADB), (r) => ({
    ybHex: toHex(r.yb),
    ta: r.ta,
    tbHex: toHex(r.tb)
  }))

/** Does a received tag (hex, as the message carries it) equal the expected one? Constant time. */
export const tagMatches = (expected: Uint8Array, givenHex: string): boolean => tagsEqual(expected, fromHex(givenHex))

export { CpaceAbort }
