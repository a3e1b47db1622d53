/**
 * The host program as one Layer: every service composed once, used by `src/main.ts` and by the
 * tests (which swap the pipeline for a fake, point the store at a temp directory, and may swap
 * GameStream's audio sender and input injector for recording fakes).
 */
import { Console, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { Auth, AuthLive } from "./services/Auth.js"
import { ArmedFlag } from "./services/ArmedFlag.js"
import { PairingLive } from "./services/Pairing.js"
import type { PairingPolicy } from "./services/Pairing.js"
import { ConnectionLimitsLive } from "./services/ConnectionLimits.js"
import { CaptureStoreLive } from "./services/CaptureStore.js"
import { DiskOpsLive } from "./services/DiskOps.js"
import type { DiskOps } from "./services/DiskOps.js"
import { HostConfig } from "./services/Config.js"
import type { HostConfigShape } from "./services/Config.js"
import { RecorderLive } from "./services/Recorder.js"
import { HostMarkersLive } from "./services/HostMarkers.js"
import { MeteredRecorderLive, MetricsLive } from "./services/Metrics.js"
import { HttpServerLive } from "./http/Server.js"
import { colonFingerprint, isLoopbackBind, managementUrl } from "./http/ManagementTls.js"
import type { Pipeline, SessionConfig } from "./streams/Pipeline.js"
import { makeSessionRunner } from "./streams/SessionRunner.js"
import { DemoLive } from "./Demo.js"
import { ControlServerLive } from "./streams/punktfunk1/ControlServer.js"
import { HostIdentity, HostIdentityLive } from "./services/HostIdentity.js"
import { GameStreamLive } from "./streams/gamestream/GameStreamServer.js"
import { GameStreamAudioSenderLive } from "./streams/gamestream/GameStreamAudio.js"
import type { GameStreamAudioSender } from "./streams/gamestream/GameStreamAudio.js"
import { InputInjectorLive } from "./streams/gamestream/InputInjector.js"
import type { InputInjector } from "./streams/gamestream/InputInjector.js"
import { GameStreamMdnsLive } from "./streams/gamestream/MdnsAdvertiser.js"
import type { PairingSessionsOptions } from "./streams/gamestream/PairingSessions.js"
import { sessionDefaultsOf } from "./streams/SessionDefaults.js"

/**
 * The host's own session, streaming to nobody: only for the `fake` test source, whose windows
 * the host-core and fault tests need without a client (DECISIONS.md). A real source (`synthetic`,
 * `static`, `x11`) runs a source and an encoder only while a client streams — punktfunk/1,
 * GameStream, or the bundled client of `--demo` — and stops with the last one: an idle host
 * encoding to nowhere cost half a core and put a session no one watched into every capture.
 */
export const clientlessSessionOf = (config: HostConfigShape): SessionConfig | undefined => {
  // In demo mode the bundled client's session is the stream; no local one beside it.
  if (config.source !== "fake" || config.demo) return undefined
  return {
    kind: "punktfunk1",
    source: "synthetic",
    width: config.width,
    height: config.height,
    fps: config.fps,
    codec: config.codec,
    encoder: config.encoder,
    preset: config.preset,
    tune: config.tune,
    priority: config.framePriority,
    bitrate_kbps: config.bitrateKbps,
    perf: config.perf,
    // Every frame timed, armed or not, so /metrics always has latency (Pipeline.ts, `measure`).
    measure: true,
    client: ""
  }
}

export interface HostParts {
  /** The frame producer and the armed flag it reads: the addon's in production, fake in tests. */
  readonly pipeline: Layer.Layer<Pipeline | ArmedFlag>
  /** File-system operations of the capture store (tests inject failures here). */
  readonly disk?: Layer.Layer<DiskOps>
  readonly maxSamples?: number
  /** Test-only: pause between write and rename of a save (see CaptureStore). */
  readonly pauseBeforeRename?: string | undefined
  /** Limits on pairing requests (tests shorten the durations); the defaults otherwise. */
  readonly pairing?: Partial<PairingPolicy>
  /** GameStream pairing's own limits (completion window, long polls); the defaults otherwise. */
  readonly gamestreamPairing?: PairingSessionsOptions
  /** GameStream's audio sender: the native one unless a test records instead. */
  readonly gamestreamAudio?: Layer.Layer<GameStreamAudioSender>
  /** Where GameStream input goes: XTEST unless a test records instead. */
  readonly inputInjector?: Layer.Layer<InputInjector>
}

/**
 * What the host prints at start. The token itself only on the start that generated it: stdout
 * ends up in journald and CI logs, where anyone who reads the log would operate the host. Later
 * starts name the token file instead, and the console asks for the token.
 */
const startLine = (secure: boolean, format: HostConfigShape["logFormat"]) =>
  Effect.gen(function* () {
    const auth = yield* Auth
    const identity = yield* HostIdentity
    const url = yield* managementUrl(secure)
    // With JSON logs every line on stdout is a JSON object, these included (a collector parses
    // each line); they are written whatever the log level, since they say where the console is.
    const say = (line: string) =>
      format === "json" ? Effect.logInfo(line).pipe(Logger.withMinimumLogLevel(LogLevel.Info)) : Console.log(line)
    yield* say(`punktfunk host listening on ${url}`)
    if (secure) yield* say(`certificate fingerprint (SHA-256): ${colonFingerprint(identity.fingerprint)}`)
    if (auth.generated) {
      yield* say(`console: ${url}/#token=${Redacted.value(auth.token)}`)
      yield* say(`token file: ${auth.tokenFile} (generated now; the token is printed this once)`)
    } else {
      yield* say(`console: ${url}/ (paste the token from the token file when it asks)`)
      yield* say(`token file: ${auth.tokenFile}`)
    }
  })

export const makeHostLayer = (config: HostConfigShape, parts: HostParts) => {
  // One DiskOps for every durable write (captures, pairing list, identities, token): the fault tests swap it.
  const disk = parts.disk ?? DiskOpsLive
  const store = CaptureStoreLive({ dir: config.capturesDir, pauseBeforeRename: parts.pauseBeforeRename }).pipe(Layer.provide(disk))
  // Every window producer gets the metered Recorder: /metrics follows the same windows, armed or not.
  const recorder = MeteredRecorderLive.pipe(
    Layer.provide(RecorderLive(parts.maxSamples === undefined ? {} : { maxSamples: parts.maxSamples })),
    Layer.provideMerge(MetricsLive)
  )
  // The host's own markers (client connects, IDR requests, lost sources…) go through the same Recorder.
  const core = HostMarkersLive.pipe(
    Layer.provideMerge(recorder),
    Layer.provideMerge(store),
    Layer.provideMerge(parts.pipeline),
    Layer.provideMerge(AuthLive(config.tokenFile).pipe(Layer.provide(disk))),
    Layer.provideMerge(PairingLive(config.configDir, parts.pairing).pipe(Layer.provide(disk))),
    Layer.provideMerge(ConnectionLimitsLive),
    // One identity for the punktfunk/1 control port and the management API's HTTPS.
    Layer.provideMerge(HostIdentityLive(config.configDir).pipe(Layer.provide(disk))),
    Layer.provideMerge(Layer.succeed(HostConfig, config))
  )
  const sessionConfig = clientlessSessionOf(config)
  const sessions =
    sessionConfig === undefined
      ? Layer.empty
      : Layer.scopedDiscard(Effect.forkScoped(Effect.flatMap(makeSessionRunner, (runner) => runner.runLocal(sessionConfig))))
  // The punktfunk/1 control plane: paired clients connect here and each gets its own session.
  const punktfunk1 = ControlServerLive({
    port: config.punktfunk1Port,
    bind: config.streamBind,
    clientTimeout: `${config.punktfunk1ClientTimeoutMs} millis`,
    session: sessionDefaultsOf(config)
  })
  // GameStream (Moonlight clients): nvhttp, pairing, RTSP, the ENet control stream, RTP video and audio.
  // Its audio and input seams are provided here (live unless a test swapped them); the pipeline
  // comes from `core` like every other path's. Its tag is looked up at run time (tests use
  // Context.getOption), hence `Layer<never>` here.
  const gamestreamLive = GameStreamLive(parts.gamestreamPairing).pipe(
    Layer.provide(Layer.mergeAll(parts.gamestreamAudio ?? GameStreamAudioSenderLive, parts.inputInjector ?? InputInjectorLive, disk))
  )
  const gamestream: Layer.Layer<never, Layer.Layer.Error<typeof gamestreamLive>, Layer.Layer.Context<typeof gamestreamLive>> =
    config.gamestream
      ? config.gamestreamMdns
        ? GameStreamMdnsLive.pipe(Layer.provideMerge(gamestreamLive))
        : gamestreamLive
      : Layer.empty
  const secure = !isLoopbackBind(config.bind)
  const http = Layer.unwrapEffect(
    Effect.map(HostIdentity, (identity) =>
      HttpServerLive({
        port: config.port,
        bind: config.bind,
        webDir: config.webDir,
        tls: secure ? { cert: identity.certPem, key: identity.keyPem } : undefined
      })
    )
  )
  // A setting read under its former name says so once, at start (Config.ts, `renamedSetting`).
  const deprecations = Layer.effectDiscard(Effect.forEach(config.deprecations, (line) => Effect.logWarning(line), { discard: true }))
  const serving = Layer.mergeAll(punktfunk1, gamestream, deprecations, Layer.effectDiscard(startLine(secure, config.logFormat)).pipe(Layer.provideMerge(http)))
  return Layer.mergeAll(sessions, DemoLive.pipe(Layer.provideMerge(serving))).pipe(
    Layer.provideMerge(core)
  )
}
