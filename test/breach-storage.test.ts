/**
 * Budget-breach events in the capture file (issue 14.2): a capture is saved with the events found
 * under the default thresholds and those thresholds, its meta counts them for the recordings list,
 * the JSON export is the stored bytes (so it carries them) and the CSV has them in its `breaches`
 * column. A capture and an index from before breach events were stored still load and list; the
 * migration that rewrites such a capture stores its events, so the list counts them too.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { DEFAULT_BREACH_THRESHOLDS, findBreaches } from "../src/api/Breaches.js"
import { CAPTURE_FORMAT_VERSION } from "../src/api/CaptureFormat.js"
import { zeroFields } from "../src/api/Fields.js"
import { Capture } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import type { SessionMeta, StatsSample } from "../src/api/Stats.js"
import { withStoredBreaches } from "../src/lib/captures/CaptureAssembly.js"
import { Recorder } from "../src/services/Recorder.js"
import { json, startHost, tempDir } from "./support/TestHost.js"

const decodeList = Schema.decodeUnknownSync(CaptureListing)

const session: SessionMeta = {
  session_id: "n-1", kind: "punktfunk1", width: 1280, height: 720, fps: 60, codec: "h264", client: "test",
  encoder_backend: "fake", gpu: "none", stages: ["encode"], measured: ["fps", "host_p50_us", "host_p99_us", "frames_dropped"]
}

/** A healthy window, unless told otherwise: 60 fps, host p99 7 ms (budget 16.7 ms), no drops. */
const window = (over: Partial<StatsSample> = {}): StatsSample => ({
  ...zeroFields(),
  t_ms: 0,
  session_id: "n-1",
  stages: [{ name: "encode", p50_us: 2000, p99_us: 3000, max_us: 4000, mean_us: 2100 }],
  fps: 60,
  host_p50_us: 5000,
  host_p99_us: 7000,
  ...over
})

const csvRows = (body: string) => body.trim().split("\r\n").map((line) => line.split(","))

describe("breach events in the capture file", () => {
  it.scopedLive("saved with the default thresholds, counted in the meta and the list, in the JSON and CSV exports", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const recorder = Context.get(host.context, Recorder)
      yield* recorder.start("with breaches")
      yield* recorder.registerSession(session)
      // Windows 3 and 4: host p99 40 ms (critical: over twice the budget); window 6: 2 drops.
      const windows = [window(), window(), window({ host_p99_us: 40_000 }), window({ host_p99_us: 40_000 }), window(), window({ frames_dropped: 2 }), window()]
      for (const w of windows) {
        yield* recorder.pushSample(w)
        yield* Effect.sleep("5 millis")
      }
      const stop = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      const { id } = (yield* Effect.promise(() => stop.json())) as { id: string }
      const stored = fs.readFileSync(path.join(host.capturesDir, `${id}.json`), "utf8")
      const saved = Schema.decodeUnknownSync(Schema.parseJson(Capture))(stored)

      expect(saved.breaches?.thresholds).toEqual(DEFAULT_BREACH_THRESHOLDS)
      const events = saved.breaches?.events ?? []
      expect(events.map((e) => [e.kind, e.severity, e.windows])).toEqual([
        ["host_p99", "critical", 2],
        ["drops", "critical", 1]
      ])
      expect(saved.meta.breach_count).toEqual({ total: 2, critical: 2 })

      // The list (from the index) carries the count; the JSON export is the stored bytes.
      const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
      expect(listed.find((m) => m.id === id)?.breach_count).toEqual({ total: 2, critical: 2 })
      const exported = yield* Effect.promise(() => host.fetch(`/recordings/${id}/export?format=json`).then((r) => r.text()))
      expect(exported).toBe(stored)

      // CSV: one `breaches` cell per row, `kind:severity` for each event covering the window.
      const rows = csvRows(yield* Effect.promise(() => host.fetch(`/recordings/${id}/export?format=csv`).then((r) => r.text())))
      const header = rows[0]!
      expect(header[header.length - 1]).toBe("breaches")
      const cells = rows.slice(1).map((r) => r[header.indexOf("breaches")])
      expect(cells).toEqual(["", "", "host_p99:critical", "host_p99:critical", "", "drops:critical", ""])

      // The index on disk holds the count, so a restarted host lists it without reading captures.
      const index = JSON.parse(fs.readFileSync(path.join(host.capturesDir, ".capture-index"), "utf8")) as {
        entries: Array<{ meta: { id: string; breach_count?: unknown } }>
      }
      expect(index.entries.find((e) => e.meta.id === id)?.meta.breach_count).toEqual({ total: 2, critical: 2 })
    })
  )

  it.scopedLive("a capture and an index from before breach events load; the migration stores its events, the list counts them, the CSV has them", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      fs.mkdirSync(capturesDir, { recursive: true, mode: 0o700 })
      const id = "old_1280x720"
      const samples = [1, 2, 3].map((i) => window({ t_ms: i * 2000, frames_dropped: i === 2 ? 1 : 0 }))
      // Written as an older host wrote it: no markers, no breaches, no breach_count.
      const meta = {
        id, label: "old", started_unix_ms: Date.UTC(2026, 0, 1), duration_ms: 6000, kind: "punktfunk1", width: 1280, height: 720,
        fps: 60, codec: "h264", client: "test", encoder_backend: "fake", gpu: "none", sample_count: 3, truncated: false,
        recovered: false, measured: session.measured, sessions: [session]
      }
      const body = JSON.stringify({ meta, samples })
      fs.writeFileSync(path.join(capturesDir, `${id}.json`), body)
      fs.writeFileSync(path.join(capturesDir, `${id}.meta.json`), JSON.stringify(meta))
      // And the index an older host left, its entry with signatures of these very files.
      const sig = (file: string) => {
        const st = fs.statSync(path.join(capturesDir, file))
        return { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino }
      }
      fs.writeFileSync(
        path.join(capturesDir, ".capture-index"),
        JSON.stringify({ version: 1, entries: [{ meta, meta_file: sig(`${id}.meta.json`), data_file: sig(`${id}.json`), verdict: { ok: true } }] })
      )
      const host = yield* startHost({ dir })
      // Migrated to the current format and rewritten when indexed (src/api/CaptureFormat.ts), and
      // the rewrite stores its breach events (default thresholds), so the list counts them.
      const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
      expect(listed.map((m) => m.id)).toEqual([id])
      expect(listed[0]?.breach_count).toEqual({ total: 1, critical: 0 })
      const got = yield* Effect.promise(() => host.fetch(`/recordings/${id}`).then(async (r) => ({ status: r.status, body: await r.text() })))
      expect(got.status).toBe(200)
      const stored = fs.readFileSync(path.join(capturesDir, `${id}.json`), "utf8")
      expect(got.body).toBe(stored)
      expect(stored).not.toBe(body)
      const rewritten = Schema.decodeUnknownSync(Schema.parseJson(Capture))(stored)
      expect(rewritten).toMatchObject({ samples })
      expect(rewritten.breaches?.thresholds).toEqual(DEFAULT_BREACH_THRESHOLDS)
      expect(rewritten.breaches?.events.map((e) => [e.kind, e.severity])).toEqual([["drops", "warning"]])
      expect(rewritten.meta.breach_count).toEqual({ total: 1, critical: 0 })
      const rows = csvRows(yield* Effect.promise(() => host.fetch(`/recordings/${id}/export?format=csv`).then((r) => r.text())))
      expect(rows.slice(1).map((r) => r[rows[0]!.indexOf("breaches")])).toEqual(["", "drops:warning", ""])
    })
  )

  it("withStoredBreaches brings an older capture up to date (for a migration) and leaves a current one as it is", () => {
    const samples = [1, 2, 3, 4].map((i) => window({ t_ms: i * 2000, host_p99_us: i === 3 ? 20_000 : 7000 }))
    const meta = {
      id: "x", label: "", started_unix_ms: 0, duration_ms: 8000, kind: "punktfunk1" as const, width: 1280, height: 720, fps: 60,
      codec: "h264", client: "", encoder_backend: "fake", gpu: "none", sample_count: 4, truncated: false, recovered: false,
      measured: session.measured, sessions: [session], format_version: CAPTURE_FORMAT_VERSION, imported: false
    }
    const updated = withStoredBreaches({ meta, samples })
    expect(updated.breaches).toEqual({ thresholds: DEFAULT_BREACH_THRESHOLDS, events: findBreaches(meta, samples) })
    expect(updated.breaches?.events.map((e) => [e.kind, e.severity])).toEqual([["host_p99", "warning"]])
    expect(updated.meta.breach_count).toEqual({ total: 1, critical: 0 })
    expect(withStoredBreaches(updated)).toBe(updated)
    Schema.decodeUnknownSync(Capture)(updated)
  })
})
