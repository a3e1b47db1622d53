/**
 * SIGKILL at random moments of arming, capturing and saving, on the compiled host.
 *
 * The moments are drawn by fast-check (a failure prints the seed and the shrunk case to replay
 * it). After each kill the host is started again, and then:
 * - no half file: no `.tmp`, every `.json` decodes with the Schemas and has its meta;
 * - every journalled sample is recovered: the recovered capture's samples are exactly the
 *   complete journal lines on disk at the kill, in order;
 * - at most one capture comes out of one armed period (recovery never duplicates a save);
 * - what the live view (SSE) showed before the kill agrees with what was kept, sample for
 *   sample, and in the `capture` phase every sample the live view showed before the kill
 *   decision (once journalled) is in the recovered capture.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import { CaptureListing } from "../../src/api/CaptureListing.js"
import type { Capture } from "../../src/api/Stats.js"
import { PENDING_JOURNAL_PREFIX } from "../../src/lib/captures/Journal.js"
import { hostsKilledAfterEach } from "../support/HostProcess.js"
import { tempDir, waitFor } from "../support/TestHost.js"
import { agreeingPrefix, checkCapturesDir, FAULT_RUNS, journalSampleCount, readJournal, recordSse, sh, sleep } from "./support.js"

const spawn = hostsKilledAfterEach()

type Phase = "arm" | "capture" | "save" | "save-paused"

const run = async (phase: Phase, delayMs: number, windowsBeforeStop: number) => {
  const dir = tempDir("punktfunk-kill-")
  const capturesDir = path.join(dir, "captures")
  const marker = path.join(dir, "saving.marker")
  const env = { PUNKTFUNK_CONFIG_DIR: dir, PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "20" }
  const host = await spawn(phase === "save-paused" ? { ...env, PUNKTFUNK_TEST_PAUSE_BEFORE_RENAME: marker } : env)
  const sse = await recordSse(host.url, host.token)
  let mustKeep = 0
  const sampleCount = async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count

  if (phase === "arm") {
    void host.fetch("/start", { method: "POST" }).catch(() => undefined)
    await sleep(delayMs % 40)
  } else {
    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    if (phase === "capture") {
      await sleep(delayMs)
      // What the operator has seen so far must survive the kill once it is journalled.
      mustKeep = sse.samples.length
      await waitFor(() => journalSampleCount(capturesDir) >= mustKeep, 15_000, `${mustKeep} journalled samples`)
    } else {
      await waitFor(async () => (await sampleCount()) >= windowsBeforeStop, 15_000, `${windowsBeforeStop} samples`)
      void host.fetch("/stop", { method: "POST" }).catch(() => undefined)
      if (phase === "save-paused") await waitFor(() => fs.existsSync(marker), 15_000, "the save to reach its rename")
      await sleep(delayMs % 60)
    }
  }
  host.child.kill("SIGKILL")
  await host.exited
  await sse.close()
  const journal = fs.existsSync(capturesDir) ? readJournal(capturesDir) : { begun: false, samples: [], tornLast: false }

  // Restart without a session (and without the pause: recovery saves too): only recovery writes.
  const again = await spawn({ ...env, PUNKTFUNK_SOURCE: "none" })
  const listed = Schema.decodeUnknownSync(CaptureListing)(await (await again.fetch("/recordings")).json())
  const captures: ReadonlyArray<Capture> = checkCapturesDir(capturesDir)
  expect(listed.map((m) => m.id).sort()).toEqual(captures.map((c) => c.meta.id).sort())
  expect(fs.existsSync(path.join(capturesDir, ".journal.ndjson"))).toBe(false)
  // One armed period, at most one capture: a save that completed is not recovered a second time.
  expect(captures.length, `captures after a kill in phase ${phase}: ${captures.map((c) => c.meta.id).join(", ")}`).toBeLessThanOrEqual(1)

  const capture = captures[0]
  if (journal.begun) {
    // The journal was on disk at the kill: either its capture is recovered now, exactly, or it
    // had been saved whole before the kill. A whole save holds every sample the Recorder had,
    // and the journal's appends may lag the last of them (the save does not wait for the
    // journal writer), so then the journal is a prefix of the saved samples, never more.
    expect(capture, "a journal with a begin line must come back as a capture").toBeDefined()
    if (capture!.meta.recovered) {
      expect(capture!.samples).toEqual(journal.samples)
    } else {
      expect(phase === "save" || phase === "save-paused").toBe(true)
      expect(capture!.samples.slice(0, journal.samples.length)).toEqual(journal.samples)
    }
  } else if (capture !== undefined) {
    // No journal left: only a completed save explains a capture.
    expect(capture.meta.recovered).toBe(false)
    expect(phase === "save" || phase === "save-paused").toBe(true)
  }
  const kept = capture?.samples ?? []
  agreeingPrefix(kept, sse.samples)
  expect(kept.length).toBeGreaterThanOrEqual(mustKeep)
  await again.child.kill("SIGKILL")
  return { phase, kept: kept.length, seen: sse.samples.length, journalled: journal.samples.length }
}

describe("SIGKILL at a random moment", () => {
  it("never leaves a half file, recovers every journalled sample, never duplicates a capture", async () => {
    const outcomes: Array<Awaited<ReturnType<typeof run>>> = []
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Phase>("arm", "capture", "save", "save-paused"),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 12 }),
        async (phase, delayMs, windowsBeforeStop) => {
          outcomes.push(await run(phase, delayMs, windowsBeforeStop))
        }
      ),
      { numRuns: FAULT_RUNS, endOnFailure: true }
    )
    // Figures for the report (not asserted): how much each run kept of what was seen.
    console.log(outcomes.map((o) => `${o.phase}: seen ${o.seen}, journalled ${o.journalled}, kept ${o.kept}`).join("\n"))
  })
})

describe("SIGKILL after a failed save", () => {
  it.skipIf(!sh("prlimit", ["--version"]).ok)(
    "a capture whose save was refused survives arming again and a kill: its journalled samples come back",
    async () => {
      const dir = tempDir("punktfunk-kill-unsaved-")
      const capturesDir = path.join(dir, "captures")
      const env = { PUNKTFUNK_CONFIG_DIR: dir, PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "20" }
      const host = await spawn(env)
      expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
      await waitFor(() => journalSampleCount(capturesDir) >= 10, 15_000, "10 journalled samples")
      // The disk refuses the save (file-size limit on the running host: EFBIG).
      expect(sh("prlimit", [`--pid=${host.child.pid}`, "--fsize=4096:"]).ok).toBe(true)
      const refused = await host.fetch("/stop", { method: "POST" })
      expect(refused.status).toBe(507)
      // The refused capture's journal is parked (renamed by the journal writer, shortly after the
      // answer) so that arming again cannot overwrite it; its samples are read from there.
      let parked: string | undefined
      await waitFor(() => (parked = fs.readdirSync(capturesDir).find((n) => n.startsWith(PENDING_JOURNAL_PREFIX))) !== undefined, 15_000, "the parked journal")
      const first = readJournal(capturesDir, parked)
      expect(first.samples.length).toBeGreaterThanOrEqual(10)
      // The operator arms again (the first capture still waits in memory), then the host dies.
      expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
      await sleep(300)
      host.child.kill("SIGKILL")
      await host.exited

      const again = await spawn({ ...env, PUNKTFUNK_SOURCE: "none" })
      const captures = checkCapturesDir(capturesDir)
      void again
      // The first capture's durable samples were promised to survive a kill: they must be back.
      const holds = (c: Capture) =>
        c.samples.length >= first.samples.length && first.samples.every((s, i) => JSON.stringify(s) === JSON.stringify(c.samples[i]))
      const back = captures.find(holds)
      expect(back, `captures after restart: ${captures.map((c) => `${c.meta.id} (${c.samples.length})`).join(", ")}`).toBeDefined()
    }
  )
})
