/**
 * The tracked connection (`ConnectionLimiter.ts`) a management request arrived on: the bearer
 * check marks it authenticated, live events hold it open. Undefined when the request did not come
 * through a guarded Node server (an in-memory handler in a test): then nothing is limited.
 */
import { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { IncomingMessage } from "node:http"
import { trackedConnection } from "../lib/ConnectionLimiter.js"
import type { TrackedConnection } from "../lib/ConnectionLimiter.js"

export const requestConnection: Effect.Effect<TrackedConnection | undefined, never, HttpServerRequest.HttpServerRequest> =
  Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
    request.source instanceof IncomingMessage ? trackedConnection(request.source.socket) : undefined
  )
