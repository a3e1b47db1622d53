/**
 * Attacks on punktfunk/1 pairing from elsewhere on the LAN, against a real host (TLS 1.3 on
 * loopback; the victim connects from 127.0.0.1, attackers bind 127.0.0.2 and up), with the real
 * client's CPace pairing:
 *
 *  - five wrong PINs from one address: the sixth request from it is refused at once, the client
 *    reads why, the console lists the address with its time left; another address still pairs;
 *  - one address cannot fill the operator's list: its third request is refused at once while a
 *    client elsewhere is still listed and pairs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Schema } from "effect"
import { PairingLockout, PendingPairing } from "../../src/api/Pairing.js"
import { pair } from "../../src/client/ControlClient.js"
import type { ClientIdentity, Endpoint } from "../../src/client/ControlClient.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { json, startHost, waitFor } from "../support/TestHost.js"
import type { StartedHost } from "../support/TestHost.js"
import { identity } from "../support/PairedClient.js"

const endpoint = (host: StartedHost, localAddress: string): Endpoint => ({
  host: "127.0.0.1",
  port: Context.get(host.context, ControlServer).port,
  localAddress
})

const api = (host: StartedHost, route: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const res = await host.fetch(`${host.url}/api/v1/pairing${route}`, init)
    return { status: res.status, body: await json(res) }
  })

const pendingList = (host: StartedHost) =>
  api(host, "/pending").pipe(Effect.map((r) => Schema.decodeUnknownSync(Schema.Array(PendingPairing))(r.body)))

const waitListed = (host: StartedHost, fingerprint: string) =>
  Effect.promise(() =>
    waitFor(async () => (await Effect.runPromise(pendingList(host))).some((p) => p.fingerprint === fingerprint), 10_000, "the request listed")
  ).pipe(
    Effect.zipRight(pendingList(host)),
    Effect.map((l) => l.find((p) => p.fingerprint === fingerprint)!)
  )

const enterPin = (host: StartedHost, requestId: string, pin: string) =>
  api(host, `/pending/${requestId}/pin`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pin }) })

/** The client asks with `clientPin`; the operator types `operatorPin`. What each side was told. */
const attempt = (host: StartedHost, client: ClientIdentity, from: string, clientPin: string, operatorPin: string) =>
  Effect.gen(function* () {
    const asking = yield* Effect.fork(Effect.either(pair({ endpoint: endpoint(host, from), identity: client, name: "guess", pin: clientPin })))
    const request = yield* waitListed(host, client.fingerprint)
    expect(request.address).toBe(from)
    const operator = yield* enterPin(host, request.request_id, operatorPin)
    const outcome = yield* Fiber.join(asking)
    return { operator, client: outcome._tag === "Left" ? outcome.left.message : "paired" }
  })

describe("punktfunk/1 pairing under attack", () => {
  it.scopedLive("five wrong PINs from 127.0.0.2: the sixth request is refused at once with the reason, the console lists it, 127.0.0.1 still pairs", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const guesser = yield* identity("guesser")
      for (let n = 1; n <= 5; n++) {
        const { operator, client } = yield* attempt(host, guesser, "127.0.0.2", "1111", "2222")
        expect(operator.status).toBe(403)
        expect(client).toMatch(/pairing refused: the PIN entered on the host does not match/)
        if (n < 5) expect(JSON.stringify(operator.body)).not.toMatch(/refuses pairing/)
        else expect(JSON.stringify(operator.body)).toMatch(/5 wrong PINs from 127\.0\.0\.2: the host refuses pairing from this address for another 60 s/)
      }
      const lockouts = Schema.decodeUnknownSync(Schema.Array(PairingLockout))((yield* api(host, "/lockouts")).body)
      expect(lockouts.map((l) => l.address)).toEqual(["127.0.0.2"])
      expect(lockouts[0]?.remaining_ms).toBeGreaterThan(0)

      // The sixth: refused before anything is listed, saying why. Even the right PIN cannot come in.
      const sixth = yield* Effect.either(pair({ endpoint: endpoint(host, "127.0.0.2"), identity: guesser, name: "guess", pin: "2222" }))
      expect(sixth._tag).toBe("Left")
      if (sixth._tag === "Left") {
        expect(sixth.left.message).toMatch(/pairing refused: 5 wrong PINs from 127\.0\.0\.2: the host refuses pairing from this address for another \d+ s/)
      }
      expect(yield* pendingList(host)).toEqual([])

      // The victim elsewhere pairs.
      const victim = yield* identity("victim")
      const { operator, client } = yield* attempt(host, victim, "127.0.0.1", "4321", "4321")
      expect(operator.status).toBe(200)
      expect(client).toBe("paired")
    })
  )

  it.scopedLive("127.0.0.2 holds two listed requests; its third is refused at once; a client on 127.0.0.1 is listed and pairs", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const flooders = yield* Effect.forEach([1, 2, 3], (n) => identity(`flood-${n}`))
      const asks = yield* Effect.forEach(flooders.slice(0, 2), (f) =>
        Effect.fork(Effect.either(pair({ endpoint: endpoint(host, "127.0.0.2"), identity: f, name: "flood", pin: "0000" })))
      )
      yield* Effect.forEach(flooders.slice(0, 2), (f) => waitListed(host, f.fingerprint))
      const third = yield* Effect.either(pair({ endpoint: endpoint(host, "127.0.0.2"), identity: flooders[2]!, name: "flood", pin: "0000" }))
      expect(third._tag === "Left" && third.left.message).toMatch(/pairing refused: 127\.0\.0\.2 already has 2 pending pairing requests/)
      expect((yield* pendingList(host)).map((p) => p.address)).toEqual(["127.0.0.2", "127.0.0.2"])

      const victim = yield* identity("victim")
      const { operator, client } = yield* attempt(host, victim, "127.0.0.1", "8642", "8642")
      expect(operator.status).toBe(200)
      expect(client).toBe("paired")
      for (const f of asks) yield* Fiber.interrupt(f)
    })
  )
})
