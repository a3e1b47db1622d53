/**
 * Round-trip times of the host's pings within one aggregation window.
 *
 * Why the median: one delayed echo (a GC pause on the client, a retransmit) should not move the
 * window's figure, and a window has only a few pings (2 s / 500 ms). Echoes for unknown or very old
 * ids are ignored, so a client cannot lower its RTT by echoing ids it was never sent.
 */
const MAX_OUTSTANDING = 64

/** The host's clock in µs: CLOCK_MONOTONIC, as the addon stamps each frame's capture time. */
const hostUs = (): number => Number(process.hrtime.bigint() / 1000n)

/** What the next ping carries: its id, when it leaves, and when the previous echo arrived. */
export interface PingStamp {
  readonly id: number
  readonly host_us: number
  readonly echo?: { readonly id: number; readonly host_us: number }
}

export class RttWindow {
  private nextId = 1
  private readonly outstanding = new Map<number, number>()
  private samples: Array<number> = []
  private lastEcho: { readonly id: number; readonly host_us: number } | undefined

  /** Records a ping going out now; returns its id and the stamps it carries. */
  sent(): PingStamp {
    const id = this.nextId++
    const now = hostUs()
    this.outstanding.set(id, now)
    if (this.outstanding.size > MAX_OUTSTANDING) {
      const oldest = this.outstanding.keys().next().value
      if (oldest !== undefined) this.outstanding.delete(oldest)
    }
    const echo = this.lastEcho
    this.lastEcho = undefined
    return echo === undefined ? { id, host_us: now } : { id, host_us: now, echo }
  }

  echoed(id: number): void {
    const at = this.outstanding.get(id)
    if (at === undefined) return
    this.outstanding.delete(id)
    const now = hostUs()
    this.samples.push(now - at)
    this.lastEcho = { id, host_us: now }
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
