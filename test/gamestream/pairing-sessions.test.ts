/**
 * The host's pairing attempts on their own, with the test clock: a certificate pinned by the
 * operator's PIN stays provisional, and is unpinned again when the client never finishes (after
 * the completion window, moved by TestClock — no waiting on a real clock) or when a new attempt
 * from the same uniqueid replaces it and then fails too.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, TestClock } from "effect"
import { randomBytes } from "node:crypto"
import { Pairing, PairingLive } from "../../src/services/Pairing.js"
import { loadOrCreateGameStreamIdentity } from "../../src/streams/gamestream/Identity.js"
import { makePairingSessions } from "../../src/streams/gamestream/PairingSessions.js"
import { tempDir } from "../support/TestHost.js"
import { makeClientIdentity } from "./support/GameStreamClient.js"

/**
 * Let forked fibers and file writes (fsync: real I/O, unaffected by the test clock) run until
 * `done` holds; a generous real-time bound only turns a hang into a failure.
 */
const settle = (done: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (yield* done) return
      yield* Effect.promise(() => new Promise<void>((r) => setTimeout(r, 5)))
    }
    throw new Error("did not settle within 10 s")
  })

const setup = Effect.gen(function* () {
  const dir = tempDir()
  const pairing = yield* Pairing
  const identity = yield* loadOrCreateGameStreamIdentity(dir)
  const sessions = yield* makePairingSessions(identity, pairing, { completeWithin: "1 minute" })
  const client = yield* Effect.promise(() => makeClientIdentity("slow"))
  /** getservercert until the operator's PIN, which this enters. */
  const pinnedAttempt = (uniqueid: string) =>
    Effect.gen(function* () {
      const answer = yield* Effect.fork(
        sessions.getServerCert({ uniqueid, phrase: "getservercert", salt: randomBytes(16), clientcert: client.certPem, devicename: "slow" })
      )
      yield* settle(pairing.pending.pipe(Effect.map((p) => p.length === 1)))
      const [request] = yield* pairing.pending
      yield* pairing.enterPin(request?.request_id ?? "", "1234")
      return yield* Fiber.join(answer)
    })
  const pinned = pairing.clients.pipe(Effect.map((all) => all.map((c) => c.fingerprint)))
  return { pairing, sessions, client, pinnedAttempt, pinned }
})

const withPairing = <A, E, R>(effect: Effect.Effect<A, E, R | Pairing>) => Effect.provide(effect, PairingLive(tempDir()).pipe(Layer.orDie))

describe("GameStream pairing attempts", () => {
  it.scoped("a client that stops after the PIN is unpinned when the completion window ends", () =>
    withPairing(
      Effect.gen(function* () {
        const { sessions, client, pinnedAttempt, pinned } = yield* setup
        const answer = yield* pinnedAttempt("slow-client")
        expect(answer.statusCode).toBe(200)
        expect(String(answer.body)).toMatch(/<paired>1<\/paired><plaincert>[0-9a-f]+<\/plaincert>/)
        // Pinned by the operator's PIN, but provisional: not yet proven by the client.
        expect(yield* pinned).toEqual([client.fingerprint])
        expect(sessions.isProvisional(client.fingerprint)).toBe(true)

        // Within the window the attempt is alive: its next phase is answered.
        yield* TestClock.adjust("59 seconds")
        const inTime = yield* sessions.clientChallenge({ uniqueid: "slow-client", clientchallenge: new Uint8Array(16) })
        expect(inTime.statusCode).toBe(200)
        expect(yield* pinned).toEqual([client.fingerprint])
        // The window counts from the PIN, not from the last phase: two seconds more and it is over.
        yield* TestClock.adjust("2 seconds")
        yield* settle(pinned.pipe(Effect.map((p) => p.length === 0)))
        expect(sessions.isProvisional(client.fingerprint)).toBe(false)
        const late = yield* sessions.serverChallengeResp({ uniqueid: "slow-client", serverchallengeresp: new Uint8Array(32) })
        expect(late.statusCode).toBe(400)
        expect(String(late.body)).toMatch(/no pairing in progress/)
      })
    )
  )

  it.scoped("a new attempt from the same uniqueid replaces the old; failing, it leaves nothing pinned", () =>
    withPairing(
      Effect.gen(function* () {
        const { sessions, client, pinnedAttempt, pinned } = yield* setup
        yield* pinnedAttempt("same")
        yield* pinnedAttempt("same")
        expect(yield* pinned).toEqual([client.fingerprint])
        expect(sessions.isProvisional(client.fingerprint)).toBe(true)
        expect(yield* sessions.abandon("same")).toBe(true)
        expect(yield* pinned).toEqual([])
        expect(yield* sessions.abandon("same")).toBe(false)
      })
    )
  )
})
