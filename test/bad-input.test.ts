import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { rawRequest, startHost } from "./support/TestHost.js"

describe("malformed requests", () => {
  it.scopedLive("get 400 with a message naming the problem, or 413 when oversized", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      const stop = (yield* Effect.promise(async () => (await host.fetch("/stop", { method: "POST" })).json())) as { id: string }
      const auth = { authorization: `Bearer ${host.token}`, "content-type": "application/json" }
      const cases: ReadonlyArray<readonly [string, string, string | undefined, number, RegExp]> = [
        ["PATCH", `/recordings/${stop.id}`, "{not json", 400, /json|parse|unexpected/i],
        ["PATCH", `/recordings/${stop.id}`, "{}", 400, /label/],
        ["PATCH", `/recordings/${stop.id}`, JSON.stringify({ label: 42 }), 400, /label|string/i],
        ["PATCH", `/recordings/${stop.id}`, JSON.stringify({ label: "x".repeat(201) }), 400, /200/],
        ["GET", `/live?since_t_ms=abc`, undefined, 400, /since_t_ms|NumberFromString|number/i],
        ["GET", `/recordings/${stop.id}/export?format=xml`, undefined, 400, /format|csv|json/]
      ]
      for (const [method, route, body, status, message] of cases) {
        const res = yield* Effect.promise(() => rawRequest(host.url, method, `/api/v1/stats${route}`, auth, body))
        expect(res.status, `${method} ${route} ${body}`).toBe(status)
        expect(res.body, `${method} ${route}`).toMatch(message)
      }
      const huge = JSON.stringify({ label: "x".repeat(200 * 1024) })
      const res = yield* Effect.promise(() => rawRequest(host.url, "PATCH", `/api/v1/stats/recordings/${stop.id}`, auth, huge))
      expect(res.status).toBe(413)
      // The capture is untouched by all of it.
      const still = (yield* Effect.promise(async () => (await host.fetch(`/recordings/${stop.id}`)).json())) as { meta: { label: string } }
      expect(still.meta.label).toBe("")
    })
  )

  it.scopedLive("the OpenAPI document describes the stats routes", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const res = yield* Effect.promise(() => fetch(`${host.url}/api/v1/openapi.json`))
      expect(res.status).toBe(200)
      const doc = (yield* Effect.promise(() => res.json())) as { paths: Record<string, unknown> }
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(["/api/v1/stats/status", "/api/v1/stats/recordings/{id}", "/api/v1/stats/live/events"])
      )
    })
  )
})
