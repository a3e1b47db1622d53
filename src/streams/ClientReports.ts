/**
 * What a session's client side adds to the pipeline's windows: the counters a client reports
 * (lost packets, packets rebuilt from parity, frames it could not show), the round trip the host
 * times with its own pings, and which of those the session lists in `measured`.
 *
 * Why one place: which counters a path measures used to be decided separately by each path's
 * runner; here a path only says what it is (`ClientSide`), and `sessionMeasured` is the one
 * function that turns that into the session's `measured` list. A counter the client side does
 * not report stays at the pipeline's value (0 where the pipeline does not count it) and out of
 * the list, so it is shown as "not measured", never as "no loss".
 *
 * Why counts are folded into the window that is current when they arrive: reports come at the
 * client's cadence, windows at the pipeline's; summing what arrived since the previous window
 * keeps every report exactly once in a capture.
 */
import { measuredFields, unionMeasured } from "../api/Fields.js"
import type { SessionFacts } from "../api/Fields.js"
import type { MeasuredField, StreamKind } from "../api/Stats.js"
import type { SessionWindow } from "./Pipeline.js"

/** Who watches a session, and what its side of the path can report. */
export type ClientSide =
  /** The host's own session (the `fake` test source): nobody reports anything. */
  | { readonly path: "local" }
  /**
   * punktfunk/1: the host times RTT with pings; a client that takes media sends receiver reports,
   * with its end-to-end latency when it said in its Hello that it measures it (`e2e`).
   */
  | { readonly path: "punktfunk1"; readonly media: boolean; readonly e2e?: boolean }
  /** GameStream: lost packets always; repaired ones only from clients that send per-block FEC status. */
  | { readonly path: "gamestream"; readonly fecStatus: boolean }

/** The counters a client adds to, as sums since the previous window. */
export type ReportedCount = "packets_dropped" | "fec_recovered" | "client_frames_dropped"

// Which of the control plane's fields a session measures is a column of the field table
// (src/api/Fields.ts, `measuredOn`); a client side only says which path it is and what it does.
const factsOf = (side: ClientSide): { readonly kind: StreamKind; readonly facts: SessionFacts } | undefined => {
  switch (side.path) {
    case "local":
      return undefined
    case "punktfunk1":
      return { kind: "punktfunk1", facts: { sending: side.media, sealed: side.media, client_fec_status: false, client_e2e: side.media && side.e2e === true } }
    case "gamestream":
      return { kind: "gamestream", facts: { sending: true, sealed: false, client_fec_status: side.fecStatus, client_e2e: false } }
  }
}

const clientMeasured = (side: ClientSide): ReadonlyArray<MeasuredField> => {
  const of = factsOf(side)
  return of === undefined ? [] : measuredFields(of.kind, "control", of.facts)
}

/** A session's `measured`: what its pipeline counts and what its client side reports, in the table's order. */
export const sessionMeasured = (pipeline: ReadonlyArray<MeasuredField>, side: ClientSide): ReadonlyArray<MeasuredField> =>
  unionMeasured(pipeline, clientMeasured(side))

/**
 * A sum of report counts, kept a safe integer: each report is bounded, but a client may send
 * millions between two windows, and a capture holding an unsafe integer cannot be encoded (its
 * save would fail). Negative counts (a confused client) add nothing.
 */
const saturatingAdd = (sum: number, n: number): number => Math.min(Number.MAX_SAFE_INTEGER, sum + Math.max(0, n))

export interface ClientReports {
  readonly side: ClientSide
  /** A client's report: `n` more of `field` since its previous one. */
  readonly add: (field: ReportedCount, n: number) => void
  /** A report's end-to-end latency percentiles (µs, host clock) for the frames it covers. */
  readonly e2e: (p50Us: number, p99Us: number) => void
  /** This window with what arrived since the previous one folded in; the next window starts from 0. */
  readonly fold: (window: SessionWindow) => SessionWindow
}

/**
 * The client side of one session. `rttUs`: the host's own round-trip figure for the window
 * (punktfunk/1's pings), taken once per window; absent, the window's `rtt_us` is left as it is.
 */
export const clientReports = (side: ClientSide, rttUs?: () => number): ClientReports => {
  const pending: Record<ReportedCount, number> = { packets_dropped: 0, fec_recovered: 0, client_frames_dropped: 0 }
  // Reports come about once a second, windows every one or two: a window's p50 is the median of
  // its reports' p50s and its p99 the worst of their p99s (never lower than any report saw). A
  // window without a report has no figure (the keys stay absent), never a 0.
  let e2eP50s: Array<number> = []
  let e2eP99 = -1
  return {
    side,
    add: (field, n) => {
      pending[field] = saturatingAdd(pending[field], n)
    },
    e2e: (p50Us, p99Us) => {
      e2eP50s.push(p50Us)
      e2eP99 = Math.max(e2eP99, p99Us)
    },
    fold: (window) => {
      const folded: SessionWindow = {
        ...window,
        ...(rttUs === undefined ? {} : { rtt_us: rttUs() }),
        packets_dropped: saturatingAdd(window.packets_dropped, pending.packets_dropped),
        fec_recovered: saturatingAdd(window.fec_recovered, pending.fec_recovered),
        client_frames_dropped: saturatingAdd(window.client_frames_dropped, pending.client_frames_dropped)
      }
      pending.packets_dropped = pending.fec_recovered = pending.client_frames_dropped = 0
      if (e2eP50s.length === 0) return folded
      const sorted = e2eP50s.sort((a, b) => a - b)
      const mid = Math.floor(sorted.length / 2)
      const p50 = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
      const withE2e: SessionWindow = { ...folded, e2e_p50_us: p50, e2e_p99_us: e2eP99 }
      e2eP50s = []
      e2eP99 = -1
      return withE2e
    }
  }
}
