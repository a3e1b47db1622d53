/**
 * The compiled host with `PUNKTFUNK_SOURCE=synthetic` runs the native pipeline (PipelineChoice)
 * and records it: armed → stop saves a capture of kind native with the native stage set, the
 * backend that really encoded (libx264, no GPU here), and samples whose stages are real numbers.
 * SIGTERM then ends the host cleanly, native thread included.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Capture, CaptureMeta, StatsStatus } from "../../src/api/Stats.js"
import { spawnHost } from "../support/HostProcess.js"
import { json, waitFor } from "../support/TestHost.js"
import { tmp } from "./nativeSupport.js"

const status = async (fetchStatus: () => Promise<Response>) => Schema.decodeUnknownSync(StatsStatus)(await json(await fetchStatus()))

describe("host on the native pipeline", () => {
  it("armed → stop saves a native capture with real stages", async () => {
    const dir = tmp("pf-native-host-")
    const host = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: dir,
      PUNKTFUNK_SOURCE: "synthetic",
      PUNKTFUNK_WIDTH: "640",
      PUNKTFUNK_HEIGHT: "360",
      PUNKTFUNK_FPS: "30",
      PUNKTFUNK_ENCODER: "auto"
    })
    try {
      await waitFor(async () => (await status(() => host.fetch("/status"))).active_sessions === 1, 30_000, "the native session")
      expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
      await waitFor(async () => (await status(() => host.fetch("/status"))).sample_count >= 2, 60_000, "2 native windows")
      const res = await host.fetch("/stop", { method: "POST" })
      expect(res.status).toBe(200)
      const meta = Schema.decodeUnknownSync(CaptureMeta)(await json(res))
      expect(meta.kind).toBe("native")
      expect(meta.encoder_backend).toBe("libx264")
      expect(meta.id).toMatch(/_640x360$/)
      expect(meta.sessions[0]?.stages).toEqual(["capture", "submit", "encode", "send"])
      expect(meta.measured).toContain("host_p50_us")
      expect(meta.measured).not.toContain("rtt_us")

      const saved = Schema.decodeUnknownSync(Capture)(JSON.parse(fs.readFileSync(path.join(dir, "captures", `${meta.id}.json`), "utf8")))
      expect(saved.samples.length).toBeGreaterThanOrEqual(2)
      // The window in flight when arming is measured only from the arming on (if it ended
      // right after, it may hold no measured frame); every later one is measured throughout.
      expect(saved.samples.slice(1).every((s) => s.stages.length > 0)).toBe(true)
      for (const s of saved.samples.filter((x) => x.stages.length > 0)) {
        expect(s.stages.map((x) => x.name)).toEqual(["capture", "submit", "encode", "send"])
        for (const st of s.stages) expect(st.p50_us).toBeGreaterThan(0)
        expect(s.host_p50_us).toBeGreaterThan(0)
      }
      for (const s of saved.samples) {
        expect(s.fps).toBeGreaterThan(0)
        expect(s.mbps).toBeGreaterThan(0)
      }
      expect(host.output()).toMatch(/session native-\d+-1 \(native\) 640x360@30 h264 via libx264/)
      expect(host.output()).toMatch(/no NVIDIA GPU found; using software encoder libx264/)
    } finally {
      host.child.kill("SIGTERM")
    }
    const { code } = await host.exited
    expect(code).toBe(0)
  })
})
