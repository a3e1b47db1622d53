import { describe, expect, it } from "vitest"
import { bandPath, linePath } from "./paths.js"

describe("SVG paths with gaps", () => {
  it("a line breaks at a missing value and restarts with a move", () => {
    expect(linePath([{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: null }, { x: 3, y: 4 }, { x: 4, y: 5 }])).toBe("M0,1L1,2M3,4L4,5")
    expect(linePath([{ x: 0, y: null }])).toBe("")
    expect(linePath([{ x: 0.04, y: 1.26 }])).toBe("M0,1.3")
  })

  it("a band runs along the top and back along the bottom, one closed shape per run", () => {
    const top = [{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: null }, { x: 3, y: 3 }]
    const bottom = [{ x: 0, y: 10 }, { x: 1, y: 10 }, { x: 2, y: 10 }, { x: 3, y: 10 }]
    expect(bandPath(top, bottom)).toBe("M0,1L1,2L1,10L0,10ZM3,3L3,10Z")
  })
})
