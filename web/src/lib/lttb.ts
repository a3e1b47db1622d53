/**
 * Largest-triangle-three-buckets downsampling (Steinarsson, 2013), returning the indices it keeps.
 *
 * Why indices and not points: the stacked latency chart needs every stage series sampled at the
 * same x values (Nivo stacks by matching x), and the caller picks which values a point carries.
 * Why LTTB: it keeps the spikes an operator is looking for (a max-area triangle favours outliers)
 * where plain decimation would skip them, and it always keeps the first and last point so a
 * session's span is drawn exactly. Summaries never use this: they read every sample.
 */

/** Indices (ascending) of at most `threshold` points of (xs[i], ys[i]) chosen by LTTB. */
export const lttbIndices = (xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): Array<number> => {
  const n = Math.min(xs.length, ys.length)
  if (threshold >= n || n <= 2) return Array.from({ length: n }, (_, i) => i)
  if (threshold <= 1) return n > 0 ? [0] : []
  if (threshold === 2) return [0, n - 1]
  const out: Array<number> = [0]
  // Bucket the points between the fixed first and last into threshold - 2 buckets.
  const every = (n - 2) / (threshold - 2)
  let a = 0
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    // Average of the next bucket: the third corner of the triangle.
    const nextStart = Math.floor((bucket + 1) * every) + 1
    const nextEnd = Math.min(Math.floor((bucket + 2) * every) + 1, n)
    let avgX = 0
    let avgY = 0
    const nextLen = nextEnd - nextStart
    if (nextLen > 0) {
      for (let j = nextStart; j < nextEnd; j++) {
        avgX += xs[j] ?? 0
        avgY += ys[j] ?? 0
      }
      avgX /= nextLen
      avgY /= nextLen
    } else {
      avgX = xs[n - 1] ?? 0
      avgY = ys[n - 1] ?? 0
    }
    const start = Math.floor(bucket * every) + 1
    const end = Math.min(Math.floor((bucket + 1) * every) + 1, n - 1)
    const ax = xs[a] ?? 0
    const ay = ys[a] ?? 0
    let best = start
    let bestArea = -1
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * ((ys[j] ?? 0) - ay) - (ax - (xs[j] ?? 0)) * (avgY - ay))
      if (area > bestArea) {
        bestArea = area
        best = j
      }
    }
    out.push(best)
    a = best
  }
  out.push(n - 1)
  return out
}

/** The union of LTTB picks over several y series sharing one x: each series keeps its own spikes. */
export const lttbUnion = (xs: ArrayLike<number>, yss: ReadonlyArray<ArrayLike<number>>, threshold: number): Array<number> => {
  const n = xs.length
  if (n <= threshold) return Array.from({ length: n }, (_, i) => i)
  const keep = new Uint8Array(n)
  for (const ys of yss) for (const i of lttbIndices(xs, ys, threshold)) keep[i] = 1
  const out: Array<number> = []
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(i)
  return out
}
