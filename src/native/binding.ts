/**
 * The typed face of the pipeline addon (`src/native`, built by `npm run build:native`). It knows
 * nothing of Effect: `src/streams/NativePipeline.ts` turns a `NativeSession` into a scoped
 * resource and its windows into a Stream.
 *
 * The addon is built in one place, `src/native/build/Release`; `addonPath.ts` finds it from
 * `src/native/` (tests) and `dist/native/` (compiled) alike, or in the sanitizer build when
 * `PUNKTFUNK_NATIVE_BUILD_DIR` says so.
 */
import type { StageName } from "../api/Paths.js"
import { addonLoader } from "./addonLoader.js"

/** Options as the addon reads them (see `src/native/options.h`). */
/** Scheduling of the frame path (`PUNKTFUNK_FRAME_PRIORITY`). */
export type FramePriority = "normal" | "realtime"

export interface NativeOptions {
  /** The path's stages in critical-path order (`src/api/Paths.ts`): the spans the loop reports. */
  readonly stages: ReadonlyArray<StageName>
  readonly source: string
  readonly display?: string
  readonly width: number
  readonly height: number
  readonly fps: number
  readonly codec: string
  readonly encoder: string
  readonly preset: string
  readonly tune: string
  /** "realtime": the frame thread and the encoder's workers under SCHED_RR (thread_priority.h). Default "normal". */
  readonly priority?: FramePriority
  readonly bitrate_kbps: number
  readonly perf: boolean
  /** Benchmarks: frames back to back instead of on the frame clock. */
  readonly paced?: boolean
  /** Aggregation window, ms: the path's (`PATHS[kind].window_ms`) unless a test says. */
  readonly window_ms: number
  /** Tests: append the Annex B bitstream to this file. */
  readonly dump_path?: string
  /** Tests: behave as if an NVIDIA GPU were present. */
  readonly assume_gpu?: boolean
  readonly media?: {
    readonly host: string
    readonly port: number
    readonly key_hex: string
    readonly mtu: number
    readonly fec_percent: number
  }
  /** GameStream video: packetize and send on the host's video port (a path with a packetize stage). */
  readonly gamestream?: NativeGameStreamVideo
}

/** A GameStream session's video target (see `src/native/gamestream/video_sender.h`). */
export interface NativeGameStreamVideo {
  /** `GameStreamVideoPort.fd`: borrowed, never closed by the session. */
  readonly videoFd: number
  /** Only pings from this host are accepted (IPv4-mapped IPv6 compares as IPv4). */
  readonly clientHost: string
  /** The client's 16-character `X-SS-Ping-Payload`, or "" to accept the legacy "PING". */
  readonly pingPayload: string
  /** Moonlight's packetSize: video header + payload per datagram (each datagram is 16 bytes more). */
  readonly packetSize: number
  readonly fecPercent: number
  readonly minRequiredFecPackets: number
  /**
   * The launch's AES-128 `rikey` (32 hex digits) when the client asked for encrypted video:
   * every datagram is then sealed (AES-GCM, 32-byte prefix, see `gamestream/video_wire.h`).
   * Absent: plain datagrams, byte for byte as without encryption support.
   */
  readonly keyHex?: string
}

/** What the session's GameStream video sender did (zeros without a video target). */
export interface NativeVideoCounters {
  readonly frames_sent: number
  /** Frames produced before the client's first valid ping (not sent). */
  readonly frames_unsent: number
  /** Frames the send ring had no room for, or too large for four FEC blocks without parity. */
  readonly frames_dropped: number
  readonly packets_sent: number
  readonly parity_sent: number
  readonly send_dropped: number
  readonly pings_accepted: number
  readonly pings_ignored: number
  /** Datagrams sealed (encrypted video: every one queued; 0 otherwise). */
  readonly packets_sealed: number
  /** Datagrams the cipher refused: wiped, never sent in the clear. */
  readonly seal_failed: number
  /** "host:port" learned from the first valid ping, or "". */
  readonly peer: string
}

/** The host-lifetime GameStream video socket (UDP). Throws an Error when it cannot bind. */
export interface GameStreamVideoPort {
  /** The bound port (the one asked for, or the one the kernel chose for 0). */
  readonly port: number
  /** The socket's descriptor for `SessionConfig.gamestream.videoFd`; -1 once closed. */
  readonly fd: number
  /** Closes the socket; close every session using it first. Idempotent. */
  close(): void
}

export interface NativeStageTiming {
  readonly name: StageName
  readonly p50_us: number
  readonly p99_us: number
  readonly max_us: number
  readonly mean_us: number
}

/** One aggregation window as the frame thread summarised it. */
export interface NativeWindow {
  readonly index: number
  /** Window end, monotonic clock, ms. */
  readonly t_ms: number
  readonly duration_ms: number
  /** Frame-clock ticks served: new pictures plus repeats. */
  readonly frames: number
  /** Ticks whose picture did not change (X11 DAMAGE saw nothing, or the static source did not redraw). */
  readonly repeats: number
  /** Frames that went through the encoder: new pictures plus the repeats the still policy let through. */
  readonly encoded: number
  readonly measured_frames: number
  readonly frames_dropped: number
  readonly overflow: number
  readonly bytes: number
  /** Empty when no frame of the window was measured (disarmed, no perf). */
  readonly stages: ReadonlyArray<NativeStageTiming>
  readonly host_p50_us: number
  readonly host_p99_us: number
  /** The frame thread ran at real-time priority through this window; false once it gave it up. */
  readonly realtime: boolean
  /** The session has a network target (punktfunk/1 media or GameStream video): the send counters are its sender's. */
  readonly sending: boolean
  readonly send_dropped: number
  readonly fec_us: number
  readonly seal_us: number
  readonly sock_us: number
  /** GameStream: frames produced in this window before the client's first valid ping. */
  readonly frames_unsent: number
  /** Windows lost since the previous delivered one (JavaScript's queue was full). */
  readonly windows_dropped: number
  /** Present on the loop's last window when the encoder failed. */
  readonly error?: string
}

export interface NativeSessionInfo {
  readonly encoder_backend: string
  /** Why the backend is not the first choice, or "". */
  readonly note: string
  readonly gpu: string
  /** What the frame path got: "realtime" or "normal". */
  readonly priority: FramePriority
  /** Why real-time was asked for and refused (a permission to grant), or "". */
  readonly priority_note: string
  readonly stages: ReadonlyArray<NativeStageTiming["name"]>
}

export interface NativeTotals {
  readonly frames: number
  readonly repeats: number
  readonly encoded: number
  readonly bytes: number
  readonly windows: number
  readonly frames_dropped: number
  readonly running: boolean
}

export interface NativeSession {
  info(): NativeSessionInfo
  totals(): NativeTotals
  /** Stops and joins the frame thread, frees encoder and capture. Idempotent. */
  close(): void
  /** The next frame is an IDR (a client lost its references). */
  requestIdr(): void
  /** A new bitrate target (kb/s, 100–500000) from the next frame on. */
  setBitrate(kbps: number): void
  /** The GameStream video sender's counters; kept after close(). */
  videoCounters(): NativeVideoCounters
  /**
   * The flight recorder's records whose deadline (the windows' monotonic ms) lies in
   * [fromMs, toMs], oldest first, as rows of `stride` numbers (`NativeFrameColumn` order).
   * Only for a span being kept; empty once closed.
   */
  frames(fromMs: number, toMs: number): NativeFrames
}

/** The columns of one flight-recorder row (see `frames()`): times in µs after the deadline. */
export const NATIVE_FRAME_COLUMNS = [
  "deadline_ms",
  "woke_us",
  "captured_us",
  "submitted_us",
  "encoded_us",
  "packetized_us",
  "sent_us",
  "bytes",
  "packets",
  "dropped_before",
  "key",
  "repeat"
] as const

export interface NativeFrames {
  readonly stride: number
  readonly data: Float64Array
}

export interface NativeModule {
  /** Throws an Error with `configError: boolean` when the session cannot open. */
  readonly NativeSession: new (options: NativeOptions, onWindow: (window: NativeWindow) => void) => NativeSession
  readonly setArmed: (armed: boolean) => void
  readonly getArmed: () => boolean
  readonly activeThreads: () => number
  readonly planEncoders: (codec: string, choice: string, nvidiaGpu: boolean) => Array<string>
  readonly nvidiaGpuPresent: () => boolean
  readonly GameStreamVideoPort: new (bind: string, port: number) => GameStreamVideoPort
}

const pipeline = addonLoader<NativeModule>("", "punktfunk_native", "the native pipeline")

export const nativeModulePath = pipeline.path

/** The addon; throws with the command to run when it has not been built. */
export const nativeModule: () => NativeModule = pipeline.load

/** Tells an open failure that retrying cannot fix (bad config, no display, encoder won't open). */
export const isConfigError = (e: unknown): boolean =>
  e instanceof Error && (e as Error & { readonly configError?: unknown }).configError === true
