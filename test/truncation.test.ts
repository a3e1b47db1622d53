import { describe, expect, it } from "@effect/vitest"
import { sampleFixture } from "../src/api/SampleFixture.js"
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture } from "../src/api/Stats.js"
import type { StatsSample } from "../src/api/Stats.js"
import { MAX_SAMPLES, Recorder } from "../src/services/Recorder.js"
import { startHost } from "./support/TestHost.js"

const sample = (i: number): StatsSample => sampleFixture({
  t_ms: 0,
  session_id: "s1",
  stages: [{ name: "encode", p50_us: i, p99_us: i + 1, max_us: i + 2, mean_us: i }],
  fps: 60,
  repeat_fps: 0,
  mbps: 10,
  bitrate_kbps: 10_000,
  host_p50_us: i,
  host_p99_us: i + 1
})

describe("bounded memory keeps the start", () => {
  it.scopedLive("5,401 samples: the first 5,400 are kept and the capture says truncated", () =>
    Effect.gen(function* () {
      expect(MAX_SAMPLES).toBe(5400)
      const host = yield* startHost()
      const recorder = Context.get(host.context, Recorder)
      // Idle: pushSample is a no-op.
      yield* recorder.pushSample(sample(-1))
      expect((yield* recorder.status).sample_count).toBe(0)

      yield* recorder.start("long run")
      for (let i = 0; i < 5401; i++) yield* recorder.pushSample(sample(i))
      const status = yield* recorder.status
      expect(status.sample_count).toBe(5400)
      expect(status.truncated).toBe(true)

      const res = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      expect(res.status).toBe(200)
      const meta = (yield* Effect.promise(() => res.json())) as { id: string }
      const saved = Schema.decodeUnknownSync(Capture)(
        JSON.parse(fs.readFileSync(path.join(host.capturesDir, `${meta.id}.json`), "utf8"))
      )
      expect(saved.meta.truncated).toBe(true)
      expect(saved.meta.label).toBe("long run")
      expect(saved.samples).toHaveLength(5400)
      // The start is kept: sample 0 first, sample 5399 last, 5400 dropped.
      expect(saved.samples[0]!.host_p50_us).toBe(0)
      expect(saved.samples[5399]!.host_p50_us).toBe(5399)
    })
  )
})
