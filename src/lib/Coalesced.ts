/**
 * Events a client can repeat at will, written at most once per key and window: the first of a
 * burst at once, later ones within the window only counted, and when the window is over one more
 * write says how many came (with the latest one's details); a quiet window ends the burst. The
 * host's markers use it (`services/HostMarkers.ts`: an IDR storm is at most one marker per
 * second and session) and so do log lines (`streams/punktfunk1/ControlServer.ts`: a paired
 * client sending thousands of bitrate changes a second gets at most one line per second into the
 * host's log). None of the events goes uncounted.
 *
 * Why a timer per open burst and not per event: the summary must come even when the client stops
 * mid-burst (or its session ends), and one fiber per key — in the scope of whoever made the
 * coalescer, so it ends with it — costs nothing per event.
 */
import { Effect } from "effect"
import type { Scope } from "effect"

/**
 * Record one event of `key`: `first` runs if it opens a burst; `summary(more)` writes the rest of
 * the burst, given how many came since the last write (the latest event's `summary` is used).
 */
export type Coalesce = (key: string, first: Effect.Effect<void>, summary: (more: number) => Effect.Effect<void>) => Effect.Effect<void>

interface Burst {
  /** Events since the last write of this burst. */
  more: number
  /** The summary of the latest event, given the count. */
  summary: (more: number) => Effect.Effect<void>
}

export const makeCoalesced = (windowMs: number): Effect.Effect<Coalesce, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const bursts = new Map<string, Burst>()
    return (key, first, summary) =>
      Effect.suspend(() => {
        const burst = bursts.get(key)
        if (burst !== undefined) {
          burst.more++
          burst.summary = summary
          return Effect.void
        }
        bursts.set(key, { more: 0, summary })
        const closeWindow: Effect.Effect<void> = Effect.sleep(windowMs).pipe(
          Effect.zipRight(
            Effect.suspend(() => {
              const open = bursts.get(key)
              if (open === undefined || open.more === 0) {
                bursts.delete(key)
                return Effect.void
              }
              const more = open.more
              open.more = 0
              return open.summary(more).pipe(Effect.zipRight(closeWindow))
            })
          )
        )
        return first.pipe(Effect.zipRight(Effect.forkIn(closeWindow, scope)), Effect.asVoid)
      })
  })
