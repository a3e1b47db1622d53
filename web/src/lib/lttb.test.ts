import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { lttbIndices, lttbUnion } from "./lttb.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("LTTB downsampler", () => {
  it("returns every index when the series is at or under the threshold", () => {
    expect(lttbIndices([0, 1, 2], [5, 6, 7], 3)).toEqual([0, 1, 2])
    expect(lttbIndices([0, 1, 2], [5, 6, 7], 10)).toEqual([0, 1, 2])
    expect(lttbIndices([], [], 5)).toEqual([])
  })

  it("keeps the first and last point and at most `threshold` points, ascending", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 400 }), fc.integer({ min: 3, max: 120 }), (ys, threshold) => {
        const xs = range(ys.length)
        const picked = lttbIndices(xs, ys, threshold)
        expect(picked.length).toBe(Math.min(threshold, ys.length))
        expect(picked[0]).toBe(0)
        expect(picked[picked.length - 1]).toBe(ys.length - 1)
        for (let k = 1; k < picked.length; k++) expect(picked[k]!).toBeGreaterThan(picked[k - 1]!)
      })
    )
  })

  it("keeps a lone spike that plain decimation would skip", () => {
    const n = 5400
    const xs = range(n)
    const ys = xs.map(() => 1)
    ys[2717] = 50
    const picked = lttbIndices(xs, ys, 200)
    expect(picked).toContain(2717)
    // Every-27th decimation misses it.
    expect(xs.filter((i) => i % 27 === 0)).not.toContain(2717)
  })

  it("with two or one points wanted, keeps the ends", () => {
    expect(lttbIndices(range(10), range(10), 2)).toEqual([0, 9])
    expect(lttbIndices(range(10), range(10), 1)).toEqual([0])
  })

  it("the union keeps each series' own spikes on one shared index set", () => {
    const n = 1000
    const xs = range(n)
    const a = xs.map(() => 1)
    const b = xs.map(() => 1)
    a[100] = 30
    b[900] = 30
    const picked = lttbUnion(xs, [a, b], 50)
    expect(picked).toContain(100)
    expect(picked).toContain(900)
    expect(picked.length).toBeLessThanOrEqual(100)
  })
})
