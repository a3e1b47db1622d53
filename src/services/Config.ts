/**
 * Host configuration: flags and environment, validated once at start.
 *
 * Flags are sugar for the environment: `--captures-dir X` is `PUNKTFUNK_CAPTURES_DIR=X`, a bare
 * `--perf` is `PUNKTFUNK_PERF=1` (parsed by `HostCommand.ts`). Flags win over the environment. Everything is read through
 * Effect `Config`, so an invalid value fails the start with a message naming the variable.
 */
import type { ConfigError } from "effect/ConfigError"
import { Config, ConfigProvider, Context, Effect, Layer, Option, Schema } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { CaptureSource, Codec, EncoderChoice, FramePriority } from "../api/PipelineChoices.js"
import { LogFormat, LogLevelName } from "../lib/Logging.js"
import { flagOf } from "../lib/Settings.js"

export const AudioSourceMode = Schema.Literal("auto", "pulse", "silence")
export type AudioSourceMode = typeof AudioSourceMode.Type

export const HostSource = Schema.Literal(...CaptureSource.literals, "fake", "none")
export type HostSource = typeof HostSource.Type

export interface HostConfigShape {
  readonly port: number
  readonly bind: string
  readonly configDir: string
  readonly capturesDir: string
  readonly tokenFile: string
  readonly perf: boolean
  readonly source: HostSource
  readonly display: string | undefined
  readonly width: number
  readonly height: number
  readonly fps: number
  readonly codec: Codec
  readonly encoder: EncoderChoice
  readonly preset: string
  readonly tune: string
  /** `PUNKTFUNK_FRAME_PRIORITY`: the frame path's scheduling (src/native/thread_priority.h). */
  readonly framePriority: FramePriority
  readonly bitrateKbps: number
  readonly fakeWindowMs: number
  /** `--demo`: the bundled client pairs itself and streams to this host over loopback. */
  readonly demo: boolean
  readonly gamestream: boolean
  /** GameStream nvhttp (plain HTTP: serverinfo and the PIN phases of pairing) and its HTTPS twin. */
  readonly gamestreamHttpPort: number
  readonly gamestreamHttpsPort: number
  /** Where Moonlight is told to find RTSP (`sessionUrl0`). */
  readonly gamestreamRtspPort: number
  /** GameStream media and control (UDP): RTP video, ENet control, RTP audio. */
  readonly gamestreamVideoPort: number
  readonly gamestreamControlPort: number
  readonly gamestreamAudioPort: number
  /** How long a played GameStream stream waits for its client's control stream. */
  readonly gamestreamClientTimeoutMs: number
  /**
   * Limits on the ENet control port for peers that have not authenticated: peers at once
   * (handshakes included; when full the oldest unauthenticated one goes), per address, and how
   * long one may take to authenticate.
   */
  readonly gamestreamControlPeers: number
  readonly gamestreamControlPeersPerAddress: number
  readonly gamestreamControlAuthTimeoutMs: number
  /**
   * Accept GameStream clients that keep the legacy control-stream IV. Off by default: its AES-GCM
   * nonces repeat, so input could be forged and the keystream reused to read what is typed.
   */
  readonly gamestreamLegacyControlIv: boolean
  /** Announce the host on the LAN over mDNS (`_nvstream._tcp`), as Moonlight's host list expects. */
  readonly gamestreamMdns: boolean
  /** Apply a GameStream client's mouse and keyboard to the captured X display; off makes the host view-only. */
  readonly input: boolean
  /**
   * GameStream audio's sound: `auto` records the desktop through PulseAudio (or PipeWire's
   * PulseAudio server) when one is reachable, else sends silence; `pulse` wants PulseAudio (still
   * silence, with a warning, when it is unreachable: audio never fails a stream); `silence`.
   */
  readonly audio: AudioSourceMode
  /** The PulseAudio source to record (`pactl list short sources`); unset = the default sink's monitor. */
  readonly audioDevice: string | undefined
  /** The punktfunk/1 control port (TLS, pairing and sessions). */
  readonly punktfunk1Port: number
  /** A streaming client silent this long is gone: its session ends and frees everything. */
  readonly punktfunk1ClientTimeoutMs: number
  readonly streamBind: string
  /**
   * Limits of every TCP listener (management API, nvhttp HTTP and HTTPS, RTSP, punktfunk/1), each
   * its own: total and per-address connection caps, the time to send a head, the time a
   * connection may stay silent (`ConnectionLimiter.ts` says what each listener counts as
   * authenticated and why the oldest unauthenticated connection goes first).
   */
  readonly maxConnections: number
  readonly maxConnectionsPerAddress: number
  readonly headerTimeoutMs: number
  readonly idleTimeoutMs: number
  /** Live event streams (SSE) open at once; exempt from the idle timeout, so capped in number. */
  readonly maxLiveSubscribers: number
  /**
   * The largest body `POST /stats/recordings/import` reads (a capture file; the rest of the API
   * keeps its 64 KiB). The host holds up to this much, then its parse (a few times as much), per
   * import at once: the default, 64 MiB, is twenty times the largest capture a host records.
   */
  readonly importMaxBytes: number
  readonly webDir: string
  /** `human` (`[time] LEVEL (#fiber): message`) or `json` (one JSON object per line, `Logging.ts`). */
  readonly logFormat: LogFormat
  /** The least severe log level written. */
  readonly logLevel: LogLevelName
  /** One line for each setting read under its former name (`renamedSetting`), logged at start. */
  readonly deprecations: ReadonlyArray<string>
}

export class HostConfig extends Context.Tag("punktfunk/HostConfig")<HostConfig, HostConfigShape>() {}

const port = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be a port number from 0 to 65535`, validation: (n) => n >= 0 && n <= 65535 })
  )

const FLAG_VALUES: Record<string, boolean> = {
  "1": true, true: true, yes: true, on: true,
  "0": false, false: false, no: false, off: false, "": false
}

const flag = (name: string, fallback: boolean) =>
  Config.string(name).pipe(
    Config.withDefault(fallback ? "1" : "0"),
    Config.validate({
      message: `${name} must be 1/0, true/false or on/off`,
      validation: (raw) => Object.hasOwn(FLAG_VALUES, raw.trim().toLowerCase())
    }),
    Config.map((raw) => FLAG_VALUES[raw.trim().toLowerCase()] === true)
  )

const literal = <const L extends ReadonlyArray<string>>(name: string, literals: L, fallback: L[number]) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.validate({
      message: `${name} must be one of: ${literals.join(", ")}`,
      validation: (v): v is L[number] => literals.includes(v)
    })
  ) as Config.Config<L[number]>

const bounded = (name: string, fallback: number, min: number, max: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be an integer from ${min} to ${max}`, validation: (n) => n >= min && n <= max })
  )

/** The package root, so `web/dist` is found from `src/` (tests) and `dist/` (compiled host) alike. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

const defaultConfigDir = path.join(os.homedir(), ".config", "punktfunk")

/** 64 MiB: see `importMaxBytes`. */
export const IMPORT_MAX_BYTES_DEFAULT = 64 * 1024 * 1024

/**
 * Which name to read a renamed setting under (`formerly` in `Settings.ts`): the new one when it is
 * set or neither is, else the old one — so a wrong value is refused naming the variable the
 * operator wrote — with a line for the start-up log saying what to write instead.
 */
const renamedSetting = (name: string, formerly: string, deprecations: Array<string>) =>
  Effect.gen(function* () {
    if (Option.isSome(yield* Config.option(Config.string(name)))) return name
    if (Option.isNone(yield* Config.option(Config.string(formerly)))) return name
    deprecations.push(`${formerly} is deprecated and read as ${name} (${flagOf(name)}): rename it where the host's settings are kept`)
    return formerly
  })

export const hostConfig: Effect.Effect<HostConfigShape, ConfigError> = Effect.gen(function* () {
  const deprecations: Array<string> = []
  // Were PUNKTFUNK_NATIVE_*: "native" now means only the addon (issue 13.8).
  const punktfunk1Port = yield* renamedSetting("PUNKTFUNK_PUNKTFUNK1_PORT", "PUNKTFUNK_NATIVE_PORT", deprecations)
  const punktfunk1ClientTimeout = yield* renamedSetting(
    "PUNKTFUNK_PUNKTFUNK1_CLIENT_TIMEOUT_MS",
    "PUNKTFUNK_NATIVE_CLIENT_TIMEOUT_MS",
    deprecations
  )
  const configDir = yield* Config.string("PUNKTFUNK_CONFIG_DIR").pipe(Config.withDefault(defaultConfigDir))
  const capturesDir = yield* Config.string("PUNKTFUNK_CAPTURES_DIR").pipe(
    Config.withDefault(path.join(configDir, "captures"))
  )
  const tokenFile = yield* Config.string("PUNKTFUNK_TOKEN_FILE").pipe(Config.withDefault(path.join(configDir, "token")))
  const display = yield* Config.option(Config.string("PUNKTFUNK_DISPLAY"))
  const audioDevice = yield* Config.option(Config.nonEmptyString("PUNKTFUNK_AUDIO_DEVICE"))
  return {
    port: yield* port("PUNKTFUNK_PORT", 47990),
    bind: yield* Config.nonEmptyString("PUNKTFUNK_BIND").pipe(Config.withDefault("127.0.0.1")),
    configDir,
    capturesDir: path.resolve(capturesDir),
    tokenFile: path.resolve(tokenFile),
    perf: yield* flag("PUNKTFUNK_PERF", false),
    source: yield* literal("PUNKTFUNK_SOURCE", HostSource.literals, "synthetic"),
    display: display._tag === "Some" ? display.value : process.env["DISPLAY"],
    width: yield* bounded("PUNKTFUNK_WIDTH", 1280, 16, 7680),
    height: yield* bounded("PUNKTFUNK_HEIGHT", 720, 16, 4320),
    fps: yield* bounded("PUNKTFUNK_FPS", 60, 1, 240),
    codec: yield* literal("PUNKTFUNK_CODEC", Codec.literals, "h264"),
    encoder: yield* literal("PUNKTFUNK_ENCODER", EncoderChoice.literals, "auto"),
    preset: yield* Config.nonEmptyString("PUNKTFUNK_PRESET").pipe(Config.withDefault("ultrafast")),
    tune: yield* Config.nonEmptyString("PUNKTFUNK_TUNE").pipe(Config.withDefault("zerolatency")),
    framePriority: yield* literal("PUNKTFUNK_FRAME_PRIORITY", FramePriority.literals, "normal"),
    bitrateKbps: yield* bounded("PUNKTFUNK_BITRATE_KBPS", 10_000, 100, 500_000),
    fakeWindowMs: yield* bounded("PUNKTFUNK_FAKE_WINDOW_MS", 2000, 10, 60_000),
    demo: yield* flag("PUNKTFUNK_DEMO", false),
    gamestream: yield* flag("PUNKTFUNK_GAMESTREAM", true),
    gamestreamHttpPort: yield* port("PUNKTFUNK_GAMESTREAM_HTTP_PORT", 47989),
    gamestreamHttpsPort: yield* port("PUNKTFUNK_GAMESTREAM_HTTPS_PORT", 47984),
    gamestreamRtspPort: yield* port("PUNKTFUNK_GAMESTREAM_RTSP_PORT", 48010),
    gamestreamVideoPort: yield* port("PUNKTFUNK_GAMESTREAM_VIDEO_PORT", 47998),
    gamestreamControlPort: yield* port("PUNKTFUNK_GAMESTREAM_CONTROL_PORT", 47999),
    gamestreamAudioPort: yield* port("PUNKTFUNK_GAMESTREAM_AUDIO_PORT", 48000),
    gamestreamClientTimeoutMs: yield* bounded("PUNKTFUNK_GAMESTREAM_CLIENT_TIMEOUT_MS", 10_000, 500, 600_000),
    gamestreamControlPeers: yield* bounded("PUNKTFUNK_GAMESTREAM_CONTROL_PEERS", 64, 2, 4094),
    gamestreamControlPeersPerAddress: yield* bounded("PUNKTFUNK_GAMESTREAM_CONTROL_PEERS_PER_ADDRESS", 4, 1, 4094),
    gamestreamControlAuthTimeoutMs: yield* bounded("PUNKTFUNK_GAMESTREAM_CONTROL_AUTH_TIMEOUT_MS", 5000, 500, 60_000),
    gamestreamLegacyControlIv: yield* flag("PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV", false),
    gamestreamMdns: yield* flag("PUNKTFUNK_GAMESTREAM_MDNS", true),
    input: yield* flag("PUNKTFUNK_INPUT", true),
    audio: yield* literal("PUNKTFUNK_AUDIO", AudioSourceMode.literals, "auto"),
    audioDevice: audioDevice._tag === "Some" ? audioDevice.value : undefined,
    punktfunk1Port: yield* port(punktfunk1Port, 47970),
    punktfunk1ClientTimeoutMs: yield* bounded(punktfunk1ClientTimeout, 10_000, 500, 600_000),
    streamBind: yield* Config.nonEmptyString("PUNKTFUNK_STREAM_BIND").pipe(Config.withDefault("0.0.0.0")),
    maxConnections: yield* bounded("PUNKTFUNK_MAX_CONNECTIONS", 128, 1, 100_000),
    maxConnectionsPerAddress: yield* bounded("PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS", 16, 1, 100_000),
    headerTimeoutMs: yield* bounded("PUNKTFUNK_HEADER_TIMEOUT_MS", 10_000, 100, 600_000),
    idleTimeoutMs: yield* bounded("PUNKTFUNK_IDLE_TIMEOUT_MS", 30_000, 100, 3_600_000),
    maxLiveSubscribers: yield* bounded("PUNKTFUNK_MAX_LIVE_SUBSCRIBERS", 8, 1, 1_000),
    importMaxBytes: yield* bounded("PUNKTFUNK_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES_DEFAULT, 1024, 1024 * 1024 * 1024),
    webDir: path.resolve(yield* Config.string("PUNKTFUNK_WEB_DIR").pipe(Config.withDefault(path.join(packageRoot, "web", "dist")))),
    logFormat: yield* literal("PUNKTFUNK_LOG_FORMAT", LogFormat.literals, "human"),
    logLevel: yield* literal("PUNKTFUNK_LOG_LEVEL", LogLevelName.literals, "info"),
    deprecations
  } satisfies HostConfigShape
})

export const HostConfigLive: Layer.Layer<HostConfig, ConfigError> = Layer.effect(
  HostConfig,
  hostConfig
)

/** Build a config layer from a plain record (tests), bypassing the process environment. */
export const HostConfigFrom = (env: Record<string, string>) =>
  Layer.effect(HostConfig, hostConfig).pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

/** Flags first, then the environment. */
export const providerFrom = (flags: Record<string, string>): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromMap(new Map(Object.entries(flags))).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv()))
