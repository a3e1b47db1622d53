/**
 * The management server: the whole `HttpApi` behind the one bearer check (the stats routes, the
 * pairing routes, `/metrics`), its OpenAPI document at `/api/v1/openapi.json`, and the web
 * console at `/`; plain HTTP on loopback, HTTPS with the host's certificate when bound beyond it
 * (`ManagementTls.ts`); its listener under the management connection limits
 * (`lib/ConnectionLimiter.ts`); bodies refused before parsing when oversized or multipart, and
 * unreadable ones answered in the API's `{ _tag, message }` shape.
 *
 * Why no `X-Forwarded-For` handling: the connection limits count the socket's address, and a
 * forwarded header is whatever a client writes — trusting it would let one client pose as many.
 *
 * Why a body limit: every operator request body here is a small JSON object; refusing anything
 * over 64 KiB (413) keeps a hostile or broken client from making the host buffer megabytes. The
 * one exception is a capture file sent to the import route, which has a bound of its own
 * (`PUNKTFUNK_IMPORT_MAX_BYTES`, see `ImportBody.ts`).
 */
import { HttpApiBuilder, HttpIncomingMessage, HttpServer, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Cause, Effect, Layer, Option } from "effect"
import { createServer } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import { IMPORT_PATH, PunktfunkApi } from "../api/Api.js"
import { ConnectionLimits } from "../services/ConnectionLimits.js"
import { AuthorizationLive } from "./Authorization.js"
import { StaticConsoleLive } from "./StaticConsole.js"
import { MetricsHandlersLive } from "./MetricsHandlers.js"
import { PairingHandlersLive } from "./PairingHandlers.js"
import { StatsHandlersLive } from "./StatsHandlers.js"

export const MAX_BODY_BYTES = 64 * 1024

const isImport = (request: HttpServerRequest.HttpServerRequest): boolean =>
  request.method === "POST" && request.url.split("?")[0] === IMPORT_PATH

export const ApiLive = HttpApiBuilder.api(PunktfunkApi).pipe(
  Layer.provide(StatsHandlersLive),
  Layer.provide(PairingHandlersLive),
  Layer.provide(MetricsHandlersLive),
  Layer.provide(AuthorizationLive)
)

/**
 * The platform answers a body it cannot read (not JSON, over the size limit) with an empty 400;
 * an operator's script deserves to be told which, in the same `{ _tag, message }` shape as every
 * other error, and an oversized body is 413.
 */
const explainRequestErrors: HttpApiBuilder.MiddlewareFn<never> = (app) =>
  Effect.catchAllCause(app, (cause) => {
    const e = Cause.squash(cause)
    if (!HttpServerError.isServerError(e) || e._tag !== "RequestError") return Effect.failCause(cause)
    const detail = e.cause instanceof Error ? e.cause.message : ""
    if (detail.includes("maxBytes")) {
      return Effect.succeed(
        HttpServerResponse.unsafeJson(
          { _tag: "PayloadTooLarge", message: `request body larger than ${MAX_BODY_BYTES} bytes` },
          { status: 413 }
        )
      )
    }
    const what = e.reason === "Decode" ? "the body is not valid JSON" : "the body could not be read"
    return Effect.succeed(
      HttpServerResponse.unsafeJson(
        { _tag: "BadRequest", message: `malformed request: ${what}${detail === "" ? "" : ` (${detail})`}` },
        { status: 400 }
      )
    )
  })

/**
 * Refuse a declared oversized body before reading it: once the platform starts reading and hits
 * the limit it destroys the socket, and the client would see a reset instead of a 413. The import
 * route is the one exception: its handler reads its body within a bound of its own
 * (`ImportBody.ts`), after the bearer check.
 */
const refuseOversized = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const declared = Number(request.headers["content-length"] ?? "0")
    if (!(declared > MAX_BODY_BYTES) || isImport(request)) return app
    return Effect.succeed(
      HttpServerResponse.unsafeJson(
        { _tag: "PayloadTooLarge", message: `request body of ${declared} bytes is larger than ${MAX_BODY_BYTES} bytes` },
        { status: 413, headers: { connection: "close" } }
      )
    )
  })

/**
 * Every operator body is a small JSON object, so a multipart body is refused before the platform
 * tries to parse it: its parser throws on a missing boundary as a defect, which was a 500 (found
 * by the fuzz suite, `test/faults/fuzz.test.ts`). A client's mistake is a 400 that says why.
 */
const refuseMultipart = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const contentType = (request.headers["content-type"] ?? "").toLowerCase()
    if (!contentType.includes("multipart/")) return app
    return Effect.succeed(
      HttpServerResponse.unsafeJson(
        { _tag: "BadRequest", message: "malformed request: request bodies are JSON (application/json), not multipart" },
        { status: 400 }
      )
    )
  })

export const HttpServerLive = (options: {
  readonly port: number
  readonly bind: string
  readonly webDir: string
  /** The host's certificate and key: HTTPS when bound beyond loopback (see ManagementTls.ts). */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined
}) =>
  HttpApiBuilder.serve((app) =>
    app.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(MAX_BODY_BYTES)),
      refuseOversized,
      refuseMultipart
    )
  ).pipe(
    Layer.provide(StaticConsoleLive(options.webDir)),
    Layer.provide(HttpApiBuilder.middleware(explainRequestErrors)),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })),
    Layer.provide(ApiLive),
    // provideMerge: the HttpServer stays visible, so the host can print (and tests read) its address.
    // Connection limits (ConnectionLimiter.ts): a request with a valid bearer token authenticates
    // its connection (Authorization.ts); live event streams are held open, up to their cap.
    Layer.provideMerge(
      Layer.unwrapEffect(
        Effect.flatMap(ConnectionLimits, (c) => c.listener("management", { maxStreams: c.maxLiveSubscribers })).pipe(
          Effect.map((limiter) =>
            NodeHttpServer.layer(
              () => limiter.guard(options.tls === undefined ? createServer() : createHttpsServer(options.tls)),
              { port: options.port, host: options.bind }
            )
          )
        )
      )
    )
  )

/** The listening URL, for the start line and for tests on port 0. */
export const serverUrl = HttpServer.addressFormattedWith((address) => Effect.succeed(address))
