/**
 * `punktfunk stats import FILE` (the compiled CLI, through the shared typed client): a file
 * exported by one host is stored on another under a new id marked imported, an older format
 * included; a file the host refuses names the field at fault; a missing file is the CLI's own error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { CAPTURE_FORMAT_VERSION } from "../src/api/CaptureFormat.js"
import { CaptureMeta } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import { root } from "./support/HostProcess.js"
import { oldCapture } from "./support/OldCaptures.js"
import { json, startHost, tempDir, waitFor } from "./support/TestHost.js"

const cliJs = path.join(root, "dist", "cli.js")

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.promise(
    () =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        if (!fs.existsSync(cliJs)) throw new Error(`${cliJs} is missing: run 'npm run build' before the tests`)
        execFile(
          process.execPath,
          [cliJs, ...args],
          { env: { PATH: process.env["PATH"] ?? "", HOME: tempDir("punktfunk-cli-home-"), ...env }, timeout: 20_000 },
          (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
        )
      })
  )

const decodeList = Schema.decodeUnknownSync(CaptureListing)

describe("punktfunk stats import", () => {
  it.scopedLive("a capture exported by one host is imported into another; refusals are named", () =>
    Effect.gen(function* () {
      // One host records a capture and the CLI exports it to a file.
      const source = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 25 })
      const sourceEnv = { PUNKTFUNK_HOST: source.url, PUNKTFUNK_CONFIG_DIR: source.dir }
      yield* Effect.promise(() => source.fetch("/start", { method: "POST" }))
      yield* Effect.promise(() => waitFor(async () => ((await json(await source.fetch("/status"))) as { sample_count: number }).sample_count >= 3))
      const id = Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(async () => json(await source.fetch("/stop", { method: "POST" })))).id
      const files = tempDir("punktfunk-import-files-")
      const exported = path.join(files, "exported.json")
      const exportRun = yield* cli(["stats", "export", id, "--output", exported], sourceEnv)
      expect(exportRun.code, exportRun.stderr).toBe(0)

      // Another host imports it.
      const target = yield* startHost()
      const env = { PUNKTFUNK_HOST: target.url, PUNKTFUNK_CONFIG_DIR: target.dir }
      const run = yield* cli(["stats", "import", exported], env)
      expect(run.code, run.stderr).toBe(0)
      const imported = /imported .* as capture (\S+): (\d+) samples/.exec(run.stdout)
      expect(imported, run.stdout).not.toBeNull()
      const listed = decodeList(yield* Effect.promise(async () => json(await target.fetch("/recordings"))))
      expect(listed.map((m) => [m.id, m.imported])).toEqual([[imported![1], true]])
      expect((yield* cli(["stats", "show", imported![1]!], env)).stdout).toContain("imported from a file")
      // The stored samples are the exported ones.
      const original = JSON.parse(fs.readFileSync(exported, "utf8")) as { samples: unknown }
      const stored = JSON.parse(fs.readFileSync(path.join(target.capturesDir, `${imported![1]}.json`), "utf8")) as { samples: unknown }
      expect(stored.samples).toEqual(original.samples)

      // An older format's file imports too, stored in the current one.
      const oldFile = path.join(files, "old.json")
      fs.writeFileSync(oldFile, JSON.stringify(oldCapture(2).data))
      const oldRun = yield* cli(["stats", "import", oldFile], env)
      expect(oldRun.code, oldRun.stderr).toBe(0)
      const oldId = /as capture (\S+):/.exec(oldRun.stdout)?.[1]
      expect(JSON.parse(fs.readFileSync(path.join(target.capturesDir, `${oldId}.json`), "utf8")).meta.format_version).toBe(CAPTURE_FORMAT_VERSION)

      // A file the host refuses: the field at fault, exit 1, nothing stored.
      const bad = JSON.parse(fs.readFileSync(exported, "utf8")) as { samples: Array<Record<string, unknown>> }
      bad.samples[1]!["fps"] = "sixty"
      const badFile = path.join(files, "bad.json")
      fs.writeFileSync(badFile, JSON.stringify(bad))
      const refused = yield* cli(["stats", "import", badFile], env)
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain("samples.1.fps")
      const missing = yield* cli(["stats", "import", path.join(files, "nope.json")], env)
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain("cannot read")
      expect(decodeList(yield* Effect.promise(async () => json(await target.fetch("/recordings"))))).toHaveLength(2)
    }),
    // Six runs of the compiled CLI, each a Node start (seconds on a loaded machine).
    180_000
  )
})
