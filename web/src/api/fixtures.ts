/** Small hand-written captures for the unit tests: every number is chosen so the answer is known. */
import { CAPTURE_FORMAT_VERSION } from "../../../src/api/CaptureFormat.js"
import { sampleFixture, sessionFixture } from "../../../src/api/SampleFixture.js"
import type { Capture, CaptureMeta, SessionMeta, StageName, StatsSample } from "../../../src/api/Stats.js"

export const session = (session_id: string, overrides: Partial<SessionMeta> = {}): SessionMeta =>
  sessionFixture({
    session_id,
    client: "test",
    measured: ["fps", "repeat_fps", "mbps", "bitrate_kbps", "host_p50_us", "host_p99_us"],
    ...overrides
  })

export const stage = (name: StageName, p50_us: number, p99_us = p50_us * 2, max_us = p99_us * 2, mean_us = p50_us) => ({
  name,
  p50_us,
  p99_us,
  max_us,
  mean_us
})

export const sample = (t_ms: number, overrides: Partial<StatsSample> = {}): StatsSample => sampleFixture({
  t_ms,
  session_id: "s1",
  stages: [stage("capture", 1000), stage("encode", 2000)],
  fps: 60,
  repeat_fps: 0,
  mbps: 10,
  bitrate_kbps: 10_000,
  host_p50_us: 3000,
  host_p99_us: 6000,
  ...overrides
})

export const capture = (samples: ReadonlyArray<StatsSample>, sessions: ReadonlyArray<SessionMeta> = [session("s1")], meta: Partial<CaptureMeta> = {}): Capture => {
  const first = sessions[0]
  return {
    meta: {
      format_version: CAPTURE_FORMAT_VERSION,
      id: "2026-01-01T00-00-00Z_1280x720",
      label: "",
      started_unix_ms: 1_767_225_600_000,
      duration_ms: samples.length === 0 ? 0 : (samples[samples.length - 1]?.t_ms ?? 0),
      kind: first?.kind ?? "punktfunk1",
      width: first?.width ?? 0,
      height: first?.height ?? 0,
      fps: first?.fps ?? 0,
      codec: first?.codec ?? "",
      client: first?.client ?? "",
      encoder_backend: first?.encoder_backend ?? "",
      gpu: first?.gpu ?? "",
      sample_count: samples.length,
      truncated: false,
      recovered: false,
      measured: [...new Set(sessions.flatMap((s) => s.measured))],
      sessions,
      imported: false,
      ...meta
    },
    samples
  }
}
