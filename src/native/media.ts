/**
 * The typed face of the media module (`src/native/media`, built by `npm run build:native`): the
 * punktfunk/1 receiver the client runs, the sender tests and benchmarks drive from JavaScript,
 * and the FEC arithmetic for known-answer tests. Nothing here is on a per-packet path: a
 * receiver or sender is created, queried now and then, and closed.
 */
import { addonLoader } from "./addonLoader.js"

export interface ReceiverOptions {
  /**
   * 40 hex digits: 16 bytes of AES-128 key, then 4 bytes of nonce salt (from the handshake).
   * Without it the receiver only binds (its port can go into the handshake); `start` it later.
   */
  readonly keyHex?: string
  readonly bind?: string
  readonly port?: number
  readonly codec?: "h264" | "hevc" | "none"
  /** Drop this share (0 ≤ p < 1) of arriving packets, to try FEC without a bad network. */
  readonly simulateLoss?: number
  /** Append every reassembled frame (Annex B) to this file. */
  readonly savePath?: string
  readonly mtu?: number
  /**
   * Added to every reading of the receiver's clock (µs): makes one machine behave like two whose
   * monotonic clocks started apart (tests of the clock-offset estimate).
   */
  readonly clockShiftUs?: number
}

export interface ReceiverCounters {
  readonly packets_received: number
  readonly packets_lost: number
  readonly packets_malformed: number
  readonly packets_tampered: number
  readonly packets_replayed: number
  readonly packets_simulated_lost: number
  readonly fec_recovered: number
  readonly frames_complete: number
  /** Complete frames the host flagged as keyframes (the first one, the GOP's, and IDR requests). */
  readonly keyframes: number
  readonly frames_dropped: number
  readonly frames_decoded: number
  readonly decode_errors: number
  readonly decode_us: number
  readonly bytes: number
  readonly latency_count: number
}

export interface MediaReceiver {
  readonly port: number
  counters(): ReceiverCounters
  /**
   * Per decoded frame after the `latency_count` given: the receiver's clock at decode minus the
   * frame's capture stamp on the host's clock (µs, signed). The capture→decoded latency once the
   * clocks' offset is subtracted (zero offset on one machine).
   */
  latenciesSince(count: number): Array<number>
  /** The receiver's clock now, µs (CLOCK_MONOTONIC plus `clockShiftUs`). */
  clockUs(): number
  /** Begins receiving with the session's key (for a receiver opened without one). */
  start(keyHex: string): void
  /** Stops and joins the receive thread. */
  close(): void
}

export interface SenderOptions {
  readonly keyHex: string
  readonly host: string
  readonly port: number
  readonly mtu?: number
  readonly fecPercent?: number
  readonly fps?: number
}

export interface SenderCounters {
  readonly frames: number
  readonly packets_sent: number
  readonly bytes_sent: number
  readonly send_dropped: number
  readonly sock_us: number
}

export interface MediaSender {
  sendFrame(frame: Uint8Array, keyframe: boolean, captureUs?: number): { fec_us: number; seal_us: number; packets: number }
  counters(): SenderCounters
  close(): void
}

/** What one `decode` call did, and the decoder's running totals. */
export interface DecodeResult {
  /** The decoder accepted the access unit. */
  readonly ok: boolean
  /** Pictures this call completed (1 for a low-delay H.264 access unit). */
  readonly frames: number
  /** Size of the last decoded picture (0 before the first). */
  readonly width: number
  readonly height: number
  readonly framesDecoded: number
  readonly errors: number
}

/** A standalone libavcodec decoder: one Annex B access unit per call (tests and tools). */
export interface Decoder {
  decode(accessUnit: Uint8Array): DecodeResult
  close(): void
}

interface MediaModule {
  /** Throws when libavcodec has no decoder for the codec. */
  readonly Decoder: new (codec: "h264" | "hevc") => Decoder
  readonly MediaReceiver: new (options: ReceiverOptions) => MediaReceiver
  readonly MediaSender: new (options: SenderOptions) => MediaSender
  readonly gfMul: (a: number, b: number) => number
  readonly fecCoefficient: (i: number, j: number, k: number) => number
  /** Known answers: punktfunk/1's parity of equal-length data shards. */
  readonly fecEncode: (shards: ReadonlyArray<Uint8Array>, parityCount: number) => Array<Uint8Array>
  /** Known answers: punktfunk/1's decoder; lost shards undefined; null when fewer than `dataCount` arrived. */
  readonly fecReconstruct: (shards: ReadonlyArray<Uint8Array | undefined>, dataCount: number) => Array<Uint8Array> | null
  /** Tests and the bench: the GF(2^8) multiply kernel in use and those this CPU has; a name switches to it (gf256/gf256.h). */
  readonly fecKernel: (name?: string) => { readonly kernel: string; readonly kernels: ReadonlyArray<string> }
  readonly monotonicUs: () => number
}

/** The media module; throws with the command to run when it has not been built. */
export const media: () => MediaModule = addonLoader<MediaModule>("media", "punktfunk_media", "the media module", "npm run build").load
