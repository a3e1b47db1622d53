import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { baseCaptureId, isValidCaptureId, uniqueCaptureId } from "../src/lib/captures/CaptureIds.js"
import { rawRequest, startHost } from "./support/TestHost.js"

const HOSTILE = ["..", "../x", "a/b", "a\\b", "%2e%2e", "C:x", "", "x".repeat(300), ".", "CON", "nul.json", "trail.", ".journal"]

describe("capture ids", () => {
  it("are start time (UTC, dashes) plus resolution, suffixed on collision", () => {
    const base = baseCaptureId(Date.UTC(2026, 10, 24, 20, 14, 3), 1280, 720)
    expect(base).toBe("2026-11-24T20-14-03Z_1280x720")
    expect(uniqueCaptureId(base, () => false)).toBe(base)
    const taken = new Set([base, `${base}-2`])
    expect(uniqueCaptureId(base, (id) => taken.has(id))).toBe(`${base}-3`)
  })

  it("refuse traversal, separators, reserved Windows names and over-long ids", () => {
    for (const id of HOSTILE) expect(isValidCaptureId(id), JSON.stringify(id)).toBe(false)
    expect(isValidCaptureId("2026-11-24T20-14-03Z_1280x720-2")).toBe(true)
  })

  it.scopedLive("hostile ids get 404 on every route and nothing outside the directory is read or removed", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      // Canaries next to and above the captures directory, named as a traversal would reach them.
      const outside = path.dirname(host.capturesDir)
      const canaries = ["x.json", "x.meta.json", "b.json", ".json"].map((n) => path.join(outside, n))
      for (const c of canaries) fs.writeFileSync(c, JSON.stringify({ canary: true }))
      const encoded = HOSTILE.filter((id) => id !== "").map(encodeURIComponent)
      for (const id of [...encoded, "..", ".", "../x", "..%2Fx", "a%2Fb", "%2e%2e", "..%5Cx", "%2e%2e%2f%2e%2e%2fx"]) {
        for (const [method, suffix, body] of [
          ["GET", "", undefined],
          ["GET", "/export?format=csv", undefined],
          ["DELETE", "", undefined],
          ["PATCH", "", JSON.stringify({ label: "x" })]
        ] as const) {
          const res = yield* Effect.promise(() =>
            rawRequest(
              host.url,
              method,
              `/api/v1/stats/recordings/${id}${suffix}`,
              { authorization: `Bearer ${host.token}`, "content-type": "application/json" },
              body
            )
          )
          expect(res.status, `${method} ${id}${suffix}`).toBe(404)
        }
      }
      // The empty id never loads, labels, exports or deletes anything. (`GET /recordings/` is the
      // list route with a trailing slash, not a load of an empty id.)
      for (const [method, p] of [
        ["DELETE", "/recordings/"],
        ["PATCH", "/recordings/"],
        ["GET", "/recordings//export?format=csv"],
        ["DELETE", "/recordings//"]
      ] as const) {
        const res = yield* Effect.promise(() =>
          rawRequest(host.url, method, `/api/v1/stats${p}`, { authorization: `Bearer ${host.token}`, "content-type": "application/json" }, method === "PATCH" ? "{\"label\":\"x\"}" : undefined)
        )
        expect(res.status, `${method} ${p}`).toBe(404)
      }
      for (const c of canaries) expect(JSON.parse(fs.readFileSync(c, "utf8"))).toEqual({ canary: true })
    })
  )
})
