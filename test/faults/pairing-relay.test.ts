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
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { PendingPairing } from "../../src/api/Pairing.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { json, startHost, tempDir, waitFor } from "../support/TestHost.js"
import type { StartedHost } from "../support/TestHost.js"
import { messagesOf, runClient, startRelay } from "./pairingRelay.js"
import type { Relay, RelayOptions } from "./pairingRelay.js"

const PIN = "2468"

const pairingApi = (host: StartedHost, route: string, init: RequestInit = {}) =>
  Effect.promise(() => host.fetch(`${host.url}/api/v1/pairing${route}`, init))
const apiJson = (host: StartedHost, route: string) =>
  pairingApi(host, route).pipe(Effect.flatMap((r) => Effect.promise(() => json(r))))

/**
 * The scene: host on 127.0.0.1, relay on 127.0.0.2 in front of it, the real client pairing with
 * the relay's address; the operator enters the client's PIN for the request the console lists.
 */
const relayedPairing = (tamper?: RelayOptions["tamper"]) =>
  Effect.gen(function* () {
    const host = yield* startHost()
    const target = { host: "127.0.0.1", port: Context.get(host.context, ControlServer).port }
    const relay: Relay = yield* Effect.acquireRelease(
      Effect.promise(() => startRelay(tamper === undefined ? { target } : { target, tamper })),
      (r) => Effect.promise(() => r.close())
    )
    const clientDir = tempDir("punktfunk-client-")
    const client = yield* Effect.fork(
      Effect.promise(() =>
        runClient(["pair", "--host", "127.0.0.2", "--port", String(relay.port), "--dir", clientDir, "--name", "living-room", "--pin", PIN])
      )
    )
    let pending: ReadonlyArray<PendingPairing> = []
    yield* Effect.promise(() =>
      waitFor(
        async () => {
          pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await Effect.runPromise(apiJson(host, "/pending")))
          return pending.length > 0
        },
        20_000,
        "the relayed pairing request"
      )
    )
    // What the operator sees: the client's name; the certificate is the relay's, which an
    // operator pairing a new client for the first time has no way to tell apart.
    expect(pending.map((p) => [p.name, p.fingerprint])).toEqual([["living-room", relay.identity.fingerprint]])
    const answer = yield* pairingApi(host, `/pending/${pending[0]?.request_id ?? ""}/pin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pin: PIN })
    })
    const operatorBody = yield* Effect.promise(() => json(answer))
    const clientRun = yield* client.await.pipe(Effect.flatMap((exit) => exit))
    return { host, relay, clientDir, operator: { status: answer.status, body: operatorBody }, clientRun }
  })

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
