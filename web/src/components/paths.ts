/**
 * SVG path strings for lines and bands with gaps, from pixel points where `null` means "no value
 * here". Our own layers draw the series (instead of Nivo's `lines`/`areas` layers) so each series
 * is one labelled `<g>` an operator's screen reader and the end-to-end test can find, and so a
 * stacked band is drawn between its own bottom and top rather than down to the axis.
 */
export interface Px {
  readonly x: number
  readonly y: number | null
}

const f = (n: number) => (Math.round(n * 10) / 10).toString()

/** `M…L…` runs, broken wherever y is null. */
export const linePath = (points: ReadonlyArray<Px>): string => {
  let d = ""
  let pen = false
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      pen = false
      continue
    }
    d += `${pen ? "L" : "M"}${f(p.x)},${f(p.y)}`
    pen = true
  }
  return d
}

/** Closed bands between `bottom` and `top` (same length, same x), broken where either is null. */
export const bandPath = (top: ReadonlyArray<Px>, bottom: ReadonlyArray<Px>): string => {
  let d = ""
  let run: Array<{ x: number; t: number; b: number }> = []
  const flush = () => {
    if (run.length > 0) {
      d += run.map((p, k) => `${k === 0 ? "M" : "L"}${f(p.x)},${f(p.t)}`).join("")
      for (let k = run.length - 1; k >= 0; k--) {
        const p = run[k]
        if (p !== undefined) d += `L${f(p.x)},${f(p.b)}`
      }
      d += "Z"
    }
    run = []
  }
  for (let k = 0; k < top.length; k++) {
    const t = top[k]
    const b = bottom[k]
    if (t === undefined || b === undefined || t.y === null || b.y === null) {
      flush()
      continue
    }
    run.push({ x: t.x, t: t.y, b: b.y })
  }
  flush()
  return d
}
