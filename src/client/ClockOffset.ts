/**
 * The offset between the client's clock and the host's, estimated from the host's pings as NTP
 * does (RFC 5905 §8), so a frame's capture stamp (host clock) and its decode time (client clock)
 * can be compared on two machines.
 *
 * One exchange gives four stamps: the host sends a ping at t1 (host clock), the client receives
 * it at t2 and answers at t3 (client clock), the host receives the echo at t4 (host clock) and
 * tells the client in its next ping. Then
 *   offset = ((t2 − t1) + (t3 − t4)) / 2     (client clock − host clock)
 *   delay  = (t4 − t1) − (t3 − t2)           (the time the messages spent on the way)
 * and the true offset lies within ± delay / 2 of the estimate, whatever the two directions took.
 *
 * Why the lowest-delay exchange of the recent ones: a delayed message (a retransmit, a GC pause on
 * either side) skews its exchange's estimate by up to half the delay; the exchange that spent the
 * least time on the way has the tightest bound. Keeping only recent exchanges (the last 16, about
 * eight seconds at two pings a second) lets the estimate follow a slow drift between two clocks.
 */

/** One ping/echo exchange: host stamps t1, t4; client stamps t2, t3 (µs). */
export interface Exchange {
  readonly t1: number
  readonly t2: number
  readonly t3: number
  readonly t4: number
}

export interface OffsetEstimate {
  /** Client clock minus host clock, µs. */
  readonly offsetUs: number
  /** The exchange's time on the way: the estimate is within ± delayUs / 2 of the truth. */
  readonly delayUs: number
}

const KEEP = 16

export const estimateOf = (e: Exchange): OffsetEstimate => ({
  offsetUs: (e.t2 - e.t1 + (e.t3 - e.t4)) / 2,
  delayUs: e.t4 - e.t1 - (e.t3 - e.t2)
})

export class ClockOffset {
  private readonly recent: Array<OffsetEstimate> = []

  /** Adds an exchange; one whose stamps contradict each other (negative delay) is ignored. */
  observe(e: Exchange): void {
    const estimate = estimateOf(e)
    if (!(estimate.delayUs >= 0) || !Number.isFinite(estimate.offsetUs)) return
    this.recent.push(estimate)
    if (this.recent.length > KEEP) this.recent.shift()
  }

  /** The lowest-delay recent exchange's estimate; undefined before the first exchange. */
  best(): OffsetEstimate | undefined {
    let best: OffsetEstimate | undefined
    for (const e of this.recent) if (best === undefined || e.delayUs < best.delayUs) best = e
    return best
  }
}

/**
 * The client's side of the exchanges: remembers when each ping arrived and its echo left, and
 * completes the exchange when the host reports the echo's arrival. Bounded: pings whose echo the
 * host never reports are forgotten after `KEEP` newer ones.
 */
export class PingStamps {
  private readonly pending = new Map<number, { t1: number; t2: number; t3: number }>()

  constructor(readonly offset: ClockOffset = new ClockOffset()) {}

  /** A ping `id` sent at host time `t1`, received at client time `t2`, answered at `t3`. */
  answered(id: number, t1: number, t2: number, t3: number): void {
    this.pending.set(id, { t1, t2, t3 })
    if (this.pending.size > KEEP) {
      const oldest = this.pending.keys().next().value
      if (oldest !== undefined) this.pending.delete(oldest)
    }
  }

  /** The host received our echo of ping `id` at host time `t4`. */
  echoArrived(id: number, t4: number): void {
    const p = this.pending.get(id)
    if (p === undefined) return
    this.pending.delete(id)
    this.offset.observe({ ...p, t4 })
  }
}
