/**
 * `punktfunk-client`: the native path's own client.
 *
 *   punktfunk-client pair   --host H [--port 47970] [--name NAME]
 *   punktfunk-client stream --host H [--port 47970] [--width 1280 --height 720 --fps 60 --codec h264]
 *                           [--bitrate-kbps 10000] [--fec-percent 20] [--loss 0.05] [--save out.h264]
 *                           [--seconds N] [--print-every 1]
 *   common: [--dir ~/.config/punktfunk-client] [--pin 1234 (pair without showing a random PIN)]
 *
 * `pair` shows a PIN, waits for the operator to type it into the host's console, and pins the
 * host's certificate. `stream` receives, reassembles, repairs with FEC, decrypts and decodes, and
 * prints its stats each second; `--loss` drops that share of arriving packets to try FEC.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { media } from "./native/media.js"
import { loadOrCreateIdentity } from "./services/HostIdentity.js"
import { ClientError, connect, newPin, pair } from "./client/ControlClient.js"
import { pinHost, pinnedHost } from "./client/PinnedHosts.js"
import { formatSecond, latencySummary, streamLoop } from "./client/StreamLoop.js"

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "47970" },
    name: { type: "string", default: os.hostname() },
    dir: { type: "string", default: path.join(os.homedir(), ".config", "punktfunk-client") },
    pin: { type: "string" },
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "720" },
    fps: { type: "string", default: "60" },
    codec: { type: "string", default: "h264" },
    "bitrate-kbps": { type: "string", default: "10000" },
    "fec-percent": { type: "string", default: "20" },
    loss: { type: "string", default: "0" },
    save: { type: "string" },
    seconds: { type: "string" },
    "print-every": { type: "string", default: "1" }
  }
})

const integer = (name: string, raw: string | undefined, min: number, max: number) => {
  const n = Number(raw)
  return Number.isInteger(n) && n >= min && n <= max
    ? Effect.succeed(n)
    : Effect.fail(new ClientError({ message: `--${name} must be an integer from ${min} to ${max} (got '${raw}')` }))
}

const program = Effect.gen(function* () {
  const command = positionals[0]
  const endpoint = { host: values.host, port: yield* integer("port", values.port, 1, 65535) }
  const identity = yield* loadOrCreateIdentity(values.dir, "client", `punktfunk client ${values.name}`).pipe(
    Effect.mapError((e) => new ClientError({ message: e.message }))
  )
  if (command === "pair") {
    const pin = values.pin ?? newPin()
    if (!/^[0-9]{4,8}$/.test(pin)) return yield* new ClientError({ message: "--pin must be 4 to 8 digits" })
    yield* Console.log(`PIN ${pin} — enter it in the host's console (Devices) to pair '${values.name}'`)
    const hostFingerprint = yield* pair({
      endpoint,
      identity,
      name: values.name,
      pin,
      onPending: (id) => console.log(`waiting for the operator (request ${id})`)
    })
    yield* pinHost(values.dir, endpoint, hostFingerprint)
    return yield* Console.log(`paired with ${endpoint.host}:${endpoint.port} (host ${hostFingerprint.slice(0, 16)})`)
  }
  if (command === "stream") {
    const codec: "h264" | "hevc" | undefined = values.codec === "hevc" ? "hevc" : values.codec === "h264" ? "h264" : undefined
    if (codec === undefined) return yield* new ClientError({ message: "--codec must be h264 or hevc" })
    const loss = Number(values.loss)
    if (!(loss >= 0 && loss < 1)) return yield* new ClientError({ message: "--loss must be from 0 to below 1" })
    const printEvery = yield* integer("print-every", values["print-every"], 1, 3600)
    const seconds = values.seconds === undefined ? undefined : yield* integer("seconds", values.seconds, 1, 86_400)
    const pinned = yield* pinnedHost(values.dir, endpoint)
    return yield* Effect.scoped(
      Effect.gen(function* () {
        // Bind before the handshake (the host needs our port in Hello); the key comes in the
        // Welcome, and the receiver starts then.
        const receiver = new (media().MediaReceiver)({
          bind: "0.0.0.0",
          codec,
          simulateLoss: loss,
          ...(values.save === undefined ? {} : { savePath: values.save })
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => receiver.close()))
        const udpPort = receiver.port
        const request = {
          width: yield* integer("width", values.width, 16, 7680),
          height: yield* integer("height", values.height, 16, 4320),
          fps: yield* integer("fps", values.fps, 1, 240),
          codec,
          bitrate_kbps: yield* integer("bitrate-kbps", values["bitrate-kbps"], 100, 500_000),
          udp_port: udpPort,
          fec_percent: yield* integer("fec-percent", values["fec-percent"], 0, 100)
        }
        const session = yield* connect({ endpoint, identity, pinnedHost: pinned, name: values.name, request })
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
        const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
        yield* Console.log(
          `summary ${JSON.stringify({ reason, ...total, latency_p50_us: at(50), latency_p99_us: at(99), latency_frames: sorted.length })}`
        )
      })
    )
  }
  return yield* new ClientError({ message: `usage: punktfunk-client pair|stream --host H [--port P] (got '${command ?? ""}')` })
})

NodeRuntime.runMain(
  program.pipe(
    Effect.catchAll((e) =>
      Console.error(`punktfunk-client: ${e instanceof ClientError ? e.message : String(e)}`).pipe(
        Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
      )
    )
  ),
  { disableErrorReporting: true }
)
