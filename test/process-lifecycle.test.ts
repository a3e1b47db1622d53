import { describe, expect, it } from "vitest"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture, CaptureMeta } from "../src/api/Stats.js"
import { CaptureListing } from "../src/api/CaptureListing.js"
import { HOST_SETTINGS, flagOf } from "../src/lib/Settings.js"
import { hostsKilledAfterEach, root, runHostToExit } from "./support/HostProcess.js"
import { tempDir, waitFor } from "./support/TestHost.js"

const spawn = hostsKilledAfterEach()

const journalSamples = (capturesDir: string): number => {
  const file = path.join(capturesDir, ".journal.ndjson")
  if (!fs.existsSync(file)) return 0
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("\"_tag\":\"sample\"")).length
}

const envFor = (dir: string) => ({
  PUNKTFUNK_CONFIG_DIR: dir,
  PUNKTFUNK_SOURCE: "fake",
  PUNKTFUNK_FAKE_WINDOW_MS: "50"
})

describe("the host process", () => {
  it("killed with SIGKILL while armed: the next start saves every journalled sample as a recovered capture", async () => {
    const dir = tempDir()
    const capturesDir = path.join(dir, "captures")
    const first = await spawn(envFor(dir))
    expect((await first.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(() => journalSamples(capturesDir) >= 8, 10_000, "8 journalled samples")
    first.child.kill("SIGKILL")
    await first.exited
    const journalled = journalSamples(capturesDir)
    expect(fs.readdirSync(capturesDir).filter((n) => n.endsWith(".json"))).toEqual([])

    const second = await spawn({ ...envFor(dir), PUNKTFUNK_SOURCE: "none" })
    const list = Schema.decodeUnknownSync(CaptureListing)(await (await second.fetch("/recordings")).json())
    expect(list).toHaveLength(1)
    expect(list[0]!.recovered).toBe(true)
    expect(list[0]!.sample_count).toBe(journalled)
    expect(list[0]!.kind).toBe("punktfunk1")
    expect(second.output()).toContain("recovered capture")
    // The journal is gone once its capture is saved: a third start recovers nothing new.
    expect(fs.existsSync(path.join(capturesDir, ".journal.ndjson"))).toBe(false)
    const status = (await (await second.fetch("/status")).json()) as { armed: boolean }
    expect(status.armed).toBe(false)
  })

  it("killed while saving: no half file, and the capture is recovered whole on the next start", async () => {
    const dir = tempDir()
    const capturesDir = path.join(dir, "captures")
    const marker = path.join(dir, "saving.marker")
    const first = await spawn({ ...envFor(dir), PUNKTFUNK_TEST_PAUSE_BEFORE_RENAME: marker })
    await first.fetch("/start", { method: "POST" })
    await waitFor(() => journalSamples(capturesDir) >= 5, 10_000, "5 journalled samples")
    const stopping = first.fetch("/stop", { method: "POST" }).catch(() => undefined)
    await waitFor(() => fs.existsSync(marker), 10_000, "the save to reach its rename")
    first.child.kill("SIGKILL")
    await first.exited
    await stopping
    // The temp file exists, the final name does not: nothing half-written under a capture's name.
    const names = fs.readdirSync(capturesDir)
    expect(names.some((n) => n.endsWith(".json.tmp"))).toBe(true)
    expect(names.filter((n) => n.endsWith(".json"))).toEqual([])
    const journalled = journalSamples(capturesDir)

    const second = await spawn({ ...envFor(dir), PUNKTFUNK_SOURCE: "none" })
    const after = fs.readdirSync(capturesDir)
    expect(after.filter((n) => n.endsWith(".tmp"))).toEqual([])
    const list = Schema.decodeUnknownSync(CaptureListing)(await (await second.fetch("/recordings")).json())
    expect(list).toHaveLength(1)
    const capture = Schema.decodeUnknownSync(Capture)(await (await second.fetch(`/recordings/${list[0]!.id}`)).json())
    expect(capture.meta.recovered).toBe(true)
    expect(capture.samples.length).toBe(journalled)
  })

  it("SIGTERM while armed stops the capture and saves it before exiting", async () => {
    const dir = tempDir()
    const capturesDir = path.join(dir, "captures")
    const host = await spawn(envFor(dir))
    await host.fetch("/start", { method: "POST" })
    await waitFor(async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count >= 4)
    host.child.kill("SIGTERM")
    const { code } = await host.exited
    expect(code).toBe(0)
    const metas = fs.readdirSync(capturesDir).filter((n) => n.endsWith(".meta.json"))
    expect(metas).toHaveLength(1)
    const meta = Schema.decodeUnknownSync(CaptureMeta)(JSON.parse(fs.readFileSync(path.join(capturesDir, metas[0]!), "utf8")))
    expect(meta.sample_count).toBeGreaterThanOrEqual(4)
    expect(meta.recovered).toBe(false)
    // Saved cleanly: no journal left to "recover" a duplicate on the next start.
    expect(fs.existsSync(path.join(capturesDir, ".journal.ndjson"))).toBe(false)
  })

  it("refuses invalid configuration at start with a message naming it", async () => {
    const dir = tempDir()
    for (const [env, args, words] of [
      [{ PUNKTFUNK_PORT: "70000" }, [], "PUNKTFUNK_PORT"],
      [{ PUNKTFUNK_SOURCE: "webcam" }, [], "PUNKTFUNK_SOURCE"],
      [{ PUNKTFUNK_PERF: "maybe" }, [], "PUNKTFUNK_PERF"],
      [{}, ["--fps", "0"], "PUNKTFUNK_FPS"],
      [{}, ["stray"], "unknown argument: 'stray'"],
      // A typo is refused by name, not ignored while the host starts on its defaults.
      [{}, ["--prot", "47991"], "unknown argument: '--prot'"],
      [{}, ["--gamestream-mdsn=0"], "unknown argument: '--gamestream-mdsn=0'"]
    ] as const) {
      const { code, output } = await runHostToExit({ PUNKTFUNK_CONFIG_DIR: dir, ...env }, args)
      expect(code, output).toBe(1)
      expect(output).toContain(words)
      expect(output).not.toContain("listening")
    }
  })

  it("--help lists every setting as a flag and exits without starting", async () => {
    const { code, output } = await runHostToExit({ PUNKTFUNK_CONFIG_DIR: tempDir() }, ["--help"])
    expect(code, output).toBe(0)
    expect(output).not.toContain("listening")
    // Through @effect/cli: each setting an option in the usage line and in the list, with its
    // help text and its environment variable.
    for (const s of HOST_SETTINGS) {
      expect(output).toContain(`[${flagOf(s.name)} `)
      expect(output).toContain(s.about)
      expect(output).toContain(`Environment: ${s.name}`)
    }
    expect(output).toContain("--gamestream-http-port")
  })

  it("the settings --help lists are exactly the ones the host reads", () => {
    // Config.ts is where every setting is read; a name there but not in Settings.ts would be
    // refused as a flag, and one only in Settings.ts would be a flag that does nothing.
    const source = fs.readFileSync(path.join(root, "src", "services", "Config.ts"), "utf8")
    const read = new Set([...source.matchAll(/"(PUNKTFUNK_[A-Z0-9_]+)"/g)].map((m) => m[1]))
    // A renamed setting is read under both names (Settings.ts `formerly`).
    const names = HOST_SETTINGS.flatMap((s) => (s.formerly === undefined ? [s.name] : [s.name, s.formerly]))
    expect([...read].sort()).toEqual(names.sort())
  })
})
