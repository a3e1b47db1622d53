/**
 * Capture format versions: a file of every earlier version (written as that version wrote it,
 * `support/OldCaptures.ts`) is migrated when the store indexes it, rewritten atomically in the
 * current format — after which get and the JSON export are again the stored bytes — with nothing
 * it held lost; a disk that refuses the rewrite leaves the old file as it was; a file from a newer
 * host is refused with a reason naming its version.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { CAPTURE_FORMAT_VERSION, MIGRATIONS, migrateCapture } from "../src/api/CaptureFormat.js"
import { Capture, CaptureMeta } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import { DiskOps, nodeDiskOps, toDiskError } from "../src/services/DiskOps.js"
import { migratedMetaOf, OLD_VERSIONS, oldCapture, writeOldCapture, writeOldIndex } from "./support/OldCaptures.js"
import type { Json } from "./support/OldCaptures.js"
import { json, startHost, tempDir } from "./support/TestHost.js"

const decodeList = Schema.decodeUnknownSync(CaptureListing)
const decodeCapture = Schema.decodeUnknownSync(Schema.parseJson(Capture))
const decodeMeta = Schema.decodeUnknownSync(Schema.parseJson(CaptureMeta))

const fetchText = (host: { fetch: (r: string) => Promise<Response> }, route: string) =>
  Effect.promise(async () => {
    const res = await host.fetch(route)
    return { status: res.status, body: await res.text() }
  })

const listOf = (host: { fetch: (r: string) => Promise<Response> }) =>
  Effect.promise(async () => decodeList(await json(await host.fetch("/recordings"))))

/** Every key an old sample had keeps its value in the migrated one. */
const expectKept = (before: ReadonlyArray<Json>, after: ReadonlyArray<unknown>) => {
  expect(after).toHaveLength(before.length)
  before.forEach((old, i) => expect(after[i]).toMatchObject(old))
}

describe("capture format versions", () => {
  it("the migrations run 2, 3, … up to the version this host writes, one step each", () => {
    expect(MIGRATIONS.map((m) => m.to)).toEqual(Array.from({ length: CAPTURE_FORMAT_VERSION - 1 }, (_, i) => i + 2))
    expect(MIGRATIONS[MIGRATIONS.length - 1]?.to).toBe(CAPTURE_FORMAT_VERSION)
  })

  for (const version of OLD_VERSIONS) {
    it(`a version-${version} file migrates to one today's Schema decodes, keeping what it held`, () => {
      const old = oldCapture(version)
      const value = structuredClone(old.data)
      const migrated = migrateCapture(value)
      if (!migrated.ok) throw new Error(migrated.refused.reason)
      // Versions 1–7 carry no number (read as 1); 8 says so.
      expect(migrated.migrated.from).toBe(version >= 8 ? 8 : 1)
      const capture = Schema.decodeUnknownSync(Capture)(migrated.migrated.value)
      expect(capture.meta.format_version).toBe(CAPTURE_FORMAT_VERSION)
      expect(capture.meta.imported).toBe(false)
      expect(capture.meta).toMatchObject(migratedMetaOf(old))
      expect([capture.meta.kind, ...capture.meta.sessions.map((s) => s.kind)]).toEqual(["punktfunk1", "punktfunk1"])
      expectKept(old.data["samples"] as ReadonlyArray<Json>, capture.samples)
      // Counters the file predates are 0 (and, absent from its measured, shown as not measured).
      for (const s of capture.samples) {
        if (version < 2) expect(s.client_frames_dropped).toBe(0)
        if (version < 3) expect(s.windows_dropped).toBe(0)
      }
      if (version >= 4) expect(capture.markers).toEqual(old.data["markers"])
      else expect(capture.markers).toBeUndefined()
      if (version >= 7) expect(capture.breaches).toEqual(old.data["breaches"])
      else expect(capture.breaches).toBeUndefined()
    })
  }

  it("version 9 renames only the punktfunk/1 kind: a GameStream session stays, a kind of the wrong shape is left for the check to name", () => {
    const value = structuredClone(oldCapture(8).data)
    const meta = value["meta"] as Json
    const sessions = meta["sessions"] as Array<Json>
    sessions.push({ ...sessions[0], session_id: "s2", kind: "gamestream" })
    const migrated = migrateCapture(value)
    if (!migrated.ok) throw new Error(migrated.refused.reason)
    const capture = Schema.decodeUnknownSync(Capture)(migrated.migrated.value)
    expect(capture.meta.sessions.map((s) => s.kind)).toEqual(["punktfunk1", "gamestream"])

    const odd = structuredClone(oldCapture(8).data)
    ;((odd["meta"] as Json)["sessions"] as Array<Json>)[0]!["kind"] = 5
    const oddMigrated = migrateCapture(odd)
    if (!oddMigrated.ok) throw new Error(oddMigrated.refused.reason)
    expect(() => Schema.decodeUnknownSync(Capture)(oddMigrated.migrated.value)).toThrow(/kind/)
  })

  it("a file from a newer host is refused, naming its version", () => {
    const value = structuredClone(oldCapture(7).data)
    ;(value["meta"] as Json)["format_version"] = CAPTURE_FORMAT_VERSION + 1
    const migrated = migrateCapture(value)
    expect(migrated.ok).toBe(false)
    if (!migrated.ok) {
      expect(migrated.refused.field).toBe("meta.format_version")
      expect(migrated.refused.reason).toContain(`newer than this host's capture format (${CAPTURE_FORMAT_VERSION})`)
    }
  })

  it.scopedLive("old files on disk are migrated when indexed, rewritten, and then served as stored", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const olds = OLD_VERSIONS.map(oldCapture)
      for (const old of olds) writeOldCapture(capturesDir, old)
      // The index the older host left says every file was checked: it must not spare a migration.
      writeOldIndex(capturesDir, olds)
      const host = yield* startHost({ dir })

      const listed = yield* listOf(host)
      expect(listed.map((m) => m.id).sort()).toEqual(olds.map((o) => o.id).sort())
      for (const row of listed) {
        expect(row.imported).toBe(false)
        // The migration's rename shows in the listing's rows too.
        expect(row.kind).toBe("punktfunk1")
      }
      for (const old of olds) {
        const stored = fs.readFileSync(path.join(capturesDir, `${old.id}.json`), "utf8")
        const capture = decodeCapture(stored)
        expect(capture.meta.format_version).toBe(CAPTURE_FORMAT_VERSION)
        expect(capture.meta).toMatchObject(migratedMetaOf(old))
        expectKept(old.data["samples"] as ReadonlyArray<Json>, capture.samples)
        // Every counter is in the file itself now, not only defaulted on decode.
        const raw = JSON.parse(stored) as { samples: Array<Json> }
        for (const s of raw.samples) expect(Object.keys(s)).toEqual(expect.arrayContaining(["client_frames_dropped", "windows_dropped"]))
        if (old.version >= 4) expect(capture.markers).toEqual(old.data["markers"])
        if (old.version >= 7) expect(capture.breaches).toEqual(old.data["breaches"])
        // The meta file beside it is of the current format too, and the frames file untouched.
        expect(decodeMeta(fs.readFileSync(path.join(capturesDir, `${old.id}.meta.json`), "utf8"))).toEqual(capture.meta)
        if (old.frames !== undefined) expect(fs.readFileSync(path.join(capturesDir, `${old.id}.frames.json`), "utf8")).toBe(old.frames)
        // Get and the JSON export are the stored bytes again.
        const got = yield* fetchText(host, `/recordings/${old.id}`)
        expect(got.status).toBe(200)
        expect(got.body).toBe(stored)
        expect((yield* fetchText(host, `/recordings/${old.id}/export?format=json`)).body).toBe(stored)
      }
      expect(fs.readdirSync(capturesDir).filter((n) => n.endsWith(".tmp"))).toEqual([])
    })
  )

  it.scopedLive("the journal of a capture in progress left by a host before format 9 (its session of kind native) is recovered", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      fs.mkdirSync(capturesDir, { recursive: true, mode: 0o700 })
      // The lines as that host appended them: begin, its session, its samples, a marker.
      const old = oldCapture(8)
      const lines: Array<Json> = [
        { _tag: "begin", started_unix_ms: old.meta["started_unix_ms"], label: "killed while armed" },
        { _tag: "session", session: (old.meta["sessions"] as Array<Json>)[0]! },
        ...(old.data["samples"] as Array<Json>).map((sample) => ({ _tag: "sample", sample })),
        { _tag: "marker", marker: { t_ms: 5000, label: "stutter here", kind: "operator" } }
      ]
      const journal = path.join(capturesDir, ".journal.ndjson")
      fs.writeFileSync(journal, lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
      const host = yield* startHost({ dir })
      const listed = yield* listOf(host)
      expect(listed.map((m) => [m.kind, m.recovered, m.sample_count, m.label])).toEqual([["punktfunk1", true, 6, "killed while armed"]])
      const capture = decodeCapture(fs.readFileSync(path.join(capturesDir, `${listed[0]!.id}.json`), "utf8"))
      expect(capture.meta.sessions.map((s) => [s.session_id, s.kind, s.client])).toEqual([["s1", "punktfunk1", "old-client"]])
      expect(capture.markers?.map((m) => m.label)).toEqual(["stutter here"])
      expect(fs.existsSync(journal)).toBe(false)
    })
  )

  it.scopedLive("a migrated file is not rewritten again at the next start", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const old = oldCapture(3)
      writeOldCapture(capturesDir, old)
      const file = path.join(capturesDir, `${old.id}.json`)
      yield* Effect.scoped(Effect.flatMap(startHost({ dir }), listOf))
      const first = fs.statSync(file)
      const bytes = fs.readFileSync(file, "utf8")
      const host = yield* startHost({ dir })
      expect((yield* listOf(host)).map((m) => m.id)).toEqual([old.id])
      expect((yield* fetchText(host, `/recordings/${old.id}`)).body).toBe(bytes)
      const second = fs.statSync(file)
      expect([second.ino, second.mtimeMs]).toEqual([first.ino, first.mtimeMs])
    })
  )

  it.scopedLive("a file from a newer host is not listed, and opening it says why", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const capturesDir = path.join(dir, "captures")
      const old = oldCapture(6)
      const newer = { ...old.data, meta: { ...old.meta, format_version: 99 } }
      fs.mkdirSync(capturesDir, { recursive: true })
      fs.writeFileSync(path.join(capturesDir, `${old.id}.json`), JSON.stringify(newer))
      const before = fs.readFileSync(path.join(capturesDir, `${old.id}.json`), "utf8")
      const host = yield* startHost({ dir })
      expect(yield* listOf(host)).toEqual([])
      const got = yield* fetchText(host, `/recordings/${old.id}`)
      expect(got.status).toBe(500)
      expect(got.body).toContain("format_version is 99, newer than this host's capture format")
      // Left as it was for the newer host.
      expect(fs.readFileSync(path.join(capturesDir, `${old.id}.json`), "utf8")).toBe(before)
    })
  )
})

/**
 * A disk that refuses the migration's rewrite of the data file: at the write of its temp file
 * (after writing half of it, as a disk filling up would) or at the rename into place.
 */
const refusingRewrite = (id: string, at: "write" | "rename", failing: { on: boolean }) =>
  Layer.succeed(DiskOps, {
    ...nodeDiskOps,
    writeDurable: (file, data) =>
      failing.on && at === "write" && path.basename(file) === `${id}.json.tmp`
        ? Effect.zipRight(
            nodeDiskOps.writeDurable(file, data.slice(0, data.length >> 1)),
            Effect.fail(toDiskError("write", file, Object.assign(new Error("injected"), { code: "ENOSPC" })))
          )
        : nodeDiskOps.writeDurable(file, data),
    rename: (from, to) =>
      failing.on && at === "rename" && path.basename(to) === `${id}.json`
        ? Effect.fail(toDiskError("rename", `${from} -> ${to}`, Object.assign(new Error("injected"), { code: "EIO" })))
        : nodeDiskOps.rename(from, to)
  })

describe("the migration's rewrite is atomic", () => {
  for (const at of ["write", "rename"] as const) {
    it.scopedLive(`a disk fault at the ${at} leaves the old file intact; the capture is still listed and opens; a later start rewrites it`, () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const capturesDir = path.join(dir, "captures")
        const old = oldCapture(2)
        const original = writeOldCapture(capturesDir, old)
        const file = path.join(capturesDir, `${old.id}.json`)
        const originalMeta = fs.readFileSync(path.join(capturesDir, `${old.id}.meta.json`), "utf8")
        const failing = { on: true }

        yield* Effect.scoped(
          Effect.gen(function* () {
            const host = yield* startHost({ dir, disk: refusingRewrite(old.id, at, failing) })
            expect(fs.readFileSync(file, "utf8")).toBe(original)
            expect(fs.readFileSync(path.join(capturesDir, `${old.id}.meta.json`), "utf8")).toBe(originalMeta)
            const listed = yield* listOf(host)
            expect(listed.map((m) => [m.id, m.label])).toEqual([[old.id, "written by format 2"]])
            // It opens, migrated, while its file stays as it was (the retried rewrite fails too).
            const got = yield* fetchText(host, `/recordings/${old.id}`)
            expect(got.status).toBe(200)
            const served = decodeCapture(got.body)
            expect(served.meta.format_version).toBe(CAPTURE_FORMAT_VERSION)
            expectKept(old.data["samples"] as ReadonlyArray<Json>, served.samples)
            yield* Effect.sleep("100 millis")
            expect(fs.readFileSync(file, "utf8")).toBe(original)
          })
        )

        // The disk takes writes again: the next start migrates and rewrites it.
        failing.on = false
        const host = yield* startHost({ dir })
        const stored = fs.readFileSync(file, "utf8")
        expect(decodeCapture(stored).meta.format_version).toBe(CAPTURE_FORMAT_VERSION)
        expect((yield* fetchText(host, `/recordings/${old.id}`)).body).toBe(stored)
        expect(fs.readdirSync(capturesDir).filter((n) => n.endsWith(".tmp"))).toEqual([])
      })
    )
  }
})
