/**
 * The control stream's anti-replay window (ReplayWindow.ts) on its own: each number accepted at
 * most once, late numbers inside the window still accepted (Moonlight's channels overtake each
 * other), numbers behind it refused, and nothing moves it but `accept`.
 */
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { ReplayWindow } from "../../src/streams/gamestream/ReplayWindow.js"

describe("ReplayWindow", () => {
  it("accepts each number once, in order", () => {
    const w = new ReplayWindow(64)
    for (let n = 0; n < 200; n++) {
      expect(w.check(n)).toBe("fresh")
      expect(w.accept(n)).toBe(true)
      expect(w.check(n)).toBe("replayed")
      expect(w.accept(n)).toBe(false)
    }
    expect(w.highestAccepted).toBe(199)
  })

  it("accepts a number overtaken by later ones while it is inside the window (a retransmitted key-up)", () => {
    const w = new ReplayWindow(64)
    w.accept(0)
    // 5 is lost on the keyboard channel; 6..60 arrive on the mouse channel first.
    for (let n = 6; n <= 60; n++) expect(w.accept(n)).toBe(true)
    expect(w.check(5)).toBe("fresh")
    expect(w.accept(5)).toBe(true)
    expect(w.accept(5)).toBe(false)
    // 1..4 were never seen either, and are still inside the window.
    expect([1, 2, 3, 4].map((n) => w.accept(n))).toEqual([true, true, true, true])
  })

  it("refuses numbers that fell behind the window, even never-seen ones", () => {
    const w = new ReplayWindow(64)
    w.accept(10)
    w.accept(100)
    expect(w.check(37)).toBe("fresh") // 100 - 37 = 63: the window's last slot
    expect(w.check(36)).toBe("too-old")
    expect(w.check(10)).toBe("too-old")
    expect(w.accept(36)).toBe(false)
  })

  it("forgets the marks of slots it slides over, and a jump wider than the window clears it", () => {
    const w = new ReplayWindow(32)
    for (let n = 0; n < 32; n++) w.accept(n)
    // 32..63 reuse the slots of 0..31 (n mod 32): they must read as never seen.
    expect(w.check(32)).toBe("fresh")
    w.accept(40)
    expect(w.check(33)).toBe("fresh")
    expect(w.check(40)).toBe("replayed")
    expect(w.check(8)).toBe("too-old") // 40 - 8 = 32: out
    expect(w.check(9)).toBe("replayed") // still inside, seen
    w.accept(1_000_000)
    expect(w.check(1_000_000 - 1)).toBe("fresh")
    expect(w.check(1_000_000 - 31)).toBe("fresh")
    expect(w.check(40)).toBe("too-old")
  })

  it("handles the top of the 32-bit range and refuses bad widths", () => {
    const w = new ReplayWindow()
    expect(w.accept(0xffffffff)).toBe(true)
    expect(w.accept(-1)).toBe(false) // the same number as an unsigned 32-bit value
    expect(w.check(0xffffffff - 4095)).toBe("fresh")
    expect(w.check(0xffffffff - 4096)).toBe("too-old")
    expect(() => new ReplayWindow(0)).toThrow(RangeError)
    expect(() => new ReplayWindow(100)).toThrow(RangeError)
  })

  it("never accepts a number twice, and accepts exactly the fresh ones, over any arrival order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 400 }), (arrivals) => {
        const width = 64
        const w = new ReplayWindow(width)
        const accepted = new Set<number>()
        let highest = -1
        for (const n of arrivals) {
          const expected = !accepted.has(n) && (n > highest || highest - n < width)
          expect(w.accept(n)).toBe(expected)
          if (expected) {
            accepted.add(n)
            highest = Math.max(highest, n)
          }
        }
      }),
      { numRuns: 300 }
    )
  })
})
