/**
 * GameStream pairing requests against a real host, as Moonlight sees them: a request nobody
 * answers ends with a refusal Moonlight shows (the long poll is answered, not left hanging) and
 * leaves the operator's list; a client that asks again replaces its own long poll, and the first
 * one is answered too. The expiry is shortened to a second (the host's is two minutes).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import type { GameStreamClient } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pendingList, startGameStreamHost, waitPending } from "./support/Hosts.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const getServerCert = (client: GameStreamClient) =>
  client.request(false, "/pair", {
    devicename: "roth",
    updateState: "1",
    phrase: "getservercert",
    salt: randomBytes(16).toString("hex"),
    clientcert: Buffer.from(client.identity.certPem, "latin1").toString("hex")
  })

describe("GameStream pairing requests", () => {
  it.scopedLive("a request nobody answers expires: Moonlight's getservercert is answered with the reason, the list is empty", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ pairing: { pendingTimeout: "1 second" } })
      const client = clientFor(host, yield* newIdentity("late"))
      const outcome = yield* call(() => client.pair({ pin: "1357" }))
      expect(outcome).toMatchObject({ paired: false, stage: "getservercert" })
      if (!outcome.paired) expect(outcome.reason).toMatch(/nobody entered this client's PIN on the host within 1s: ask to pair again/)
      expect(yield* pendingList(host)).toEqual([])
      expect(yield* gameStreamOf(host).pairingWaits).toBe(0)
    })
  )

  it.scopedLive("a client that asks again replaces its own long poll: the first is answered, one request stays listed", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const client = clientFor(host, yield* newIdentity("again"))
      const first = getServerCert(client)
      const [old] = yield* waitPending(host)
      const second = getServerCert(client)
      const replaced = yield* call(() => first)
      expect(replaced.xml.statusCode).toBe(400)
      expect(replaced.xml.get("paired")).toBe("0")
      expect(replaced.xml.statusMessage).toMatch(/replaced this one/)
      const listed = yield* pendingList(host)
      expect(listed).toHaveLength(1)
      expect(listed[0]?.request_id).not.toBe(old?.request_id)
      expect(yield* gameStreamOf(host).pairingWaits).toBe(1)
      yield* call(() => host.fetch(`${host.url}/api/v1/pairing/pending/${listed[0]?.request_id ?? ""}`, { method: "DELETE" }))
      expect((yield* call(() => second)).xml.statusMessage).toMatch(/rejected/)
    })
  )
})
