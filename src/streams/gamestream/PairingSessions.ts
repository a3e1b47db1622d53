/**
 * GameStream pairing as the host runs it: one attempt per client `uniqueid`, four phases over
 * plain HTTP (getservercert → clientchallenge → serverchallengeresp → clientpairingsecret), then
 * `pairchallenge` over HTTPS with the new client certificate.
 *
 * The operator's PIN: `getservercert` arrives with the client's salt and certificate and is held
 * open (a long poll, as GameStream hosts do) while the request waits in the shared Pairing service
 * until the operator types the PIN the Moonlight client shows. Only then can the host derive the
 * AES key and answer.
 *
 * Why a pinned certificate is *provisional* until the last phase: the Pairing service pins the
 * certificate as soon as the operator enters a PIN (its `checkPin` is synchronous), but whether
 * that PIN is the one the client shows is proven only three round trips later, when the client's
 * hash decrypts right under the PIN-derived key. So the certificate is marked provisional the
 * moment it is pinned (inside `checkPin`, before the service saves it) and the HTTPS side treats
 * it as unpaired; a wrong PIN, a bad signature, an out-of-order phase, a new attempt, Moonlight's
 * own `unpair` after it sees the PIN was wrong, a client that never finishes, or the host
 * stopping all unpin it again — so a failed pairing leaves nothing pinned. A certificate that
 * was already paired before the attempt is left paired (someone replaying a paired client's
 * public certificate cannot unpair it). What remains: a host killed with SIGKILL between the
 * PIN and the last phase keeps that one certificate pinned; the operator sees it in the list.
 */
import { Duration, Effect, Either, Fiber, FiberSet } from "effect"
import type { Scope } from "effect"
import { randomBytes, timingSafeEqual, X509Certificate } from "node:crypto"
import { fingerprintOfDer } from "../../services/Certificates.js"
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

interface Attempt {
  readonly uniqueid: string
  readonly name: string
  readonly fingerprint: string
  readonly clientCertPem: string
  readonly clientCertSignature: Buffer
  readonly wasPaired: boolean
  readonly key: Buffer
  phase: Phase
  serverSecret: Buffer
  serverChallenge: Buffer
  clientHash: Buffer
  timer: Fiber.RuntimeFiber<void> | undefined
}

export interface PairingSessionsShape {
  readonly getServerCert: (q: typeof GetServerCertQuery.Type) => Effect.Effect<NvResponse>
  readonly clientChallenge: (q: typeof ClientChallengeQuery.Type) => Effect.Effect<NvResponse>
  readonly serverChallengeResp: (q: typeof ServerChallengeRespQuery.Type) => Effect.Effect<NvResponse>
  readonly clientPairingSecret: (q: typeof ClientPairingSecretQuery.Type) => Effect.Effect<NvResponse>
  /** Moonlight's `unpair` over HTTP after a failed pairing: drop this uniqueid's attempt. */
  readonly abandon: (uniqueid: string) => Effect.Effect<boolean>
  /** Pinned by the operator's PIN, not yet proven by the client: not paired for HTTPS. */
  readonly isProvisional: (fingerprint: string) => boolean
}

export interface PairingSessionsOptions {
  /** After the PIN, the client must finish the remaining phases within this. */
  readonly completeWithin?: Duration.DurationInput
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")

const failed = (message: string) => refusal(400, message, [["paired", 0]])

export const makePairingSessions = (
  identity: GameStreamIdentityShape,
  pairing: PairingService,
  options: PairingSessionsOptions = {}
): Effect.Effect<PairingSessionsShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const completeWithin = Duration.decode(options.completeWithin ?? "60 seconds")
    const attempts = new Map<string, Attempt>()
    const provisional = new Set<string>()
    const timers = yield* FiberSet.make<void>()

    /** End an attempt; unless `proven`, unpin what its PIN pinned. */
    const end = (attempt: Attempt, proven: boolean, why: string, fromTimer = false): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (attempts.get(attempt.uniqueid) === attempt) attempts.delete(attempt.uniqueid)
        if (attempt.timer !== undefined && !fromTimer) yield* Fiber.interruptFork(attempt.timer)
        if (!proven && !attempt.wasPaired) yield* unpinProvisional(attempt.fingerprint)
        provisional.delete(attempt.fingerprint)
        yield* Effect.logInfo(`GameStream pairing of '${attempt.name}' (${attempt.fingerprint.slice(0, 16)}) ${proven ? "completed" : `failed: ${why}`}`)
      })

    const unpinProvisional = (fingerprint: string) =>
      pairing.unpair(fingerprint).pipe(
        Effect.catchTag("ClientNotFound", () => Effect.void),
        Effect.catchTag("PairingSaveError", (e) => Effect.logError(`could not unpin a failed GameStream pairing: ${e.message}`)),
        Effect.zipRight(Effect.sync(() => void provisional.delete(fingerprint)))
      )

    yield* Effect.addFinalizer(() => Effect.forEach([...attempts.values()], (a) => end(a, false, "the host stopped"), { discard: true }))

    const current = (uniqueid: string, expected: Phase, what: string) =>
      Effect.gen(function* () {
        const attempt = attempts.get(uniqueid)
        if (attempt === undefined) {
          return Either.left(failed(`no pairing in progress for uniqueid '${uniqueid}': start again with getservercert`))
        }
        if (attempt.phase !== expected) {
          yield* end(attempt, false, `${what} out of order`)
          return Either.left(failed(`${what} out of order: pairing abandoned, start again`))
        }
        return Either.right(attempt)
      })

    const getServerCert: PairingSessionsShape["getServerCert"] = (q) =>
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
        const previous = attempts.get(q.uniqueid)
        if (previous !== undefined) yield* end(previous, false, "a new pairing attempt from the same uniqueid")
        // Paired before this attempt, and proven: only then may a failure leave it paired.
        const wasPaired = (yield* pairing.pairedAs(fingerprint, "gamestream")) !== undefined && !provisional.has(fingerprint)

        let pin: string | undefined
        let settled = false
        const decision = yield* pairing
          .request({
            path: "gamestream",
            name,
            fingerprint,
            // Accept any PIN here: it is proven or refuted by the challenge phases (see the top).
            checkPin: (entered) => {
              pin = entered
              if (!wasPaired) provisional.add(fingerprint)
              return true
            },
            onPending: (requestId) =>
              Effect.logInfo(`GameStream pairing request ${requestId} from '${name}': enter the PIN Moonlight shows`)
          })
          .pipe(
            Effect.either,
            // The client hung up after the PIN was entered but before it got the answer.
            Effect.onInterrupt(() => (pin !== undefined && !settled && !wasPaired ? unpinProvisional(fingerprint) : Effect.void))
          )
        settled = true
        if (Either.isLeft(decision) || pin === undefined) {
          if (!wasPaired) provisional.delete(fingerprint)
          return failed(Either.isLeft(decision) ? decision.left.reason : "no PIN was entered")
        }
        const attempt: Attempt = {
          uniqueid: q.uniqueid,
          name,
          fingerprint,
          clientCertPem: q.clientcert,
          clientCertSignature,
          wasPaired,
          key: aesKeyOf(q.salt, pin),
          phase: "cert-sent",
          serverSecret: Buffer.alloc(0),
          serverChallenge: Buffer.alloc(0),
          clientHash: Buffer.alloc(0),
          timer: undefined
        }
        attempts.set(q.uniqueid, attempt)
        attempt.timer = yield* FiberSet.run(
          timers,
          Effect.sleep(completeWithin).pipe(
            Effect.zipRight(
              Effect.suspend(() =>
                attempts.get(q.uniqueid) === attempt ? end(attempt, false, "the client did not finish in time", true) : Effect.void
              )
            )
          )
        )
        return ok([
          ["paired", 1],
          ["plaincert", hex(Buffer.from(identity.certPem, "latin1"))]
        ])
      })

    const clientChallenge: PairingSessionsShape["clientChallenge"] = (q) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, "cert-sent", "clientchallenge")
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

    const serverChallengeResp: PairingSessionsShape["serverChallengeResp"] = (q) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, "challenged", "serverchallengeresp")
        if (Either.isLeft(found)) return found.left
        const attempt = found.right
        attempt.clientHash = aesEcbDecrypt(attempt.key, q.serverchallengeresp)
        attempt.phase = "answered"
        return ok([
          ["paired", 1],
          ["pairingsecret", hex(serverPairingSecret(identity.keyPem, attempt.serverSecret))]
        ])
      })

    const clientPairingSecret: PairingSessionsShape["clientPairingSecret"] = (q) =>
      Effect.gen(function* () {
        const found = yield* current(q.uniqueid, "answered", "clientpairingsecret")
        if (Either.isLeft(found)) return found.left
        const attempt = found.right
        const secret = q.clientpairingsecret.subarray(0, 16)
        const signature = q.clientpairingsecret.subarray(16)
        const expected = expectedClientHash(attempt.serverChallenge, attempt.clientCertSignature, secret)
        const samePin = expected.length === attempt.clientHash.length && timingSafeEqual(expected, attempt.clientHash)
        const ownsCert = rsaVerify(attempt.clientCertPem, secret, signature)
        if (samePin && ownsCert) {
          yield* end(attempt, true, "")
          return ok([["paired", 1]])
        }
        const why = samePin
          ? "the client's signature does not match its certificate"
          : "the PIN entered on the host does not match the one the client showed"
        yield* end(attempt, false, why)
        return refusal(200, `${why}: nothing was paired`, [["paired", 0]])
      })

    return {
      getServerCert,
      clientChallenge,
      serverChallengeResp,
      clientPairingSecret,
      abandon: (uniqueid) =>
        Effect.suspend(() => {
          const attempt = attempts.get(uniqueid)
          return attempt === undefined ? Effect.succeed(false) : end(attempt, false, "the client gave up").pipe(Effect.as(true))
        }),
      isProvisional: (fingerprint) => provisional.has(fingerprint)
    }
  })
