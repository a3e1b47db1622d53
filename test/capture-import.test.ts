/**
 * `POST /api/v1/stats/recordings/import`: a capture file this host exported (or an older host,
 * in an earlier format) is stored under a new id marked `imported`, never over an existing
 * capture; a file the Schemas refuse is a 400 naming the field; a body over the import's own
 * bound is a 413, refused before it is read when it declares its length and at the bound while
 * it streams otherwise; the rest of the API keeps its 64 KiB; the token is required.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { CAPTURE_FORMAT_VERSION } from "../src/api/CaptureFormat.js"
import { zeroFields } from "../src/api/Fields.js"
import { Capture, CaptureMeta } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import type { StatsSample } from "../src/api/Stats.js"
import { summarizeCapture, fieldStat } from "../src/api/Summary.js"
import { oldCapture } from "./support/OldCaptures.js"
import { json, startHost, tempDir } from "./support/TestHost.js"
import type { StartedHost } from "./support/TestHost.js"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture))
const decodeCapture = Schema.decodeUnknownSync(Schema.parseJson(Capture))
const decodeMeta = Schema.decodeUnknownSync(CaptureMeta)
const decodeList = Schema.decodeUnknownSync(CaptureListing)

const sample = (i: number): StatsSample => ({
  ...zeroFields(),
  t_ms: i * 2000,
  session_id: "s1",
  stages: [{ name: "encode", p50_us: 2000 + i, p99_us: 3000 + i, max_us: 4000 + i, mean_us: 2100 + i }],
  fps: 58 + (i % 3),
  mbps: 20,
  bitrate_kbps: 20_000,
  frames_dropped: i % 7 === 0 ? 1 : 0,
  host_p50_us: 2500,
  host_p99_us: 3500 + i
})

const STARTED = Date.UTC(2026, 5, 1, 12, 0, 0)
const LOCAL_ID = "2026-06-01T12-00-00Z_1280x720"

const captureOf = (samples: number, label = "exported elsewhere"): Capture => ({
  meta: {
    format_version: CAPTURE_FORMAT_VERSION,
    id: LOCAL_ID,
    label,
    started_unix_ms: STARTED,
    duration_ms: samples * 2000,
    kind: "punktfunk1",
    width: 1280,
    height: 720,
    fps: 60,
    codec: "h264",
    client: "other-host",
    encoder_backend: "libx264",
    gpu: "none",
    sample_count: samples,
    truncated: false,
    recovered: false,
    measured: ["fps", "frames_dropped", "host_p50_us", "host_p99_us"],
    sessions: [
      {
        session_id: "s1", kind: "punktfunk1", width: 1280, height: 720, fps: 60, codec: "h264", client: "other-host",
        encoder_backend: "libx264", gpu: "none", stages: ["encode"], measured: ["fps", "frames_dropped", "host_p50_us", "host_p99_us"]
      }
    ],
    frames: { spans: 1, frames: 40, bound_hit: false },
    imported: false
  },
  samples: Array.from({ length: samples }, (_, i) => sample(i)),
  markers: [{ t_ms: 4000, label: "stutter", kind: "operator" }]
})

const post = (host: StartedHost, body: string | Uint8Array, init: { token?: string | null; type?: string } = {}) =>
  Effect.promise(async () => {
    const res = await host.fetch("/recordings/import", {
      method: "POST",
      body,
      headers: { "content-type": init.type ?? "application/json" },
      ...(init.token === undefined ? {} : { token: init.token })
    })
    return { status: res.status, body: await res.text() }
  })

const listOf = (host: StartedHost) => Effect.promise(async () => decodeList(await json(await host.fetch("/recordings"))))
/** The captures' data files (not their meta files). */
const captureFiles = (host: StartedHost) =>
  fs.readdirSync(host.capturesDir).filter((n) => n.endsWith(".json") && !n.endsWith(".meta.json")).sort()

describe("import", () => {
  it.scopedLive("a capture file is stored under a new id, marked imported, and opens, exports and lists like any other", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const file = encodeCapture(captureOf(300))
      // Well over the API's general 64 KiB: the import has its own bound.
      expect(Buffer.byteLength(file)).toBeGreaterThan(64 * 1024)
      const res = yield* post(host, file)
      expect(res.status, res.body).toBe(201)
      const meta = decodeMeta(JSON.parse(res.body))
      expect(meta.imported).toBe(true)
      expect(meta.label).toBe("exported elsewhere")
      expect(meta.sample_count).toBe(300)
      // The flight records are not in an export: the imported meta does not promise any.
      expect(meta.frames).toBeUndefined()

      const listed = yield* listOf(host)
      expect(listed.map((m) => [m.id, m.imported])).toEqual([[meta.id, true]])
      const got = yield* Effect.promise(() => host.fetch(`/recordings/${meta.id}`).then((r) => r.text()))
      const stored = fs.readFileSync(path.join(host.capturesDir, `${meta.id}.json`), "utf8")
      expect(got).toBe(stored)
      const capture = decodeCapture(stored)
      expect(capture.samples).toEqual(captureOf(300).samples)
      expect(capture.markers).toEqual([{ t_ms: 4000, label: "stutter", kind: "operator" }])
      expect((yield* Effect.promise(() => host.fetch(`/recordings/${meta.id}/export?format=json`).then((r) => r.text())))).toBe(stored)
    })
  )

  it.scopedLive("never overwrites: the same file twice, or one naming an existing capture, gets ids of its own", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      fs.mkdirSync(capturesDir, { recursive: true, mode: 0o700 })
      // A capture recorded here, whose id and start the imported file shares.
      const local = captureOf(5, "recorded here")
      fs.writeFileSync(path.join(capturesDir, `${LOCAL_ID}.json`), encodeCapture(local))
      fs.writeFileSync(path.join(capturesDir, `${LOCAL_ID}.meta.json`), JSON.stringify(Schema.encodeSync(CaptureMeta)(local.meta)))
      const host = yield* startHost({ dir })
      const localBytes = fs.readFileSync(path.join(capturesDir, `${LOCAL_ID}.json`), "utf8")

      const file = encodeCapture(captureOf(8, "from elsewhere"))
      const first = decodeMeta(JSON.parse((yield* post(host, file)).body))
      const second = decodeMeta(JSON.parse((yield* post(host, file)).body))
      expect(new Set([LOCAL_ID, first.id, second.id]).size).toBe(3)
      expect([first.id, second.id]).toEqual([`${LOCAL_ID}-2`, `${LOCAL_ID}-3`])
      expect(fs.readFileSync(path.join(capturesDir, `${LOCAL_ID}.json`), "utf8")).toBe(localBytes)
      const listed = yield* listOf(host)
      expect(listed.map((m) => [m.id, m.label, m.imported]).sort()).toEqual(
        [
          [LOCAL_ID, "recorded here", false],
          [first.id, "from elsewhere", true],
          [second.id, "from elsewhere", true]
        ].sort()
      )
    })
  )

  it.scopedLive("a file of an older format is migrated and stored in the current one", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const old = oldCapture(1)
      const res = yield* post(host, JSON.stringify(old.data))
      expect(res.status, res.body).toBe(201)
      const meta = decodeMeta(JSON.parse(res.body))
      const stored = decodeCapture(fs.readFileSync(path.join(host.capturesDir, `${meta.id}.json`), "utf8"))
      expect(stored.meta.format_version).toBe(CAPTURE_FORMAT_VERSION)
      expect(stored.meta.imported).toBe(true)
      expect(stored.samples.map((s) => [s.fps, s.client_frames_dropped, s.windows_dropped])).toEqual(
        (old.data["samples"] as Array<{ fps: number }>).map((s) => [s.fps, 0, 0])
      )
      // Its punktfunk/1 session was of kind native then: punktfunk1 now (format 9).
      expect([stored.meta.kind, ...stored.meta.sessions.map((s) => s.kind)]).toEqual(["punktfunk1", "punktfunk1"])
    })
  )

  it.scopedLive("a version-8 export (the last to say native) imports as punktfunk1", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const old = oldCapture(8)
      expect((old.data["meta"] as { kind: string }).kind).toBe("native")
      const res = yield* post(host, JSON.stringify(old.data))
      expect(res.status, res.body).toBe(201)
      const meta = decodeMeta(JSON.parse(res.body))
      expect([meta.kind, meta.format_version, meta.imported]).toEqual(["punktfunk1", CAPTURE_FORMAT_VERSION, true])
      expect((yield* listOf(host)).find((m) => m.id === meta.id)?.kind).toBe("punktfunk1")
    })
  )

  it.scopedLive("compare works across an imported and a local capture", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 25 })
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      yield* Effect.sleep("300 millis")
      const local = decodeMeta(yield* Effect.promise(async () => json(await host.fetch("/stop", { method: "POST" }))))
      const imported = decodeMeta(JSON.parse((yield* post(host, encodeCapture(captureOf(30)))).body))
      // What the console's compare view computes from each: both open and summarise side by side.
      const [a, b] = yield* Effect.promise(() =>
        Promise.all([local.id, imported.id].map(async (id) => decodeCapture(await (await host.fetch(`/recordings/${id}`)).text())))
      )
      const [sa, sb] = [summarizeCapture(a!), summarizeCapture(b!)]
      expect(fieldStat(sa, "fps", "mean")).toBeGreaterThan(0)
      expect(fieldStat(sb, "fps", "mean")).toBeCloseTo(captureOf(30).samples.reduce((s, x) => s + x.fps, 0) / 30, 6)
      expect(sb.stages.map((s) => s.name)).toEqual(["encode"])
    })
  )
})

describe("import refuses what is not a capture, naming the field", () => {
  const cases: ReadonlyArray<readonly [string, (c: Record<string, unknown>) => unknown, string]> = [
    ["a negative frame rate in sample 3", (c) => ((c["samples"] as Array<Record<string, unknown>>)[3]!["fps"] = -1), "samples.3.fps"],
    ["a meta without a label", (c) => delete (c["meta"] as Record<string, unknown>)["label"], "meta.label"],
    ["an unknown stream kind", (c) => ((c["meta"] as Record<string, unknown>)["kind"] = "smoke-signals"), "meta.kind"],
    ["a marker of an unknown kind", (c) => ((c["markers"] as Array<Record<string, unknown>>)[0]!["kind"] = "nope"), "markers.0.kind"],
    ["a format from a newer host", (c) => ((c["meta"] as Record<string, unknown>)["format_version"] = 99), "meta.format_version"],
    ["samples that are not a list", (c) => (c["samples"] = "many"), "samples"]
  ]
  it.scopedLive("each with a 400 whose field and message name it; nothing is stored", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      for (const [what, spoil, field] of cases) {
        const body = JSON.parse(encodeCapture(captureOf(5))) as Record<string, unknown>
        spoil(body)
        const res = yield* post(host, JSON.stringify(body))
        expect(res.status, what).toBe(400)
        const err = JSON.parse(res.body) as { _tag: string; field: string; message: string }
        expect(err._tag, what).toBe("CaptureImportInvalid")
        expect(err.field, what).toBe(field)
        expect(err.message, what).toContain(field)
      }
      for (const [what, body, words] of [
        ["not JSON", "{\"meta\": ", "not JSON"],
        ["not an object", "[1, 2, 3]", "not a JSON object"],
        ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "not UTF-8"]
      ] as const) {
        const res = yield* post(host, body)
        expect(res.status, what).toBe(400)
        const err = JSON.parse(res.body) as { _tag: string; field: string; message: string }
        expect([err._tag, err.field], what).toEqual(["CaptureImportInvalid", ""])
        expect(err.message, what).toContain(words)
      }
      expect(captureFiles(host)).toEqual([])
    })
  )
})

/**
 * Stream `total` bytes of an endless JSON array in chunks without declaring a length (chunked
 * encoding), and report the answer and how much had been written when it came.
 */
const streamUntilAnswered = (url: string, token: string, total: number) =>
  new Promise<{ status: number; body: string; writtenWhenAnswered: number }>((resolve, reject) => {
    const u = new URL(`${url}/api/v1/stats/recordings/import`)
    let written = 0
    let answeredAt = -1
    const req = http.request(
      { host: u.hostname, port: u.port, method: "POST", path: u.pathname, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } },
      (res) => {
        answeredAt = written
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (body += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, writtenWhenAnswered: answeredAt }))
      }
    )
    req.on("error", (e) => (answeredAt >= 0 ? undefined : reject(e)))
    const chunk = Buffer.alloc(16 * 1024, "[1,2,3,4,5,6,7,8],")
    const pump = () => {
      while (written < total && answeredAt < 0) {
        written += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
      if (answeredAt < 0) req.end()
    }
    req.write("[")
    pump()
  })

describe("import's own size bound", () => {
  const BOUND = 256 * 1024

  it.scopedLive("a declared length over it is a 413 before reading; a streamed body is refused where it passes it", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_IMPORT_MAX_BYTES: String(BOUND) } })
      // Just under: stored. Just over, declared: 413 naming the bound.
      let under = encodeCapture(captureOf(200))
      while (Buffer.byteLength(under) > BOUND) under = encodeCapture(captureOf(JSON.parse(under).samples.length - 20))
      expect(Buffer.byteLength(under)).toBeGreaterThan(64 * 1024)
      expect((yield* post(host, under)).status).toBe(201)
      const over = encodeCapture(captureOf(2000))
      expect(Buffer.byteLength(over)).toBeGreaterThan(BOUND)
      const declared = yield* post(host, over)
      expect(declared.status).toBe(413)
      const err = JSON.parse(declared.body) as { _tag: string; max_bytes: number; message: string }
      expect(err._tag).toBe("ImportTooLarge")
      expect(err.max_bytes).toBe(BOUND)
      expect(err.message).toContain(`${BOUND} bytes`)

      // No declared length: the answer comes once the bound is passed, long before the 16 MiB end.
      const streamed = yield* Effect.promise(() => streamUntilAnswered(host.url, host.token, 16 * 1024 * 1024))
      expect(streamed.status).toBe(413)
      expect((JSON.parse(streamed.body) as { _tag: string })._tag).toBe("ImportTooLarge")
      expect(streamed.writtenWhenAnswered).toBeLessThan(8 * 1024 * 1024)
      expect(captureFiles(host)).toHaveLength(1)
      // The host still answers.
      expect((yield* Effect.promise(() => host.fetch("/status"))).status).toBe(200)
    })
  )

  it.scopedLive("the rest of the API keeps its 64 KiB", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const res = yield* Effect.promise(() =>
        host.fetch("/markers", { method: "POST", body: JSON.stringify({ label: "x".repeat(70 * 1024) }), headers: { "content-type": "application/json" } })
      )
      expect(res.status).toBe(413)
      expect(yield* Effect.promise(() => res.text())).toContain(String(64 * 1024))
    })
  )

  it.scopedLive("without the token: 401, the body is not read and nothing is stored", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      expect((yield* post(host, encodeCapture(captureOf(5)), { token: null })).status).toBe(401)
      expect((yield* post(host, encodeCapture(captureOf(5)), { token: "wrong" })).status).toBe(401)
      expect(captureFiles(host)).toEqual([])
    })
  )
})
