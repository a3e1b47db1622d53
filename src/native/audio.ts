/**
 * The typed face of the GameStream audio module (`src/native/audio`, built by
 * `npm run build:native`): Opus over RTP on UDP with Moonlight's audio FEC, sent by a native
 * thread. The GameStream layer opens one `GameStreamAudio` at host start (binding the port RTSP
 * SETUP announces), starts it when a session plays and stops it when the session ends.
 *
 * What is sent is **encoded silence**: punktfunk has no audio capture source yet, but Moonlight
 * clients expect an audio stream once RTSP negotiated one. The layouts (`OPUS_LAYOUTS`) are kept
 * here as well as in the addon so RTSP can build its DESCRIBE answer without loading native
 * code; a test checks that both agree.
 *
 * Nothing here is on a per-packet path: the sender is created, started, queried, closed.
 */
import { Data, Effect, Schema, type Scope } from "effect"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** `x-ss-general.encryptionEnabled` bit for audio (Sunshine-style negotiation). */
export const SS_ENC_AUDIO = 0x04
/** `x-nv-general.featureFlags` bit a Moonlight client sets when audio is encrypted (GFE-style). */
export const NVFF_AUDIO_ENCRYPTION = 0x20

/** Options the send thread runs with; checked here so a refusal names the field. */
export const AudioStartOptions = Schema.Struct({
  /** Numeric address of the launching client; pings from any other host are ignored. */
  clientHost: Schema.String.pipe(Schema.minLength(1)),
  /** The 16-character `X-SS-Ping-Payload`, or "" for a client that pings with "PING". */
  pingPayload: Schema.String.pipe(Schema.filter((s) => s.length === 0 || s.length === 16, {
    message: () => "pingPayload must be 16 characters (X-SS-Ping-Payload) or empty (legacy PING)"
  })),
  /** `x-nv-aqos.packetDuration`: ms of audio per packet. */
  packetDurationMs: Schema.Literal(5, 10, 20),
  /** `x-nv-audio.surround.numChannels`: stereo, 5.1 or 7.1. */
  channels: Schema.Literal(2, 6, 8),
  /** The launch's `rikey` (32 hex digits) and `rikeyid`, when the client asked for encrypted audio. */
  encryption: Schema.optional(
    Schema.Struct({
      keyHex: Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]{32}$/)),
      keyId: Schema.Int
    })
  )
})
export type AudioStartOptions = typeof AudioStartOptions.Type

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
}

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
}

/** The native class. Methods throw (plain `Error`) on misuse; the Effect helpers below wrap them. */
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
  /** Test helper: decode one Opus packet with the layout for `channels`; peak is max |sample| in [0, 1]. */
  readonly decodeOpus: (packet: Uint8Array, channels: number) => { readonly samples: number; readonly peak: number }
  /** Known-answer helper: the two parity shards the send thread computes for four data shards. */
  readonly audioFecParity: (shards: ReadonlyArray<Uint8Array>) => [Uint8Array, Uint8Array]
  readonly opusLayout: (channels: number) => OpusLayout | undefined
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

// From `src/native/` (tests) and `dist/native/` (compiled) alike, the package root is two up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const modulePath = path.join(root, "src", "native", "audio", "build", "Release", "punktfunk_audio.node")

let loaded: AudioModule | undefined

/** The audio module; throws with the command to run when it has not been built. */
export const audio = (): AudioModule => {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(modulePath) as AudioModule
    } catch (e) {
      throw new Error(`the audio module is not built (${modulePath}): run 'npm run build' (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  return loaded
}

/** Opening, binding or starting the audio sender failed; `message` says why. */
export class GameStreamAudioError extends Data.TaggedError("GameStreamAudioError")<{ readonly message: string }> {}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Binds the audio port for the scope's lifetime (closed, thread joined, when the scope ends). */
export const openGameStreamAudio = (
  bind: string,
  port: number
): Effect.Effect<GameStreamAudio, GameStreamAudioError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => new (audio().GameStreamAudio)(bind, port),
      catch: (e) => new GameStreamAudioError({ message: messageOf(e) })
    }),
    (sender) => Effect.sync(() => sender.close())
  )

/** Checks the options against `AudioStartOptions`, then starts the send thread. */
export const startGameStreamAudio = (
  sender: GameStreamAudio,
  options: AudioStartInput
): Effect.Effect<void, GameStreamAudioError> =>
  Schema.decodeUnknown(AudioStartOptions)(options).pipe(
    Effect.mapError((e) => new GameStreamAudioError({ message: `audio options: ${e.message}` })),
    Effect.flatMap((checked) =>
      Effect.try({
        try: () => sender.start(checked),
        catch: (e) => new GameStreamAudioError({ message: messageOf(e) })
      })
    )
  )

/**
 * The sender as the session layer drives it (the shape of StreamRunner's `AudioOut`): start with
 * checked options, stop by joining the thread. The socket stays bound for the next session.
 */
export const gameStreamAudioOut = (
  sender: GameStreamAudio
): {
  readonly start: (options: AudioStartInput) => Effect.Effect<void, GameStreamAudioError>
  readonly stop: Effect.Effect<void>
} => ({
  start: (options) => startGameStreamAudio(sender, options),
  stop: Effect.sync(() => sender.stop())
})
