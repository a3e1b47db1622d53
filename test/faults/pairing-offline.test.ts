/**
 * Attack: guess the pairing PIN offline from a recorded pairing. The recording is the one a man
 * in the middle gets (pairingRelay.ts: it terminated both TLS sessions of a real pairing attempt
 * between our client and host, so it has every message in clear, both certificates and both
 * TLS sessions' exporter values — every public input of both CPace runs). The attacker then runs
 * its best offline test over all 10,000 PINs.
 *
 * Before (the HMAC proof this replaced): the client's first message was
 * HMAC-SHA256("punktfunk/1 pin " + PIN, client fp ‖ host fp) over the fingerprints it saw, so the
 * relay recomputed it for each PIN and exactly one matched; with the PIN it paired its own
 * certificate. After (CPace): every test the attacker can compute from the recording marks either
 * no PIN or every PIN, so the right one is not told apart. A check that the test is not vacuous:
 * given the client's secret scalar (which never leaves the client), the same candidate loop finds
 * exactly the right PIN — the PIN is hidden by that scalar, not by a bug in the loop.
 */
import { describe, expect, it } from "@effect/vitest"
import { ristretto255 } from "@noble/curves/ed25519.js"
import { Effect } from "effect"
import { createHmac } from "node:crypto"
import {
  calculateGenerator,
  confirmationTags,
  intermediateSessionKey,
  isIdentity,
  isValidShare,
  tagsEqual
} from "../../src/streams/punktfunk1/Cpace.js"
import { channelIdentifier, clientStart } from "../../src/streams/punktfunk1/PairingPake.js"
import { messagesOf, PIN, relayedPairing } from "./pairingRelay.js"

const ALL_PINS = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"))
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"))
const NO_AD = new Uint8Array(0)

/** The proof the old client sent in `Pair`, as the previous Protocol.ts computed it. */
const oldPinProof = (pin: string, clientFingerprint: string, hostFingerprint: string): string =>
  createHmac("sha256", `punktfunk/1 pin ${pin}`).update(clientFingerprint + hostFingerprint).digest("hex")

describe("offline PIN guessing from a recorded pairing", () => {
  it.scopedLive("all 10,000 PINs against a relay's recording: the old HMAC proof gives the PIN away, CPace marks none or all", () =>
    Effect.gen(function* () {
      const { relay } = yield* relayedPairing()
      const { clientFingerprint, hostFingerprint, clientSideSid } = relay.seen
      if (clientFingerprint === undefined || hostFingerprint === undefined || clientSideSid === undefined) {
        throw new Error("the relay did not see both TLS sessions")
      }
      const relayFp = relay.identity.fingerprint
      const pair = messagesOf(relay.transcript, "Pair")[0]
      const response = messagesOf(relay.transcript, "PairResponse")[0]
      const confirm = messagesOf(relay.transcript, "PairConfirm")[0]
      const Ya = fromHex(String(pair?.["ya"]))
      const ADa = utf8(String(pair?.["name"]))
      const Yb = fromHex(String(response?.["yb"]))
      const Ta = fromHex(String(confirm?.["ta"]))
      expect([Ya.length, Yb.length, Ta.length]).toEqual([32, 32, 64])

      // ── before: the HMAC proof. The client would have sent this to the relay (whose
      // certificate it saw as the host's); the relay tries every PIN. ─────────────────────────
      const recordedProof = oldPinProof(PIN, clientFingerprint, relayFp)
      const oldMatches = ALL_PINS.filter((pin) => oldPinProof(pin, clientFingerprint, relayFp) === recordedProof)
      expect(oldMatches).toEqual([PIN])

      // ── after: CPace, over the client's run (the one whose tag Ta the relay holds), with its
      // public inputs as the relay knows them. ────────────────────────────────────────────────
      const clientCi = channelIdentifier(clientFingerprint, relayFp)
      // Test 1 — the confirmation tag. Ta = HMAC(mac_key(ISK(K))) with K = (client's scalar)·Yb.
      // Without a scalar the attacker can only try elements it can form: the shares themselves
      // (K if a scalar were 1) and the PIN's generator.
      const tagMarks: Array<string> = []
      // Test 2 — the shares: is each a group element that this PIN's generator makes?
      const shareMarks: Array<string> = []
      const generators = new Map<string, string>()
      for (const pin of ALL_PINS) {
        const g = calculateGenerator(utf8(pin), clientCi, clientSideSid).toBytes()
        generators.set(Buffer.from(g).toString("hex"), pin)
        const tagged = [Ya, Yb, g].some((k) => {
          const isk = intermediateSessionKey(clientSideSid, k, Ya, ADa, Yb, NO_AD)
          return tagsEqual(confirmationTags(clientSideSid, isk, Ya, ADa, Yb, NO_AD).ta, Ta)
        })
        if (tagged) tagMarks.push(pin)
        // In a prime-order group every element other than the identity is a multiple of every
        // generator: each share is consistent with each PIN's generator.
        if (isValidShare(Ya) && isValidShare(Yb) && !isIdentity(g)) shareMarks.push(pin)
      }
      expect(tagMarks).toEqual([])
      expect(shareMarks.length).toBe(ALL_PINS.length)
      // Every PIN gives its own generator: the loop above did test 10,000 different candidates.
      expect(generators.size).toBe(ALL_PINS.length)

      // ── the control: with the client's secret scalar y the PIN falls out (y⁻¹·Ya is the
      // generator); the scalar is what the recording lacks. A run of the client's own code on
      // the relay's client-side inputs, so its scalar is at hand. ────────────────────────────
      const leaked = clientStart({ pin: PIN, clientFingerprint, hostFingerprint: relayFp, sid: clientSideSid, clientName: "living-room" })
      const generator = ristretto255.Point.fromBytes(leaked.ya).multiply(ristretto255.Point.Fn.inv(leaked.y))
      expect(generators.get(generator.toHex())).toBe(PIN)
    })
  )
})
