/**
 * The bearer check behind every operator route: a missing or wrong token is `401`. A right one
 * authenticates the connection for the connection limits: it is never evicted for a newcomer.
 */
import { Effect, Layer, Redacted } from "effect"
import { Authorization } from "../api/Api.js"
import { Unauthorized } from "../api/Errors.js"
import { Auth } from "../services/Auth.js"
import { requestConnection } from "./RequestConnection.js"

export const AuthorizationLive = Layer.effect(
  Authorization,
  Effect.gen(function* () {
    const auth = yield* Auth
    return Authorization.of({
      bearer: (token) => {
        const presented = Redacted.value(token)
        if (presented.length === 0) {
          return Effect.fail(new Unauthorized({ message: "missing bearer token: send 'Authorization: Bearer <token>'" }))
        }
        return auth.check(presented)
          ? Effect.map(requestConnection, (connection) => connection?.authenticate())
          : Effect.fail(new Unauthorized({ message: "wrong bearer token" }))
      }
    })
  })
)
