/**
 * `punktfunk-client pair|stream`: the command line of the punktfunk/1 path's own client, through
 * @effect/cli so that `--help` (on the command and on each subcommand) lists every option with its
 * default, and an unknown option is refused by name.
 *
 * Why numbers are read as text and checked here rather than with `Options.integer`: each has a
 * range (a port, a resolution, a loss share below 1), and the message names the option and the
 * range in the client's own words ("--port must be an integer from 1 to 65535 (got 'x')"), as the
 * host does for its settings. Why the connection options sit on each subcommand: an operator
 * types `punktfunk-client stream --host …`; a parent's options would have to come before the
 * subcommand's name.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { media } from "../native/media.js"
import { loadOrCreateIdentity } from "../services/HostIdentity.js"
import { ClientError, connect, newPin, pair } from "./ControlClient.js"
import { pinHost, pinnedHost } from "./PinnedHosts.js"
import { formatSecond, latencySummary, streamLoop } from "./StreamLoop.js"

const text = (name: string, fallback: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.withDefault(fallback))

const common = {
  host: text("host", "127.0.0.1", "the host's address"),
  port: text("port", "47970", "the host's punktfunk/1 control port (PUNKTFUNK_PUNKTFUNK1_PORT on the host)"),
  name: text("name", os.hostname(), "this client's name, as the host's Devices page lists it"),
  dir: text(
    "dir",
    path.join(os.homedir(), ".config", "punktfunk-client"),
    "where this client keeps its certificate and the hosts it has pinned"
  )
}

const integer = (name: string, raw: string, min: number, max: number) => {
  const n = Number(raw)
  return Number.isInteger(n) && n >= min && n <= max
    ? Effect.succeed(n)
    : Effect.fail(new ClientError({ message: `--${name} must be an integer from ${min} to ${max} (got '${raw}')` }))
}

const identityOf = (dir: string, name: string) =>
  loadOrCreateIdentity(dir, "client", `punktfunk client ${name}`).pipe(Effect.mapError((e) => new ClientError({ message: e.message })))

const pairCommand = Command.make(
  "pair",
  {
    ...common,
    pin: Options.text("pin").pipe(
      Options.withDescription("use this PIN (4 to 8 digits) instead of showing a random one"),
      Options.optional
    )
  },
  (o) =>
    Effect.gen(function* () {
      const endpoint = { host: o.host, port: yield* integer("port", o.port, 1, 65535) }
      const identity = yield* identityOf(o.dir, o.name)
      const pin = Option.getOrElse(o.pin, newPin)
      if (!/^[0-9]{4,8}$/.test(pin)) return yield* new ClientError({ message: "--pin must be 4 to 8 digits" })
      yield* Console.log(`PIN ${pin} — enter it in the host's console (Devices) to pair '${o.name}'`)
      const hostFingerprint = yield* pair({
        endpoint,
        identity,
        name: o.name,
        pin,
        onPending: (id) => console.log(`waiting for the operator (request ${id})`)
      })
      yield* pinHost(o.dir, endpoint, hostFingerprint)
      yield* Console.log(`paired with ${endpoint.host}:${endpoint.port} (host ${hostFingerprint.slice(0, 16)})`)
    })
).pipe(Command.withDescription("show a PIN, wait for the operator to type it into the host, and pin the host's certificate"))

const streamOptions = {
  ...common,
  width: text("width", "1280", "requested width"),
  height: text("height", "720", "requested height"),
  fps: text("fps", "60", "requested frames per second"),
  codec: Options.choice("codec", ["h264", "hevc"]).pipe(Options.withDescription("requested codec"), Options.withDefault("h264" as const)),
  bitrateKbps: text("bitrate-kbps", "10000", "requested bitrate in kb/s"),
  fecPercent: text("fec-percent", "20", "Reed-Solomon parity as a share of each frame's shards, in %"),
  loss: text("loss", "0", "drop this share (0 to below 1) of arriving packets, to watch FEC repair them"),
  save: Options.text("save").pipe(Options.withDescription("write the received bitstream to this file"), Options.optional),
  seconds: Options.text("seconds").pipe(Options.withDescription("stop after this many seconds (default: until the host ends)"), Options.optional),
  printEvery: text("print-every", "1", "print the stats every N seconds"),
  clockShiftMs: text(
    "clock-shift-ms",
    "0",
    "pretend this machine's clock reads this many ms later (negative: earlier), as a second machine's would: the latency shown and reported stays the same"
  )
}

const streamCommand = Command.make("stream", streamOptions, (o) =>
  Effect.gen(function* () {
    const endpoint = { host: o.host, port: yield* integer("port", o.port, 1, 65535) }
    const identity = yield* identityOf(o.dir, o.name)
    const codec = o.codec
    const loss = Number(o.loss)
    if (!(loss >= 0 && loss < 1)) return yield* new ClientError({ message: "--loss must be from 0 to below 1" })
    const printEvery = yield* integer("print-every", o.printEvery, 1, 3600)
    const seconds = Option.isNone(o.seconds) ? undefined : yield* integer("seconds", o.seconds.value, 1, 86_400)
    const save = Option.getOrUndefined(o.save)
    const clockShiftMs = yield* integer("clock-shift-ms", o.clockShiftMs, -(10 ** 12), 10 ** 12)
    const pinned = yield* pinnedHost(o.dir, endpoint)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        // Bind before the handshake (the host needs our port in Hello); the key comes in the
        // Welcome, and the receiver starts then.
        const receiver = new (media().MediaReceiver)({
          bind: "0.0.0.0",
          codec,
          simulateLoss: loss,
          clockShiftUs: clockShiftMs * 1000,
          ...(save === undefined ? {} : { savePath: save })
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => receiver.close()))
        const udpPort = receiver.port
        const request = {
          width: yield* integer("width", o.width, 16, 7680),
          height: yield* integer("height", o.height, 16, 4320),
          fps: yield* integer("fps", o.fps, 1, 240),
          codec,
          bitrate_kbps: yield* integer("bitrate-kbps", o.bitrateKbps, 100, 500_000),
          udp_port: udpPort,
          fec_percent: yield* integer("fec-percent", o.fecPercent, 0, 100)
        }
        // The pings' stamps are read on the receiver's clock, so the offset they give applies to
        // the receiver's latencies (and a shifted clock shifts both).
        const session = yield* connect({ endpoint, identity, pinnedHost: pinned, name: o.name, request, clockUs: () => receiver.clockUs() })
        const params = session.welcome.media
        if (params === undefined) return yield* new ClientError({ message: "the host offered no media for this session" })
        if (params.mtu !== 1400) return yield* new ClientError({ message: `the host uses an MTU of ${params.mtu}; this client expects 1400` })
        receiver.start(params.key_hex)
        yield* Console.log(
          `streaming ${session.welcome.width}x${session.welcome.height}@${session.welcome.fps} ${session.welcome.codec} ` +
            `(${session.welcome.encoder_backend}) on UDP ${udpPort}, FEC ${params.fec_percent}%` +
            (loss > 0 ? `, simulating ${(loss * 100).toFixed(1)}% loss` : "")
        )
        const latencies = { all: [] as Array<number> }
        const loop = streamLoop(
          session,
          receiver,
          (s) => {
            if (s.second % printEvery === 0) console.log(formatSecond(s))
          },
          latencies
        )
        const reason =
          seconds === undefined
            ? yield* loop
            : yield* loop.pipe(Effect.timeoutTo({ duration: `${seconds} seconds`, onTimeout: () => "time is up", onSuccess: (r) => r }))
        yield* session.goodbye("the client is done")
        const total = receiver.counters()
        yield* Console.log(
          `session ended: ${reason}; ${total.frames_decoded} frames decoded, ${total.frames_dropped} dropped, ` +
            `${total.packets_lost} packets lost, ${total.fec_recovered} shards rebuilt by FEC, ` +
            `${total.frames_complete} frames complete of ${total.frames_complete + total.frames_dropped} seen; ${latencySummary(latencies)}`
        )
        // One machine-readable line for scripts, tests and benchmarks.
        const sorted = [...latencies.all].sort((a, b) => a - b)
        const offset = session.clockOffset()
        const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
        yield* Console.log(
          `summary ${JSON.stringify({
            reason,
            ...total,
            latency_p50_us: at(50),
            latency_p99_us: at(99),
            latency_frames: sorted.length,
            clock_offset_us: offset?.offsetUs ?? null,
            clock_offset_bound_us: offset === undefined ? null : offset.delayUs / 2
          })}`
        )
      })
    )
  })
).pipe(
  Command.withDescription(
    "stream from a paired host: receive, repair with FEC, decrypt and decode, print the stats each second and report them to the host"
  )
)

export const punktfunkClient = Command.make("punktfunk-client").pipe(
  Command.withDescription("the punktfunk/1 client: pair with a host, then stream from it"),
  Command.withSubcommands([pairCommand, streamCommand])
)
