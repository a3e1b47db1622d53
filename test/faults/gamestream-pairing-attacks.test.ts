/**
 * Attacks on GameStream pairing from elsewhere on the LAN, against a real host (nvhttp on
 * loopback; the victim connects from 127.0.0.1, attackers bind 127.0.0.2 and up):
 *
 *  - a stranger who sends the `uniqueid` every Moonlight install shares (and the victim's own
 *    certificate, which Moonlight sends in the clear) cannot end, answer or replace the victim's
 *    pairing: its `unpair`, its phases and its `getservercert` find no attempt of their own address;
 *  - one address cannot fill the operator's list or the host's `getservercert` long polls, and
 *    many addresses together stop at the host's cap;
 *  - five wrong PINs from one address refuse the sixth request from it at once, with the reason,
 *    and the console lists the address; another address still pairs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { json } from "../support/TestHost.js"
import { GameStreamClient } from "../gamestream/support/GameStreamClient.js"
import type { ClientIdentity, Reply } from "../gamestream/support/GameStreamClient.js"
import {
  clientFor,
  endpointOf,
  gameStreamOf,
  lockoutList,
  newIdentity,
  pairedClients,
  pairViaOperator,
  pendingList,
  startGameStreamHost
} from "../gamestream/support/Hosts.js"
import type { StartedHost } from "../support/TestHost.js"
import { waitFor } from "../support/TestHost.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const from = (host: StartedHost, address: string, identity: ClientIdentity, uniqueId?: string) =>
  new GameStreamClient({ ...endpointOf(host), localAddress: address }, identity, uniqueId)

/** A `getservercert` with `identity`'s certificate: it waits for the operator (a long poll). */
const getServerCert = (client: GameStreamClient, certPem: string = client.identity.certPem): Promise<Reply> =>
  client.request(false, "/pair", {
    devicename: "roth",
    updateState: "1",
    phrase: "getservercert",
    salt: randomBytes(16).toString("hex"),
    clientcert: Buffer.from(certPem, "latin1").toString("hex")
  })

const pendingCount = (host: StartedHost, n: number) =>
  call(() => waitFor(async () => (await Effect.runPromise(pendingList(host))).length === n, 10_000, `${n} pending requests`))

describe("GameStream pairing under attack", () => {
  it.scopedLive("a stranger with the victim's uniqueid and certificate ends nothing: unpair, phases and getservercert from 127.0.0.2 miss; the victim pairs", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const victimIdentity = yield* newIdentity("victim")
      const victim = clientFor(host, victimIdentity)
      // Same uniqueid (Moonlight's constant), same certificate (seen on the wire): only the
      // address differs.
      const stranger = from(host, "127.0.0.2", victimIdentity)
      const strangerPolls: Array<Promise<Reply>> = []
      const answers: Array<string> = []
      const attack = async (phase: string) => {
        for (const [what, params] of [
          ["unpair", {}],
          ["clientchallenge", { clientchallenge: "00".repeat(16) }],
          ["serverchallengeresp", { serverchallengeresp: "00".repeat(32) }],
          ["clientpairingsecret", { clientpairingsecret: "00".repeat(16 + 256) }]
        ] as const) {
          const reply = await stranger.request(false, what === "unpair" ? "/unpair" : "/pair", params)
          answers.push(`${phase}: ${what} ${reply.xml.statusCode} ${reply.xml.statusMessage ?? ""}`)
        }
        // A getservercert of its own while the victim's attempt runs: it waits as its own request.
        if (phase === "getservercert") strangerPolls.push(getServerCert(stranger))
      }
      const { request, operatorStatus, outcome } = yield* pairViaOperator(host, victim, "4821", "4821", { after: attack })
      expect(request.address).toBe("127.0.0.1")
      expect(outcome).toMatchObject({ paired: true })
      expect(operatorStatus).toBe(200)
      expect((yield* pairedClients(host)).map((c) => [c.fingerprint, c.path])).toEqual([[victimIdentity.fingerprint, "gamestream"]])

      // Every stranger's phase was told it has no pairing of its own; its unpair answers 200 and
      // does nothing.
      expect(answers).toHaveLength(12)
      for (const a of answers.filter((a) => !a.includes(" unpair "))) {
        expect(a).toMatch(/ 400 no pairing in progress for uniqueid '0123456789ABCDEF' from 127\.0\.0\.2/)
      }
      // The stranger's own getservercert is listed apart, under its own address.
      yield* pendingCount(host, 1)
      const [theirs] = yield* pendingList(host)
      expect(theirs?.address).toBe("127.0.0.2")
      const rejected = yield* call(() => host.fetch(`${host.url}/api/v1/pairing/pending/${theirs?.request_id ?? ""}`, { method: "DELETE" }))
      expect(rejected.status).toBe(204)
      const answered = yield* call(() => Promise.all(strangerPolls))
      expect(answered.map((r) => [r.xml.statusCode, r.xml.get("paired")])).toEqual([[400, "0"]])
      expect(answered[0]?.xml.statusMessage).toMatch(/rejected/)
      // The victim is still paired and served.
      expect((yield* call(() => victim.serverInfo(true))).xml.get("PairStatus")).toBe("1")
    })
  )

  it.scopedLive("one address holds two long polls and two listed requests; more are refused at once; the host's long polls stop at 8", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const gs = gameStreamOf(host)
      // Five getservercerts from 127.0.0.2, five certificates under five uniqueids: two wait,
      // three are refused.
      const flooders = yield* Effect.forEach([1, 2, 3, 4, 5], (n) => newIdentity(`flood-${n}`))
      const flooder = flooders[0]!
      const flood = flooders.map((identity, n) => getServerCert(from(host, "127.0.0.2", identity, `FLOOD${n}`)))
      yield* pendingCount(host, 2)
      const refused = yield* call(() => Promise.all(flood.slice(2)))
      for (const r of refused) {
        expect(r.xml.statusCode).toBe(400)
        expect(r.xml.get("paired")).toBe("0")
        expect(r.xml.statusMessage).toMatch(/127\.0\.0\.2 already has 2 pairing requests waiting for their PIN/)
      }
      expect((yield* pendingList(host)).map((p) => p.address)).toEqual(["127.0.0.2", "127.0.0.2"])

      // The victim from 127.0.0.1 is still listed and pairs.
      const victimIdentity = yield* newIdentity("victim")
      const { outcome } = yield* Effect.gen(function* () {
        const victim = clientFor(host, victimIdentity)
        const running = yield* Effect.fork(call(() => victim.pair({ pin: "2468" })))
        yield* pendingCount(host, 3)
        const mine = (yield* pendingList(host)).find((p) => p.address === "127.0.0.1")
        const entered = yield* call(() =>
          host.fetch(`${host.url}/api/v1/pairing/pending/${mine?.request_id ?? ""}/pin`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ pin: "2468" })
          })
        )
        expect(entered.status, JSON.stringify(yield* call(() => json(entered)))).toBe(200)
        return { outcome: yield* running.await.pipe(Effect.flatten) }
      })
      expect(outcome).toMatchObject({ paired: true })

      // Many addresses: the host holds 8 long polls in all (the flood's two and six more); the
      // next is refused at once.
      const many = [3, 4, 5, 6, 7, 8].map((n) => getServerCert(from(host, `127.0.0.${n}`, flooder)))
      yield* call(() => waitFor(async () => (await Effect.runPromise(gs.pairingWaits)) === 8, 10_000, "8 long polls"))
      const ninth = yield* call(() => getServerCert(from(host, "127.0.0.9", flooder)))
      expect(ninth.xml.statusCode).toBe(400)
      expect(ninth.xml.statusMessage).toMatch(/the host already has 8 GameStream pairing requests waiting for their PIN/)
      expect(yield* gs.pairingWaits).toBe(8)
      expect(yield* pendingList(host)).toHaveLength(8)
      // Rejecting them answers every one of them.
      for (const p of yield* pendingList(host)) {
        yield* call(() => host.fetch(`${host.url}/api/v1/pairing/pending/${p.request_id}`, { method: "DELETE" }))
      }
      const all = yield* call(() => Promise.all([...flood.slice(0, 2), ...many]))
      for (const r of all) expect([r.xml.statusCode, r.xml.statusMessage]).toEqual([400, expect.stringMatching(/rejected/)])
      expect(yield* gs.pairingWaits).toBe(0)
    })
  )

  it.scopedLive("five wrong PINs from 127.0.0.3: the sixth getservercert is refused at once with the reason, the console lists the address, 127.0.0.1 still pairs", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const guesser = from(host, "127.0.0.3", yield* newIdentity("guesser"))
      for (let n = 1; n <= 5; n++) {
        const { operatorStatus, operatorBody, outcome } = yield* pairViaOperator(host, guesser, "1111", "2222")
        expect(outcome).toMatchObject({ paired: false, reason: "wrong PIN" })
        expect(operatorStatus).toBe(403)
        if (n === 5) expect(JSON.stringify(operatorBody)).toMatch(/5 wrong PINs from 127\.0\.0\.3: the host refuses pairing from this address for another 60 s/)
      }
      const lockouts = yield* lockoutList(host)
      expect(lockouts.map((l) => l.address)).toEqual(["127.0.0.3"])
      expect(lockouts[0]?.remaining_ms).toBeGreaterThan(0)
      expect(lockouts[0]?.remaining_ms).toBeLessThanOrEqual(60_000)

      // The sixth: refused at once (nothing listed), with the reason Moonlight shows.
      const sixth = yield* call(() => guesser.pair({ pin: "1111" }))
      expect(sixth).toMatchObject({ paired: false, stage: "getservercert" })
      if (!sixth.paired) expect(sixth.reason).toMatch(/5 wrong PINs from 127\.0\.0\.3: the host refuses pairing from this address for another \d+ s/)
      expect(yield* pendingList(host)).toEqual([])
      expect(yield* pairedClients(host)).toEqual([])

      // Another address is not locked out.
      const victim = clientFor(host, yield* newIdentity("victim"))
      const { outcome } = yield* pairViaOperator(host, victim, "3579")
      expect(outcome).toMatchObject({ paired: true })
    })
  )
})
