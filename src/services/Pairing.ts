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
 *
 * What one network address can do to the list (see `PairingPolicy`): every request waits at most
 * `pendingTimeout` and its client is then told so; one address holds at most
 * `maxPendingPerAddress` requests, the host at most `maxPending`; a request is replaced only by
 * one with the same certificate from the same address (its waiter is told), so nobody else can
 * push a request out of the list; and `lockoutAfter` wrong PINs from one address refuse pairing
 * from it for `lockoutFor`. The address is the socket's, as each path saw it — never a header a
 * client wrote.
 */
import { Clock, Context, Data, Deferred, Duration, Effect, Either, Fiber, FiberSet, Layer, PubSub, Ref, Schema, Stream } from "effect"
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
import type { PairingLockout, PairingPath, PendingPairing } from "../api/Pairing.js"
import { readIfExists, writePrivateFile } from "../lib/PrivateFile.js"
import { DiskOps } from "./DiskOps.js"

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
  /** Addresses refused for now after too many wrong PINs, with the time left. */
  readonly lockouts: Effect.Effect<ReadonlyArray<PairingLockout>>
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

/**
 * How the host limits pairing requests. Every field has a default (`DEFAULT_PAIRING_POLICY`);
 * tests shorten the durations instead of waiting minutes.
 */
export interface PairingPolicy {
  /** Requests on the list at once, from everyone (`MAX_PENDING`). */
  readonly maxPending: number
  /**
   * Requests on the list at once from one address. 2: a client asks once, and a second lets it
   * reconnect (or pair a second program on the same machine) before the first has gone; more
   * would let one machine fill the operator's list.
   */
  readonly maxPendingPerAddress: number
  /**
   * How long a request waits for the operator. 2 minutes: long enough to walk to the host and
   * type a PIN, short enough that a forgotten request does not sit in the list (or hold its
   * client's connection) for good. Its client is told when it runs out.
   */
  readonly pendingTimeout: Duration.DurationInput
  /**
   * Wrong PINs from one address before it is locked out. 5: an operator who mistypes a 4-digit
   * PIN rarely does so five times running, while a man in the middle of the punktfunk/1 pairing who
   * must guess the PIN online gets no more than 5 guesses per lockout period — 10,000 PINs then
   * take about 17 hours on average (every guess also needs the operator to type a PIN).
   */
  readonly lockoutAfter: number
  /** How long a locked-out address is refused. 60 s: a real user waits a minute at most. */
  readonly lockoutFor: Duration.DurationInput
}

export const DEFAULT_PAIRING_POLICY: PairingPolicy = {
  maxPending: MAX_PENDING,
  maxPendingPerAddress: 2,
  pendingTimeout: "2 minutes",
  lockoutAfter: 5,
  lockoutFor: "60 seconds"
}

/** Wrong PINs from one address: counted until a pairing from it succeeds or its lockout ends. */
interface Strikes {
  readonly failures: number
  /** Clock millis until which the address is refused; undefined while not locked out. */
  readonly lockedUntil: number | undefined
}

interface Pending {
  readonly info: PendingPairing
  readonly checkPin: PairingRequest["checkPin"]
  readonly decision: Deferred.Deferred<PairedClient, PairingRefused>
}

const decodeFile = Schema.decodeUnknown(Schema.parseJson(PairedClients))
const encodeFile = Schema.encodeSync(Schema.parseJson(PairedClients, { space: 2 }))

export const PairingLive = (configDir: string, policyOptions: Partial<PairingPolicy> = {}): Layer.Layer<Pairing, PairingLoadError, DiskOps> =>
  Layer.scoped(
    Pairing,
    Effect.gen(function* () {
      const disk = yield* DiskOps
      const policy = { ...DEFAULT_PAIRING_POLICY, ...policyOptions }
      const pendingTimeout = Duration.decode(policy.pendingTimeout)
      const lockoutFor = Duration.decode(policy.lockoutFor)
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
      const strikes = yield* Ref.make<ReadonlyMap<string, Strikes>>(new Map())
      const removals = yield* PubSub.unbounded<string>()
      // One writer at a time: two operators pairing at once must not lose one of the two.
      const lock = yield* Effect.makeSemaphore(1)

      const save = (next: ReadonlyArray<PairedClient>) =>
        writePrivateFile(disk, file, encodeFile({ version: 1, clients: next })).pipe(
          Effect.mapError((e) => new PairingSaveError({ message: `cannot save the paired clients: ${e.message}` })),
          Effect.zipRight(Ref.set(paired, next))
        )

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
            const lockedFor = yield* strike(request.info.address)
            const locked = lockedFor === undefined ? "" : `; ${lockedReason(request.info.address, lockedFor)}`
            yield* Deferred.fail(
              request.decision,
              new PairingRefused({ reason: `the PIN entered on the host does not match the one this client showed${locked}` })
            )
            return yield* new WrongPin({
              request_id: requestId,
              message: `wrong PIN for '${request.info.name}': the request is refused; pair the client again${locked}`
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
          yield* forgive(request.info.address)
          yield* Effect.logInfo(`paired ${client.path} client '${client.name}' (${client.fingerprint.slice(0, 16)})`)
          return saved
        }).pipe(
          Effect.onInterrupt(() =>
            Deferred.fail(request.decision, new PairingRefused({ reason: "the host stopped before the pairing completed" }))
          ),
          Effect.either
        )

      const lockedReason = (address: string, remainingMs: number) =>
        `${policy.lockoutAfter} wrong PINs from ${address}: the host refuses pairing from this address for another ${Math.ceil(remainingMs / 1000)} s`

      /** Time left of this address's lockout, if it is locked out; an ended lockout is forgotten. */
      const lockedOut = (address: string) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          return yield* Ref.modify(strikes, (map): readonly [number | undefined, ReadonlyMap<string, Strikes>] => {
            const until = map.get(address)?.lockedUntil
            if (until === undefined) return [undefined, map]
            if (until > now) return [until - now, map]
            const next = new Map(map)
            next.delete(address)
            return [undefined, next]
          })
        })

      /**
       * Counts a wrong PIN from `address`. The one that reaches `lockoutAfter` locks the address
       * out (returns the lockout's length), says so once in the log, and refuses the address's
       * other pending requests: a request already listed must not become one more guess.
       */
      const strike = (address: string) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const lockMs = Duration.toMillis(lockoutFor)
          const startedLockout = yield* Ref.modify(strikes, (map): readonly [boolean, ReadonlyMap<string, Strikes>] => {
            const was = map.get(address)
            // A proof that settles during a lockout adds nothing to it.
            if (was?.lockedUntil !== undefined && was.lockedUntil > now) return [false, map]
            const failures = (was?.lockedUntil === undefined ? (was?.failures ?? 0) : 0) + 1
            const next = new Map(map)
            const locks = failures >= policy.lockoutAfter
            next.set(address, { failures, lockedUntil: locks ? now + lockMs : undefined })
            return [locks, next]
          })
          if (!startedLockout) return undefined
          yield* Effect.logWarning(
            `pairing from ${address} locked out for ${Duration.format(lockoutFor)} after ${policy.lockoutAfter} wrong PINs`
          )
          const others = yield* Ref.modify(pending, (map): readonly [ReadonlyArray<Pending>, ReadonlyMap<string, Pending>] => {
            const next = new Map([...map].filter(([, p]) => p.info.address !== address))
            return [[...map.values()].filter((p) => p.info.address === address), next]
          })
          yield* Effect.forEach(others, (p) => Deferred.fail(p.decision, new PairingRefused({ reason: lockedReason(address, lockMs) })), {
            discard: true
          })
          return lockMs
        })

      /** A pairing from `address` succeeded: its earlier wrong PINs no longer count (not during a lockout). */
      const forgive = (address: string) =>
        Ref.update(strikes, (map) => {
          if (map.get(address)?.lockedUntil !== undefined) return map
          const next = new Map(map)
          next.delete(address)
          return next
        })

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
        lockouts: Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const all = yield* Ref.get(strikes)
          return [...all]
            .flatMap(([address, s]) =>
              s.lockedUntil !== undefined && s.lockedUntil > now
                ? [{ address, locked_until_unix_ms: s.lockedUntil, remaining_ms: s.lockedUntil - now }]
                : []
            )
            .sort((a, b) => a.locked_until_unix_ms - b.locked_until_unix_ms)
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
          Effect.suspend(() => {
            const requestId = randomBytes(6).toString("hex")
            // However it ends — decided, refused, or interrupted anywhere after the listing (the
            // client left) — the request leaves the list: the operator never sees a ghost.
            return Effect.gen(function* () {
              const locked = yield* lockedOut(request.address)
              if (locked !== undefined) return yield* new PairingRefused({ reason: lockedReason(request.address, locked) })
              const decision = yield* Deferred.make<PairedClient, PairingRefused>()
              const info: PendingPairing = {
                request_id: requestId,
                path: request.path,
                name: request.name.slice(0, 64),
                fingerprint: request.fingerprint,
                address: request.address,
                requested_unix_ms: yield* Clock.currentTimeMillis
              }
              type Admission = { readonly refused: string } | { readonly replaced: ReadonlyArray<Pending> }
              const admission = yield* Ref.modify(pending, (map): readonly [Admission, ReadonlyMap<string, Pending>] => {
                // One request per certificate and address: a client that reconnects replaces its own
                // request. The same certificate from elsewhere does not (GameStream sends the
                // certificate in the clear, so anyone could name it): both stay listed.
                const mine = (p: Pending) => p.info.fingerprint === request.fingerprint && p.info.address === request.address
                const replaced = [...map.values()].filter(mine)
                const rest = [...map].filter(([, p]) => !mine(p))
                const fromAddress = rest.filter(([, p]) => p.info.address === request.address).length
                if (fromAddress >= policy.maxPendingPerAddress) {
                  return [
                    {
                      refused: `${request.address} already has ${fromAddress} pending pairing requests: enter their PINs or refuse them in the host's console first`
                    },
                    map
                  ]
                }
                if (rest.length >= policy.maxPending) {
                  return [{ refused: `the host already has ${rest.length} pending pairing requests` }, map]
                }
                const next = new Map(rest)
                next.set(requestId, { info, checkPin: request.checkPin, decision })
                return [{ replaced }, next]
              })
              if ("refused" in admission) return yield* new PairingRefused({ reason: admission.refused })
              yield* Effect.forEach(
                admission.replaced,
                (p) =>
                  Deferred.fail(
                    p.decision,
                    new PairingRefused({ reason: "a newer pairing request from the same client (same certificate, same address) replaced this one" })
                  ),
                { discard: true }
              )
              // A lockout that began between the check above and the listing must not leave this
              // request listed as one more guess.
              const lockedSince = yield* lockedOut(request.address)
              if (lockedSince !== undefined) {
                yield* take(requestId)
                return yield* new PairingRefused({ reason: lockedReason(request.address, lockedSince) })
              }
              yield* Effect.logInfo(
                `pairing request ${requestId} from ${request.path} client '${info.name}' at ${request.address}: enter its PIN in the console`
              )
              // Nobody typed the PIN in time: the request leaves the list and its client is told.
              // A request the operator already took is being decided and is left alone.
              const expire = Effect.sleep(pendingTimeout).pipe(
                Effect.zipRight(take(requestId)),
                Effect.flatMap((found) =>
                  found === undefined
                    ? Effect.void
                    : Deferred.fail(
                        found.decision,
                        new PairingRefused({
                          reason: `nobody entered this client's PIN on the host within ${Duration.format(pendingTimeout)}: ask to pair again`
                        })
                      ).pipe(Effect.zipRight(Effect.logInfo(`pairing request ${requestId} from '${info.name}' expired`)))
                )
              )
              return yield* Effect.forkScoped(expire).pipe(
                Effect.zipRight(request.onPending(requestId)),
                Effect.zipRight(Deferred.await(decision)),
                Effect.scoped
              )
            }).pipe(Effect.ensuring(take(requestId)))
          }),
        removals: Stream.fromPubSub(removals)
      }
      return service
    })
  )
