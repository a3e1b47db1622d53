/**
 * Markers (issue 14.1): the operator's, through the API and the CLI's route, and the host's own
 * (session start and end, truncation) land in the saved capture at the Recorder's clock, survive
 * a crash through the journal, and an old capture without any still loads.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { migrateCapture } from "../src/api/CaptureFormat.js"
import { sampleFixture } from "../src/api/SampleFixture.js"
import { Marker } from "../src/api/Markers.js"
import { Capture } from "../src/api/Stats.js"
import type { SessionMeta } from "../src/api/Stats.js"
import { Recorder } from "../src/services/Recorder.js"
import { replayJournal } from "../src/lib/captures/Journal.js"
import { startHost } from "./support/TestHost.js"

const session: SessionMeta = {
  session_id: "gs-1", kind: "gamestream", width: 1920, height: 1080, fps: 60, codec: "h264", client: "moonlight",
  encoder_backend: "fake", gpu: "none", stages: ["capture", "encode", "packetize", "send"], measured: ["fps"]
}

const post = (host: { fetch: (r: string, i?: RequestInit) => Promise<Response> }, label: unknown) =>
  Effect.promise(() =>
    host.fetch("/markers", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ label }) })
  )

describe("capture markers", () => {
  it.scopedLive("idle: 404 naming why; armed: the marker is saved with the host's own markers, in time order", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const recorder = Context.get(host.context, Recorder)
      const idle = yield* post(host, "too early")
      expect(idle.status).toBe(404)
      expect(((yield* Effect.promise(() => idle.json())) as { message: string }).message).toMatch(/no capture is armed/)

      yield* recorder.start("with markers")
      yield* recorder.registerSession(session)
      yield* Effect.sleep("20 millis")
      const res = yield* post(host, "stutter here")
      expect(res.status).toBe(200)
      const marker = Schema.decodeUnknownSync(Marker)(yield* Effect.promise(() => res.json()))
      expect(marker).toMatchObject({ label: "stutter here", kind: "operator" })
      yield* recorder.note("idr_request", "the client asked for a key frame", "gs-1")
      yield* recorder.unregisterSession("gs-1")

      // A label must say something, and not too much: 400 naming the problem, nothing recorded.
      for (const [bad, why] of [["   ", /needs a label/], ["x".repeat(201), /at most 200/], [42, /string/i]] as const) {
        const r = yield* post(host, bad)
        expect(r.status).toBe(400)
        expect(yield* Effect.promise(() => r.text())).toMatch(why)
      }

      const stop = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      const { id } = (yield* Effect.promise(() => stop.json())) as { id: string }
      const saved = Schema.decodeUnknownSync(Capture)(JSON.parse(fs.readFileSync(path.join(host.capturesDir, `${id}.json`), "utf8")))
      const markers = saved.markers ?? []
      expect(markers.map((m) => m.kind)).toEqual(["session_start", "operator", "idr_request", "session_end"])
      expect(markers[0]).toMatchObject({ session_id: "gs-1", label: "gamestream session 1920x1080@60 for moonlight" })
      for (let i = 1; i < markers.length; i++) expect(markers[i]!.t_ms).toBeGreaterThanOrEqual(markers[i - 1]!.t_ms)
      // The API serves the same markers.
      const got = Schema.decodeUnknownSync(Capture)(yield* Effect.promise(() => host.fetch(`/recordings/${id}`).then((r) => r.json())))
      expect(got.markers).toEqual(markers)
    })
  )

  it.scopedLive("a full capture marks where it stopped appending; markers reach the journal for crash recovery", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ maxSamples: 3 })
      const recorder = Context.get(host.context, Recorder)
      yield* recorder.start()
      yield* recorder.registerSession({ ...session, session_id: "s" })
      const window = sampleFixture({ t_ms: 0, session_id: "s", stages: [], fps: 60 })
      for (let i = 0; i < 5; i++) yield* recorder.pushSample(window)
      yield* recorder.mark("after the end")
      // The journal holds every marker so far (appended in the background: wait for it).
      const journal = path.join(host.capturesDir, ".journal.ndjson")
      yield* Effect.promise(async () => {
        for (let i = 0; i < 100; i++) {
          const replay = fs.existsSync(journal) ? replayJournal(fs.readFileSync(journal, "utf8")) : undefined
          if ((replay?.markers.length ?? 0) >= 3) return
          await new Promise((r) => setTimeout(r, 50))
        }
      })
      const replay = replayJournal(fs.readFileSync(journal, "utf8"))
      expect(replay?.markers.map((m) => m.kind)).toEqual(["session_start", "truncated", "operator"])
    })
  )

  it("a capture saved before markers existed decodes, with none", () => {
    const old = {
      meta: {
        id: "2026-01-01T00-00-00Z_1280x720", label: "", started_unix_ms: 1, duration_ms: 0, kind: "punktfunk1", width: 1280, height: 720,
        fps: 60, codec: "h264", client: "", encoder_backend: "libx264", gpu: "none", sample_count: 0, truncated: false,
        recovered: false, measured: [], sessions: []
      },
      samples: []
    }
    // Through the migrations every older file passes (src/api/CaptureFormat.ts), as the store and import do.
    const migrated = migrateCapture(old)
    if (!migrated.ok) throw new Error(migrated.refused.reason)
    expect(Schema.decodeUnknownSync(Capture)(migrated.migrated.value).markers).toBeUndefined()
  })
})
