/**
 * The typed face of the GameStream audio module (`src/native/audio`, built by
 * `npm run build:native`): Opus over RTP on UDP with Moonlight's audio FEC, sent by a native
 * thread. The GameStream layer opens one `GameStreamAudio` at host start (binding the port RTSP
 * SETUP announces), starts it when a session plays and stops it when the session ends.
 *
 * What is sent is the desktop's sound, recorded from PulseAudio (or PipeWire's PulseAudio server)
 * on the native side (`pulse_capture.h`), or encoded silence when there is none (`source:
 * "silence"`, no server reachable, or a packet the capture could not fill in time): Moonlight
 * clients expect an audio stream once RTSP negotiated one, so packets go out either way. The layouts (`OPUS_LAYOUTS`) are kept
 * here as well as in the addon so RTSP can build its DESCRIBE answer without loading native
 * code; a test checks that both agree (through the test-only addon's `opusLayout`, which also
 * carries the Opus decoder and the audio parity for known answers: `testHooks.ts`).
 *
 * Nothing here is on a per-packet path: the sender is created, started, queried, closed. The
 * Effect side (checking the start options with a Schema, the scoped socket, waiting for the
 * capture to settle) is `src/streams/gamestream/GameStreamAudio.ts`: this module knows nothing of Effect.
 */
import { addonLoader } from "./addonLoader.js"

/** `x-ss-general.encryptionEnabled` bit for audio (Sunshine-style negotiation). */
export const SS_ENC_AUDIO = 0x04
/** `x-nv-general.featureFlags` bit a Moonlight client sets when audio is encrypted (GFE-style). */
export const NVFF_AUDIO_ENCRYPTION = 0x20

/** Counters of the current (or last) session: start() zeroes them; all 0 after close(). */
export interface AudioCounters {
  /** RTP audio packets (payload type 97) sent. */
  readonly packets_sent: number
  /** FEC packets (payload type 127) sent: 2 per 4 data packets. */
  readonly fec_packets_sent: number
  /** Valid pings from the client (each also refreshes where packets go). */
  readonly pings: number
  readonly send_errors: number
  /** Datagrams that were not a valid ping from the client's host (wrong payload, other host, garbage). */
  readonly ignored: number
  /** Times the send clock re-anchored after falling more than 250 ms behind. */
  readonly resyncs: number
  /** Data packets carrying captured sound. */
  readonly captured_packets: number
  /** Data packets of silence: source "silence", no server, or the capture had nothing in time. */
  readonly silence_packets: number
  /** Times the capture ring ran dry while capturing (each costs one packet of silence). */
  readonly capture_underruns: number
  /** Captured frames dropped to keep latency bounded (the capture ran ahead of the send clock). */
  readonly capture_dropped_frames: number
  /** Times the capture lost its server (restarted) and started trying again, once a second. */
  readonly capture_reconnects: number
}

/** Where a session's sound comes from, as the native side sees it now. */
export interface AudioSourceStatus {
  /** As started: the native side knows only "silence" and "pulse" (auto and pulse both try PulseAudio). */
  readonly source: "silence" | "pulse"
  /** "off" for silence; the capture's state otherwise (after stop(), the state it had when stopped). */
  readonly state: "off" | "connecting" | "capturing" | "failed" | "stopped"
  /** Why it failed, or (capturing) the server and the source it records. */
  readonly detail: string
  /** The PulseAudio source recorded, once capturing. */
  readonly device: string
}

/** `PUNKTFUNK_AUDIO`: which sound a session sends. */
export type AudioSourceMode = "auto" | "pulse" | "silence"

/**
 * What the native `start` takes: plain numbers, checked by the addon itself (it throws naming the
 * problem), so the session layer can hand over `StreamSettings` fields directly.
 */
export interface AudioStartInput {
  readonly clientHost: string
  readonly pingPayload: string
  readonly packetDurationMs: number
  readonly channels: number
  readonly encryption?: { readonly keyHex: string; readonly keyId: number } | undefined
  /** Tests only: the first RTP sequence number (a multiple of 4), to reach the 16-bit wrap quickly. */
  readonly testFirstSequence?: number
  /** The native side takes "silence" (default) or "pulse"; startGameStreamAudio maps "auto" to "pulse". */
  readonly source?: AudioSourceMode | undefined
  readonly device?: string | undefined
}

/**
 * The native class. Methods throw (plain `Error`) on misuse; `src/streams/gamestream/GameStreamAudio.ts`
 * wraps them in Effects.
 */
export interface GameStreamAudio {
  /** The bound UDP port (the real one when constructed with 0); 0 after close. */
  readonly port: number
  readonly running: boolean
  /**
   * Starts the send thread and zeroes the counters; it sends nothing until the client's first
   * valid ping (one already waiting in the socket counts: clients ping from SETUP on). Throws if
   * already running, closed, or the options are refused.
   */
  start(options: AudioStartInput): void
  /** Stops and joins the send thread; the socket stays bound for the next session. */
  stop(): void
  counters(): AudioCounters
  /** Where this (or the last) session's sound comes from. */
  source(): AudioSourceStatus
  /** stop() and release the socket. Idempotent; also done at environment teardown. */
  close(): void
}

export interface OpusLayout {
  readonly channels: number
  readonly streams: number
  readonly coupledStreams: number
  readonly mapping: ReadonlyArray<number>
  readonly bitrate: number
}

interface AudioModule {
  readonly GameStreamAudio: new (bind: string, port: number) => GameStreamAudio
}

/**
 * The "normal quality" Opus multistream layouts a GameStream host announces, with the identity
 * channel mapping the encoder uses (FL FR C LFE RL RR [SL SR], Moonlight's channel order).
 */
export const OPUS_LAYOUTS: Readonly<Record<2 | 6 | 8, OpusLayout>> = {
  2: { channels: 2, streams: 1, coupledStreams: 1, mapping: [0, 1], bitrate: 96_000 },
  6: { channels: 6, streams: 4, coupledStreams: 2, mapping: [0, 1, 2, 3, 4, 5], bitrate: 256_000 },
  8: { channels: 8, streams: 5, coupledStreams: 3, mapping: [0, 1, 2, 3, 4, 5, 6, 7], bitrate: 450_000 }
}

/**
 * The DESCRIBE line announcing a surround layout (`a=fmtp:97 surround-params=…`), or undefined
 * for stereo, which has none. Why the mapping is rotated: Moonlight assumes GFE's announced order
 * (… RL RR [SL SR] LFE) and moves the last digit to index 3; announcing our mapping rotated left
 * from index 3 makes the client's decoder end up with exactly the encoder's mapping.
 */
export const surroundParamsLine = (channels: 2 | 6 | 8): string | undefined => {
  if (channels === 2) return undefined
  const l = OPUS_LAYOUTS[channels]
  const m = l.mapping
  const announced = [...m.slice(0, 3), ...m.slice(4), m[3]]
  return `a=fmtp:97 surround-params=${l.channels}${l.streams}${l.coupledStreams}${announced.join("")}`
}

/**
 * Whether the client asked for encrypted audio. RTSP should fold `x-nv-general.featureFlags` bit
 * 0x20 into `encryptionFlags` (older clients only set that); either bit means yes.
 */
export const audioEncryptionRequested = (settings: {
  readonly encryptionFlags: number
  readonly nvFeatureFlags?: number
}): boolean =>
  (settings.encryptionFlags & SS_ENC_AUDIO) !== 0 || ((settings.nvFeatureFlags ?? 0) & NVFF_AUDIO_ENCRYPTION) !== 0

/** The audio module; throws with the command to run when it has not been built. */
export const audio: () => AudioModule = addonLoader<AudioModule>("audio", "punktfunk_audio", "the audio module", "npm run build").load
