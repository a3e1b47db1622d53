/**
 * The soak, short: `PUNKTFUNK_SOAK_S` seconds (default 20 here; the benchmark's default is 600)
 * of streaming with a capture armed. Asserted: the capture keeps growing, the live view keeps
 * receiving, and resident memory after warm-up grows by less than a generous 50 MiB. The
 * figures themselves belong to the benchmark (`npm run bench -- soak`), not to this test.
 */
import { describe, expect, it } from "vitest"
import { runSoak } from "../../src/bench/host-soak.bench.js"
import { requireBuild } from "../support/HostProcess.js"

const SECONDS = Number(process.env["PUNKTFUNK_SOAK_S"] ?? "20")

describe("soak", () => {
  it(`streaming ${SECONDS} s with a capture armed: resident memory stays flat after warm-up`, async () => {
    requireBuild()
    const r = await runSoak(SECONDS)
    console.log(`soak ${SECONDS} s: RSS ${r.rssMiB.map((m) => m.toFixed(1)).join(" ")} MiB; ${r.samples} samples, ${r.sseSamples} via SSE`)
    expect(r.rssMiB.length).toBeGreaterThanOrEqual(Math.floor(SECONDS / 2))
    // Windows arrive every 100 ms; a busy 2-core machine may lag, but never by half.
    expect(r.samples).toBeGreaterThan(SECONDS * 5)
    expect(r.sseSamples).toBeGreaterThan(SECONDS * 5)
    expect(r.endMiB - r.afterWarmupMiB).toBeLessThan(50)
    expect(r.maxAfterWarmupMiB - r.afterWarmupMiB).toBeLessThan(50)
  })
})
