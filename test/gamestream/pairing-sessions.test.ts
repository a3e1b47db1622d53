/**
 * The host's pairing attempts on their own, with the test clock: nothing is pinned by the
 * operator's PIN alone — the operator's `enterPin` waits for the client's proof — and an attempt
 * that ends otherwise tells the operator why: a client that never finishes (after the completion
 * window, moved by TestClock — no waiting on a real clock), a new attempt from the same uniqueid,
 * Moonlight's `unpair` (its "wrong PIN" after serverchallengeresp), a client that hangs up before
 * the PIN, the host stopping. A client paired before a failed re-pair stays paired.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Option, Scope, TestClock } from "effect"
import { randomBytes } from "node:crypto"
import { DiskOpsLive } from "../../src/services/DiskOps.js"
import { Pairing, PairingLive } from "../../src/services/Pairing.js"
import { loadOrCreateGameStreamIdentity } from "../../src/streams/gamestream/Identity.js"
import { makePairingSessions } from "../../src/streams/gamestream/PairingSessions.js"
import type { PairingSessionsShape } from "../../src/streams/gamestream/PairingSessions.js"
import { settle, tempDir } from "../support/TestHost.js"
import { makeClientIdentity } from "./support/GameStreamClient.js"

const setup = Effect.gen(function* () {
  const dir = tempDir()
  const pairing = yield* Pairing
  const identity = yield* loadOrCreateGameStreamIdentity(dir)
  const sessions = yield* makePairingSessions(identity, pairing, { completeWithin: "1 minute" })
  const client = yield* Effect.promise(() => makeClientIdentity("slow"))
  const getServerCert = (uniqueid: string, on: PairingSessionsShape = sessions) =>
    Effect.fork(
      on.getServerCert({ uniqueid, phrase: "getservercert", salt: randomBytes(16), clientcert: client.certPem, devicename: "slow" }, "127.0.0.1")
    )
  /**
   * getservercert until the operator's PIN, which this enters; the operator's answer waits for
   * the client's proof, so it is returned as a running fiber.
   */
  const pinnedAttempt = (uniqueid: string, on: PairingSessionsShape = sessions) =>
    Effect.gen(function* () {
      const answer = yield* getServerCert(uniqueid, on)
      yield* settle(pairing.pending.pipe(Effect.map((p) => p.length === 1)))
      const [request] = yield* pairing.pending
      const operator = yield* Effect.fork(Effect.either(pairing.enterPin(request?.request_id ?? "", "1234")))
      return { answer: yield* Fiber.join(answer), operator }
    })
  const pinned = pairing.clients.pipe(Effect.map((all) => all.map((c) => c.fingerprint)))
  /** Runs the phases after getservercert that the host does not check (it checks the last). */
  const toAnswered = (uniqueid: string) =>
    Effect.gen(function* () {
      expect((yield* sessions.clientChallenge({ uniqueid, clientchallenge: new Uint8Array(16) }, "127.0.0.1")).statusCode).toBe(200)
      expect((yield* sessions.serverChallengeResp({ uniqueid, serverchallengeresp: new Uint8Array(32) }, "127.0.0.1")).statusCode).toBe(200)
    })
  return { pairing, identity, sessions, client, getServerCert, pinnedAttempt, pinned, toAnswered }
})

const withPairing = <A, E, R>(effect: Effect.Effect<A, E, R | Pairing>) => Effect.provide(effect, PairingLive(tempDir()).pipe(Layer.provide(DiskOpsLive), Layer.orDie))

const stillWaiting = <A, E>(fiber: Fiber.Fiber<A, E>) => Fiber.poll(fiber).pipe(Effect.map(Option.isNone))

const refusalOf = <A, E extends { readonly _tag: string; readonly message: string }>(fiber: Fiber.Fiber<Either.Either<A, E>>) =>
  Fiber.join(fiber).pipe(
    Effect.map((result) => (Either.isLeft(result) ? { tag: result.left._tag, message: result.left.message } : { tag: "paired", message: "" }))
  )

describe("GameStream pairing attempts", () => {
  it.scoped("a client that stops after the PIN: nothing is pinned, and the operator is told why when the window ends", () =>
    withPairing(
      Effect.gen(function* () {
        const { sessions, pinnedAttempt, pinned } = yield* setup
        const { answer, operator } = yield* pinnedAttempt("slow-client")
        expect(answer.statusCode).toBe(200)
        expect(String(answer.body)).toMatch(/<paired>1<\/paired><plaincert>[0-9a-f]+<\/plaincert>/)
        // The PIN alone pins nothing; the operator's answer waits for the client's proof.
        expect(yield* pinned).toEqual([])
        expect(yield* stillWaiting(operator)).toBe(true)

        // Within the window the attempt is alive: its next phase is answered.
        yield* TestClock.adjust("59 seconds")
        const inTime = yield* sessions.clientChallenge({ uniqueid: "slow-client", clientchallenge: new Uint8Array(16) }, "127.0.0.1")
        expect(inTime.statusCode).toBe(200)
        expect(yield* stillWaiting(operator)).toBe(true)
        // The window counts from the PIN, not from the last phase: two seconds more and it is over.
        yield* TestClock.adjust("2 seconds")
        const told = yield* refusalOf(operator)
        expect(told.tag).toBe("PairingRequestNotFound")
        expect(told.message).toMatch(/gave up before completing pairing: it did not finish within/)
        expect(yield* pinned).toEqual([])
        const late = yield* sessions.serverChallengeResp({ uniqueid: "slow-client", serverchallengeresp: new Uint8Array(32) }, "127.0.0.1")
        expect(late.statusCode).toBe(400)
        expect(String(late.body)).toMatch(/no pairing in progress/)
      })
    )
  )

  it.scoped("a new attempt from the same uniqueid replaces the old; an unpair before the last phases is giving up", () =>
    withPairing(
      Effect.gen(function* () {
        const { sessions, pinnedAttempt, pinned } = yield* setup
        const first = yield* pinnedAttempt("same")
        const second = yield* pinnedAttempt("same")
        const replaced = yield* refusalOf(first.operator)
        expect(replaced).toEqual({ tag: "PairingRequestNotFound", message: expect.stringMatching(/replaced/) })
        expect(yield* stillWaiting(second.operator)).toBe(true)
        expect(yield* sessions.abandon("same", "127.0.0.1")).toBe(true)
        expect(yield* refusalOf(second.operator)).toEqual({
          tag: "PairingRequestNotFound",
          message: expect.stringMatching(/gave up before completing pairing: it sent unpair after getservercert/)
        })
        expect(yield* pinned).toEqual([])
        expect(yield* sessions.abandon("same", "127.0.0.1")).toBe(false)
      })
    )
  )

  it.scoped("Moonlight's unpair after serverchallengeresp is its wrong PIN: the operator is told WrongPin", () =>
    withPairing(
      Effect.gen(function* () {
        const { pairing, sessions, pinnedAttempt, pinned, toAnswered } = yield* setup
        const { operator } = yield* pinnedAttempt("guess")
        yield* toAnswered("guess")
        expect(yield* stillWaiting(operator)).toBe(true)
        expect(yield* sessions.abandon("guess", "127.0.0.1")).toBe(true)
        expect((yield* refusalOf(operator)).tag).toBe("WrongPin")
        expect(yield* pinned).toEqual([])
        expect(yield* pairing.pending).toEqual([])
      })
    )
  )

  it.scoped("a wrong hash in clientpairingsecret: paired 0 to the client, WrongPin to the operator", () =>
    withPairing(
      Effect.gen(function* () {
        const { sessions, pinnedAttempt, pinned, toAnswered } = yield* setup
        const { operator } = yield* pinnedAttempt("liar")
        yield* toAnswered("liar")
        const last = yield* sessions.clientPairingSecret({ uniqueid: "liar", clientpairingsecret: new Uint8Array(16 + 256) }, "127.0.0.1")
        expect(String(last.body)).toMatch(/<paired>0<\/paired>/)
        expect((yield* refusalOf(operator)).tag).toBe("WrongPin")
        expect(yield* pinned).toEqual([])
      })
    )
  )

  it.scoped("a client that hangs up before the PIN withdraws its request; a PIN typed for it finds nothing", () =>
    withPairing(
      Effect.gen(function* () {
        const { pairing, getServerCert, pinned } = yield* setup
        const waiting = yield* getServerCert("gone")
        yield* settle(pairing.pending.pipe(Effect.map((p) => p.length === 1)))
        const [request] = yield* pairing.pending
        yield* Fiber.interrupt(waiting)
        yield* settle(pairing.pending.pipe(Effect.map((p) => p.length === 0)))
        const late = yield* Effect.either(pairing.enterPin(request?.request_id ?? "", "1234"))
        expect(Either.isLeft(late) && late.left._tag).toBe("PairingRequestNotFound")
        expect(yield* pinned).toEqual([])
      })
    )
  )

  it.scoped("the host stopping ends an attempt: the operator is told, nothing is pinned", () =>
    withPairing(
      Effect.gen(function* () {
        const { pairing, identity, pinnedAttempt, pinned } = yield* setup
        const scope = yield* Scope.make()
        const ownSessions = yield* Scope.extend(makePairingSessions(identity, pairing), scope)
        const { operator } = yield* pinnedAttempt("stopping", ownSessions)
        yield* Scope.close(scope, Exit.void)
        expect(yield* refusalOf(operator)).toEqual({ tag: "PairingRequestNotFound", message: expect.stringMatching(/host stopped/) })
        expect(yield* pinned).toEqual([])
      })
    )
  )

  it.scoped("a client paired before stays paired when a new attempt with its certificate fails", () =>
    withPairing(
      Effect.gen(function* () {
        const { pairing, client, sessions, pinnedAttempt, pinned } = yield* setup
        // Paired earlier (how does not matter here): a request whose check says yes.
        const earlier = yield* Effect.fork(
          pairing.request({ path: "gamestream", name: "slow", fingerprint: client.fingerprint, address: "127.0.0.1", checkPin: () => Effect.succeed(true), onPending: () => Effect.void })
        )
        yield* settle(pairing.pending.pipe(Effect.map((p) => p.length === 1)))
        const [request] = yield* pairing.pending
        yield* pairing.enterPin(request?.request_id ?? "", "0000")
        yield* Fiber.join(earlier)
        expect(yield* pinned).toEqual([client.fingerprint])

        const { operator } = yield* pinnedAttempt("again")
        expect(yield* sessions.abandon("again", "127.0.0.1")).toBe(true)
        expect((yield* refusalOf(operator)).tag).toBe("PairingRequestNotFound")
        expect(yield* pinned).toEqual([client.fingerprint])
      })
    )
  )
})
