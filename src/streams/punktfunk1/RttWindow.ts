/**
 * Round-trip times of the host's pings within one aggregation window.
 *
 * Why the median: one delayed echo (a GC pause on the client, a retransmit) should not move the
 * window's figure, and a window has only a few pings (2 s / 500 ms). Echoes for unknown or very old
 * ids are ignored, so a client cannot lower its RTT by echoing ids it was never sent.
 */
const MAX_OUTSTANDING = 64

export class RttWindow {
  private nextId = 1
  private readonly outstanding = new Map<number, bigint>()
  private samples: Array<number> = []

  /** Records a ping going out now; returns its id. */
  sent(): number {
    const id = this.nextId++
    this.outstanding.set(id, process.hrtime.bigint())
    if (this.outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.outstanding.keys().next().value
      if (oldest !== undefined) this.outstanding.delete(oldest)
    }
    return id
  }

  echoed(id: number): void {
    const at = this.outstanding.get(id)
    if (at === undefined) return
    this.outstanding.delete(id)
    this.samples.push(Number(process.hrtime.bigint() - at) / 1000)
  }

  /** The window's median RTT in µs (0 when no echo came back in it), and a fresh window. */
  takeMedianUs(): number {
    const sorted = this.samples.sort((a, b) => a - b)
    this.samples = []
    if (sorted.length === 0) return 0
    const mid = Math.floor(sorted.length / 2)
    const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
    return Math.round(median)
  }
}
