/**
 * One GameStream stream at a time: what happens between RTSP `PLAY` and the client going away.
 *
 * PLAY opens the pipeline session (capture → encode → packetize → send, video to the port the
 * client pings), starts the audio sender, and registers the session with the Recorder as
 * `kind: "gamestream"` with the client's fingerprint prefix. Each of those is a seam taken from
 * the layer's context — the `Pipeline` (through the session runner), the audio port the
 * `GameStreamAudioSender` opened, the `InputInjector` the input sink opens — so a test swaps
 * fakes for all of them and runs a whole launch without an encoder, a sound server or a desktop.
 * Then the stream runs until the first of: the client's control stream ends (disconnect, time-out,
 * termination), the launch is cancelled or its client removed (`/cancel`, unpair), the pipeline
 * fails, or a new PLAY replaces it. Each of those only ends the stream; the host and the launch
 * record stay, so a client that merely disconnected can `resume`.
 *
 * Why PLAY waits for the pipeline to open and fails with its reason: a client whose stream
 * cannot start (an encoder that refuses the mode, a display that is gone) should see RTSP refuse
 * PLAY, not a black screen that times out. Why a replacing PLAY first stops the old stream and
 * only then opens the new one: the video port is one socket, and two sessions on it would
 * interleave frames from both.
 *
 * Counters the client reports over the control stream (lost packets; packets rebuilt from parity,
 * from clients that send FEC status) are folded into the window that is current when they arrive
 * and listed in `measured`: they are real measurements of this path, unlike RTT, which GameStream
 * clients never report and which stays 0 and unlisted.
 */
import { Data, Deferred, Effect, Exit, FiberHandle, Ref, Schedule, Scope } from "effect"
import { clientReports } from "../ClientReports.js"
import type { ClientReports } from "../ClientReports.js"
import type { SessionConfig } from "../Pipeline.js"
import { makeSessionRunner } from "../SessionRunner.js"
import { HostMarkers } from "../../services/HostMarkers.js"
import type { ClientIdentity } from "../../services/HostMarkers.js"
import type { OpenedSession } from "../SessionRunner.js"
import type { SessionDefaults } from "../SessionDefaults.js"
import type { LaunchRecord } from "./Launches.js"
import type { ControlHandlers } from "./ControlStream.js"
import { InputInjector } from "./InputInjector.js"
import { makeInputSink } from "./InputSink.js"
import type { InputCounters } from "./InputSink.js"
import { ENCRYPTION_AUDIO, ENCRYPTION_VIDEO } from "./Sdp.js"
import type { AudioSourceMode, AudioSourceStatus } from "../../native/audio.js"
import type { AudioPort } from "./GameStreamAudio.js"
import type { StreamSettings } from "./StreamSettings.js"

/** What a PLAY is refused with (RTSP answers it as a server error naming the reason). */
export class StreamStartError extends Data.TaggedError("StreamStartError")<{ readonly message: string }> {}

/**
 * The audio sender as the runner uses it: the port the `GameStreamAudioSender` Tag opened
 * (GameStreamAudio.ts; native in the host, a recording fake in tests), bound for the host's life.
 */
export type AudioOut = Pick<AudioPort, "start" | "stop">

/** The control stream as the runner uses it: expect this session's peer; its scope ends it. */
export interface ControlIn {
  readonly expect: (
    settings: StreamSettings,
    handlers: ControlHandlers
  ) => Effect.Effect<{ readonly terminate: (reason: string) => Effect.Effect<void> }, never, Scope.Scope>
}

export interface StreamRunnerOptions {
  /** Session settings from the host configuration (source, encoder, preset…). */
  readonly session: SessionDefaults
  readonly videoFd: number
  readonly audio: AudioOut | undefined
  readonly control: ControlIn
  /** How long a played stream waits for its client's control stream (default 10 s). */
  readonly clientTimeoutMs?: number
  /** The launch this stream serves; when it is cancelled or its client removed, the stream ends. */
  readonly currentLaunch: Effect.Effect<LaunchRecord | undefined>
  /** Apply the client's mouse and keyboard to the captured display (`PUNKTFUNK_INPUT`, default true). */
  readonly input?: boolean
  /** Where the sound comes from (`PUNKTFUNK_AUDIO` / `_DEVICE` in the host); default `auto`. */
  readonly audioSource?: { readonly mode: AudioSourceMode; readonly device?: string | undefined }
}

export interface RunningStream {
  readonly session_id: string
  readonly client: string
  /** What became of the client's input this session (see InputSink.ts). */
  readonly input?: () => InputCounters
  /** Where this session's sound comes from (PulseAudio capture or silence, and why). */
  readonly audio?: () => AudioSourceStatus
}

/** What ended a stream, for the log line. */
class StreamEnd extends Data.TaggedError("StreamEnd")<{ readonly reason: string }> {}

/** `x-ml-general.featureFlags` bit: the client sends per-block FEC status (Moonlight's ML_FF_FEC_STATUS). */
const ML_FF_FEC_STATUS = 0x01

/**
 * What the client measures for this session: lost packets always (FEC status or the older loss
 * stats both carry them); repaired packets only from clients that send FEC status.
 */
const reportsOf = (settings: StreamSettings): ClientReports =>
  clientReports({ path: "gamestream", fecStatus: (settings.mlFeatureFlags & ML_FF_FEC_STATUS) !== 0 })

/** The client asked for encrypted video (`x-ss-general.encryptionEnabled` bit 0x02). */
const videoEncrypted = (settings: StreamSettings): boolean => (settings.encryptionFlags & ENCRYPTION_VIDEO) !== 0

export const makeStreamRunner = (options: StreamRunnerOptions) =>
  Effect.gen(function* () {
    const runner = yield* makeSessionRunner
    const markers = yield* HostMarkers
    // Taken once here so each session's input sink opens its injector from the layer's context
    // (the host's XTEST one, or a test's fake) without `play` itself requiring it.
    const injectors = yield* InputInjector
    const handle = yield* FiberHandle.make<void, never>()
    const current = yield* Ref.make<RunningStream | undefined>(undefined)
    const lock = yield* Effect.makeSemaphore(1)
    const audioSource = options.audioSource ?? { mode: "auto" as const, device: undefined }

    const configFor = (settings: StreamSettings): Effect.Effect<SessionConfig, StreamStartError> =>
      settings.codec === "av1"
        ? Effect.fail(new StreamStartError({ message: "the client asked for AV1, which this host does not offer" }))
        : Effect.succeed({
            ...options.session,
            kind: "gamestream",
            width: settings.width,
            height: settings.height,
            fps: settings.fps,
            codec: settings.codec,
            bitrate_kbps: settings.bitrateKbps,
            client: settings.client.slice(0, 16),
            gamestream: {
              videoFd: options.videoFd,
              clientHost: settings.clientAddress,
              pingPayload: settings.pingPayload,
              packetSize: settings.packetSize,
              fecPercent: settings.fecPercent,
              minRequiredFecPackets: settings.minRequiredFecPackets,
              // Sealed under the launch key only for a client that asked (Sdp.ts); others get
              // plain datagrams, as before video encryption was offered.
              ...(videoEncrypted(settings) ? { keyHex: settings.rikey } : {})
            }
          })

    /** Runs an opened session until something ends it; its scope holds everything it started. */
    const run = (settings: StreamSettings, session: OpenedSession, reports: ClientReports, launch: LaunchRecord | undefined) =>
      Effect.gen(function* () {
        const meta = session.meta
        // Input goes to the display this session captures (the capture's own display string),
        // scaled onto the captured area; the sink closes with this scope (releasing held keys).
        const input = yield* makeInputSink({
          enabled: options.input ?? true,
          source: options.session.source,
          display: options.session.display,
          width: settings.width,
          height: settings.height
        }).pipe(Effect.provideService(InputInjector, injectors))
        yield* Ref.set(current, { session_id: meta.session_id, client: meta.client, input: input.counters })
        yield* Effect.addFinalizer(() => Ref.set(current, undefined))

        // Audio is the desktop's sound (PulseAudio) or silence; a stream whose audio cannot start,
        // or has no sound source, still streams its picture (said in the log), rather than failing
        // for its sound. One line per stream says which sound it sends and why.
        if (options.audio !== undefined) {
          const audio = options.audio
          yield* audio
            .start({
              clientHost: settings.clientAddress,
              pingPayload: settings.pingPayload,
              packetDurationMs: settings.audioPacketDurationMs,
              channels: settings.audioChannels,
              // RTSP folds every way a client asks for encrypted audio into this bit.
              ...((settings.encryptionFlags & ENCRYPTION_AUDIO) !== 0 ? { encryption: { keyHex: settings.rikey, keyId: settings.rikeyid } } : {}),
              source: audioSource.mode,
              ...(audioSource.device !== undefined ? { device: audioSource.device } : {})
            })
            .pipe(
              Effect.tap(() => Effect.addFinalizer(() => audio.stop)),
              Effect.tap((started) =>
                started === undefined
                  ? Effect.void
                  : Ref.update(current, (c) => (c === undefined ? c : { ...c, audio: started.status })).pipe(
                      Effect.zipRight(
                        Effect.forkScoped(
                          started.settled.pipe(
                            Effect.flatMap((r) =>
                              r.level === "warning"
                                ? Effect.logWarning(`session ${meta.session_id}: ${r.message}`)
                                : Effect.logInfo(`session ${meta.session_id}: ${r.message}`)
                            )
                          )
                        )
                      )
                    )
              ),
              Effect.catchAll((e) => Effect.logWarning(`GameStream audio not started (video goes on): ${e.message}`))
            )
        }

        const ended = yield* Effect.makeSemaphore(0)
        const endReason = yield* Ref.make("")
        const authenticated = yield* Deferred.make<void>()
        // The client is connected once its control stream proves the launch's key: marked then
        // (a first connect, or this client coming back: HostMarkers.ts), and its leaving with why.
        const who: ClientIdentity = { path: "gamestream", fingerprint: settings.client }
        let connected = false
        yield* Effect.addFinalizer(() =>
          connected
            ? Ref.get(endReason).pipe(Effect.flatMap((reason) => markers.clientLeft(who, reason === "" ? "the stream was stopped or replaced" : reason)))
            : Effect.void
        )
        const onAuthenticated = Deferred.succeed(authenticated, undefined).pipe(
          Effect.flatMap((first) =>
            first ? Effect.sync(() => (connected = true)).pipe(Effect.zipRight(markers.clientConnected(who, meta.session_id))) : Effect.void
          )
        )
        const control = yield* options.control.expect(settings, {
          authenticated: onAuthenticated,
          // Marked whether or not there is an encoder to steer (coalesced: HostMarkers.ts).
          requestIdr: markers
            .idrRequested(meta.session_id, "gamestream")
            .pipe(Effect.zipRight(session.control === undefined ? Effect.void : session.control.requestIdr)),
          lossReport: (n) => Effect.sync(() => reports.add("packets_dropped", n)),
          fecRecovered: (n) => Effect.sync(() => reports.add("fec_recovered", n)),
          input,
          ended: (reason) => Ref.set(endReason, reason).pipe(Effect.zipRight(ended.release(1)))
        })

        const windows = session.pump.pipe(
          Effect.matchEffect({
            onFailure: (e) => Effect.fail(new StreamEnd({ reason: `the stream failed: ${e.message}` })),
            onSuccess: () => Effect.fail(new StreamEnd({ reason: "the stream ended" }))
          })
        )
        const clientGone = ended.take(1).pipe(
          Effect.zipRight(Ref.get(endReason)),
          Effect.flatMap((reason) => Effect.fail(new StreamEnd({ reason: `control stream: ${reason}` })))
        )
        const launchGone = options.currentLaunch.pipe(
          // Polling an in-memory Ref four times a second costs nothing and keeps Launches simple.
          Effect.repeat({
            until: (l) => l === undefined || l.launched_unix_ms !== launch?.launched_unix_ms,
            schedule: Schedule.spaced("250 millis")
          }),
          Effect.zipRight(Effect.fail(new StreamEnd({ reason: "the launch was cancelled" })))
        )
        // A client that played but never opens its control stream (crashed, firewalled) would
        // leave the host encoding for nobody: give it up after the timeout.
        const clientTimeoutMs = options.clientTimeoutMs ?? 10_000
        const neverCame = Deferred.await(authenticated).pipe(
          Effect.timeoutFail({
            duration: clientTimeoutMs,
            onTimeout: () => new StreamEnd({ reason: `the client never opened its control stream (${clientTimeoutMs} ms)` })
          }),
          Effect.zipRight(Effect.never)
        )
        const why = yield* windows.pipe(
          Effect.raceFirst(clientGone),
          Effect.raceFirst(launchGone),
          Effect.raceFirst(neverCame),
          Effect.flip
        )
        yield* Ref.set(endReason, why.reason)
        if (!why.reason.startsWith("control stream")) yield* control.terminate(why.reason)
        yield* Effect.logInfo(`GameStream session ${meta.session_id} for ${meta.client} ended: ${why.reason}`)
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError("GameStream session failed", cause))
      )

    /** PLAY: stop what runs, open the new session, run it in the background. */
    const play = (settings: StreamSettings): Effect.Effect<RunningStream, StreamStartError> =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          yield* FiberHandle.clear(handle)
          const config = yield* configFor(settings)
          const launch = yield* options.currentLaunch
          const scope = yield* Scope.make()
          const reports = reportsOf(settings)
          const session = yield* runner.open(config, reports).pipe(
            Scope.extend(scope),
            Effect.mapError((e) => new StreamStartError({ message: e.message })),
            Effect.tapError(() => Scope.close(scope, Exit.void))
          )
          yield* FiberHandle.run(
            handle,
            run(settings, session, reports, launch).pipe(Effect.scoped, Effect.ensuring(Scope.close(scope, Exit.void)))
          )
          yield* Effect.logInfo(
            `GameStream session ${session.meta.session_id}: video ${videoEncrypted(settings) ? "encrypted (AES-GCM)" : "not encrypted (the client did not ask)"}`
          )
          return { session_id: session.meta.session_id, client: session.meta.client }
        })
      )

    /** Ends whatever stream runs (host shutdown is the layer's scope; this is for `/cancel`). */
    const stop = lock.withPermits(1)(FiberHandle.clear(handle))

    return { play, stop, current: Ref.get(current) }
  })

export type StreamRunner = Effect.Effect.Success<ReturnType<typeof makeStreamRunner>>
