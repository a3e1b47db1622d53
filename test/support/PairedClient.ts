/**
 * A punktfunk/1 client of an in-process test host: a fresh identity, paired through the operator
 * API (the PIN typed as the console would), and the host's control endpoint.
 */
import { Context, Effect, Fiber, Schema } from "effect"
import { expect } from "@effect/vitest"
import { PendingPairing } from "../../src/api/Pairing.js"
import { newPin, pair } from "../../src/client/ControlClient.js"
import type { ClientIdentity, Endpoint } from "../../src/client/ControlClient.js"
import { fingerprintOfPem, generateCertificate } from "../../src/lib/Certificates.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { json, waitFor } from "./TestHost.js"
import type { StartedHost } from "./TestHost.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

export const identity = (name: string) =>
  Effect.promise(async (): Promise<ClientIdentity> => {
    const made = await generateCertificate(name)
    return { ...made, fingerprint: fingerprintOfPem(made.certPem) }
  })

export const endpointOf = (host: StartedHost): Endpoint => ({ host: "127.0.0.1", port: Context.get(host.context, ControlServer).port })

/** The operator types `pin` for the pairing request `requestId`, as the console does: the host's answer. */
export const typePin = (host: StartedHost, requestId: string, pin: string) =>
  promise(() =>
    host.fetch(`${host.url}/api/v1/pairing/pending/${requestId}/pin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pin })
    })
  )

export const pairThroughApi = (host: StartedHost, client: ClientIdentity, name: string) =>
  Effect.gen(function* () {
    const pin = newPin()
    const waiting = yield* Effect.fork(pair({ endpoint: endpointOf(host), identity: client, name, pin }))
    let requestId = ""
    yield* promise(() =>
      waitFor(async () => {
        const pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await json(await host.fetch(`${host.url}/api/v1/pairing/pending`)))
        requestId = pending[0]?.request_id ?? ""
        return requestId !== ""
      }, 10_000, "the pairing request")
    )
    const res = yield* typePin(host, requestId, pin)
    expect(res.status).toBe(200)
    return yield* Fiber.join(waiting)
  })

