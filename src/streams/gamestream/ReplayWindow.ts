/**
 * A sliding anti-replay window over the control stream's 32-bit message numbers, in the manner of
 * IPsec ESP (RFC 4303 §3.4.3) and DTLS (RFC 6347 §4.1.2.6): the highest number accepted so far,
 * and a bitmap of which of the `width` numbers at and below it were accepted. A number is fresh
 * when it is above the highest, or inside the window and not yet marked; it is a replay when
 * marked, and too old when it fell out of the window (it can no longer be told apart from a
 * replay, so it is refused as one).
 *
 * Why a window and not "each number must exceed the last": a Moonlight client numbers every
 * control message from ONE counter (moonlight-common-c, ControlStream.c `sendMessageEnet`) but
 * sends them on many ENet channels — mouse, keyboard, text, a channel per gamepad, pen, touch,
 * urgent — reliable per channel, some unreliable or unsequenced (touch and pen moves, the FEC
 * status). A keyboard message lost once is retransmitted and arrives after mouse messages that
 * were numbered later; a strict order would throw away that key-up and leave the key held.
 *
 * Why 4096 wide (RFC 4303 asks for at least 32, suggests 64): the width bounds how far a late
 * message may be overtaken, not what an attacker may do — every number is still accepted at
 * most once, whatever the width. ENet keeps up to a window of reliable data in flight per peer
 * (64 KiB, about a thousand sealed input messages of 40–60 bytes) and retransmits with a
 * doubling timeout, so a wide window costs 512 bytes per session and drops no real input.
 *
 * Numbers do not wrap: a client that reached 2^32 − 1 would have to reuse IVs under its key
 * (the V2 IV is the number), so nothing after it is fresh.
 *
 * Use: `check` before spending AES on a message (cheap rejection of a flood of replays), then
 * `accept` only once the message authenticated — an unauthenticated number must never move the
 * window, or a forger could push the real client's messages out of it.
 */
export type ReplayVerdict = "fresh" | "replayed" | "too-old"

export const DEFAULT_REPLAY_WINDOW = 4096

export class ReplayWindow {
  /** Highest number accepted, -1 before the first. */
  private highest = -1
  private readonly bits: Uint32Array

  constructor(readonly width: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(width) || width < 32 || width % 32 !== 0) {
      throw new RangeError(`replay window width must be a positive multiple of 32, got ${width}`)
    }
    this.bits = new Uint32Array(width / 32)
  }

  /** Whether `seq` (an unsigned 32-bit message number) may be accepted; changes nothing. */
  check(seq: number): ReplayVerdict {
    const n = seq >>> 0
    if (n > this.highest) return "fresh"
    if (this.highest - n >= this.width) return "too-old"
    return this.isMarked(n) ? "replayed" : "fresh"
  }

  /** Marks `seq` as accepted (call after it authenticated); false when `check` would refuse it. */
  accept(seq: number): boolean {
    const n = seq >>> 0
    if (this.check(n) !== "fresh") return false
    if (n > this.highest) {
      // Clear the slots the window slides over: they now stand for numbers never seen.
      const advance = this.highest < 0 ? this.width : n - this.highest
      if (advance >= this.width) this.bits.fill(0)
      else for (let k = this.highest + 1; k <= n; k++) this.clear(k)
      this.highest = n
    }
    this.mark(n)
    return true
  }

  /** The highest number accepted so far (-1: none). */
  get highestAccepted(): number {
    return this.highest
  }

  private slot(n: number): readonly [number, number] {
    const i = n % this.width
    return [i >>> 5, 1 << (i & 31)]
  }
  private isMarked(n: number): boolean {
    const [word, bit] = this.slot(n)
    return ((this.bits[word] ?? 0) & bit) !== 0
  }
  private mark(n: number): void {
    const [word, bit] = this.slot(n)
    this.bits[word] = (this.bits[word] ?? 0) | bit
  }
  private clear(n: number): void {
    const [word, bit] = this.slot(n)
    this.bits[word] = (this.bits[word] ?? 0) & ~bit
  }
}
