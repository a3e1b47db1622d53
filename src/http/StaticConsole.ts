/**
 * Serves the built web console (`web/dist`) at `/`, with `index.html` for any other page path so
 * the console's own routes survive a reload. Paths are resolved inside the console directory only;
 * `/api/…` is never answered with the page.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>punktfunk</title>
<body style="font-family:sans-serif;background:#111;color:#ddd;padding:2rem">
<h1>punktfunk host</h1><p>The web console is not built. Run <code>npm run build</code>; the API is at
<code>/api/v1/stats/*</code> (bearer token).</p></body>`

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2"
}

export const StaticConsoleLive = (webDir: string) =>
  HttpApiBuilder.Router.use((router) =>
    router.get(
      "*",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const url = new URL(request.url, "http://host")
        const pathname = decodeURIComponent(url.pathname)
        if (pathname.startsWith("/api/")) return HttpServerResponse.empty({ status: 404 })
        const root = path.resolve(webDir)
        const candidate = path.resolve(root, "." + path.posix.normalize(pathname))
        const inside = candidate === root || candidate.startsWith(root + path.sep)
        const file =
          inside && fs.existsSync(candidate) && fs.statSync(candidate).isFile() ? candidate : path.join(root, "index.html")
        if (!fs.existsSync(file)) return HttpServerResponse.html(NOT_BUILT)
        const body = yield* Effect.promise(() => fs.promises.readFile(file))
        const hashed = file.includes(`${path.sep}assets${path.sep}`)
        return HttpServerResponse.uint8Array(body, {
          contentType: TYPES[path.extname(file)] ?? "application/octet-stream",
          headers: { "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache" }
        })
      }).pipe(Effect.catchAllDefect(() => Effect.succeed(HttpServerResponse.empty({ status: 400 }))))
    )
  )
