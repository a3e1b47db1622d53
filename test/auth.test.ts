import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { startHost } from "./support/TestHost.js"

const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/status"],
  ["POST", "/start"],
  ["POST", "/stop"],
  ["GET", "/live"],
  ["GET", "/live/events"],
  ["GET", "/recordings"],
  ["GET", "/recordings/2026-11-24T20-14-03Z_1280x720"],
  ["GET", "/recordings/2026-11-24T20-14-03Z_1280x720/export?format=csv"],
  ["PATCH", "/recordings/2026-11-24T20-14-03Z_1280x720"],
  ["DELETE", "/recordings/2026-11-24T20-14-03Z_1280x720"],
  // Pairing decides who may stream: just as closed.
  ["GET", "../pairing/pending"],
  ["POST", "../pairing/pending/0123456789ab/pin"],
  ["DELETE", "../pairing/pending/0123456789ab"],
  ["GET", "../pairing/clients"],
  ["DELETE", `../pairing/clients/${"a".repeat(64)}`]
]

describe("bearer token", () => {
  it.scopedLive("is generated at first start into a 0600 file and reused on the next start", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const file = path.join(host.dir, "token")
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(host.token.length).toBeGreaterThanOrEqual(32)
      const again = yield* startHost({ dir: host.dir })
      expect(again.token).toBe(host.token)
    })
  )

  it.scopedLive("no token or a wrong one is 401 on every stats and pairing route, and nothing is armed", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      for (const token of [null, "", "wrong", host.token + "x", host.token.slice(1)]) {
        for (const [method, route] of ROUTES) {
          const res = yield* Effect.promise(() =>
            host.fetch(route.startsWith("../") ? `${host.url}/api/v1/${route.slice(3)}` : route, {
              method,
              token,
              ...(method === "PATCH" ? { body: "{\"label\":\"x\"}", headers: { "content-type": "application/json" } } : {}),
              ...(route.endsWith("/pin") ? { body: "{\"pin\":\"1234\"}", headers: { "content-type": "application/json" } } : {})
            })
          )
          expect(res.status, `${method} ${route} with ${JSON.stringify(token)}`).toBe(401)
          const body = (yield* Effect.promise(() => res.json())) as { _tag: string; message: string }
          expect(body._tag).toBe("Unauthorized")
        }
      }
      // A Basic header is not a bearer token.
      const basic = yield* Effect.promise(() => fetch(`${host.api}/status`, { headers: { authorization: `Basic ${host.token}` } }))
      expect(basic.status).toBe(401)
      const status = (yield* Effect.promise(async () => (await host.fetch("/status")).json())) as { armed: boolean }
      expect(status.armed).toBe(false)
    })
  )
})
