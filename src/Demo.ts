/**
 * `--demo`: the host starts the bundled `punktfunk-client` as a child process that pairs itself
 * and streams over loopback, so a new user sees live graphs without a second machine.
 *
 * The demo client asks for the format the host's settings name (`--width`, `--height`, `--fps`,
 * `--codec`, `--bitrate-kbps`), so `--demo --width 1920 --height 1080` streams 1080p.
 *
 * Pairing goes through the same path as any client: the child asks with a PIN, and the host —
 * which chose that PIN and knows the child's certificate because it made the child's identity —
 * enters it for the operator. Nothing about demo mode weakens pairing for other clients: only a
 * request carrying the demo identity's fingerprint is answered automatically.
 */
import { Command, CommandExecutor } from "@effect/platform"
import { Effect, Layer, Schedule, Stream } from "effect"
import * as path from "node:path"
import { newPin } from "./client/ControlClient.js"
import { HostConfig, packageRoot } from "./services/Config.js"
import { loadOrCreateIdentity } from "./services/HostIdentity.js"
import { Pairing } from "./services/Pairing.js"
import { ControlServer } from "./streams/punktfunk1/ControlServer.js"

const clientJs = path.join(packageRoot, "dist", "client.js")

const runClient = (args: ReadonlyArray<string>, label: string) =>
  Effect.gen(function* () {
    // The Node that runs the host runs the client too (an installed package's Node need not be on PATH).
    const child = yield* Command.start(Command.make(process.execPath, clientJs, ...args))
    yield* child.stdout.pipe(
      Stream.merge(child.stderr),
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => Effect.logInfo(`[demo client] ${line}`)),
      Effect.forkScoped
    )
    const code = yield* child.exitCode
    if (code !== 0) yield* Effect.logWarning(`demo client ${label} exited with code ${code}`)
    return code
  }).pipe(Effect.scoped)

export const DemoLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* HostConfig
    if (!config.demo) return
    const pairing = yield* Pairing
    const control = yield* ControlServer
    const dir = path.join(config.configDir, "demo-client")
    const identity = yield* loadOrCreateIdentity(dir, "client", "punktfunk demo client")
    const common = ["--host", "127.0.0.1", "--port", String(control.port), "--dir", dir, "--name", "demo"]

    const session = Effect.gen(function* () {
      if ((yield* pairing.pairedAs(identity.fingerprint, "punktfunk1")) === undefined) {
        const pin = newPin()
        // Answer the demo client's own request, and only that one.
        const approve = pairing.pending.pipe(
          Effect.flatMap((list): Effect.Effect<unknown, unknown> => {
            const mine = list.find((p) => p.fingerprint === identity.fingerprint)
            return mine === undefined ? Effect.fail("not yet") : pairing.enterPin(mine.request_id, pin)
          }),
          Effect.retry(Schedule.spaced("100 millis")),
          Effect.timeout("30 seconds")
        )
        yield* Effect.all([runClient(["pair", ...common, "--pin", pin], "pair"), approve], { concurrency: 2 })
      }
      yield* Effect.logInfo("demo: the bundled client streams to this host over loopback")
      // The stream the operator configured (`--width`, `--fps`, `--codec`…): with no session of
      // the host's own, the demo client's is the one these settings describe.
      const format = [
        ...["--width", String(config.width), "--height", String(config.height), "--fps", String(config.fps)],
        ...["--codec", config.codec, "--bitrate-kbps", String(config.bitrateKbps)]
      ]
      yield* runClient(["stream", ...common, ...format, "--print-every", "10"], "stream")
    })
    // A demo client that ends (or fails to start) is started again after a pause.
    yield* session.pipe(
      Effect.catchAll((e) => Effect.logWarning(`demo client: ${String(e)}`)),
      Effect.zipRight(Effect.sleep("3 seconds")),
      Effect.forever,
      Effect.forkScoped
    )
  })
)
