/**
 * `PUNKTFUNK_PERF=1`: one log line per aggregation window, armed or not, carrying exactly the
 * numbers of the sample. An operator greps these lines without arming anything, and when a
 * capture is armed the lines and the saved samples must agree number for number (only `t_ms`
 * differs: the Recorder restamps it from the capture's origin).
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { Capture, CaptureMeta, StatsSample } from "../src/api/Stats.js"
import { spawnHost } from "./support/HostProcess.js"
import type { HostProcess } from "./support/HostProcess.js"
import { tempDir, waitFor } from "./support/TestHost.js"

const decodeLine = Schema.decodeUnknownSync(Schema.parseJson(StatsSample))

const perfLines = (output: string): Array<StatsSample> =>
  output
    .split("\n")
    .map((line) => /\bperf (\{.*\})\s*$/.exec(line)?.[1])
    .filter((json): json is string => json !== undefined)
    .map((json) => decodeLine(json))

const withoutTime = ({ t_ms: _t, ...rest }: StatsSample) => JSON.stringify(rest)

const started: Array<HostProcess> = []
afterEach(() => {
  for (const h of started.splice(0)) h.child.kill("SIGKILL")
})

describe("PUNKTFUNK_PERF", () => {
  it("logs one line per window while idle, and the same numbers as the armed capture", async () => {
    const dir = tempDir()
    const host = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: dir,
      PUNKTFUNK_SOURCE: "fake",
      PUNKTFUNK_FAKE_WINDOW_MS: "100",
      PUNKTFUNK_PERF: "1"
    })
    started.push(host)

    // Idle: lines appear, and they carry stage timings (perf measures without arming).
    await waitFor(() => perfLines(host.output()).length >= 3, 15_000)
    const idle = perfLines(host.output())
    expect(idle.every((s) => s.stages.length === 4)).toBe(true)
    expect((await (await host.fetch("/status")).json()) as { armed: boolean }).toMatchObject({ armed: false })

    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count >= 4, 15_000)
    const stop = await host.fetch("/stop", { method: "POST" })
    expect(stop.status).toBe(200)
    const meta = Schema.decodeUnknownSync(CaptureMeta)(await stop.json())
    const capture = Schema.decodeUnknownSync(Capture)(await (await host.fetch(`/recordings/${meta.id}`)).json())
    expect(capture.samples.length).toBeGreaterThanOrEqual(4)

    // Every saved sample was logged with the same numbers.
    const logged = new Set(perfLines(host.output()).map(withoutTime))
    for (const sample of capture.samples) expect(logged.has(withoutTime(sample))).toBe(true)
  })

  it("logs nothing when off", async () => {
    const dir = tempDir()
    const host = await spawnHost({ PUNKTFUNK_CONFIG_DIR: dir, PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "100" })
    started.push(host)
    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count >= 3, 15_000)
    expect(perfLines(host.output())).toEqual([])
  })
})
