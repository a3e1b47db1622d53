/** The bearer check behind every operator route: a missing or wrong token is `401`. */
import { Effect, Layer, Redacted } from "effect"
import { Authorization } from "../api/Api.js"
import { Unauthorized } from "../api/Errors.js"
import { Auth } from "../services/Auth.js"

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
          ? Effect.void
          : Effect.fail(new Unauthorized({ message: "wrong bearer token" }))
      }
    })
  })
)
