/**
 * One stats sample for tests and benchmarks to start from: every field of the table at 0
 * (`zeroFields`), session "s1", no stages, at t = 0; a fixture sets what it is about. The unit
 * tests of the host and of the console and the benches' synthetic captures all build samples
 * here, so a new row of the field table (or a new required field of `StatsSample`) is one edit
 * here rather than one in every fixture.
 */
import { zeroFields } from "./Fields.js"
import type { SessionMeta, StatsSample } from "./Stats.js"

export const sampleFixture = (fields: Partial<StatsSample> = {}): StatsSample => ({
  ...zeroFields(),
  t_ms: 0,
  session_id: "s1",
  stages: [],
  ...fields
})

/**
 * One session's description to go with those samples: session "s1", a punktfunk/1 session of
 * 1280×720 at 60 fps in H.264 by libx264 with the four stages of that path, measuring the frame
 * rate and the host total; a fixture sets what it is about (its id, client, what it measured).
 */
export const sessionFixture = (fields: Partial<SessionMeta> = {}): SessionMeta => ({
  session_id: "s1",
  kind: "punktfunk1",
  width: 1280,
  height: 720,
  fps: 60,
  codec: "h264",
  client: "",
  encoder_backend: "libx264",
  gpu: "none",
  stages: ["capture", "submit", "encode", "send"],
  measured: ["fps", "host_p50_us", "host_p99_us"],
  ...fields
})
