import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { CaptureMeta, StatsStatus } from "../src/api/Stats.js"
import { DiskOps, nodeDiskOps, toDiskError } from "../src/services/DiskOps.js"
import { json, startHost, waitFor } from "./support/TestHost.js"

/**
 * The tests run as root, where a 0500 directory refuses nothing; so the disk's refusal is
 * injected at the one seam the store writes through. `failing.code` is what the "disk" answers
 * while set; clearing it is "space came back".
 */
const failingDisk = (failing: { code: string | undefined }) =>
  Layer.succeed(DiskOps, {
    ...nodeDiskOps,
    writeDurable: (file, data) =>
      failing.code !== undefined && !file.endsWith("token.tmp")
        ? Effect.fail(toDiskError("write", file, Object.assign(new Error("injected"), { code: failing.code })))
        : nodeDiskOps.writeDurable(file, data)
  })

describe("a save the disk refuses", () => {
  for (const [code, words] of [
    ["ENOSPC", "disk is full"],
    ["EACCES", "permission denied"],
    ["EFBIG", "larger than allowed"]
  ] as const) {
    it.scopedLive(`${code}: a clear error, the capture kept in memory, saved by a retried stop`, () =>
      Effect.gen(function* () {
        const failing: { code: string | undefined } = { code: undefined }
        const host = yield* startHost({ disk: failingDisk(failing), env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 30 })
        yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
        yield* Effect.promise(() =>
          waitFor(async () => Schema.decodeUnknownSync(StatsStatus)(await json(await host.fetch("/status"))).sample_count >= 3)
        )
        failing.code = code
        const res = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
        expect(res.status).toBe(507)
        const err = (yield* Effect.promise(() => json(res))) as { _tag: string; message: string; code: string; id: string }
        expect(err._tag).toBe("CaptureSaveError")
        expect(err.code).toBe(code)
        expect(err.message).toContain(words)
        expect(err.message).toContain("stop again to retry")
        // Nothing half-written, and the status says a capture waits to be saved.
        expect(fs.readdirSync(host.capturesDir).filter((n) => n.endsWith(".json"))).toEqual([])
        const status = Schema.decodeUnknownSync(StatsStatus)(yield* Effect.promise(async () => json(await host.fetch("/status"))))
        expect(status.armed).toBe(false)
        expect(status.unsaved_id).toBe(err.id)

        // Still refusing: the same error again, still kept.
        expect((yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))).status).toBe(507)

        failing.code = undefined
        const retried = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
        expect(retried.status).toBe(200)
        const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(() => json(retried)))
        expect(meta.id).toBe(err.id)
        expect(meta.sample_count).toBeGreaterThanOrEqual(3)
        expect(fs.existsSync(path.join(host.capturesDir, `${meta.id}.json`))).toBe(true)
        const after = Schema.decodeUnknownSync(StatsStatus)(yield* Effect.promise(async () => json(await host.fetch("/status"))))
        expect(after.unsaved_id).toBeNull()
        expect((yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))).status).toBe(204)
      })
    )
  }
})
