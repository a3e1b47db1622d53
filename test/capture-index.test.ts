/**
 * The capture index and the checked bytes: a capture is served exactly as stored (get and the
 * JSON export are the file's own bytes), a file that fails its check is reported and never
 * served, a file changed on disk after its check is checked again, and the index on disk is only
 * a cache — stale or garbage after a crash, the listing still says what the files say.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { sampleFixture } from "../src/api/SampleFixture.js"
import { Capture, CaptureMeta } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import type { StatsSample } from "../src/api/Stats.js"
import { CAPTURE_FORMAT_VERSION } from "../src/api/CaptureFormat.js"
import { json, startHost, tempDir } from "./support/TestHost.js"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture))
const encodeMeta = Schema.encodeSync(Schema.parseJson(CaptureMeta))
const decodeList = Schema.decodeUnknownSync(CaptureListing)
const INDEX = ".capture-index"

const sample = (i: number): StatsSample => sampleFixture({
  t_ms: i * 2000,
  session_id: "s1",
  stages: [{ name: "encode", p50_us: 2000 + i, p99_us: 3000 + i, max_us: 4000 + i, mean_us: 2100 + i }],
  fps: 60,
  repeat_fps: 0,
  mbps: 20,
  bitrate_kbps: 20_000,
  frames_dropped: i % 3,
  host_p50_us: 2500,
  host_p99_us: 3500
})

const captureOf = (id: string, started: number, samples: number, label = ""): Capture => ({
  meta: {
    format_version: CAPTURE_FORMAT_VERSION,
    id,
    label,
    started_unix_ms: started,
    duration_ms: samples * 2000,
    kind: "punktfunk1",
    width: 1280,
    height: 720,
    fps: 60,
    codec: "h264",
    client: "test",
    encoder_backend: "fake",
    gpu: "none",
    sample_count: samples,
    truncated: false,
    recovered: false,
    measured: ["fps", "frames_dropped"],
    sessions: [
      {
        session_id: "s1", kind: "punktfunk1", width: 1280, height: 720, fps: 60, codec: "h264", client: "test",
        encoder_backend: "fake", gpu: "none", stages: ["encode"], measured: ["fps", "frames_dropped"]
      }
    ],
    imported: false
  },
  samples: Array.from({ length: samples }, (_, i) => sample(i))
})

/** Store a capture as the store does: data file, then its meta beside it. */
const writeCapture = (capturesDir: string, capture: Capture, data = encodeCapture(capture)) => {
  fs.mkdirSync(capturesDir, { recursive: true, mode: 0o700 })
  fs.writeFileSync(path.join(capturesDir, `${capture.meta.id}.json`), data)
  fs.writeFileSync(path.join(capturesDir, `${capture.meta.id}.meta.json`), encodeMeta(capture.meta))
}

const text = (res: Response) => Effect.promise(() => res.text())
const fetchText = (host: { fetch: (r: string) => Promise<Response> }, route: string) =>
  Effect.promise(() => host.fetch(route)).pipe(Effect.flatMap((res) => Effect.map(text(res), (body) => ({ status: res.status, body }))))

describe("stored captures: served as checked, listed from the index", () => {
  it.scopedLive("get and the JSON export are the stored bytes; the CSV holds every sample", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const good = captureOf("good_1280x720", Date.UTC(2026, 0, 1), 1200, "baseline")
      writeCapture(capturesDir, good)
      const stored = fs.readFileSync(path.join(capturesDir, "good_1280x720.json"), "utf8")
      const host = yield* startHost({ dir })

      const got = yield* fetchText(host, "/recordings/good_1280x720")
      expect(got.status).toBe(200)
      expect(got.body).toBe(stored)
      const exported = yield* Effect.promise(() => host.fetch("/recordings/good_1280x720/export?format=json"))
      expect(exported.headers.get("content-disposition")).toContain("good_1280x720.json")
      expect(yield* text(exported)).toBe(stored)

      const csv = yield* fetchText(host, "/recordings/good_1280x720/export?format=csv")
      const lines = csv.body.trim().split("\r\n")
      expect(lines).toHaveLength(1 + 1200)
      const header = lines[0]!.split(",")
      const last = lines[1200]!.split(",")
      expect(last[header.indexOf("t_ms")]).toBe(String(1199 * 2000))
      expect(last[header.indexOf("encode_p99_us")]).toBe(String(3000 + 1199))
      expect(last[header.indexOf("frames_dropped")]).toBe(String(1199 % 3))
    })
  )

  it.scopedLive("a file that fails its check is listed but reported on open, never served", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      // A valid meta beside a body whose 7th sample has a negative frame rate.
      const bad = captureOf("bad_1280x720", Date.UTC(2026, 0, 2), 10)
      const body = JSON.parse(encodeCapture(bad)) as { samples: Array<{ fps: number }> }
      body.samples[6]!.fps = -1
      writeCapture(capturesDir, bad, JSON.stringify(body))
      // And one cut short mid-write by something other than the store.
      const torn = captureOf("torn_1280x720", Date.UTC(2026, 0, 3), 10)
      writeCapture(capturesDir, torn, encodeCapture(torn).slice(0, 300))
      const host = yield* startHost({ dir })

      const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
      expect(listed.map((m) => m.id).sort()).toEqual(["bad_1280x720", "torn_1280x720"])
      for (const route of ["/recordings/bad_1280x720", "/recordings/bad_1280x720/export?format=json", "/recordings/bad_1280x720/export?format=csv"]) {
        const res = yield* fetchText(host, route)
        expect(res.status).toBe(500)
        expect(res.body).toContain("CaptureReadError")
        expect(res.body).toContain("sample 6 is invalid")
        expect(res.body).not.toContain("\"samples\"")
      }
      const torn500 = yield* fetchText(host, "/recordings/torn_1280x720")
      expect(torn500.status).toBe(500)
      expect(torn500.body).toContain("is not JSON")
    })
  )

  it.scopedLive("a file changed on disk after its check is checked again before it is served", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const capture = captureOf("later_1280x720", Date.UTC(2026, 0, 4), 50)
      writeCapture(capturesDir, capture)
      const host = yield* startHost({ dir })
      expect((yield* fetchText(host, "/recordings/later_1280x720")).status).toBe(200)
      // Something other than the store rewrites the body in place with garbage.
      fs.writeFileSync(path.join(capturesDir, "later_1280x720.json"), "{\"meta\": 1, \"samples\": []}")
      const after = yield* fetchText(host, "/recordings/later_1280x720")
      expect(after.status).toBe(500)
      expect(after.body).toContain("its meta is invalid")
    })
  )

  it.scopedLive("the index left stale or broken by a crash: the listing still follows the files", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const a = captureOf("a_1280x720", Date.UTC(2026, 0, 5), 20, "first label")
      const b = captureOf("b_1280x720", Date.UTC(2026, 0, 6), 20)
      writeCapture(capturesDir, a)
      writeCapture(capturesDir, b)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const host = yield* startHost({ dir })
          const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
          expect(listed.map((m) => m.id)).toEqual(["b_1280x720", "a_1280x720"])
        })
      )
      expect(fs.existsSync(path.join(capturesDir, INDEX))).toBe(true)
      // As if a host died after renaming a relabelled capture in but before writing the index,
      // and after saving a new capture: the index knows neither.
      const relabelled = { ...a, meta: { ...a.meta, label: "second label" } }
      writeCapture(capturesDir, relabelled)
      writeCapture(capturesDir, captureOf("c_1280x720", Date.UTC(2026, 0, 7), 20))
      fs.rmSync(path.join(capturesDir, "b_1280x720.json"))
      fs.rmSync(path.join(capturesDir, "b_1280x720.meta.json"))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const host = yield* startHost({ dir })
          const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
          expect(listed.map((m) => [m.id, m.label])).toEqual([
            ["c_1280x720", ""],
            ["a_1280x720", "second label"]
          ])
          expect((yield* fetchText(host, "/recordings/b_1280x720")).status).toBe(404)
        })
      )
      // A garbage index is rebuilt from the files.
      fs.writeFileSync(path.join(capturesDir, INDEX), "{ not json")
      const host = yield* startHost({ dir })
      const listed = decodeList(yield* Effect.promise(async () => json(await host.fetch("/recordings"))))
      expect(listed.map((m) => [m.id, m.label])).toEqual([
        ["c_1280x720", ""],
        ["a_1280x720", "second label"]
      ])
      const got = yield* fetchText(host, "/recordings/a_1280x720")
      expect(Schema.decodeUnknownSync(Schema.parseJson(Capture))(got.body).meta.label).toBe("second label")
    })
  )
})
