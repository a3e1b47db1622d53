/**
 * Test hosts with the GameStream path on (ports 0, loopback) and the operator's side of pairing:
 * find the pending request through the API and type the PIN, as the console does.
 */
import { Context, Effect, Option, Schema } from "effect"
import { PairedClient, PairingLockout, PendingPairing } from "../../../src/api/Pairing.js"
import { GAMESTREAM_ON_PORT_ZERO } from "../../../src/bench/BenchHost.js"
import { GameStream } from "../../../src/streams/gamestream/GameStreamServer.js"
import type { GameStreamShape } from "../../../src/streams/gamestream/GameStreamServer.js"
import { json, startHost, waitFor } from "../../support/TestHost.js"
import type { StartedHost, TestHostOptions } from "../../support/TestHost.js"
import { GameStreamClient, makeClientIdentity } from "./GameStreamClient.js"
import type { ClientIdentity, Endpoint, PairOptions, PairOutcome } from "./GameStreamClient.js"

/** GameStream on, every port 0 (one table with the benches: src/bench/BenchHost.ts). */
export const GAMESTREAM_ENV = GAMESTREAM_ON_PORT_ZERO

export const startGameStreamHost = (
  options: Pick<TestHostOptions, "dir" | "env" | "pipeline" | "pairing" | "gamestreamPairing" | "gamestreamAudio" | "inputInjector"> = {}
) => startHost({ ...options, env: { ...GAMESTREAM_ENV, ...options.env } })

export const gameStreamOf = (host: StartedHost): GameStreamShape =>
  Option.getOrThrowWith(Context.getOption(host.context, GameStream), () => new Error("the host has no GameStream service"))

export const endpointOf = (host: StartedHost): Endpoint => {
  const gs = gameStreamOf(host)
  return { host: "127.0.0.1", httpPort: gs.httpPort, httpsPort: gs.httpsPort }
}

export const clientFor = (host: StartedHost, identity: ClientIdentity) => new GameStreamClient(endpointOf(host), identity)

export const newIdentity = (name?: string) => Effect.promise(() => makeClientIdentity(name))

const pairingApi = (host: StartedHost, route: string, init: RequestInit = {}) =>
  Effect.promise(() => host.fetch(`${host.url}/api/v1/pairing${route}`, init))

export const pendingList = (host: StartedHost) =>
  pairingApi(host, "/pending").pipe(
    Effect.flatMap((r) => Effect.promise(() => json(r))),
    Effect.map(Schema.decodeUnknownSync(Schema.Array(PendingPairing)))
  )

export const lockoutList = (host: StartedHost) =>
  pairingApi(host, "/lockouts").pipe(
    Effect.flatMap((r) => Effect.promise(() => json(r))),
    Effect.map(Schema.decodeUnknownSync(Schema.Array(PairingLockout)))
  )

export const pairedClients = (host: StartedHost) =>
  pairingApi(host, "/clients").pipe(
    Effect.flatMap((r) => Effect.promise(() => json(r))),
    Effect.map(Schema.decodeUnknownSync(Schema.Array(PairedClient)))
  )

export const waitPending = (host: StartedHost) =>
  Effect.promise(() =>
    waitFor(async () => (await Effect.runPromise(pendingList(host))).length >= 1, 10_000, "a pending pairing request")
  ).pipe(Effect.zipRight(pendingList(host)))

export const enterPin = (host: StartedHost, requestId: string, pin: string) =>
  pairingApi(host, `/pending/${requestId}/pin`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pin })
  })

/**
 * Runs the client's pairing with `clientPin` (what Moonlight shows) while the operator types
 * `operatorPin`; returns the client's outcome and what the operator API said. The operator's
 * answer waits for the client's proof, so the client runs in its own fiber meanwhile.
 */
export const pairViaOperator = (
  host: StartedHost,
  client: GameStreamClient,
  clientPin: string,
  operatorPin: string = clientPin,
  options: Omit<PairOptions, "pin"> & { readonly operatorDelayMs?: number } = {}
) =>
  Effect.gen(function* () {
    const { operatorDelayMs, ...pairOptions } = options
    const outcome = yield* Effect.fork(
      Effect.promise((): Promise<PairOutcome> => client.pair({ pin: clientPin, ...pairOptions }))
    )
    const [request] = yield* waitPending(host)
    if (request === undefined) throw new Error("no pending request")
    // An operator who takes a while to type the PIN (the client's request waits meanwhile).
    if (operatorDelayMs !== undefined) yield* Effect.sleep(operatorDelayMs)
    const entered = yield* enterPin(host, request.request_id, operatorPin)
    const operatorBody: unknown = yield* Effect.promise(() => json(entered))
    return { request, operatorStatus: entered.status, operatorBody, outcome: yield* outcome.await.pipe(Effect.flatten) }
  })
