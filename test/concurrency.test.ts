import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture } from "../src/api/Stats.js"
import { Recorder } from "../src/services/Recorder.js"
import { fakeWindow } from "../src/streams/FakePipeline.js"
import { startHost } from "./support/TestHost.js"

const ONE_SCRIPT = { PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS: "256", PUNKTFUNK_MAX_CONNECTIONS: "512" }

describe("concurrent operators", () => {
  it.scopedLive("100 concurrent arm/stop requests leave one consistent state; no sample lost or duplicated", () =>
    Effect.gen(function* () {
      // Every operator here is one script on 127.0.0.1 opening up to 100 connections at once: the
      // per-address connection cap (16 by default, a defence against LAN strangers) is raised so
      // the test is about the Recorder's consistency, not about that cap (test/connection-limits).
      const host = yield* startHost({ env: ONE_SCRIPT })
      const recorder = Context.get(host.context, Recorder)
      const meta = {
        session_id: "s1", kind: "punktfunk1" as const, width: 640, height: 360, fps: 60, codec: "h264", client: "",
        encoder_backend: "fake", gpu: "none", stages: ["capture", "submit", "encode", "send"] as const, measured: ["fps" as const]
      }
      yield* recorder.registerSession({ ...meta, stages: [...meta.stages] })
      let pushed = 0
      // A producer pushes numbered windows while 100 arm/stop requests race.
      const producer = Effect.gen(function* () {
        for (let i = 0; i < 400; i++) {
          yield* recorder.pushSample({ ...fakeWindow({ ...meta, stages: [...meta.stages] }, i, true, {
            kind: "punktfunk1", source: "synthetic", width: 640, height: 360, fps: 60, codec: "h264", encoder: "auto",
            preset: "ultrafast", tune: "zerolatency", bitrate_kbps: 1000, perf: false, client: ""
          }), host_p50_us: i })
          pushed++
          yield* Effect.sleep("1 millis")
        }
      })
      const requests = Array.from({ length: 100 }, (_, i) =>
        Effect.promise(() => host.fetch(i % 2 === 0 ? "/start" : "/stop", { method: "POST" }).then((r) => r.status))
      )
      const [statuses] = yield* Effect.all([Effect.all(requests, { concurrency: "unbounded" }), producer], { concurrency: 2 })
      expect(statuses.every((s) => s === 200 || s === 204)).toBe(true)
      yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
      expect(pushed).toBe(400)

      const status = yield* recorder.status
      expect(status.armed).toBe(false)
      // Every saved capture decodes; no window index appears twice, within or across captures.
      const files = fs.readdirSync(host.capturesDir).filter((n) => n.endsWith(".json") && !n.endsWith(".meta.json"))
      const seen = new Set<number>()
      for (const f of files) {
        const c = Schema.decodeUnknownSync(Capture)(JSON.parse(fs.readFileSync(path.join(host.capturesDir, f), "utf8")))
        expect(c.meta.sample_count).toBe(c.samples.length)
        for (const s of c.samples) {
          expect(seen.has(s.host_p50_us)).toBe(false)
          seen.add(s.host_p50_us)
        }
      }
      expect(new Set(files).size).toBe(files.length)
      expect(files.length).toBeGreaterThan(0)
    })
  )
})
