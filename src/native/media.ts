/**
 * The typed face of the media module (`src/native/media`, built by `npm run build:native`): the
 * punktfunk/1 receiver the client runs. Nothing here is on a per-packet path: a receiver is
 * created, queried now and then, and closed. The sender driven from JavaScript, the standalone
 * decoder and the FEC arithmetic for known answers are the test-only addon's (`testHooks.ts`).
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

interface MediaModule {
  readonly MediaReceiver: new (options: ReceiverOptions) => MediaReceiver
}

/** The media module; throws with the command to run when it has not been built. */
export const media: () => MediaModule = addonLoader<MediaModule>("media", "punktfunk_media", "the media module", "npm run build").load
