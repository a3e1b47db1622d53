/**
 * The Pairing service's limits on requests, on their own with the test clock (no waiting two
 * minutes): a request nobody answers expires and its client is told; one being decided is left
 * alone; a reconnecting client replaces its own request and the replaced waiter is told, while the
 * same certificate from another address replaces nothing; one address holds at most two requests;
 * five wrong PINs lock an address out for a minute, the operator sees it, and a right PIN before
 * that forgives the earlier ones. The attacks over the network are in test/faults/pairing-attacks.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, Layer, Option, TestClock } from "effect"
import { DiskOpsLive } from "../src/services/DiskOps.js"
import { Pairing, PairingLive } from "../src/services/Pairing.js"
import type { PairingPolicy, PairingRequest } from "../src/services/Pairing.js"
import * as fs from "node:fs"
import * as path from "node:path"
import { settle, tempDir } from "./support/TestHost.js"

const fp = (c: string) => c.repeat(64)

const withPairing = <A, E, R>(effect: Effect.Effect<A, E, R | Pairing>, policy: Partial<PairingPolicy> = {}) =>
  Effect.provide(effect, PairingLive(tempDir(), policy).pipe(Layer.provide(DiskOpsLive), Layer.orDie))

const ask = (fields: { fingerprint: string; address: string; checkPin?: PairingRequest["checkPin"] }) =>
  Effect.gen(function* () {
    const pairing = yield* Pairing
    return yield* Effect.fork(
      Effect.either(
        pairing.request({
          path: "punktfunk1",
          name: `client-${fields.fingerprint.slice(0, 4)}`,
          fingerprint: fields.fingerprint,
          address: fields.address,
          checkPin: fields.checkPin ?? ((pin) => Effect.succeed(pin === "1234")),
          onPending: () => Effect.void
        })
      )
    )
  })

const listed = Effect.flatMap(Pairing, (p) => p.pending)
const listedCount = (n: number) => settle(listed.pipe(Effect.map((l) => l.length === n)))
const refusalOf = <A, E extends { readonly reason: string }>(fiber: Fiber.Fiber<Either.Either<A, E>>) =>
  Fiber.join(fiber).pipe(Effect.map((r) => (Either.isLeft(r) ? r.left.reason : "paired")))

/** The request listed for `fingerprint` from `address`, once it is listed. */
const requestOf = (fingerprint: string, address: string) => {
  const find = listed.pipe(Effect.map((l) => l.find((r) => r.fingerprint === fingerprint && r.address === address)))
  return settle(find.pipe(Effect.map((r) => r !== undefined))).pipe(
    Effect.zipRight(find),
    Effect.flatMap(Effect.fromNullable),
    Effect.orDie
  )
}

/** One request from `address` that the operator answers with a wrong PIN; the operator's error. */
const wrongPinFrom = (address: string, n: number) =>
  Effect.gen(function* () {
    const pairing = yield* Pairing
    const f = fp((n % 10).toString())
    const waiting = yield* ask({ fingerprint: f, address })
    const request = yield* requestOf(f, address)
    const operator = yield* Effect.flip(pairing.enterPin(request.request_id, "9999"))
    expect(operator._tag).toBe("WrongPin")
    return { operator: operator.message, client: yield* refusalOf(waiting) }
  })

describe("pairing requests: expiry", () => {
  it.scoped("a request nobody answers expires: its client is told, the operator's list drops it", () =>
    withPairing(
      Effect.gen(function* () {
        const waiting = yield* ask({ fingerprint: fp("a"), address: "192.0.2.1" })
        yield* listedCount(1)
        yield* TestClock.adjust("119 seconds")
        expect(yield* Fiber.poll(waiting)).toEqual(Option.none())
        expect(yield* listed).toHaveLength(1)
        yield* TestClock.adjust("2 seconds")
        expect(yield* refusalOf(waiting)).toMatch(/nobody entered this client's PIN on the host within 2m/)
        expect(yield* listed).toEqual([])
      })
    )
  )

  it.scoped("the expiry is a setting of the service; a request the operator is deciding is not cut by it", () =>
    withPairing(
      Effect.gen(function* () {
        const pairing = yield* Pairing
        const proof = yield* Deferred.make<boolean>()
        const waiting = yield* ask({ fingerprint: fp("b"), address: "192.0.2.1", checkPin: () => Deferred.await(proof) })
        yield* listedCount(1)
        const [request] = yield* listed
        // The operator typed the PIN; the client's proof is still on its way (GameStream's case).
        const operator = yield* Effect.fork(pairing.enterPin(request?.request_id ?? "", "1234"))
        yield* listedCount(0)
        yield* TestClock.adjust("30 seconds")
        yield* Deferred.succeed(proof, true)
        expect((yield* Fiber.join(operator)).fingerprint).toBe(fp("b"))
        expect(yield* refusalOf(waiting)).toBe("paired")
      }),
      { pendingTimeout: "10 seconds" }
    )
  )
})

describe("pairing requests: replacing", () => {
  it.scoped("a client that asks again from the same address replaces its request, and the first waiter is told", () =>
    withPairing(
      Effect.gen(function* () {
        const first = yield* ask({ fingerprint: fp("c"), address: "192.0.2.1" })
        yield* listedCount(1)
        const [old] = yield* listed
        const second = yield* ask({ fingerprint: fp("c"), address: "192.0.2.1" })
        expect(yield* refusalOf(first)).toMatch(/a newer pairing request from the same client .* replaced this one/)
        yield* settle(listed.pipe(Effect.map((l) => l.length === 1 && l[0]?.request_id !== old?.request_id)))
        expect(yield* Fiber.poll(second)).toEqual(Option.none())
      })
    )
  )

  it.scoped("the same certificate from another address replaces nothing: both are listed, with their addresses", () =>
    withPairing(
      Effect.gen(function* () {
        const victim = yield* ask({ fingerprint: fp("d"), address: "192.0.2.1" })
        yield* listedCount(1)
        const copy = yield* ask({ fingerprint: fp("d"), address: "192.0.2.66" })
        yield* listedCount(2)
        expect((yield* listed).map((r) => r.address).sort()).toEqual(["192.0.2.1", "192.0.2.66"])
        expect(yield* Fiber.poll(victim)).toEqual(Option.none())
        expect(yield* Fiber.poll(copy)).toEqual(Option.none())
      })
    )
  )
})

describe("pairing requests: caps", () => {
  it.scoped("one address holds at most two requests; the third is refused with the reason, others still get in", () =>
    withPairing(
      Effect.gen(function* () {
        yield* ask({ fingerprint: fp("1"), address: "192.0.2.66" })
        yield* ask({ fingerprint: fp("2"), address: "192.0.2.66" })
        yield* listedCount(2)
        const third = yield* ask({ fingerprint: fp("3"), address: "192.0.2.66" })
        expect(yield* refusalOf(third)).toMatch(/192\.0\.2\.66 already has 2 pending pairing requests/)
        yield* ask({ fingerprint: fp("4"), address: "192.0.2.1" })
        yield* listedCount(3)
      })
    )
  )

  it.scoped("the host's total stays capped across addresses", () =>
    withPairing(
      Effect.gen(function* () {
        for (const n of [1, 2, 3]) yield* ask({ fingerprint: fp(String(n)), address: `192.0.2.${n}` })
        yield* listedCount(3)
        const fourth = yield* ask({ fingerprint: fp("4"), address: "192.0.2.4" })
        expect(yield* refusalOf(fourth)).toMatch(/the host already has 3 pending pairing requests/)
      }),
      { maxPending: 3 }
    )
  )
})

describe("pairing requests: wrong-PIN lockout", () => {
  it.scoped("five wrong PINs lock the address out for 60 s: the sixth request is refused at once, the console lists it", () =>
    withPairing(
      Effect.gen(function* () {
        const pairing = yield* Pairing
        for (let n = 1; n <= 4; n++) {
          const { operator, client } = yield* wrongPinFrom("192.0.2.66", n)
          expect(operator).not.toMatch(/refuses pairing/)
          expect(client).toMatch(/does not match/)
        }
        // A second request of that address is listed when the fifth wrong PIN comes in.
        const bystander = yield* ask({ fingerprint: fp("e"), address: "192.0.2.66" })
        const fifth = yield* wrongPinFrom("192.0.2.66", 5)
        expect(fifth.operator).toMatch(/5 wrong PINs from 192\.0\.2\.66: the host refuses pairing from this address for another 60 s/)
        expect(fifth.client).toMatch(/5 wrong PINs from 192\.0\.2\.66/)
        expect(yield* refusalOf(bystander)).toMatch(/5 wrong PINs from 192\.0\.2\.66/)
        expect(yield* listed).toEqual([])
        expect(yield* pairing.lockouts).toEqual([{ address: "192.0.2.66", locked_until_unix_ms: 60_000, remaining_ms: 60_000 }])

        yield* TestClock.adjust("20 seconds")
        const sixth = yield* ask({ fingerprint: fp("f"), address: "192.0.2.66" })
        expect(yield* refusalOf(sixth)).toBe("5 wrong PINs from 192.0.2.66: the host refuses pairing from this address for another 40 s")
        expect((yield* pairing.lockouts)[0]?.remaining_ms).toBe(40_000)
        // Another address pairs meanwhile.
        const other = yield* ask({ fingerprint: fp("a"), address: "192.0.2.1" })
        const request = yield* requestOf(fp("a"), "192.0.2.1")
        expect((yield* pairing.enterPin(request.request_id, "1234")).fingerprint).toBe(fp("a"))
        expect(yield* refusalOf(other)).toBe("paired")

        // After the minute the address may ask again, and its count starts over.
        yield* TestClock.adjust("40 seconds")
        expect(yield* pairing.lockouts).toEqual([])
        const again = yield* wrongPinFrom("192.0.2.66", 7)
        expect(again.operator).not.toMatch(/refuses pairing/)
        const later = yield* ask({ fingerprint: fp("b"), address: "192.0.2.66" })
        yield* listedCount(1)
        yield* Fiber.interrupt(later)
      })
    )
  )

  it.scoped("a right PIN forgives the wrong ones before it", () =>
    withPairing(
      Effect.gen(function* () {
        const pairing = yield* Pairing
        for (let n = 1; n <= 4; n++) yield* wrongPinFrom("192.0.2.7", n)
        const right = yield* ask({ fingerprint: fp("a"), address: "192.0.2.7" })
        const request = yield* requestOf(fp("a"), "192.0.2.7")
        yield* pairing.enterPin(request.request_id, "1234")
        expect(yield* refusalOf(right)).toBe("paired")
        for (let n = 5; n <= 8; n++) {
          const { operator } = yield* wrongPinFrom("192.0.2.7", n)
          expect(operator).not.toMatch(/refuses pairing/)
        }
        expect(yield* pairing.lockouts).toEqual([])
      })
    )
  )

  it.scoped("the numbers are the service's settings: 2 wrong PINs, 5 s", () =>
    withPairing(
      Effect.gen(function* () {
        const pairing = yield* Pairing
        yield* wrongPinFrom("192.0.2.8", 1)
        expect((yield* wrongPinFrom("192.0.2.8", 2)).operator).toMatch(/2 wrong PINs from 192\.0\.2\.8: .* another 5 s/)
        expect((yield* pairing.lockouts).map((l) => l.address)).toEqual(["192.0.2.8"])
        yield* TestClock.adjust("5 seconds")
        expect(yield* pairing.lockouts).toEqual([])
      }),
      { lockoutAfter: 2, lockoutFor: "5 seconds" }
    )
  )
})

describe("the paired-clients file of an older host", () => {
  it.scopedLive("a client stored with the path 'native' (hosts before issue 13.8) is still paired for punktfunk1; the next save writes punktfunk1", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "paired-clients.json")
      const old = { version: 1, clients: [{ fingerprint: fp("a"), path: "native", name: "old-laptop", paired_unix_ms: 1 }] }
      fs.writeFileSync(file, JSON.stringify(old))
      yield* Effect.gen(function* () {
        const pairing = yield* Pairing
        expect((yield* pairing.pairedAs(fp("a"), "punktfunk1"))?.name).toBe("old-laptop")
        expect((yield* pairing.clients).map((c) => [c.fingerprint, c.path])).toEqual([[fp("a"), "punktfunk1"]])
        // A second client paired: the file is written again, in today's spelling, the old one kept.
        const waiting = yield* Effect.fork(
          Effect.either(
            pairing.request({
              path: "punktfunk1", name: "new-phone", fingerprint: fp("b"), address: "192.0.2.8",
              checkPin: (pin) => Effect.succeed(pin === "1234"), onPending: () => Effect.void
            })
          )
        )
        const request = yield* requestOf(fp("b"), "192.0.2.8")
        yield* pairing.enterPin(request.request_id, "1234").pipe(Effect.orDie)
        yield* Fiber.join(waiting)
      }).pipe(Effect.provide(PairingLive(dir).pipe(Layer.provide(DiskOpsLive), Layer.orDie)))
      const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { clients: Array<{ name: string; path: string }> }
      expect(stored.clients.map((c) => [c.name, c.path]).sort()).toEqual([["new-phone", "punktfunk1"], ["old-laptop", "punktfunk1"]])
    })
  )
})
