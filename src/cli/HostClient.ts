/**
 * The CLI's connection to a running host: the typed client derived from the one API definition
 * (`HttpApiClient.make(PunktfunkApi)`), the bearer token read from the same file the host uses,
 * and every failure turned into one sentence an operator can act on.
 *
 * Why failures are translated here and not where they happen: "connection refused", a 401 and a
 * 507 reach the CLI as three unrelated error types from three layers (transport, middleware,
 * handler); the operator only needs to know which of "the host is down", "the token is wrong",
 * "the host said no, because …" it was, so each command maps them once through `explain`.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Data, Effect, Layer, Option } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { PunktfunkApi } from "../api/Api.js"
import { errorText } from "../api/ErrorWords.js"
import { isLoopbackBind } from "../http/ManagementTls.js"
import { fingerprintOfPem } from "../lib/Certificates.js"
import { normalizeFingerprint, pinnedAgents } from "./PinnedTls.js"

export const DEFAULT_HOST = "http://127.0.0.1:47990"

/** One message, already worded for the terminal; the CLI prints it and exits nonzero. */
export class CliError extends Data.TaggedError("CliError")<{ readonly message: string; readonly exitCode: number }> {}

/**
 * The host's own default: `PUNKTFUNK_TOKEN_FILE`, else `token` in `PUNKTFUNK_CONFIG_DIR`, else
 * `~/.config/punktfunk/token` (see `services/Config.ts`), so the CLI on the host's machine needs
 * no flag.
 */
export const defaultTokenFile = (env: NodeJS.ProcessEnv = process.env): string => {
  const explicit = env["PUNKTFUNK_TOKEN_FILE"]
  if (explicit !== undefined && explicit !== "") return path.resolve(explicit)
  const configDir = env["PUNKTFUNK_CONFIG_DIR"] ?? path.join(os.homedir(), ".config", "punktfunk")
  return path.resolve(configDir, "token")
}

export const readToken = (tokenFile: string): Effect.Effect<string, CliError> =>
  Effect.tryPromise({
    try: () => fs.readFile(tokenFile, "utf8"),
    catch: (e) =>
      new CliError({
        message: `cannot read the token file ${tokenFile}: ${e instanceof Error ? e.message : String(e)} (start the host once, or pass --token-file)`,
        exitCode: 2
      })
  }).pipe(
    Effect.map((text) => text.trim()),
    Effect.filterOrFail(
      (token) => token.length > 0,
      () => new CliError({ message: `the token file ${tokenFile} is empty`, exitCode: 2 })
    )
  )

/** The host's certificate beside its token: `<config>/host-cert.pem` (see `services/HostIdentity.ts`). */
export const defaultHostCertFile = (env: NodeJS.ProcessEnv = process.env): string => {
  const configDir = env["PUNKTFUNK_CONFIG_DIR"] ?? path.join(os.homedir(), ".config", "punktfunk")
  return path.resolve(configDir, "host-cert.pem")
}

export interface Connection {
  readonly host: string
  readonly tokenFile: string
  /** `--fingerprint` / `PUNKTFUNK_HOST_FINGERPRINT`: the certificate an `https://` host must present. */
  readonly fingerprint: Option.Option<string>
}

/**
 * The fingerprint an `https://` host must present: the one given, else that of the host's own
 * certificate file when the CLI runs beside the host (the same trust as reading its token file),
 * else none — and then the connection is refused, naming what the host presented.
 */
const pinFor = (connection: Connection): Effect.Effect<string | undefined, CliError> =>
  Option.match(connection.fingerprint, {
    onSome: (given) => {
      const pin = normalizeFingerprint(given)
      return pin === undefined
        ? Effect.fail(
            new CliError({ message: `--fingerprint ${given} is not a SHA-256 fingerprint (64 hex digits, colons allowed)`, exitCode: 2 })
          )
        : Effect.succeed(pin)
    },
    onNone: () =>
      Effect.promise(async () => {
        try {
          return fingerprintOfPem(await fs.readFile(defaultHostCertFile(), "utf8"))
        } catch {
          return undefined
        }
      })
  })

/** `127.0.0.1:47990` means `http://127.0.0.1:47990`; a trailing slash is dropped. */
export const normalizeBase = (host: string): string => {
  const trimmed = host.trim().replace(/\/+$/, "")
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`
}

/**
 * Plain HTTP through fetch, to loopback only; HTTPS only through the pinned agent (see
 * `PinnedTls.ts`). Why plain HTTP elsewhere is refused before any connection: the request would
 * carry the token in clear across the network before the host could refuse it (a host bound
 * beyond loopback speaks only HTTPS anyway).
 */
const transportFor = (connection: Connection) => {
  const base = normalizeBase(connection.host)
  if (!base.toLowerCase().startsWith("https:")) {
    let hostname = ""
    try {
      hostname = new URL(base).hostname
    } catch {
      // Not a URL: fetch says so, with no token sent.
      return Effect.succeed(FetchHttpClient.layer)
    }
    return isLoopbackBind(hostname)
      ? Effect.succeed(FetchHttpClient.layer)
      : Effect.fail(
          new CliError({
            message: `refusing to send the token in clear to ${base}: beyond loopback the host's API speaks HTTPS (use https:// with --fingerprint)`,
            exitCode: 5
          })
        )
  }
  return pinFor(connection).pipe(
    Effect.map((pin) =>
      NodeHttpClient.layerWithoutAgent.pipe(
        Layer.provide(
          Layer.succeed(NodeHttpClient.HttpAgent, { [NodeHttpClient.HttpAgentTypeId]: NodeHttpClient.HttpAgentTypeId, ...pinnedAgents(pin, base) })
        )
      )
    )
  )
}

export const makeClient = (connection: Connection) =>
  Effect.gen(function* () {
    const transport = yield* transportFor(connection)
    const token = yield* readToken(connection.tokenFile)
    return yield* HttpApiClient.make(PunktfunkApi, {
      baseUrl: normalizeBase(connection.host),
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
    }).pipe(Effect.provide(transport))
  })

export type PunktfunkClient = Effect.Effect.Success<ReturnType<typeof makeClient>>

const hasTag = (e: unknown): e is { readonly _tag: string } =>
  typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string"

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e)

/**
 * fetch's "other side closed": something listens but hung up on plain HTTP — the management
 * API's HTTPS port does exactly that (see `http/ManagementTls.ts`).
 */
const closedWithoutAnswer = (cause: unknown): boolean => {
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : undefined
  const code = typeof inner === "object" && inner !== null && "code" in inner ? inner.code : undefined
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET"
}

/** The exit code of each failure the CLI names (1 for the rest); scripts branch on these. */
const EXIT_CODES: Readonly<Record<string, number>> = { RequestError: 3, Unauthorized: 4 }

/**
 * Any failure of a client call, as one operator-facing sentence with an exit code. The sentence
 * is the console's too (`api/ErrorWords.ts`); what only the CLI knows is added here: the
 * fingerprint it pinned, and a plain-HTTP call to the HTTPS port.
 */
export const explain =
  (connection: Connection) =>
  (e: unknown): CliError => {
    if (e instanceof CliError) return e
    const host = normalizeBase(connection.host)
    if (hasTag(e) && e._tag === "RequestError") {
      const cause = "cause" in e ? e.cause : undefined
      if (hasTag(cause) && cause._tag === "PinRefused") return new CliError({ message: messageOf(cause), exitCode: 5 })
      if (closedWithoutAnswer(cause) && !host.toLowerCase().startsWith("https:")) {
        return new CliError({
          message: `the host at ${host} closed the connection without an answer (a host bound beyond loopback speaks only HTTPS: try https://)`,
          exitCode: 3
        })
      }
    }
    const text = errorText(e, { host, tokenFile: connection.tokenFile })
    return new CliError({ message: text.message, exitCode: EXIT_CODES[text.tag] ?? 1 })
  }

/** Run one client call with the connection's error wording. */
export const call = <A>(
  connection: Connection,
  f: (client: PunktfunkClient) => Effect.Effect<A, unknown>
): Effect.Effect<A, CliError> =>
  makeClient(connection).pipe(
    Effect.flatMap(f),
    Effect.mapError(explain(connection))
  )
