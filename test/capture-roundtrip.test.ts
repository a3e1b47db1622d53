import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { PunktfunkApi } from "../src/api/Api.js"
import { Capture, CaptureListItem, CaptureMeta, StatsStatus } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import { json, startHost, tempDir, waitFor } from "./support/TestHost.js"

const decodeCapture = Schema.decodeUnknownSync(Capture)

describe("arm, capture, stop, survive a restart", () => {
  const dir = tempDir()

  it.scopedLive("arming at run time records fake-pipeline windows and stop saves a file that decodes", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ dir, env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 40 })
      // A session runs before anything is armed: nothing is recorded yet.
      yield* Effect.promise(() => waitFor(async () => {
        const s = Schema.decodeUnknownSync(StatsStatus)(await json(await host.fetch("/status")))
        return s.active_sessions === 1
      }, 5000, "fake session"))
      expect(fs.readdirSync(host.capturesDir).filter((n) => n.endsWith(".json"))).toEqual([])

      const armed = Schema.decodeUnknownSync(StatsStatus)(
        yield* Effect.promise(async () => json(await host.fetch("/start", { method: "POST" })))
      )
      expect(armed.armed).toBe(true)
      expect(armed.kind).toBe("punktfunk1")

      // Arming again wipes nothing.
      yield* Effect.promise(() =>
        waitFor(async () => Schema.decodeUnknownSync(StatsStatus)(await json(await host.fetch("/status"))).sample_count >= 5, 5000, "5 samples")
      )
      const again = Schema.decodeUnknownSync(StatsStatus)(
        yield* Effect.promise(async () => json(await host.fetch("/start", { method: "POST" })))
      )
      expect(again.sample_count).toBeGreaterThanOrEqual(5)
      expect(again.started_unix_ms).toBe(armed.started_unix_ms)

      const res = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      expect(res.status).toBe(200)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(() => json(res)))
      expect(meta.id).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z_1280x720$/)
      expect(meta.sample_count).toBeGreaterThanOrEqual(5)
      expect(meta.kind).toBe("punktfunk1")
      expect(meta.measured).not.toContain("packets_dropped")

      // The file on disk decodes through the Schema and holds what stop reported.
      const file = path.join(host.capturesDir, `${meta.id}.json`)
      const onDisk = decodeCapture(JSON.parse(fs.readFileSync(file, "utf8")))
      expect(onDisk.samples.length).toBe(meta.sample_count)
      expect(onDisk.samples.every((s) => s.stages.map((x) => x.name).join() === "capture,submit,encode,send")).toBe(true)
      // t_ms is restamped from the arming origin and increases.
      const ts = onDisk.samples.map((s) => s.t_ms)
      expect([...ts].sort((a, b) => a - b)).toEqual(ts)
      expect(ts[0]).toBeLessThan(1000)
      expect(fs.statSync(host.capturesDir).mode & 0o777).toBe(0o700)

      // Stop when idle: 204, nothing written.
      expect((yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))).status).toBe(204)
      // Live when idle: 404.
      expect((yield* Effect.promise(() => host.fetch("/live"))).status).toBe(404)
    })
  )

  it.scopedLive("a fresh host on the same directory lists, loads, labels, exports and deletes it", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ dir })
      const listRes = yield* Effect.promise(() => host.fetch("/recordings"))
      const etag = listRes.headers.get("etag")
      const list = Schema.decodeUnknownSync(CaptureListing)(yield* Effect.promise(() => json(listRes)))
      expect(list).toHaveLength(1)
      const id = list[0]!.id
      // A row holds the list's columns (not the sessions' stages and fields: `get` has those).
      expect(list[0]).toMatchObject({ id, label: "", kind: "punktfunk1", width: 1280, height: 720, session_count: 1, imported: false })
      expect(Object.keys(list[0]!)).not.toContain("sessions")
      expect(Object.keys(list[0]!)).not.toContain("measured")
      // Asked again with its ETag, an unchanged listing is `304` with no body.
      expect(etag).toMatch(/^"[\w-]+"$/)
      const notModified = yield* Effect.promise(() => host.fetch("/recordings", { headers: { "if-none-match": etag! } }))
      expect(notModified.status).toBe(304)
      expect(yield* Effect.promise(() => notModified.text())).toBe("")

      // The typed client derived from the same HttpApi definition reads it too.
      const client = yield* HttpApiClient.make(PunktfunkApi, {
        baseUrl: host.url,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(host.token))
      })
      const capture = yield* client.stats.get({ path: { id } })
      expect(capture.meta.id).toBe(id)
      expect(capture.samples.length).toBe(list[0]!.sample_count)

      const labelled = yield* client.stats.label({ path: { id }, payload: { label: "baseline, run 1" } })
      expect(labelled.label).toBe("baseline, run 1")
      const relisted = yield* client.stats.list()
      expect(relisted[0]!.label).toBe("baseline, run 1")
      // The relabel changed the listing: the old ETag gets the new rows, under a new ETag.
      const changed = yield* Effect.promise(() => host.fetch("/recordings", { headers: { "if-none-match": etag! } }))
      expect(changed.status).toBe(200)
      expect(changed.headers.get("etag")).not.toBe(etag)
      expect(Schema.decodeUnknownSync(CaptureListing)(yield* Effect.promise(() => json(changed)))[0]!.label).toBe("baseline, run 1")

      const csvRes = yield* Effect.promise(() => host.fetch(`/recordings/${id}/export?format=csv`))
      expect(csvRes.status).toBe(200)
      expect(csvRes.headers.get("content-type")).toContain("text/csv")
      expect(csvRes.headers.get("content-disposition")).toContain(`${id}.csv`)
      const lines = (yield* Effect.promise(() => csvRes.text())).trim().split("\r\n")
      expect(lines[0]).toContain("t_ms,session_id,fps,repeat_fps")
      expect(lines[0]).toContain("encode_p99_us")
      expect(lines).toHaveLength(capture.samples.length + 1)

      const jsonRes = yield* Effect.promise(() => host.fetch(`/recordings/${id}/export?format=json`))
      expect(decodeCapture(yield* Effect.promise(() => json(jsonRes))).meta.label).toBe("baseline, run 1")

      expect((yield* Effect.promise(() => host.fetch(`/recordings/${id}`, { method: "DELETE" }))).status).toBe(204)
      expect((yield* Effect.promise(() => host.fetch(`/recordings/${id}`))).status).toBe(404)
      expect(fs.readdirSync(host.capturesDir).filter((n) => !n.startsWith("."))).toEqual([])
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.scopedLive("an armed capture with no session still saves, as 0x0 with zero samples", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      const meta = Schema.decodeUnknownSync(CaptureMeta)(
        yield* Effect.promise(async () => json(await host.fetch("/stop", { method: "POST" })))
      )
      expect(meta.id).toMatch(/_0x0$/)
      expect(meta.sample_count).toBe(0)
      // Two captures in the same second never overwrite each other.
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      const second = Schema.decodeUnknownSync(CaptureMeta)(
        yield* Effect.promise(async () => json(await host.fetch("/stop", { method: "POST" })))
      )
      if (second.started_unix_ms - (second.started_unix_ms % 1000) === meta.started_unix_ms - (meta.started_unix_ms % 1000)) {
        expect(second.id).toBe(`${meta.id}-2`)
      }
      expect(second.id).not.toBe(meta.id)
      expect(fs.readdirSync(host.capturesDir).filter((n) => n.endsWith(".meta.json"))).toHaveLength(2)
    })
  )
})
