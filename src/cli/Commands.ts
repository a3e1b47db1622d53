/**
 * `punktfunk stats …`: each subcommand is one API call through the typed client and one thing
 * printed. Commands print to stdout; errors go to stderr with a nonzero exit (see `cli.ts`).
 *
 * Why `--host` and `--token-file` sit on every subcommand rather than once on `stats`: an
 * operator types `punktfunk stats list --host …`, and with @effect/cli a parent's options would
 * have to come before the subcommand's name. `PUNKTFUNK_HOST` covers scripts.
 */
import { Args, Command, Options } from "@effect/cli"
import { Config, Console, Effect, Option, Schema } from "effect"
import * as fs from "node:fs/promises"
import { CaptureListItem, StatsStatus } from "../api/Stats.js"
import { formatCaptureSummary, formatList, formatStatus } from "./Format.js"
import { call, CliError, DEFAULT_HOST, defaultTokenFile } from "./HostClient.js"
import type { Connection } from "./HostClient.js"

const host = Options.text("host").pipe(
  Options.withDescription(`URL of the host's management API (env PUNKTFUNK_HOST; default ${DEFAULT_HOST})`),
  Options.withFallbackConfig(Config.string("PUNKTFUNK_HOST")),
  Options.withDefault(DEFAULT_HOST)
)
const tokenFile = Options.text("token-file").pipe(
  Options.withDescription("the host's bearer token file (default: the host's own, ~/.config/punktfunk/token)"),
  Options.withDefault(defaultTokenFile())
)
const fingerprint = Options.text("fingerprint").pipe(
  Options.withDescription(
    "SHA-256 fingerprint of an https:// host's certificate, as the host prints it at start (env PUNKTFUNK_HOST_FINGERPRINT; default: the host's own host-cert.pem beside its token, when the CLI runs on the host's machine)"
  ),
  Options.withFallbackConfig(Config.string("PUNKTFUNK_HOST_FINGERPRINT")),
  Options.optional
)
const connection = { host, tokenFile, fingerprint }
const json = Options.boolean("json").pipe(Options.withDescription("print the host's JSON answer instead of a table"))
const id = Args.text({ name: "ID" }).pipe(Args.withDescription("capture id (see 'punktfunk stats list')"))

const printJson = <A, I>(schema: Schema.Schema<A, I>, value: A) =>
  Console.log(JSON.stringify(Schema.encodeSync(schema)(value), null, 2))

const status = Command.make("status", { ...connection, json }, (c: Connection & { readonly json: boolean }) =>
  call(c, (client) => client.stats.status()).pipe(
    Effect.flatMap((s) => (c.json ? printJson(StatsStatus, s) : Console.log(formatStatus(s))))
  )
).pipe(Command.withDescription("whether a capture is armed, its sample count, active sessions"))

const arm = Command.make("arm", connection, (c) =>
  call(c, (client) => client.stats.start()).pipe(
    Effect.flatMap((s) => Console.log(`capture armed (${s.sample_count} samples so far, ${s.active_sessions} active session(s))`))
  )
).pipe(Command.withDescription("arm a stats capture (a no-op when one is armed)"))

const stop = Command.make("stop", connection, (c) =>
  call(c, (client) => client.stats.stop()).pipe(
    Effect.flatMap((meta) =>
      meta === undefined
        ? Console.log("no capture was armed; nothing to save")
        : Console.log(`saved capture ${meta.id}: ${meta.sample_count} samples${meta.truncated ? " (truncated)" : ""}`)
    )
  )
).pipe(Command.withDescription("stop the armed capture and save it (or retry a failed save)"))

const list = Command.make("list", { ...connection, json }, (c: Connection & { readonly json: boolean }) =>
  call(c, (client) => client.stats.list()).pipe(
    Effect.flatMap((rows) => (c.json ? printJson(Schema.Array(CaptureListItem), rows) : Console.log(formatList(rows))))
  )
).pipe(Command.withDescription("stored captures, newest first"))

const show = Command.make("show", { ...connection, id }, (c) =>
  call(c, (client) => client.stats.get({ path: { id: c.id } })).pipe(
    Effect.flatMap((capture) => Console.log(formatCaptureSummary(capture)))
  )
).pipe(Command.withDescription("a capture's summary: per-stage latency against the frame budget, fps, bitrate, drops"))

const format = Options.choice("format", ["csv", "json"]).pipe(Options.withDefault("json" as const))
const output = Options.text("output").pipe(
  Options.withAlias("o"),
  Options.withDescription("write to this file instead of standard output"),
  Options.optional
)

const writeOutput = (file: string, text: string) =>
  Effect.tryPromise({
    try: () => fs.writeFile(file, text, "utf8"),
    catch: (e) => new CliError({ message: `cannot write ${file}: ${e instanceof Error ? e.message : String(e)}`, exitCode: 1 })
  })

const exportCommand = Command.make("export", { ...connection, id, format, output }, (c) =>
  call(c, (client) => client.stats.export({ path: { id: c.id }, urlParams: { format: c.format } })).pipe(
    Effect.flatMap((text) =>
      Option.match(c.output, {
        onNone: () => Effect.sync(() => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`)),
        onSome: (file) =>
          writeOutput(file, text).pipe(Effect.zipRight(Console.error(`wrote ${c.id} as ${c.format} to ${file}`)))
      })
    )
  )
).pipe(Command.withDescription("a capture as CSV (one row per window) or JSON (the whole capture)"))

const readCaptureFile = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file),
    catch: (e) => new CliError({ message: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, exitCode: 2 })
  })

// The file's bytes as they are: the host checks them (any earlier format version is migrated) and
// names the field at fault, so the CLI neither parses nor re-encodes them.
const importCommand = Command.make(
  "import",
  { ...connection, file: Args.text({ name: "FILE" }).pipe(Args.withDescription("a capture JSON file, as 'punktfunk stats export ID' writes it")) },
  (c) =>
    readCaptureFile(c.file).pipe(
      Effect.flatMap((bytes) => call(c, (client) => client.stats.import({ payload: new Uint8Array(bytes) }))),
      Effect.flatMap((meta) =>
        Console.log(`imported ${c.file} as capture ${meta.id}: ${meta.sample_count} samples${meta.label === "" ? "" : ` (${meta.label})`}`)
      )
    )
).pipe(Command.withDescription("store a capture file exported by a punktfunk host, under a new id marked imported"))

const remove = Command.make("delete", { ...connection, id }, (c) =>
  call(c, (client) => client.stats.remove({ path: { id: c.id } })).pipe(Effect.zipRight(Console.log(`deleted capture ${c.id}`)))
).pipe(Command.withDescription("delete a stored capture"))

const mark = Command.make(
  "mark",
  { ...connection, text: Args.text({ name: "LABEL" }).pipe(Args.withDescription("what happened here (at most 200 characters)")) },
  (c) =>
    call(c, (client) => client.stats.mark({ payload: { label: c.text } })).pipe(
      Effect.flatMap((marker) => Console.log(`marked ${(marker.t_ms / 1000).toFixed(1)} s into the capture: ${marker.label}`))
    )
).pipe(Command.withDescription("put a labelled marker on the armed capture, now"))

const label = Command.make(
  "label",
  { ...connection, id, text: Args.text({ name: "TEXT" }).pipe(Args.withDescription("the new label (at most 200 characters)")) },
  (c) =>
    call(c, (client) => client.stats.label({ path: { id: c.id }, payload: { label: c.text } })).pipe(
      Effect.flatMap((meta) => Console.log(`labelled ${meta.id}: ${meta.label}`))
    )
).pipe(Command.withDescription("set a stored capture's label"))

export const stats = Command.make("stats").pipe(
  Command.withDescription("performance-stats captures on a running host"),
  Command.withSubcommands([status, arm, stop, mark, list, show, exportCommand, importCommand, remove, label])
)

export const punktfunk = Command.make("punktfunk").pipe(
  Command.withDescription("operate a running punktfunk host"),
  Command.withSubcommands([stats])
)
