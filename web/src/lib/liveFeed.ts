/**
 * The live view's samples: a small store outside React state that takes samples one by one from
 * the event stream and hands them to its readers once per animation frame.
 *
 * Why per frame and not per sample: at high window rates (the fake pipeline sends 100 a second)
 * each sample was its own React render of the live charts — several per frame, none of them ever
 * shown. Batched, the page renders once per frame whatever the rate. A hidden page draws no
 * frames, so there a timer flushes instead.
 *
 * Why a store and not `useState` in the page: the page re-rendered everything under it (capture
 * control, recordings list, an open detail view) for every window; readers subscribe with
 * `useLiveSamples`, so only the live view renders when samples arrive.
 */
import { useSyncExternalStore } from "react"
import type { StatsSample } from "../../../src/api/Stats.js"

/**
 * `prev` with `batch` appended, keeping the latest `keepMs`. A sample before the one preceding it
 * comes from a new capture (t_ms restarts at arm): the kept window starts over at it.
 */
export const appendSamples = (prev: ReadonlyArray<StatsSample>, batch: ReadonlyArray<StatsSample>, keepMs: number): ReadonlyArray<StatsSample> => {
  let from = 0
  for (let i = 1; i < batch.length; i++) if ((batch[i]?.t_ms ?? 0) < (batch[i - 1]?.t_ms ?? 0)) from = i
  const firstNew = batch[from]
  if (firstNew === undefined) return prev
  const lastKept = prev[prev.length - 1]
  const start = from > 0 || (lastKept !== undefined && firstNew.t_ms < lastKept.t_ms) ? [] : prev
  const fresh = from === 0 ? batch : batch.slice(from)
  const cutoff = (fresh[fresh.length - 1]?.t_ms ?? 0) - keepMs
  // Samples arrive in time order, so only the head is cut: find the first kept one by bisection.
  let a = 0
  let b = start.length
  while (a < b) {
    const m = (a + b) >> 1
    if ((start[m]?.t_ms ?? 0) < cutoff) a = m + 1
    else b = m
  }
  const out = start.slice(a)
  for (const s of fresh) if (s.t_ms >= cutoff) out.push(s)
  return out
}

const EMPTY: ReadonlyArray<StatsSample> = []

/** Run `flush` before the next frame is drawn (or soon, where no frames are drawn); returns a cancel. */
const beforeNextFrame = (flush: () => void): (() => void) => {
  if (typeof requestAnimationFrame === "function" && typeof document !== "undefined" && document.visibilityState !== "hidden") {
    const id = requestAnimationFrame(flush)
    return () => cancelAnimationFrame(id)
  }
  const id = setTimeout(flush, 50)
  return () => clearTimeout(id)
}

export class LiveFeed {
  private samples: ReadonlyArray<StatsSample> = EMPTY
  private pending: Array<StatsSample> = []
  private cancelFlush: (() => void) | null = null
  private readonly listeners = new Set<() => void>()

  constructor(public keepMs: number) {}

  /** The kept samples as of the last flush; the same array until samples arrive. */
  readonly get = (): ReadonlyArray<StatsSample> => this.samples

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** One sample from the event stream; readers see it at the next frame. */
  push(sample: StatsSample) {
    this.pending.push(sample)
    this.cancelFlush ??= beforeNextFrame(this.flush)
  }

  /** Start over from `samples` (a snapshot, or none at a new capture); drops what is pending. */
  replace(samples: ReadonlyArray<StatsSample>) {
    this.cancel()
    this.set(appendSamples(EMPTY, samples, this.keepMs))
  }

  /** Drop pending samples and the scheduled flush (the stream closed). */
  cancel() {
    this.pending = []
    this.cancelFlush?.()
    this.cancelFlush = null
  }

  private readonly flush = () => {
    this.cancelFlush = null
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    this.set(appendSamples(this.samples, batch, this.keepMs))
  }

  private set(next: ReadonlyArray<StatsSample>) {
    this.samples = next
    for (const listener of this.listeners) listener()
  }
}

/** The feed's kept samples; the calling component re-renders (once per frame at most) as they change. */
export const useLiveSamples = (feed: LiveFeed): ReadonlyArray<StatsSample> => useSyncExternalStore(feed.subscribe, feed.get)
