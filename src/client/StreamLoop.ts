/**
 * What the client does while a session runs: once a second it reads its media receiver's
 * counters, sends the host a receiver report (the deltas: that is what the host's capture
 * records per window), and prints one line for the person watching.
 *
 * Why once a second and not per frame: the report feeds the host's aggregation windows (1–2 s);
 * finer reports would only cost control-plane traffic.
 */
import { Duration, Effect } from "effect"
import type { MediaReceiver, ReceiverCounters } from "../native/media.js"
import { ReceiverReport } from "../streams/punktfunk1/Protocol.js"
import type { ClientSession } from "./ControlClient.js"

export interface SecondStats {
  readonly second: number
  readonly fps: number
  readonly mbps: number
  readonly packets_lost: number
  readonly fec_recovered: number
  readonly frames_dropped: number
  readonly decode_errors: number
  readonly latency_p50_us: number
  readonly latency_p99_us: number
  /** The client's clock minus the host's (µs) behind these latencies, and its ± bound. */
  readonly clock_offset_us: number | undefined
  readonly clock_offset_bound_us: number | undefined
  readonly total: ReceiverCounters
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0)

export const formatSecond = (s: SecondStats): string =>
  `t=${s.second}s fps=${s.fps} ${s.mbps.toFixed(2)} Mb/s lost=${s.packets_lost} fec=${s.fec_recovered} ` +
  `dropped=${s.frames_dropped} decode_errors=${s.decode_errors} latency p50=${(s.latency_p50_us / 1000).toFixed(1)} ms ` +
  `p99=${(s.latency_p99_us / 1000).toFixed(1)} ms`

/** Every capture→decoded latency of the session so far (µs, on the host's clock), for the closing summary. */
export interface LatencyLog {
  readonly all: Array<number>
}

export const latencySummary = (log: LatencyLog): string => {
  const sorted = [...log.all].sort((a, b) => a - b)
  return `capture→decoded latency p50=${(percentile(sorted, 50) / 1000).toFixed(1)} ms p99=${(percentile(sorted, 99) / 1000).toFixed(1)} ms over ${sorted.length} frames`
}

/** Reports and prints every second until the session ends; returns the host's reason. */
export const streamLoop = (
  session: ClientSession,
  receiver: MediaReceiver,
  onSecond: (stats: SecondStats) => void,
  log: LatencyLog = { all: [] }
): Effect.Effect<string, unknown> =>
  Effect.gen(function* () {
    let previous = receiver.counters()
    let second = 0
    const tick = Effect.gen(function* () {
      const now = receiver.counters()
      // The receiver records decode time (its clock) minus capture stamp (the host's clock); the
      // latency is that minus the clocks' offset. Until the first ping exchange gives an offset
      // the frames are not counted: a latency off by the clocks' difference is not a latency.
      const offset = session.clockOffset()
      const latencies =
        offset === undefined
          ? []
          : receiver
              .latenciesSince(previous.latency_count)
              .map((raw) => Math.max(0, raw - offset.offsetUs))
              .sort((a, b) => a - b)
      // Bounded by the session: 60 fps for an hour is 216,000 numbers.
      if (log.all.length < 1_000_000) log.all.push(...latencies)
      const delta = {
        packets_received: now.packets_received - previous.packets_received,
        packets_lost: now.packets_lost - previous.packets_lost,
        fec_recovered: now.fec_recovered - previous.fec_recovered,
        frames_decoded: now.frames_decoded - previous.frames_decoded,
        frames_dropped: now.frames_dropped - previous.frames_dropped,
        decode_us: now.decode_us - previous.decode_us,
        decode_errors: now.decode_errors - previous.decode_errors,
        bytes: now.bytes - previous.bytes
      }
      previous = now
      second++
      // A dropped frame leaves the decoder without a reference until the next keyframe, which
      // the encoder's own GOP may not send for seconds: ask for one now.
      if (delta.frames_dropped > 0) yield* session.requestIdr
      yield* session.report(
        new ReceiverReport({
          packets_received: delta.packets_received,
          packets_lost: delta.packets_lost,
          fec_recovered: delta.fec_recovered,
          frames_decoded: delta.frames_decoded,
          frames_dropped: delta.frames_dropped,
          decode_us: delta.frames_decoded > 0 ? delta.decode_us / delta.frames_decoded : 0,
          ...(latencies.length === 0 ? {} : { e2e_p50_us: percentile(latencies, 50), e2e_p99_us: percentile(latencies, 99) })
        })
      )
      onSecond({
        second,
        fps: delta.frames_decoded,
        mbps: (delta.bytes * 8) / 1e6,
        packets_lost: delta.packets_lost,
        fec_recovered: delta.fec_recovered,
        frames_dropped: delta.frames_dropped,
        decode_errors: delta.decode_errors,
        latency_p50_us: percentile(latencies, 50),
        latency_p99_us: percentile(latencies, 99),
        clock_offset_us: offset?.offsetUs,
        clock_offset_bound_us: offset === undefined ? undefined : offset.delayUs / 2,
        total: now
      })
    })
    const reporting = Effect.sleep(Duration.seconds(1)).pipe(Effect.zipRight(tick), Effect.forever)
    return yield* Effect.raceFirst(session.run, reporting)
  })
