/**
 * The typed face of the test-only addon (`src/native/testing`, built by `npm run build:native`
 * beside the pipeline, never packed): drawing on and grabbing an X display, pattern files, the
 * encoder run back to back, the cost of measuring, the colour converter on its own, and the
 * known answers of the production modules' wire codes (FEC of both paths and of audio, the
 * GameStream packetizer and sealer, Opus) with the punktfunk/1 sender and a decoder driven from
 * JavaScript. Tests and
 * benchmarks load it; the host never imports this file, and no production addon
 * (`punktfunk_native`, `punktfunk_media`, `punktfunk_audio`) exports any of these (test/native/boundary.test.ts checks both).
 */
import { addonLoader } from "./addonLoader.js"
import type { OpusLayout } from "./audio.js"
import type { NativeOptions } from "./binding.js"

export interface GsPacketizeOptions {
  readonly packetSize: number
  readonly fecPercent: number
  readonly minRequiredFecPackets: number
  readonly idr?: boolean
  readonly rtpTimestamp?: number
  readonly latency?: number
  /** Packetize the same access unit this many times (frame indices 1, 2, …). */
  readonly frames?: number
  /** The access unit's codec (H.264 unless said): which NAL units are SEI. */
  readonly codec?: "h264" | "hevc"
  /** Seal every datagram as encrypted video under this AES-128 key (32 hex digits). */
  readonly keyHex?: string
  /** The nonce's stream number (bytes 8..10) when sealing; 0 unless said. */
  readonly nonceStream?: number
}

export interface GsSealFields {
  /** The nonce's invocation counter (bytes 0..7, little-endian). */
  readonly counter: number
  /** The nonce's stream number (bytes 8..10, little-endian). */
  readonly stream: number
  /** Written little-endian after the nonce. */
  readonly frameIndex: number
}

export interface GsHeaderFields {
  readonly seq: number
  readonly rtpTimestamp: number
  readonly streamPacketIndex: number
  readonly frameIndex: number
  readonly flags: number
  readonly block: number
  readonly lastBlock: number
  readonly shardIndex: number
  readonly dataShards: number
  readonly fecPercent: number
}

export interface GsBlockPlan {
  readonly fec: boolean
  readonly blocks: ReadonlyArray<{ readonly data: number; readonly parity: number; readonly percent: number }>
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


export interface NativeTestHooks {
  readonly x11FillRect: (display: string, x: number, y: number, w: number, h: number, rgb: number) => void
  readonly x11Grab: (display: string, width: number, height: number) => Buffer
  /** Maps a plain window of colour `rgb` that stays on the screen after the call (tests). */
  readonly x11MapWindow: (display: string, x: number, y: number, w: number, h: number, rgb: number) => void
  /** Draws the moving pattern over the screen at `fps` for `ms`; blocks (benchmarks, in a child). */
  readonly x11Animate: (display: string, width: number, height: number, fps: number, ms: number) => number
  readonly writePatternFrames: (path: string, width: number, height: number, count: number) => void
  readonly encodeRawFrames: (
    path: string,
    options: Pick<NativeOptions, "width" | "height" | "fps" | "codec" | "encoder" | "preset" | "tune" | "bitrate_kbps">,
    loops: number
  ) => { readonly wall_ns: number; readonly frames: number; readonly bytes: number; readonly encoder_backend: string }
  /** Mean ns an armed frame spends on measuring (clock reads + window store, + the flight record with `flight`), over `frames`. */
  readonly measurementCostNs: (frames: number, flight?: boolean) => number
  /** The flight recorder's ring under a writer thread at full speed (see testing/test_hooks.cc). */
  readonly flightRingStress: (
    fps: number,
    frames: number
  ) => {
    readonly capacity: number
    readonly copies: number
    readonly torn: number
    readonly gaps: number
    readonly kept: number
    readonly first_ms: number
    readonly last_ms: number
  }
  /** The submit stage's BGRX → I420 conversion; `portable` forces the code without SIMD. */
  readonly convertBgrxToI420: (
    bgrx: Buffer,
    width: number,
    height: number,
    portable: boolean
  ) => { readonly y: Buffer; readonly u: Buffer; readonly v: Buffer; readonly path: "avx2" | "portable" }

  // ── known answers of the production modules' wire codes (each compiled into this module) ──
  /** The GF(2^8) multiply kernel in use and those this CPU has; a name switches to it for every hook here (gf256/gf256.h). */
  readonly fecKernel: (name?: string) => { readonly kernel: string; readonly kernels: ReadonlyArray<string> }
  readonly gfMul: (a: number, b: number) => number
  readonly fecCoefficient: (i: number, j: number, k: number) => number
  /** punktfunk/1's parity of equal-length data shards. */
  readonly fecEncode: (shards: ReadonlyArray<Uint8Array>, parityCount: number) => Array<Uint8Array>
  /** punktfunk/1's decoder; lost shards undefined; null when fewer than `dataCount` arrived. */
  readonly fecReconstruct: (shards: ReadonlyArray<Uint8Array | undefined>, dataCount: number) => Array<Uint8Array> | null
  /** The two parity shards the GameStream audio send thread computes for four data shards. */
  readonly audioFecParity: (shards: ReadonlyArray<Uint8Array>) => [Uint8Array, Uint8Array]
  /** Decode one Opus packet with the layout for `channels`; peak is max |sample| in [0, 1]. */
  readonly decodeOpus: (packet: Uint8Array, channels: number) => { readonly samples: number; readonly peak: number }
  /** Consecutive packets through one decoder (as a client plays them), interleaved PCM. */
  readonly decodeOpusSequence: (packets: ReadonlyArray<Uint8Array>, channels: number) => Float32Array
  /** The layout the audio encoder uses for `channels` (RTSP's OPUS_LAYOUTS must agree). */
  readonly opusLayout: (channels: number) => OpusLayout | undefined
  /** The punktfunk/1 sender the frame loop runs natively, fed from JavaScript (media-plane tests, benches). */
  readonly MediaSender: new (options: SenderOptions) => MediaSender
  /** A standalone libavcodec decoder; throws when libavcodec has no decoder for the codec. */
  readonly Decoder: new (codec: "h264" | "hevc") => Decoder
  /** The senders' clock (CLOCK_MONOTONIC, µs). */
  readonly monotonicUs: () => number
  /** nanors-compatible parity of equal-length data shards (GameStream video). */
  readonly gsFecEncode: (shards: ReadonlyArray<Uint8Array>, parityCount: number) => Array<Uint8Array>
  /** The datagrams one access unit becomes (no socket). */
  readonly gsPacketizeFrame: (frame: Uint8Array, options: GsPacketizeOptions) => Array<Uint8Array>
  /** The 32 RTP + video header bytes for these fields (parity: only what a parity packet carries). */
  readonly gsVideoHeaders: (fields: GsHeaderFields, parity?: boolean) => Uint8Array
  /** `frames` packetizations timed on the C++ clock (total, parity, sealing), nothing copied out (bench). */
  readonly gsPacketizeTimed: (
    frame: Uint8Array,
    options: GsPacketizeOptions
  ) => { readonly packets: number; readonly fec_ns: number; readonly seal_ns: number; readonly total_ns: number }
  /** One datagram sealed as encrypted video (32-byte prefix + ciphertext). */
  readonly gsSealVideoDatagram: (keyHex: string, plain: Uint8Array, fields: GsSealFields) => Uint8Array
  /** How N data shards are split into FEC blocks; null when unsendable. */
  readonly gsPlanBlocks: (totalDataShards: number, fecPercent: number, minRequiredFecPackets: number) => GsBlockPlan | null
}

const hooks = addonLoader<NativeTestHooks>("testing", "punktfunk_native_test", "the test-only addon")

/** Where the test-only addon is (benchmarks load it in a child process by this path). */
export const nativeTestHooksPath = hooks.path

/** The test-only addon; throws with the command to run when it has not been built. */
export const nativeTestHooks: () => NativeTestHooks = hooks.load
