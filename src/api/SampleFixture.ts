/**
 * One stats sample for tests and benchmarks to start from: every field of the table at 0
 * (`zeroFields`), session "s1", no stages, at t = 0; a fixture sets what it is about. The unit
 * tests of the host and of the console and the benches' synthetic captures all build samples
 * here, so a new row of the field table (or a new required field of `StatsSample`) is one edit
 * here rather than one in every fixture.
 */
import { zeroFields } from "./Fields.js"
import type { StatsSample } from "./Stats.js"

export const sampleFixture = (fields: Partial<StatsSample> = {}): StatsSample => ({
  ...zeroFields(),
  t_ms: 0,
  session_id: "s1",
  stages: [],
  ...fields
})
