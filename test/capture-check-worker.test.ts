/**
 * The full check of stored captures off the event loop (src/services/CaptureChecker.ts): the
 * compiled worker reaches the same verdicts, with the same reasons, as the check on the event
 * loop; a worker that dies hands its checks back instead of failing good files; and the listing
 * and index encoded from remembered per-value encodings are the bytes their Schemas give.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { CAPTURE_FORMAT_VERSION } from "../src/api/CaptureFormat.js"
import { zeroFields } from "../src/api/Fields.js"
import { Capture, CaptureMeta, captureListItem } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import { makeCaptureChecker } from "../src/lib/captures/CaptureChecker.js"
import { CaptureIndexFile } from "../src/lib/captures/CaptureIndex.js"
import type { IndexEntry } from "../src/lib/captures/CaptureIndex.js"
import { encodeIndex, encodeListing } from "../src/services/CaptureStore.js"
import { requireBuild, root } from "./support/HostProcess.js"
import { oldCapture } from "./support/OldCaptures.js"
import { tempDir } from "./support/TestHost.js"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture))
const compiledWorker = path.join(root, "dist", "lib", "captures", "CaptureCheckWorker.js")

const captureOf = (id: string, started: number, samples: number, label = ""): Capture => ({
  meta: {
    format_version: CAPTURE_FORMAT_VERSION, imported: false, id, label, started_unix_ms: started, duration_ms: samples * 2000, kind: "punktfunk1", width: 1280, height: 720, fps: 60,
    codec: "h264", client: "test", encoder_backend: "fake", gpu: "none", sample_count: samples, truncated: false,
    recovered: false, measured: ["fps"],
    sessions: [
      { session_id: "s1", kind: "punktfunk1", width: 1280, height: 720, fps: 60, codec: "h264", client: "test", encoder_backend: "fake", gpu: "none", stages: ["encode"], measured: ["fps"] }
    ]
  },
  samples: Array.from({ length: samples }, (_, i) => ({
    ...zeroFields(),
    t_ms: i * 2000,
    session_id: "s1",
    stages: [{ name: "encode" as const, p50_us: 2000 + i, p99_us: 3000, max_us: 4000, mean_us: 2100 }],
    fps: 60
  }))
})

const bytesOf = (text: string) => new TextEncoder().encode(text)
const good = captureOf("good_1280x720", Date.UTC(2026, 0, 1), 1_000, "kept")
const withBadSample = (() => {
  const body = JSON.parse(encodeCapture(good)) as { samples: Array<{ fps: number }> }
  body.samples[321]!.fps = -5
  return JSON.stringify(body)
})()
const cases: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["good", bytesOf(encodeCapture(good))],
  ["bad sample", bytesOf(withBadSample)],
  ["torn", bytesOf(encodeCapture(good).slice(0, 500))],
  ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ["bad meta", bytesOf(JSON.stringify({ meta: { id: 3 }, samples: [] }))],
  // A file of an older format: its meta and the whole migrated capture come back.
  ["version 2", bytesOf(JSON.stringify(oldCapture(2).data))]
]

const verdicts = (where: string | undefined) =>
  Effect.gen(function* () {
    const checker = yield* makeCaptureChecker(where)
    // All at once: the worker answers them in any order and each reaches its own asker.
    const outcomes = yield* Effect.forEach(cases, ([, bytes]) => checker.check(bytes), { concurrency: "unbounded" })
    return {
      where: checker.where,
      outcomes: outcomes.map((o) =>
        Either.isRight(o)
          ? `ok ${o.right.meta.id} ${o.right.meta.label} from ${o.right.from}` +
            (o.right.upgraded === undefined ? "" : ` upgraded ${Schema.encodeSync(Schema.parseJson(Capture))(o.right.upgraded)}`)
          : `${o.left.reason} | ${o.left.field} | ${o.left.problem}`
      )
    }
  })

describe("capture check off the event loop", () => {
  it.scopedLive("the compiled worker gives the event loop's verdicts and reasons", () =>
    Effect.gen(function* () {
      requireBuild()
      const inWorker = yield* verdicts(compiledWorker)
      const onLoop = yield* verdicts(undefined)
      expect(inWorker.where).toBe("worker")
      expect(onLoop.where).toBe("event loop")
      expect(inWorker.outcomes).toEqual(onLoop.outcomes)
      expect(onLoop.outcomes[0]).toBe(`ok good_1280x720 kept from ${CAPTURE_FORMAT_VERSION}`)
      expect(onLoop.outcomes[1]).toContain("sample 321 is invalid")
      expect(onLoop.outcomes[1]).toContain("| samples.321.fps |")
      expect(onLoop.outcomes[2]).toContain("it is not JSON")
      expect(onLoop.outcomes[3]).toBe("it is not UTF-8 text |  | it is not UTF-8 text")
      expect(onLoop.outcomes[4]).toContain("its meta is invalid")
      // Versions before 8 carry no number: read as version 1 and migrated through every step.
      expect(onLoop.outcomes[5]).toMatch(/^ok 2026-11-20T18-00-02Z_1280x720 written by format 2 from 1 upgraded \{/)
      expect(onLoop.outcomes[5]).toContain(`"format_version":${CAPTURE_FORMAT_VERSION}`)
    })
  )

  it.scopedLive("a worker that dies hands its checks back: good files stay good", () =>
    Effect.gen(function* () {
      const dying = path.join(tempDir(), "dying-worker.mjs")
      // A worker that quits at its first message, as one that ran out of memory would.
      fs.writeFileSync(dying, `import { parentPort } from "node:worker_threads"\nparentPort.on("message", () => process.exit(3))\n`)
      const result = yield* verdicts(dying)
      expect(result.where).toBe("worker")
      expect(result.outcomes[0]).toBe(`ok good_1280x720 kept from ${CAPTURE_FORMAT_VERSION}`)
      expect(result.outcomes[1]).toContain("sample 321 is invalid")
    })
  )

  it("the listing and the index are the bytes their Schemas encode", () => {
    const metas = [captureOf("b_1280x720", 2, 3, "b").meta, captureOf("a_1280x720", 1, 3).meta]
    const withFrames: CaptureMeta = { ...metas[0]!, frames: { spans: 2, frames: 120, bound_hit: false } }
    const listed = [withFrames, ...metas]
    const rows = Schema.encodeSync(Schema.parseJson(CaptureListing))(listed.map(captureListItem))
    expect(encodeListing(listed)).toBe(rows)
    // The second time from the remembered encodings: still the same bytes.
    expect(encodeListing(listed)).toBe(rows)
    // A row is the list's columns, not the whole meta.
    expect(Schema.decodeUnknownSync(Schema.parseJson(CaptureListing))(rows)[0]).toEqual({
      id: "b_1280x720", label: "b", started_unix_ms: withFrames.started_unix_ms, duration_ms: withFrames.duration_ms,
      kind: withFrames.kind, width: 1280, height: 720, fps: withFrames.fps, codec: withFrames.codec,
      encoder_backend: withFrames.encoder_backend, sample_count: 3, session_count: withFrames.sessions.length,
      truncated: false, recovered: false, imported: false
    })
    const signature = { size: 10, mtime_ms: 1.5, ino: 7 }
    const entries: ReadonlyArray<IndexEntry> = [
      { meta: withFrames, meta_file: signature, data_file: signature, verdict: { ok: true } },
      { meta: metas[1]!, meta_file: signature, data_file: signature, verdict: { ok: false, reason: "sample 2 is invalid" } },
      { meta: metas[0]!, meta_file: signature, data_file: signature }
    ]
    expect(encodeIndex(entries)).toBe(Schema.encodeSync(Schema.parseJson(CaptureIndexFile))({ version: 1, entries }))
  })
})
