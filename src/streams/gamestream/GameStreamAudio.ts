/**
 * The GameStream audio sender as the session layer drives it, in Effects: the host-lifetime
 * socket as a scoped resource, the start options checked by a Schema (so a refusal names the
 * field), and the wait for the PulseAudio capture to settle into the one log line a session's
 * sound gets. The native class and its plain types are `src/native/audio.ts`, which knows
 * nothing of Effect (see ARCHITECTURE.md, "Who may import whom").
 *
 * The `GameStreamAudioSender` Tag is the seam the GameStream layer opens its audio port through:
 * the host provides `GameStreamAudioSenderLive` (the native sender); tests swap in a fake that
 * records each session's start options and stop and sends nothing
 * (test/gamestream/support/FakeAudioSender.ts), so a whole launch runs without PulseAudio or Opus
 * and a test can still assert what the session asked of its sound.
 */
import { Context, Data, Effect, Layer, Schedule, Schema, type Scope } from "effect"
import {
  audio,
  type AudioSourceMode,
  type AudioSourceStatus,
  type AudioStartInput,
  type GameStreamAudio
} from "../../native/audio.js"

/** Options the send thread runs with; checked before it starts so a refusal names the field. */
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
  ),
  /** Where the sound comes from (`PUNKTFUNK_AUDIO`); the native default is silence. */
  source: Schema.optional(Schema.Literal("auto", "pulse", "silence")),
  /** A PulseAudio source name (`PUNKTFUNK_AUDIO_DEVICE`); unset = the default sink's monitor. */
  device: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
})
export type AudioStartOptions = typeof AudioStartOptions.Type

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

/** What a started session's sound turned out to be: the one line its log gets, and at which level. */
export interface AudioSourceReport {
  readonly level: "info" | "warning"
  readonly message: string
  readonly status: AudioSourceStatus
}

/** A started sender: where its sound comes from now, and (once settled) what to say about it. */
export interface AudioStarted {
  readonly mode: AudioSourceMode
  readonly status: () => AudioSourceStatus
  /**
   * Waits (polling, bounded: the native capture gives up connecting after 3 s) until the capture
   * runs or failed, then says which sound this session sends and why.
   */
  readonly settled: Effect.Effect<AudioSourceReport>
}

/** The log line for a session's sound (pure, so its wording is tested without a server). */
export const describeAudioSource = (mode: AudioSourceMode, status: AudioSourceStatus): AudioSourceReport => {
  if (mode === "silence") return { level: "info", message: "GameStream audio: silence (PUNKTFUNK_AUDIO=silence)", status }
  if (status.state === "capturing") {
    return { level: "info", message: `GameStream audio: the desktop's sound (${status.detail}; PUNKTFUNK_AUDIO=${mode})`, status }
  }
  const why = status.state === "connecting" ? "PulseAudio did not answer in time" : status.detail || `capture ${status.state}`
  return mode === "pulse"
    ? { level: "warning", message: `GameStream audio: silence, although PUNKTFUNK_AUDIO=pulse: ${why} (the stream goes on)`, status }
    : { level: "info", message: `GameStream audio: silence (PUNKTFUNK_AUDIO=auto found no sound source: ${why})`, status }
}

/**
 * Checks the options against `AudioStartOptions`, then starts the send thread. `auto` and `pulse`
 * both start the PulseAudio capture (their difference is what the log says when it fails).
 */
export const startGameStreamAudio = (
  sender: GameStreamAudio,
  options: AudioStartInput
): Effect.Effect<AudioStarted, GameStreamAudioError> =>
  Schema.decodeUnknown(AudioStartOptions)(options).pipe(
    Effect.mapError((e) => new GameStreamAudioError({ message: `audio options: ${e.message}` })),
    Effect.flatMap((checked) => {
      const mode: AudioSourceMode = checked.source ?? "silence"
      return Effect.try({
        try: (): AudioStarted => {
          sender.start({ ...checked, source: mode === "silence" ? "silence" : "pulse" })
          const status = () => sender.source()
          const settled = Effect.sync(status).pipe(
            Effect.repeat({ while: (s) => s.state === "connecting", schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("4 seconds"),
            Effect.ignore,
            Effect.map(() => describeAudioSource(mode, status()))
          )
          return { mode, status, settled }
        },
        catch: (e) => new GameStreamAudioError({ message: messageOf(e) })
      })
    })
  )

/**
 * The sender as the session layer drives it (the shape of StreamRunner's `AudioOut`): start with
 * checked options, stop by joining the thread. The socket stays bound for the next session.
 */
export const gameStreamAudioOut = (
  sender: GameStreamAudio
): {
  readonly start: (options: AudioStartInput) => Effect.Effect<AudioStarted, GameStreamAudioError>
  readonly stop: Effect.Effect<void>
} => ({
  start: (options) => startGameStreamAudio(sender, options),
  stop: Effect.sync(() => sender.stop())
})

/**
 * An audio port as the GameStream layer holds it: bound for the host's life (RTSP announces it
 * before any session), one session's sound at a time between `start` and `stop`. `start` yields
 * what the sound turned out to be when the sender can tell (the native one), nothing otherwise.
 */
export interface AudioPort {
  readonly port: number
  readonly start: (options: AudioStartInput) => Effect.Effect<AudioStarted | void, GameStreamAudioError>
  readonly stop: Effect.Effect<void>
}

export interface GameStreamAudioSenderService {
  /** Binds `bind:port` (0: the kernel picks) for the scope's life. */
  readonly open: (bind: string, port: number) => Effect.Effect<AudioPort, GameStreamAudioError, Scope.Scope>
}

export class GameStreamAudioSender extends Context.Tag("punktfunk/GameStreamAudioSender")<
  GameStreamAudioSender,
  GameStreamAudioSenderService
>() {}

/** The native sender (Opus, RTP, FEC, optional AES; PulseAudio or silence). */
export const GameStreamAudioSenderLive: Layer.Layer<GameStreamAudioSender> = Layer.succeed(
  GameStreamAudioSender,
  GameStreamAudioSender.of({
    open: (bind, port) =>
      openGameStreamAudio(bind, port).pipe(Effect.map((sender): AudioPort => ({ port: sender.port, ...gameStreamAudioOut(sender) })))
  })
)
