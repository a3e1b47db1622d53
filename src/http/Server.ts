/**
 * The management HTTP server: the `HttpApi` (stats routes behind the bearer check), its OpenAPI
 * document at `/api/v1/openapi.json`, and the web console at `/`.
 *
 * Why a body limit: every operator request body here is a small JSON object; refusing anything
 * over 64 KiB (413) keeps a hostile or broken client from making the host buffer megabytes.
 */
import { HttpApiBuilder, HttpIncomingMessage, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { createServer } from "node:http"
import { PunktfunkApi } from "../api/Api.js"
import { AuthorizationLive } from "./Authorization.js"
import { StaticConsoleLive } from "./StaticConsole.js"
import { StatsHandlersLive } from "./StatsHandlers.js"

export const MAX_BODY_BYTES = 64 * 1024

export const ApiLive = HttpApiBuilder.api(PunktfunkApi).pipe(
  Layer.provide(StatsHandlersLive),
  Layer.provide(AuthorizationLive)
)

export const HttpServerLive = (options: { readonly port: number; readonly bind: string; readonly webDir: string }) =>
  HttpApiBuilder.serve((app) =>
    app.pipe(HttpIncomingMessage.withMaxBodySize(Option.some(MAX_BODY_BYTES)), HttpMiddleware.xForwardedHeaders)
  ).pipe(
    Layer.provide(StaticConsoleLive(options.webDir)),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })),
    Layer.provide(ApiLive),
    // provideMerge: the HttpServer stays visible, so the host can print (and tests read) its address.
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: options.port, host: options.bind }))
  )

/** The listening URL, for the start line and for tests on port 0. */
export const serverUrl = HttpServer.addressFormattedWith((address) => Effect.succeed(address))
