/**
 * Property-based abuse of every operator route with fast-check: capture ids (random, hostile,
 * percent-encoded, sent byte for byte, and near-misses of a real id), request bodies (random
 * JSON, text, wrong content types, oversized), query parameters (random, repeated, missing) and
 * authorization headers (none, wrong, malformed).
 *
 * Asserted for every request: the status is one of 200/204 (valid fuzzed input may succeed),
 * 400, 401, 404, 413 — never a 5xx; and afterwards no file outside the captures directory was
 * touched (a snapshot of the whole sandbox, decoys included, before and after), while everything
 * inside it still decodes with the Schemas.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { rawRequest, startHost, tempDir } from "../support/TestHost.js"
import { checkCapturesDir, treeSnapshot } from "./support.js"

const ALLOWED = new Set([200, 204, 400, 401, 404, 413])
const RUNS = Number(process.env["PUNKTFUNK_FUZZ_RUNS"] ?? "400")

/** Characters a raw HTTP path may carry unescaped (node refuses others before sending). */
const rawSafe = fc.string({ unit: fc.constantFrom(..."abcXYZ019._-~/\\%:;@!$&'()*+,=".split("")), maxLength: 40 })

const HOSTILE = ["..", ".", "../token", "..%2ftoken", "%2e%2e%2ftoken", "..\\token", "CON", "nul", "com1.json", "trail.", ".journal", ".journal.ndjson", "../victim", "victim", "a/../../victim", "%00", "x%00.json"]

const idArb = (existing: () => string) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE).map((s) => ({ raw: true, id: s })) },
    { weight: 1, arbitrary: rawSafe.map((s) => ({ raw: true, id: s })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => ({ raw: false, id: encodeURIComponent(s) })) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => ({ raw: false, id: encodeURIComponent(s) })) },
    // Near-misses of a real id: its own files' other names, case changes, prefixes, suffixes.
    { weight: 3, arbitrary: fc
      .tuple(fc.constantFrom("", ".json", ".meta", ".meta.json", ".json.tmp", ".tmp", "-2", "/", "/..", "%2F..", "."), fc.boolean())
      .map(([suffix, upper]) => {
        const id = existing()
        return { raw: true, id: `${upper ? id.toUpperCase() : id}${suffix}` }
      }) }
  )

const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ label: fc.string({ maxLength: 250 }) }).map((v) => JSON.stringify(v)),
  fc.record({ label: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constant("{\"label\":\"" + "x".repeat(70 * 1024) + "\"}"),
  fc.constant("--b\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\nx\r\n--b--\r\n"),
  fc.constant("label=x&label=y")
)

const contentTypeArb = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "multipart/form-data; boundary=b",
  "multipart/form-data",
  "application/x-www-form-urlencoded",
  "application/octet-stream"
)

const queryValue = fc.oneof(fc.constantFrom("csv", "json", "CSV", "", "0", "-1", "1e400", "NaN", "Infinity", "12.5", "0x10"), fc.string({ maxLength: 20 }))
const queryArb = fc
  .array(fc.tuple(fc.constantFrom("format", "since_t_ms", "x", "format[]", "__proto__", "constructor"), queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`))

const authArb = (token: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom("Bearer", "Bearer ", `bearer ${token}`, `Basic ${token}`, `Bearer  ${token}`, `Bearer ${token}x`, "Bearer \u00ff") },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."abcXYZ019 =+/".split("")), maxLength: 60 }).map((s) => `Bearer ${s}`) }
  )

const routeArb = (existing: () => string) =>
  fc.oneof(
    fc.tuple(fc.constantFrom("GET", "PATCH", "DELETE", "PUT", "POST"), idArb(existing), fc.constantFrom("", "/export")).map(
      ([method, id, suffix]) => ({ method, path: `/api/v1/stats/recordings/${id.id}${suffix}` })
    ),
    fc.constantFrom(
      { method: "GET", path: "/api/v1/stats/status" },
      { method: "GET", path: "/api/v1/stats/live" },
      { method: "GET", path: "/api/v1/stats/recordings" },
      { method: "POST", path: "/api/v1/stats/start" },
      { method: "POST", path: "/api/v1/stats/stop" },
      { method: "GET", path: "/metrics" },
      { method: "POST", path: "/metrics" },
      { method: "GET", path: "/api/v1/pairing/pending" },
      { method: "GET", path: "/api/v1/pairing/clients" }
    )
  )

describe("fuzzed requests", () => {
  it.scopedLive(
    "only 200/204/400/401/404/413, never a 5xx, never a file touched outside the captures directory",
    () =>
      Effect.gen(function* () {
        const sandbox = tempDir("punktfunk-fuzz-")
        const dir = path.join(sandbox, "host")
        fs.mkdirSync(dir)
        // Decoys where a traversal would land: beside the captures dir and above the host's.
        for (const name of ["victim.json", "victim.meta.json", "token.json", ".json"]) {
          fs.writeFileSync(path.join(sandbox, name), "{\"decoy\":true}")
          fs.writeFileSync(path.join(dir, name), "{\"decoy\":true}")
        }
        const host = yield* startHost({ dir, env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 50 })
        const capturesDir = host.capturesDir
        // A real capture, so near-miss ids have something to miss.
        yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
        yield* Effect.sleep("200 millis")
        const saved = (yield* Effect.promise(async () => (await host.fetch("/stop", { method: "POST" })).json())) as { id: string }
        // Near-misses aim at a capture that exists now (fuzzed stops make new ones, deletes remove them).
        const existing = () =>
          fs.readdirSync(capturesDir).find((n) => n.endsWith(".meta.json"))?.replace(/\.meta\.json$/, "") ?? saved.id
        const skip = (full: string) => full === capturesDir || full.startsWith(capturesDir + path.sep)
        const before = treeSnapshot(sandbox, skip)

        const failures: Array<string> = []
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(
              routeArb(existing),
              queryArb,
              bodyArb,
              contentTypeArb,
              authArb(host.token),
              async (route, query, body, contentType, auth) => {
                const headers: Record<string, string> = {}
                if (auth !== undefined) headers["authorization"] = auth
                if (contentType !== undefined) headers["content-type"] = contentType
                const what = `${route.method} ${route.path}${query} ${contentType ?? ""} ${body?.slice(0, 80) ?? ""}`
                // A request the host never answers is a failure too (a hung handler), not a test timeout.
                const res = await Promise.race([
                  rawRequest(host.url, route.method, `${route.path}${query}`, headers, route.method === "GET" ? undefined : body),
                  new Promise<{ status: number; body: string }>((resolve) =>
                    setTimeout(() => resolve({ status: 0, body: "no answer within 15 s" }), 15_000).unref()
                  )
                ])
                if (!ALLOWED.has(res.status)) {
                  failures.push(`${res.status} ${what}: ${res.body.slice(0, 200)}`)
                }
                expect(ALLOWED.has(res.status), failures.at(-1)).toBe(true)
              }
            ),
            { numRuns: RUNS }
          )
        )
        // Stop whatever a fuzzed /start armed, so the tree is compared at rest.
        yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
        const after = treeSnapshot(sandbox, skip)
        expect([...after.entries()].filter(([k, v]) => before.get(k) !== v)).toEqual([])
        expect([...before.keys()].filter((k) => !after.has(k))).toEqual([])
        checkCapturesDir(capturesDir)
      }),
    300_000
  )
})
