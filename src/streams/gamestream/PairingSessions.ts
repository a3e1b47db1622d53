/**
 * GameStream pairing as the host runs it: one attempt per client `uniqueid`, four phases over
 * plain HTTP (getservercert → clientchallenge → serverchallengeresp → clientpairingsecret), then
 * `pairchallenge` over HTTPS with the new client certificate.
 *
 * The operator's PIN: `getservercert` arrives with the client's salt and certificate and is held
 * open (a long poll, as GameStream hosts do) while a request waits in the shared Pairing service
 * until the operator types the PIN the Moonlight client shows. Only then can the host derive the
 * AES key and answer. The request runs in a fiber of its own (in this module's scope), because it
 * outlives that HTTP request: the long poll is answered as soon as the PIN is in, while the
 * request is decided only at the end.
 *
 * Why the operator's PIN is not the end of it: whether the PIN is the one the client shows is
 * proven only three round trips later, when the client's hash decrypts right under the
 * PIN-derived key. So this path's `checkPin` hands the PIN to the attempt and then waits for that
 * proof; the Pairing service pins the certificate (and the operator's `enterPin` answers) only
 * after it. Each attempt's `proof` is settled exactly once:
 *  - true by `clientpairingsecret` when the hash matches and the signature verifies;
 *  - false (a wrong PIN) when the hash does not match, or when Moonlight sends `unpair` over HTTP
 *    after `serverchallengeresp` — that is how Moonlight says it found the PIN wrong, without
 *    ever sending `clientpairingsecret`;
 *  - a refusal, with the reason the operator is shown, for a bad signature, a phase out of
 *    order, a new attempt replacing it, the client giving up earlier or not finishing within the
 *    completion window, or the host stopping.
 * After a true proof, `clientpairingsecret` waits (within the same window) until the service has
 * saved the pairing before it answers `paired` 1, so Moonlight's next call, `pairchallenge` over
 * HTTPS, finds its certificate pinned. A failed attempt pins nothing and unpins nothing, so a
 * client that was paired before a failed re-pair stays paired (and someone replaying a paired
 * client's public certificate cannot unpair it).
 *
 * Whose attempt a plain-HTTP request may touch: attempts are kept per network address *and*
 * `uniqueid`, because `uniqueid` alone names nobody — Moonlight clients send the same constant,
 * and it travels in the clear. A phase, an `unpair` or a new `getservercert` from another address
 * finds no attempt of its own and so cannot abandon, answer or replace someone else's. Moonlight
 * opens a new connection for each phase, but from the same address, so its own phases still meet.
 * A new `getservercert` from the same address and uniqueid with the same certificate replaces an
 * older one that still waits: that long poll is answered (refused, saying why) rather than left
 * hanging.
 *
 * The long polls themselves are few: at most `maxLongPolls` wait at once, `maxLongPollsPerAddress`
 * of them from one address (each holds a socket and a pending request for up to the Pairing
 * service's request timeout, and idle timeouts must not cut them); one more is refused at once.
 */
import { Deferred, Duration, Effect, Either, Fiber, FiberSet, Option } from "effect"
import type { Scope } from "effect"
import { randomBytes, timingSafeEqual, X509Certificate } from "node:crypto"
import type { PairedClient } from "../../api/Pairing.js"
import { fingerprintOfDer } from "../../lib/Certificates.js"
import { PairingRefused } from "../../services/Pairing.js"
import type { PairingService } from "../../services/Pairing.js"
import type { GameStreamIdentityShape } from "./Identity.js"
import {
  aesEcbDecrypt,
  aesKeyOf,
  certificateSignature,
  expectedClientHash,
  rsaVerify,
  serverChallengeResponse,
  serverPairingSecret
} from "./PairingCrypto.js"
import type {
  ClientChallengeQuery,
  ClientPairingSecretQuery,
  GetServerCertQuery,
  ServerChallengeRespQuery
} from "./Query.js"
import { ok, refusal } from "./Xml.js"
import type { NvResponse } from "./Xml.js"

type Phase = "cert-sent" | "challenged" | "answered"

/** One client's pairing from the operator's PIN on. */
interface Attempt {
  /** Address and uniqueid: see `attemptKey`. */
  readonly slot: string
  readonly uniqueid: string
  readonly name: string
  readonly fingerprint: string
  readonly clientCertPem: string
  readonly clientCertSignature: Buffer
  readonly key: Buffer
  /** Was the PIN right? Awaited by `checkPin`, i.e. by the operator's `enterPin`. */
  readonly proof: Deferred.Deferred<boolean, PairingRefused>
  /** What the Pairing service made of it: the pinned client, or why not. */
  readonly decided: Deferred.Deferred<PairedClient, PairingRefused>
  phase: Phase
  serverSecret: Buffer
  serverChallenge: Buffer
  clientHash: Buffer
  timer: Fiber.RuntimeFiber<void> | undefined
}

/** A `getservercert` waiting for the operator's PIN. */
interface LongPoll {
  readonly address: string
  /** Ends this long poll with a refusal that gives the reason. */
  readonly replaced: Deferred.Deferred<string>
}

/**
 * Every method takes `address`, the socket address the request came from (never a forwarded
 * header): a request touches only the attempt of its own address and uniqueid.
 */
export interface PairingSessionsShape {
  readonly getServerCert: (q: typeof GetServerCertQuery.Type, address: string) => Effect.Effect<NvResponse>
  readonly clientChallenge: (q: typeof ClientChallengeQuery.Type, address: string) => Effect.Effect<NvResponse>
  readonly serverChallengeResp: (q: typeof ServerChallengeRespQuery.Type, address: string) => Effect.Effect<NvResponse>
  readonly clientPairingSecret: (q: typeof ClientPairingSecretQuery.Type, address: string) => Effect.Effect<NvResponse>
  /** Moonlight's `unpair` over HTTP after a failed pairing: drop this address's attempt of this uniqueid. */
  readonly abandon: (uniqueid: string, address: string) => Effect.Effect<boolean>
  /** The `getservercert` long polls waiting now (for counters and tests). */
  readonly longPolls: Effect.Effect<number>
}

export interface PairingSessionsOptions {
  /** After the PIN, the client must finish the remaining phases within this. */
  readonly completeWithin?: Duration.DurationInput
  /**
   * `getservercert` long polls waiting at once (default 8): half the Pairing service's list, so
   * Moonlight clients alone cannot fill it and leave punktfunk/1 clients no room.
   */
  readonly maxLongPolls?: number
  /** Long polls from one address (default 2, as the Pairing service's requests per address). */
  readonly maxLongPollsPerAddress?: number
}

/** Which attempt a request belongs to: the address it came from and the uniqueid it names. */
const attemptKey = (address: string, uniqueid: string) => `${address} ${uniqueid}`

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

const failed = (message: string) => refusal(400, message, [["paired", 0]])

const WRONG_PIN = "the PIN entered on the host does not match the one the client showed"

export const makePairingSessions = (
  identity: GameStreamIdentityShape,
  pairing: PairingService,
  options: PairingSessionsOptions = {}
): Effect.Effect<PairingSessionsShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const completeWithin = Duration.decode(options.completeWithin ?? "60 seconds")
    const maxLongPolls = options.maxLongPolls ?? 8
    const maxLongPollsPerAddress = options.maxLongPollsPerAddress ?? 2
    const attempts = new Map<string, Attempt>()
    const longPolls = new Map<string, LongPoll>()
    const timers = yield* FiberSet.make<void>()
    // The requests waiting in the Pairing service; they outlive the getservercert that made them.
    const requests = yield* FiberSet.make<boolean>()

    /**
     * End an attempt with its proof: true (proven), false (a wrong PIN), or a refusal. A proof
     * already settled stays as it was.
     */
    const end = (attempt: Attempt, outcome: boolean | PairingRefused, fromTimer = false): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (attempts.get(attempt.slot) === attempt) attempts.delete(attempt.slot)
        if (attempt.timer !== undefined && !fromTimer) yield* Fiber.interruptFork(attempt.timer)
        const settled =
          typeof outcome === "boolean" ? yield* Deferred.succeed(attempt.proof, outcome) : yield* Deferred.fail(attempt.proof, outcome)
        if (!settled) return
        const how = outcome === true ? "proven" : outcome === false ? `failed: ${WRONG_PIN}` : `failed: ${outcome.reason}`
        yield* Effect.logInfo(`GameStream pairing of '${attempt.name}' (${attempt.fingerprint.slice(0, 16)}) ${how}`)
      })

    const refused = (reason: string) => new PairingRefused({ reason })

    yield* Effect.addFinalizer(() =>
      Effect.forEach([...attempts.values()], (a) => end(a, refused("the host stopped before the client finished pairing")), {
        discard: true
      })
    )

    const current = (uniqueid: string, address: string, expected: Phase, what: string) =>
      Effect.gen(function* () {
        const attempt = attempts.get(attemptKey(address, uniqueid))
        if (attempt === undefined) {
          return Either.left(
            failed(`no pairing in progress for uniqueid '${uniqueid}' from ${address}: start again with getservercert`)
          )
        }
        if (attempt.phase !== expected) {
          yield* end(attempt, refused(`the client sent ${what} out of order`))
          return Either.left(failed(`${what} out of order: pairing abandoned, start again`))
        }
        return Either.right(attempt)
      })

    const getServerCert: PairingSessionsShape["getServerCert"] = (q, address) =>
      Effect.gen(function* () {
        let cert: X509Certificate
        let clientCertSignature: Buffer
        try {
          cert = new X509Certificate(q.clientcert)
          clientCertSignature = certificateSignature(q.clientcert)
        } catch {
          return failed("clientcert is not a valid X.509 certificate")
        }
        const fingerprint = fingerprintOfDer(cert.raw)
        const name = q.devicename ?? `Moonlight ${q.uniqueid}`.slice(0, 64)
        const slot = attemptKey(address, q.uniqueid)
        const previous = attempts.get(slot)
        if (previous !== undefined) yield* end(previous, refused("a new pairing attempt from the same uniqueid replaced it"))
        const poll: LongPoll = { address, replaced: yield* Deferred.make<string>() }
        // A long poll is replaced only by the same client asking again: same address, uniqueid and
        // certificate. Two installs behind one address share Moonlight's constant uniqueid but not
        // their certificates, and both may wait for their PIN at once.
        const pollSlot = `${slot} ${fingerprint}`

        const entered = yield* Deferred.make<Attempt>()
        const decided = yield* Deferred.make<PairedClient, PairingRefused>()
        // Set when this long poll ends before the PIN; a PIN arriving just after is refused.
        let hungUp = false

        const checkPin = (pin: string): Effect.Effect<boolean, PairingRefused> =>
          Effect.gen(function* () {
            if (hungUp) return yield* refused("the client gave up before completing pairing: it hung up before the PIN was entered")
            const attempt: Attempt = {
              slot,
              uniqueid: q.uniqueid,
              name,
              fingerprint,
              clientCertPem: q.clientcert,
              clientCertSignature,
              key: aesKeyOf(q.salt, pin),
              proof: yield* Deferred.make<boolean, PairingRefused>(),
              decided,
              phase: "cert-sent",
              serverSecret: Buffer.alloc(0),
              serverChallenge: Buffer.alloc(0),
              clientHash: Buffer.alloc(0),
              timer: undefined
            }
            // Another getservercert of this address and uniqueid may have had its PIN entered meanwhile.
            const other = attempts.get(slot)
            if (other !== undefined) yield* end(other, refused("a new pairing attempt from the same uniqueid replaced it"))
            attempts.set(slot, attempt)
            attempt.timer = yield* FiberSet.run(
              timers,
              Effect.sleep(completeWithin).pipe(
                Effect.zipRight(
                  Effect.suspend(() =>
                    end(
                      attempt,
                      refused(`the client gave up before completing pairing: it did not finish within ${Duration.format(completeWithin)} of the PIN`),
                      true
                    )
                  )
                )
              )
            )
            yield* Deferred.succeed(entered, attempt)
            return yield* Deferred.await(attempt.proof)
          })

        const ask = pairing
          .request({
            path: "gamestream",
            name,
            fingerprint,
            address,
            checkPin,
            onPending: (requestId) => Effect.logInfo(`GameStream pairing request ${requestId} from '${name}': enter the PIN Moonlight shows`)
          })
          .pipe(
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(decided, exit)),
            Effect.onInterrupt(() => Deferred.fail(decided, refused("the pairing request was withdrawn")))
          )
        /**
         * This long poll ends without the PIN: withdraw its request (the operator never sees a
         * ghost), and if the PIN was entered just now, end the attempt it started.
         */
        const withdraw = (request: Fiber.RuntimeFiber<unknown>, why: string) =>
          Effect.gen(function* () {
            hungUp = true
            const pinned = yield* Deferred.poll(entered)
            if (Option.isSome(pinned)) {
              const attempt = yield* pinned.value
              yield* end(attempt, refused(`the client gave up before completing pairing: ${why}`))
            }
            yield* Fiber.interrupt(request)
          })
        // The long poll ends with the PIN, with the request's refusal (rejected, too many
        // pending, expired), or replaced by a newer one. Masked until the hang-up handler is in
        // place, so no request is left behind.
        const waited = Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            // Interruptible itself: a fiber forked under the mask would inherit it.
            const request = yield* FiberSet.run(requests, Effect.interruptible(ask))
            const outcome = yield* restore(
              Effect.raceAll([
                Deferred.await(entered).pipe(Effect.as({ pin: true, why: "" })),
                Deferred.await(decided).pipe(
                  Effect.match({
                    onFailure: (e) => ({ pin: false, why: e.reason }),
                    onSuccess: () => ({ pin: false, why: "the pairing was decided before the client finished it" })
                  })
                ),
                Deferred.await(poll.replaced).pipe(Effect.map((why) => ({ pin: false, why, replaced: true })))
              ])
            ).pipe(
              // Moonlight cancelled the long poll.
              Effect.onInterrupt(() => withdraw(request, "it hung up before it got the host's certificate"))
            )
            if ("replaced" in outcome) yield* withdraw(request, "a newer getservercert replaced its first one")
            return outcome.pin ? Either.right(undefined) : Either.left(outcome.why)
          })
        )
        // Replacing an older long poll of this address and uniqueid, counting and listing are one
        // step (nothing runs in between); the long poll is unlisted however it ends.
        const first = yield* Effect.suspend(() => {
          const older = longPolls.get(pollSlot)
          if (older !== undefined) longPolls.delete(pollSlot)
          const answerOlder =
            older === undefined
              ? Effect.void
              : Deferred.succeed(older.replaced, "a newer getservercert from the same client (address, uniqueid and certificate) replaced this one")
          const fromAddress = [...longPolls.values()].filter((p) => p.address === address).length
          if (fromAddress >= maxLongPollsPerAddress || longPolls.size >= maxLongPolls) {
            const why =
              fromAddress >= maxLongPollsPerAddress
                ? `${address} already has ${fromAddress} pairing requests waiting for their PIN`
                : `the host already has ${longPolls.size} GameStream pairing requests waiting for their PIN`
            return answerOlder.pipe(Effect.as(Either.left(`${why}: try again later`)))
          }
          longPolls.set(pollSlot, poll)
          return answerOlder.pipe(
            Effect.zipRight(waited),
            Effect.ensuring(
              Effect.sync(() => {
                if (longPolls.get(pollSlot) === poll) longPolls.delete(pollSlot)
              })
            )
          )
        })
        if (Either.isLeft(first)) return failed(first.left)
        return ok([
          ["paired", 1],
          ["plaincert", hex(Buffer.from(identity.certPem, "latin1"))]
        ])
      })

    const clientChallenge: PairingSessionsShape["clientChallenge"] = (q, address) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, address, "cert-sent", "clientchallenge")
        if (Either.isLeft(found)) return found.left
        const attempt = found.right
        attempt.serverSecret = randomBytes(16)
        attempt.serverChallenge = randomBytes(16)
        const response = serverChallengeResponse({
          key: attempt.key,
          encryptedClientChallenge: q.clientchallenge,
          hostCertSignature: identity.certSignature,
          serverSecret: attempt.serverSecret,
          serverChallenge: attempt.serverChallenge
        })
        attempt.phase = "challenged"
        return ok([
          ["paired", 1],
          ["challengeresponse", hex(response)]
        ])
      })

    const serverChallengeResp: PairingSessionsShape["serverChallengeResp"] = (q, address) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, address, "challenged", "serverchallengeresp")
        if (Either.isLeft(found)) return found.left
        const attempt = found.right
        attempt.clientHash = aesEcbDecrypt(attempt.key, q.serverchallengeresp)
        attempt.phase = "answered"
        return ok([
          ["paired", 1],
          ["pairingsecret", hex(serverPairingSecret(identity.keyPem, attempt.serverSecret))]
        ])
      })

    const clientPairingSecret: PairingSessionsShape["clientPairingSecret"] = (q, address) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, address, "answered", "clientpairingsecret")
        if (Either.isLeft(found)) return found.left
        const attempt = found.right
        const secret = q.clientpairingsecret.subarray(0, 16)
        const signature = q.clientpairingsecret.subarray(16)
        const expected = expectedClientHash(attempt.serverChallenge, attempt.clientCertSignature, secret)
        const samePin = expected.length === attempt.clientHash.length && timingSafeEqual(expected, attempt.clientHash)
        const ownsCert = rsaVerify(attempt.clientCertPem, secret, signature)
        // Refused with a status_code other than 200 (paired 0 as well), like every other failed
        // phase: Moonlight Embedded (libgamestream) never checks the host's hash, so a wrong PIN
        // surfaces only here, and it shows the user status_message only for a non-200
        // status_code — with 200 and paired 0 it just says "Pairing failed" (seen with its code).
        if (!samePin) {
          yield* end(attempt, false)
          return failed(`${WRONG_PIN}: nothing was paired`)
        }
        if (!ownsCert) {
          const why = "the client's signature does not match its certificate"
          yield* end(attempt, refused(why))
          return failed(`${why}: nothing was paired`)
        }
        yield* end(attempt, true)
        // Answer "paired" only once the certificate is pinned: Moonlight's next call, pairchallenge
        // over HTTPS, is refused for a certificate that is not.
        const saved = yield* Deferred.await(attempt.decided).pipe(
          Effect.either,
          Effect.timeoutTo({
            duration: completeWithin,
            onSuccess: (decision) => Either.mapLeft(decision, (e) => e.reason),
            onTimeout: () => Either.left("the host did not record the pairing in time")
          })
        )
        if (Either.isLeft(saved)) return failed(`${saved.left}: nothing was paired`)
        return ok([["paired", 1]])
      })

    return {
      getServerCert,
      clientChallenge,
      serverChallengeResp,
      clientPairingSecret,
      longPolls: Effect.sync(() => longPolls.size),
      abandon: (uniqueid, address) =>
        Effect.suspend(() => {
          const attempt = attempts.get(attemptKey(address, uniqueid))
          if (attempt === undefined) return Effect.succeed(false)
          // After serverchallengeresp Moonlight knows whether the PIN matched; an unpair then is
          // its "wrong PIN". Earlier it just gave up.
          const outcome =
            attempt.phase === "answered"
              ? false
              : refused(`the client gave up before completing pairing: it sent unpair after ${attempt.phase === "cert-sent" ? "getservercert" : "clientchallenge"}`)
          return end(attempt, outcome).pipe(Effect.as(true))
        })
    }
  })
