import { describe, expect, it } from "vitest"
import { ClockOffset, estimateOf, PingStamps } from "../../src/client/ClockOffset.js"

/** An exchange between a host clock and a client clock `offset` µs ahead, with one-way delays `up` and `down`. */
const exchange = (t1: number, offset: number, up: number, turnaround: number, down: number) => {
  const t2 = t1 + up + offset
  const t3 = t2 + turnaround
  return { t1, t2, t3, t4: t3 - offset + down }
}

describe("clock offset from ping exchanges (src/client/ClockOffset.ts)", () => {
  it("symmetric delays give the offset exactly; the delay excludes the client's turnaround", () => {
    const e = estimateOf(exchange(1_000_000, 3_600_000_000, 300, 50, 300))
    expect(e.offsetUs).toBe(3_600_000_000)
    expect(e.delayUs).toBe(600)
  })

  it("asymmetric delays err by at most half the delay, and the lowest-delay exchange wins", () => {
    const clock = new ClockOffset()
    clock.observe(exchange(0, -5_000_000, 40_000, 10, 200)) // a late ping: off by ≈ 20 ms
    clock.observe(exchange(500_000, -5_000_000, 120, 10, 80))
    clock.observe(exchange(1_000_000, -5_000_000, 200, 10, 30_000))
    const best = clock.best()!
    expect(best.delayUs).toBe(200)
    expect(Math.abs(best.offsetUs - -5_000_000)).toBeLessThanOrEqual(best.delayUs / 2)
  })

  it("stamps that contradict each other (negative delay) are ignored", () => {
    const clock = new ClockOffset()
    clock.observe({ t1: 1000, t2: 5000, t3: 9000, t4: 1500 })
    expect(clock.best()).toBeUndefined()
  })

  it("the client completes an exchange only for a ping it answered, once", () => {
    const stamps = new PingStamps()
    stamps.echoArrived(7, 2000) // never answered: nothing
    expect(stamps.offset.best()).toBeUndefined()
    stamps.answered(7, 1000, 1_001_100, 1_001_150) // client clock 1 s ahead, 100 µs each way
    stamps.echoArrived(7, 1250)
    expect(stamps.offset.best()?.offsetUs).toBe(1_000_000)
    stamps.echoArrived(7, 99_999) // a repeated report changes nothing
    expect(stamps.offset.best()?.offsetUs).toBe(1_000_000)
  })
})
