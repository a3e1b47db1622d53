/**
 * Who may stream: pending pairing requests and the paired clients, pinned by certificate
 * fingerprint and kept in `<config>/paired-clients.json` across restarts.
 *
 * A streaming path calls `request` when an unpaired client asks to pair; that call waits until
 * the operator enters the PIN (`enterPin`), rejects the request, or the client goes away
 * (interrupting the wait removes the request, so the operator never sees a ghost). The PIN is
 * checked by the path's own `checkPin`, because each protocol binds the PIN to its handshake
 * differently. One attempt per request: a wrong PIN refuses the request, so a PIN cannot be
 * guessed by trying again through the same request.
 *
 * `checkPin` is an effect because a path may learn only later whether the PIN was right:
 * GameStream proves it three round trips after the PIN (see gamestream/PairingSessions). A
 * certificate is pinned only after `checkPin` said yes, so a wrong PIN never shows up as paired,
 * not even for a moment; the operator's `enterPin` answers once the path has decided. That wait
 * runs in this service's own scope, outside the global lock: an operator whose browser gives up
 * does not cut the client's pairing short, and one slow proof never holds up other pairings or
 * unpairs — the lock is taken only to save.
 *
 * Removing a client publishes its fingerprint on `removals`, so a path ends that client's running
 * sessions at once instead of at its next connect.
 */
import { Context, Data, Deferred, Effect, Either, Fiber, FiberSet, Layer, PubSub, Ref, Schema, Stream } from "effect"
import { randomBytes } from "node:crypto"
import * as path from "node:path"
import {
  ClientNotFound,
  PairedClient,
  PairedClients,
  PairingRequestNotFound,
  PairingSaveError,
  WrongPin
} from "../api/Pairing.js"
import type { PairingPath, PendingPairing } from "../api/Pairing.js"
import { readIfExists, writePrivateFileAtomic } from "./PrivateFile.js"

export class PairingRefused extends Data.TaggedError("PairingRefused")<{ readonly reason: string }> {}

export class PairingLoadError extends Data.TaggedError("PairingLoadError")<{ readonly message: string }> {}

export interface PairingRequest {
  readonly path: PairingPath
  readonly name: string
  readonly fingerprint: string
  /**
   * The socket address the request came from (never a forwarded header): per-address limits
   * (pending requests, wrong-PIN lockout) key on it.
   */
  readonly address: string
  /**
   * Does the PIN the operator typed match the one the client shows? `true` pins the client,
   * `false` is a wrong PIN; a failure means the attempt ended otherwise (the client gave up, the
   * host stopped) and its reason is told to the operator. May wait for the client's proof.
   */
  readonly checkPin: (pin: string) => Effect.Effect<boolean, PairingRefused>
  /** Told the request id once the request is listed, so the client can show it. */
  readonly onPending: (requestId: string) => Effect.Effect<void>
}

export interface PairingService {
  readonly pending: Effect.Effect<ReadonlyArray<PendingPairing>>
  readonly enterPin: (
    requestId: string,
    pin: string
  ) => Effect.Effect<PairedClient, PairingRequestNotFound | WrongPin | PairingSaveError>
  readonly reject: (requestId: string) => Effect.Effect<void, PairingRequestNotFound>
  readonly clients: Effect.Effect<ReadonlyArray<PairedClient>>
  readonly unpair: (fingerprint: string) => Effect.Effect<void, ClientNotFound | PairingSaveError>
  readonly pairedAs: (fingerprint: string, path: PairingPath) => Effect.Effect<PairedClient | undefined>
  /** Waits for the operator; interruption (the client left) withdraws the request. */
  readonly request: (request: PairingRequest) => Effect.Effect<PairedClient, PairingRefused>
  /** Fingerprints of clients just removed. */
  readonly removals: Stream.Stream<string>
}

export class Pairing extends Context.Tag("punktfunk/Pairing")<Pairing, PairingService>() {}

/** Pending requests a host keeps at once: a flood of connects cannot grow the list without bound. */
export const MAX_PENDING = 16

interface Pending {
  readonly info: PendingPairing
  readonly checkPin: PairingRequest["checkPin"]
  readonly decision: Deferred.Deferred<PairedClient, PairingRefused>
}

const decodeFile = Schema.decodeUnknown(Schema.parseJson(PairedClients))
const encodeFile = Schema.encodeSync(Schema.parseJson(PairedClients, { space: 2 }))

export const PairingLive = (configDir: string): Layer.Layer<Pairing, PairingLoadError> =>
  Layer.scoped(
    Pairing,
    Effect.gen(function* () {
      const file = path.join(configDir, "paired-clients.json")
      const text = yield* Effect.tryPromise({
        try: () => readIfExists(file),
        catch: (e) => new PairingLoadError({ message: `cannot read ${file}: ${String(e)}` })
      })
      const initial =
        text === undefined
          ? []
          : (yield* decodeFile(text).pipe(
              Effect.mapError(
                (e) => new PairingLoadError({ message: `${file} is not a valid paired-clients file: ${e.message}` })
              )
            )).clients
      const paired = yield* Ref.make<ReadonlyArray<PairedClient>>(initial)
      const pending = yield* Ref.make<ReadonlyMap<string, Pending>>(new Map())
      const removals = yield* PubSub.unbounded<string>()
      // One writer at a time: two operators pairing at once must not lose one of the two.
      const lock = yield* Effect.makeSemaphore(1)

      const save = (next: ReadonlyArray<PairedClient>) =>
        Effect.tryPromise({
          try: () => writePrivateFileAtomic(file, encodeFile({ version: 1, clients: next })),
          catch: (e) => new PairingSaveError({ message: `cannot save ${file}: ${e instanceof Error ? e.message : String(e)}` })
        }).pipe(Effect.zipRight(Ref.set(paired, next)))

      const take = (requestId: string) =>
        Ref.modify(pending, (map): readonly [Pending | undefined, ReadonlyMap<string, Pending>] => {
          const found = map.get(requestId)
          if (found === undefined) return [undefined, map]
          const next = new Map(map)
          next.delete(requestId)
          return [found, next]
        })

      const notFound = (requestId: string) =>
        new PairingRequestNotFound({ request_id: requestId, message: `no pending pairing request '${requestId}'` })

      // Decisions under way, in the service's scope: the host stopping interrupts them (and so
      // tells their clients), an operator's request going away does not.
      const settlings = yield* FiberSet.make<Either.Either<PairedClient, PairingRequestNotFound | WrongPin | PairingSaveError>>()

      const settle = (requestId: string, request: Pending, pin: string) =>
        Effect.gen(function* () {
          const verdict = yield* Effect.either(request.checkPin(pin))
          if (Either.isLeft(verdict)) {
            yield* Deferred.fail(request.decision, verdict.left)
            return yield* new PairingRequestNotFound({
              request_id: requestId,
              message: `pairing '${request.info.name}' did not complete: ${verdict.left.reason}`
            })
          }
          if (!verdict.right) {
            yield* Deferred.fail(
              request.decision,
              new PairingRefused({ reason: "the PIN entered on the host does not match the one this client showed" })
            )
            return yield* new WrongPin({
              request_id: requestId,
              message: `wrong PIN for '${request.info.name}': the request is refused; pair the client again`
            })
          }
          const client: PairedClient = {
            fingerprint: request.info.fingerprint,
            path: request.info.path,
            name: request.info.name,
            paired_unix_ms: Date.now()
          }
          const saved = yield* lock.withPermits(1)(
            Effect.gen(function* () {
              const current = yield* Ref.get(paired)
              yield* save([...current.filter((c) => !(c.fingerprint === client.fingerprint && c.path === client.path)), client])
            })
          ).pipe(
            Effect.tapError((e) =>
              Deferred.fail(request.decision, new PairingRefused({ reason: `the host could not save the pairing: ${e.message}` }))
            ),
            Effect.as(client)
          )
          yield* Deferred.succeed(request.decision, saved)
          yield* Effect.logInfo(`paired ${client.path} client '${client.name}' (${client.fingerprint.slice(0, 16)})`)
          return saved
        }).pipe(
          Effect.onInterrupt(() =>
            Deferred.fail(request.decision, new PairingRefused({ reason: "the host stopped before the pairing completed" }))
          ),
          Effect.either
        )

      const service: PairingService = {
        pending: Ref.get(pending).pipe(Effect.map((map) => [...map.values()].map((p) => p.info))),
        enterPin: (requestId, pin) =>
          // Taking the request and handing it to its own fiber is one step: an operator who hangs
          // up in between must not leave the client's request taken but never decided.
          Effect.uninterruptibleMask((restore) =>
            Effect.gen(function* () {
              const request = yield* take(requestId)
              if (request === undefined) return yield* notFound(requestId)
              // Interruptible again: a fiber forked here would otherwise inherit the mask, and so
              // would whatever the path's checkPin forks (GameStream's completion timer).
              const settling = yield* FiberSet.run(settlings, Effect.interruptible(settle(requestId, request, pin)))
              return yield* restore(Fiber.join(settling)).pipe(Effect.flatten)
            })
          ),
        reject: (requestId) =>
          Effect.gen(function* () {
            const request = yield* take(requestId)
            if (request === undefined) return yield* notFound(requestId)
            yield* Deferred.fail(request.decision, new PairingRefused({ reason: "the operator rejected this pairing request" }))
          }),
        clients: Ref.get(paired),
        unpair: (fingerprint) =>
          lock.withPermits(1)(
            Effect.gen(function* () {
              const current = yield* Ref.get(paired)
              const rest = current.filter((c) => c.fingerprint !== fingerprint)
              if (rest.length === current.length) {
                return yield* new ClientNotFound({ fingerprint, message: `no paired client with fingerprint '${fingerprint}'` })
              }
              yield* save(rest)
              yield* PubSub.publish(removals, fingerprint)
              yield* Effect.logInfo(`unpaired client ${fingerprint.slice(0, 16)}`)
            })
          ),
        pairedAs: (fingerprint, kind) =>
          Ref.get(paired).pipe(Effect.map((all) => all.find((c) => c.fingerprint === fingerprint && c.path === kind))),
        request: (request) =>
          Effect.gen(function* () {
            const decision = yield* Deferred.make<PairedClient, PairingRefused>()
            const requestId = randomBytes(6).toString("hex")
            const info: PendingPairing = {
              request_id: requestId,
              path: request.path,
              name: request.name.slice(0, 64),
              fingerprint: request.fingerprint,
              requested_unix_ms: Date.now()
            }
            const admitted = yield* Ref.modify(pending, (map): readonly [boolean, ReadonlyMap<string, Pending>] => {
              // One request per certificate: a client that reconnects replaces its own request.
              const next = new Map([...map].filter(([, p]) => p.info.fingerprint !== request.fingerprint))
              if (next.size >= MAX_PENDING) return [false, map]
              next.set(requestId, { info, checkPin: request.checkPin, decision })
              return [true, next]
            })
            if (!admitted) {
              return yield* new PairingRefused({ reason: `the host already has ${MAX_PENDING} pending pairing requests` })
            }
            yield* Effect.logInfo(`pairing request ${requestId} from ${request.path} client '${info.name}': enter its PIN in the console`)
            return yield* request.onPending(requestId).pipe(
              Effect.zipRight(Deferred.await(decision)),
              Effect.ensuring(take(requestId))
            )
          }),
        removals: Stream.fromPubSub(removals)
      }
      return service
    })
  )
