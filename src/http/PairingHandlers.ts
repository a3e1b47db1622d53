/** `/api/v1/pairing/*`: each handler is one call on the Pairing service. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { PunktfunkApi } from "../api/Api.js"
import { Pairing } from "../services/Pairing.js"

export const PairingHandlersLive = HttpApiBuilder.group(PunktfunkApi, "pairing", (handlers) =>
  Effect.gen(function* () {
    const pairing = yield* Pairing
    return handlers
      .handle("pending", () => pairing.pending)
      .handle("enterPin", ({ path, payload }) => pairing.enterPin(path.request_id, payload.pin))
      .handle("reject", ({ path }) => pairing.reject(path.request_id))
      .handle("lockouts", () => pairing.lockouts)
      .handle("clients", () => pairing.clients)
      .handle("unpair", ({ path }) => pairing.unpair(path.fingerprint))
  })
)
