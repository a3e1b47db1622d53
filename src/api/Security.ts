/**
 * The bearer check every operator route group carries. It lives in its own module so each group
 * (stats, pairing, metrics) can name it without importing the whole API definition.
 */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Unauthorized } from "./Errors.js"

/** Bearer token on every operator route; there is no anonymous route to stats or pairing. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("punktfunk/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
