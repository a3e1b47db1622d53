/**
 * Attack: a man in the middle of a first `punktfunk/1` pairing. The relay (pairingRelay.ts) has
 * its own certificate, terminates TLS towards our real client (`punktfunk-client pair`, the
 * program a user runs) and towards the real host, and forwards every message. The operator is
 * fooled too: the request the console lists carries the client's name, and the operator types the
 * PIN the client shows.
 *
 * With CPace both ends bind the fingerprints they see and their own TLS session into the run, so
 * the two halves of the relay's splice disagree: the host finds the client's tag wrong and pins
 * nothing; the client gets no valid tag from "the host" and pins nothing — also when the relay
 * lies to it and answers "Paired" itself. (Under the old HMAC proof the relay learned the PIN
 * offline from the first message and could pair its own certificate: see pairing-offline.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { StartedHost } from "../support/TestHost.js"
import { apiJson, messagesOf, relayedPairing } from "./pairingRelay.js"

/** Nothing pinned anywhere: no client on the host, no host in the client's store. */
const expectNothingPinned = (host: StartedHost, clientDir: string) =>
  Effect.gen(function* () {
    expect(yield* apiJson(host, "/clients")).toEqual([])
    expect(yield* apiJson(host, "/pending")).toEqual([])
    expect(fs.existsSync(path.join(clientDir, "hosts.json"))).toBe(false)
  })

describe("punktfunk/1 pairing through a relay with its own certificate", () => {
  it.scopedLive("a relay that forwards every message: the host refuses the PIN proof, the client is refused, nothing is pinned", () =>
    Effect.gen(function* () {
      const { host, relay, clientDir, operator, clientRun } = yield* relayedPairing()
      // The host ran the exchange with the right PIN, and the client's tag did not check.
      expect(operator.status).toBe(403)
      expect(operator.body).toMatchObject({ _tag: "WrongPin" })
      expect(clientRun.code, clientRun.output).not.toBe(0)
      expect(clientRun.output).toMatch(/pairing refused/)
      expect(clientRun.output).not.toMatch(/paired with/)
      yield* expectNothingPinned(host, clientDir)
      // The relay did carry the whole exchange: the failure is the proof's, not a lost message.
      expect(relay.transcript.map((m) => `${m.from}:${String((JSON.parse(m.body) as { _tag: string })._tag)}`)).toEqual([
        "client:Pair",
        "host:PairingPending",
        "host:PairResponse",
        "client:PairConfirm",
        "host:Refused"
      ])
    })
  )

  it.scopedLive("a relay that tells the client 'Paired' itself: the client finds the host's tag wrong and pins nothing", () =>
    Effect.gen(function* () {
      // Instead of the host's refusal, the relay answers the client as the host would on success,
      // with the best tag it has: one the client made itself (the relay knows no other).
      const { host, clientDir, operator, clientRun } = yield* relayedPairing((m, transcript, self) => {
        if (m.from !== "host" || !m.body.includes('"Refused"')) return m.body
        const ta = String(messagesOf(transcript, "PairConfirm")[0]?.["ta"] ?? "")
        return JSON.stringify({ _tag: "Paired", host_fingerprint: self.fingerprint, tb: ta })
      })
      expect(operator.status).toBe(403)
      expect(clientRun.code, clientRun.output).not.toBe(0)
      expect(clientRun.output).toMatch(/did not prove it knows the PIN/)
      yield* expectNothingPinned(host, clientDir)
    })
  )
})
