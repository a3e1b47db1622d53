/**
 * Armed vs disarmed frame-loop throughput at 1280×720 (synthetic source, libx264 ultrafast /
 * zerolatency), unpaced: the loop runs frames back to back, so any cost of measuring shows as
 * fewer frames per second. One session; the armed flag is flipped between short alternating
 * rounds so drift on this shared machine hits both sides alike, and the median of the per-pair
 * ratios is reported. On a shared machine that ratio swings by several percent either way, so
 * the cost itself is also timed in isolation (the addon's `measurementCostNs`: the clock reads
 * and window stores of an armed frame, nothing else) and set against the disarmed frame time,
 * and each round also records process CPU time per frame, which other processes disturb less.
 *
 * The flight recorder (issue 14.3: one record per armed frame into a preallocated ring, target
 * ≤ 1 µs per frame) is part of what an armed frame pays; its own share is timed side by side, in
 * alternating runs of the same loop with and without the record.
 */
import { cpus } from "node:os"
import { performance } from "node:perf_hooks"
import { nativeModule } from "../native/binding.js"
import { nativeTestHooks } from "../native/testHooks.js"
import { fmt, load, median, openSession, options720, sleep } from "./native-support.js"

const ROUND_MS = 1_500
const PAIRS = 12

export default async () => {
  const loadBefore = load()
  const addon = nativeModule()
  addon.setArmed(false)
  const { session } = openSession(options720({ paced: false, window_ms: 1_000 }))
  // One round: frames per wall second, and process CPU per frame (the frame loop and the
  // encoder's threads; the JavaScript thread sleeps). CPU per frame is far less sensitive to
  // other processes on a shared machine than wall-clock throughput.
  const round = async (armed: boolean) => {
    addon.setArmed(armed)
    await sleep(200) // let the frame in flight finish under the new setting
    const f0 = session.totals().frames
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    await sleep(ROUND_MS)
    const cpu = process.cpuUsage(c0)
    const frames = session.totals().frames - f0
    return { fps: (frames * 1000) / (performance.now() - t0), cpuUsPerFrame: (cpu.user + cpu.system) / Math.max(1, frames) }
  }
  const off: Array<number> = []
  const on: Array<number> = []
  const ratios: Array<number> = []
  const cpuRatios: Array<number> = []
  const cpuOff: Array<number> = []
  const cpuOn: Array<number> = []
  try {
    await sleep(1_000) // warm-up
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which side goes first, so a trend within a pair cancels out.
      const first = await round(i % 2 === 1)
      const second = await round(i % 2 === 0)
      const [disarmed, armed] = i % 2 === 0 ? [first, second] : [second, first]
      off.push(disarmed.fps)
      on.push(armed.fps)
      ratios.push(armed.fps / disarmed.fps)
      cpuOff.push(disarmed.cpuUsPerFrame)
      cpuOn.push(armed.cpuUsPerFrame)
      cpuRatios.push(armed.cpuUsPerFrame / disarmed.cpuUsPerFrame)
    }
  } finally {
    addon.setArmed(false)
    session.close()
  }
  const hooks = nativeTestHooks()
  // Alternating runs, with and without the flight record, so drift hits both alike.
  const without: Array<number> = []
  const withFlight: Array<number> = []
  for (let i = 0; i < 5; i++) {
    without.push(hooks.measurementCostNs(200_000, false))
    withFlight.push(hooks.measurementCostNs(200_000, true))
  }
  const costNs = median(withFlight)
  const flightNs = median(withFlight.map((w, i) => w - without[i]!))
  const frameNs = 1e9 / median(off)
  const overhead = (1 - median(ratios)) * 100
  return {
    title: "Native pipeline: cost of measuring (armed vs disarmed, 1280×720, unpaced)",
    lines: [
      `| | frames/s (median of ${PAIRS} rounds of ${ROUND_MS / 1000} s) | process CPU ms per frame (median) |`,
      `|---|---|---|`,
      `| disarmed | ${fmt(median(off))} | ${fmt(median(cpuOff) / 1000, 3)} |`,
      `| armed | ${fmt(median(on))} | ${fmt(median(cpuOn) / 1000, 3)} |`,
      ``,
      `Per-pair armed/disarmed ratios: ${ratios.map((r) => r.toFixed(3)).join(", ")}.`,
      `Measurement overhead from throughput (1 − median ratio): **${fmt(overhead, 2)} %**; from CPU per frame (median armed/disarmed − 1): **${fmt((median(cpuRatios) - 1) * 100, 2)} %** (target ≤ 1 %; a negative value is noise).`,
      `Measurement cost timed alone: **${fmt(costNs, 0)} ns per armed frame** = **${fmt((costNs / frameNs) * 100, 4)} %** of a disarmed frame (${fmt(frameNs / 1e6, 2)} ms).`,
      `Of which the flight recorder's record (median of 5 paired runs, with − without): **${fmt(flightNs, 1)} ns per frame** (target ≤ 1,000 ns); without it ${fmt(median(without), 0)} ns, with it ${fmt(costNs, 0)} ns.`
    ]
  }
}
