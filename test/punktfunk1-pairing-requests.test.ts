/**
 * punktfunk/1 pairing requests against a real host, as the client sees them: a request nobody
 * answers ends with a refusal the client reads and leaves the operator's list; a client that asks
 * again (same certificate, same address) replaces its own request and the first connection is told
 * so instead of waiting forever. The expiry is shortened to a second (the host's is two minutes).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Schema } from "effect"
import { PendingPairing } from "../src/api/Pairing.js"
import { pair } from "../src/client/ControlClient.js"
import { json, startHost, waitFor } from "./support/TestHost.js"
import type { StartedHost } from "./support/TestHost.js"
import { endpointOf, identity } from "./support/PairedClient.js"


const pendingList = (host: StartedHost) =>
  Effect.promise(async () => Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await json(await host.fetch(`${host.url}/api/v1/pairing/pending`))))

describe("punktfunk/1 pairing requests", () => {
  it.scopedLive("a request nobody answers expires: the client is refused with the reason, the list is empty", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ pairing: { pendingTimeout: "1 second" } })
      const client = yield* identity("late")
      const seen: Array<string> = []
      const outcome = yield* Effect.either(pair({ endpoint: endpointOf(host), identity: client, name: "late", pin: "1357", onPending: (id) => seen.push(id) }))
      expect(seen).toHaveLength(1)
      expect(outcome._tag === "Left" && outcome.left.message).toMatch(/pairing refused: nobody entered this client's PIN on the host within 1s/)
      expect(yield* pendingList(host)).toEqual([])
    })
  )

  it.scopedLive("a client that asks again replaces its own request: the first connection is told, one request stays listed", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const client = yield* identity("again")
      const ask = () => Effect.fork(Effect.either(pair({ endpoint: endpointOf(host), identity: client, name: "again", pin: "2468" })))
      const first = yield* ask()
      yield* Effect.promise(() => waitFor(async () => (await Effect.runPromise(pendingList(host))).length === 1))
      const [old] = yield* pendingList(host)
      const second = yield* ask()
      const replaced = yield* Fiber.join(first)
      expect(replaced._tag === "Left" && replaced.left.message).toMatch(
        /pairing refused: a newer pairing request from the same client \(same certificate, same address\) replaced this one/
      )
      yield* Effect.promise(() =>
        waitFor(async () => {
          const now = await Effect.runPromise(pendingList(host))
          return now.length === 1 && now[0]?.request_id !== old?.request_id
        })
      )
      yield* Fiber.interrupt(second)
    })
  )
})
