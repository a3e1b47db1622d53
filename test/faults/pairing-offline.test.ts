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
 *
 * The second case is a successful pairing recorded by a tap that also holds the TLS session keys
 * (tlsTap.ts, from the client's key log): every message of the pairing in clear, both tags
 * included, and the session's exporter — more than any real eavesdropper gets. Same result.
 */
import { describe, expect, it } from "@effect/vitest"
import { ristretto255 } from "@noble/curves/ed25519.js"
import { Context, Effect, Schema } from "effect"
import { createHmac } from "node:crypto"
import * as fs from "node:fs"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import { PairedClient } from "../../src/api/Pairing.js"
import { HostIdentity } from "../../src/services/HostIdentity.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import {
  calculateGenerator,
  confirmationTags,
  intermediateSessionKey,
  isIdentity,
  isValidShare,
  tagsEqual
} from "../../src/streams/punktfunk1/Cpace.js"
import { channelIdentifier, clientStart, sessionIdOf, SID_BYTES, SID_LABEL } from "../../src/streams/punktfunk1/PairingPake.js"
import { startHost, tempDir } from "../support/TestHost.js"
import { apiJson, ATTACKER_ADDRESS, messagesOf, newIdentity, operatorEntersPin, PIN, relayedPairing, runClient } from "./pairingRelay.js"
import { openSession, startTap, tlsExporter } from "./tlsTap.js"

const ALL_PINS = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0"))
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"))
const NO_AD = new Uint8Array(0)

/** The proof the old client sent in `Pair`, as the previous Protocol.ts computed it. */
const oldPinProof = (pin: string, clientFingerprint: string, hostFingerprint: string): string =>
  createHmac("sha256", `punktfunk/1 pin ${pin}`).update(clientFingerprint + hostFingerprint).digest("hex")

/** What an offline attacker has of one CPace run: its public inputs and the messages. */
interface RecordedRun {
  readonly ci: Uint8Array
  readonly sid: Uint8Array
  readonly Ya: Uint8Array
  readonly ADa: Uint8Array
  readonly Yb: Uint8Array
  /** The confirmation tags the recording holds (a relayed, failed run has no Tb). */
  readonly tags: { readonly ta?: Uint8Array; readonly tb?: Uint8Array }
}

/**
 * The attacker's best offline tests, over every PIN:
 * - the tags: Ta/Tb = HMAC(mac_key(ISK(K))) with K = (a secret scalar)·(the other share); with no
 *   scalar the attacker can only try elements it can form: the shares themselves (K if a scalar
 *   were 1) and the PIN's generator;
 * - the shares: is each a group element that this PIN's generator makes? In a prime-order group
 *   every element but the identity is a multiple of every generator, so the answer is the same
 *   for every PIN.
 * Returns the PINs each test marks, and each PIN's generator (to show 10,000 distinct candidates).
 */
const offlineAttack = (run: RecordedRun) => {
  const tagMarks: Array<string> = []
  const shareMarks: Array<string> = []
  const generators = new Map<string, string>()
  const sharesAreElements = isValidShare(run.Ya) && isValidShare(run.Yb)
  for (const pin of ALL_PINS) {
    const g = calculateGenerator(utf8(pin), run.ci, run.sid).toBytes()
    generators.set(Buffer.from(g).toString("hex"), pin)
    const tagged = [run.Ya, run.Yb, g].some((k) => {
      const isk = intermediateSessionKey(run.sid, k, run.Ya, run.ADa, run.Yb, NO_AD)
      const tags = confirmationTags(run.sid, isk, run.Ya, run.ADa, run.Yb, NO_AD)
      return (run.tags.ta !== undefined && tagsEqual(tags.ta, run.tags.ta)) || (run.tags.tb !== undefined && tagsEqual(tags.tb, run.tags.tb))
    })
    if (tagged) tagMarks.push(pin)
    if (sharesAreElements && !isIdentity(g)) shareMarks.push(pin)
  }
  return { tagMarks, shareMarks, generators }
}

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
      const { tagMarks, shareMarks, generators } = offlineAttack({ ci: clientCi, sid: clientSideSid, Ya, ADa, Yb, tags: { ta: Ta } })
      expect(tagMarks).toEqual([])
      expect(shareMarks.length).toBe(ALL_PINS.length)
      // Every PIN gives its own generator: the loop did test 10,000 different candidates.
      expect(generators.size).toBe(ALL_PINS.length)

      // ── the control: with the client's secret scalar y the PIN falls out (y⁻¹·Ya is the
      // generator); the scalar is what the recording lacks. A run of the client's own code on
      // the relay's client-side inputs, so its scalar is at hand. ────────────────────────────
      const leaked = clientStart({ pin: PIN, clientFingerprint, hostFingerprint: relayFp, sid: clientSideSid, clientName: "living-room" })
      const generator = ristretto255.Point.fromBytes(leaked.ya).multiply(ristretto255.Point.Fn.inv(leaked.y))
      expect(generators.get(generator.toHex())).toBe(PIN)
    })
  )

  it.scopedLive("a successful pairing recorded with its TLS opened: every message and both tags in clear, still no PIN", () =>
    Effect.gen(function* () {
      // First: the tap's TLS exporter, from a key log, is the one Node computes (so the sid the
      // attacker uses below is the real one, not a near miss that would hide nothing).
      yield* Effect.promise(() => exporterMatchesNode())

      const host = yield* startHost()
      const target = { host: "127.0.0.1", port: Context.get(host.context, ControlServer).port }
      const tap = yield* Effect.acquireRelease(
        Effect.promise(() => startTap(target, ATTACKER_ADDRESS)),
        (t) => Effect.promise(() => t.close())
      )
      const clientDir = tempDir("punktfunk-client-")
      const keylog = path.join(tempDir("punktfunk-keylog-"), "keys.log")
      const client = yield* Effect.fork(
        Effect.promise(() =>
          runClient(
            ["pair", "--host", ATTACKER_ADDRESS, "--port", String(tap.port), "--dir", clientDir, "--name", "living-room", "--pin", PIN],
            [`--tls-keylog=${keylog}`]
          )
        )
      )
      const operator = yield* operatorEntersPin(host, PIN)
      expect(operator.status).toBe(200)
      const clientRun = yield* client.await.pipe(Effect.flatMap((exit) => exit))
      expect(clientRun.code, clientRun.output).toBe(0)
      expect(clientRun.output).toMatch(/paired with/)
      const [paired] = Schema.decodeUnknownSync(Schema.Array(PairedClient))(yield* apiJson(host, "/clients"))
      const clientFingerprint = paired?.fingerprint ?? ""
      const hostFingerprint = Context.get(host.context, HostIdentity).fingerprint

      const session = openSession(Buffer.concat(tap.fromClient), Buffer.concat(tap.fromHost), fs.readFileSync(keylog, "utf8"))
      const fromClient = session.clientMessages.map((b) => JSON.parse(b) as Record<string, unknown>)
      const fromHost = session.hostMessages.map((b) => JSON.parse(b) as Record<string, unknown>)
      expect(fromClient.map((m) => m["_tag"])).toEqual(["Pair", "PairConfirm"])
      expect(fromHost.map((m) => m["_tag"])).toEqual(["PairingPending", "PairResponse", "Paired"])
      const [pair, confirm] = fromClient
      const [, response, done] = fromHost
      const sid = session.exporter(SID_LABEL, Buffer.alloc(0), SID_BYTES)

      // Before: the HMAC proof the old client sent in this Pair would give the PIN away.
      const recordedProof = oldPinProof(PIN, clientFingerprint, hostFingerprint)
      expect(ALL_PINS.filter((pin) => oldPinProof(pin, clientFingerprint, hostFingerprint) === recordedProof)).toEqual([PIN])

      // After: CPace, with both tags of a completed run.
      const { tagMarks, shareMarks, generators } = offlineAttack({
        ci: channelIdentifier(clientFingerprint, hostFingerprint),
        sid,
        Ya: fromHex(String(pair?.["ya"])),
        ADa: utf8(String(pair?.["name"])),
        Yb: fromHex(String(response?.["yb"])),
        tags: { ta: fromHex(String(confirm?.["ta"])), tb: fromHex(String(done?.["tb"])) }
      })
      expect(tagMarks).toEqual([])
      expect(shareMarks.length).toBe(ALL_PINS.length)
      expect(generators.size).toBe(ALL_PINS.length)
    })
  )
})

/** A TLS 1.3 connection in this process: Node's exporter and the one derived from the key log agree. */
const exporterMatchesNode = async (): Promise<void> => {
  const cert = await newIdentity("exporter check")
  const lines: Array<string> = []
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem, minVersion: "TLSv1.3" }, (s) => s.end())
  server.on("keylog", (line: Buffer) => lines.push(line.toString()))
  const port = await new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)))
  const socket = await new Promise<tls.TLSSocket>((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: "TLSv1.3" }, () => resolve(s))
  })
  const fromNode = Buffer.from(sessionIdOf(socket))
  const hash = socket.getCipher().name.endsWith("SHA384") ? "sha384" : "sha256"
  socket.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const exporterSecret = lines.map((l) => l.trim().split(" ")).find((f) => f[0] === "EXPORTER_SECRET")?.[2]
  expect(exporterSecret).toBeDefined()
  expect(tlsExporter(hash, Buffer.from(exporterSecret ?? "", "hex"), SID_LABEL, Buffer.alloc(0), SID_BYTES).toString("hex")).toBe(
    fromNode.toString("hex")
  )
}
