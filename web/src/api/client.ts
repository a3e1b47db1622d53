/**
 * The console's view of the host: a typed client derived from the one API definition
 * (`src/api/Api.ts`) with `HttpApiClient`, so a route or Schema change breaks this build rather
 * than the page. Components see only the `ConsoleApi` interface of promises, which keeps Effect
 * out of React and lets component tests hand in a fake host.
 */
import type { FramesFile } from "../../../src/api/Frames.js"
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Either, ParseResult, Schema } from "effect"
import { PunktfunkApi } from "../../../src/api/Api.js"
import type { Marker } from "../../../src/api/Markers.js"
import { LIVE_EVENTS_PATH, STATS_PATH } from "../../../src/api/LiveEvents.js"
import type { PairedClient, PairingLockout, PendingPairing } from "../../../src/api/Pairing.js"
import { CaptureListing, listingRows } from "../../../src/api/CaptureListing.js"
import { Capture } from "../../../src/api/Stats.js"
import type { CaptureListItem } from "../../../src/api/Stats.js"
import type { CaptureMeta, LiveSnapshot, StatsStatus } from "../../../src/api/Stats.js"
import { ApiFailure, describeError } from "./errors.js"
import type { LiveMessage } from "./sse.js"
import { readLiveEvents } from "./sse.js"
import { structureGuard } from "../../../src/api/StructureGuard.js"

export interface ConsoleApi {
  readonly status: () => Promise<StatsStatus>
  readonly start: () => Promise<StatsStatus>
  /** The saved recording's meta, or null when nothing was armed. */
  readonly stop: () => Promise<CaptureMeta | null>
  /** The armed capture's sessions and samples so far (newer than `sinceMs`); null when idle. */
  readonly live: (sinceMs?: number) => Promise<LiveSnapshot | null>
  /** A marker with the operator's label on the armed capture, at the host's clock. */
  readonly mark: (label: string) => Promise<Marker>
  /** One row per stored capture (the list's columns; a capture's full meta comes with `get`). */
  readonly list: () => Promise<ReadonlyArray<CaptureListItem>>
  readonly get: (id: string) => Promise<Capture>
  readonly exportText: (id: string, format: "json" | "csv") => Promise<string>
  /** The capture's kept frame spans (flight recorder); absent in test doubles that have none. */
  readonly frames?: (id: string) => Promise<FramesFile>
  readonly label: (id: string, label: string) => Promise<CaptureMeta>
  readonly remove: (id: string) => Promise<void>
  /** Store a capture file on the host under a new id marked imported; absent in test doubles without it. */
  readonly importFile?: (file: Blob) => Promise<CaptureMeta>
  readonly liveEvents: (signal: AbortSignal, onMessage: (message: LiveMessage) => void) => Promise<void>
}

/** The Devices page's view of pairing (`/api/v1/pairing/*`). */
export interface DevicesApi {
  readonly pending: () => Promise<ReadonlyArray<PendingPairing>>
  readonly enterPin: (requestId: string, pin: string) => Promise<PairedClient>
  readonly reject: (requestId: string) => Promise<void>
  /** Addresses refused for now after too many wrong PINs. */
  readonly lockouts: () => Promise<ReadonlyArray<PairingLockout>>
  readonly clients: () => Promise<ReadonlyArray<PairedClient>>
  readonly unpair: (fingerprint: string) => Promise<void>
}

const STATS = STATS_PATH

const isCapture = structureGuard(Capture)

/**
 * `GET /recordings/:id` without the typed client's Schema decode: the body is the host's stored
 * file, which the host checked with the full Schemas before serving it (see `src/api/StructureGuard.ts`), so
 * the page parses it and checks its shape. A body of the wrong shape still fails with the
 * Schema's own words (the slow decode runs only then, to say what is wrong).
 */
const getCapture = async (baseUrl: string, token: string, id: string): Promise<Capture> => {
  const { res, body } = await fetchJson(`${baseUrl}${STATS}/recordings/${encodeURIComponent(id)}`, { authorization: `Bearer ${token}` })
  return checked(res, body, Capture, (u) => (isCapture(u) ? u : undefined))
}

const fetchJson = async (url: string, headers: Record<string, string>): Promise<{ res: Response; body: unknown }> => {
  let res: Response
  try {
    res = await fetch(url, { headers })
  } catch {
    throw describeError({ _tag: "RequestError" })
  }
  if (res.status === 304) return { res, body: undefined }
  const text = await res.text()
  try {
    return { res, body: JSON.parse(text) }
  } catch {
    throw describeError({ _tag: "ResponseError", response: { status: res.status }, message: "not JSON" })
  }
}

/**
 * The body as `A` when `fast` accepts it (a shape check, no decode); otherwise a refusal that
 * says why in the Schema's words.
 */
const checked = <A, I>(res: Response, body: unknown, schema: Schema.Schema<A, I>, fast: (u: unknown) => A | undefined): A => {
  if (!res.ok) {
    // The API's typed errors carry a `_tag` and a message for people; describeError knows them.
    throw describeError(typeof body === "object" && body !== null && "_tag" in body ? body : { _tag: "ResponseError", response: { status: res.status } })
  }
  const accepted = fast(body)
  if (accepted !== undefined) return accepted
  const decoded = Schema.decodeUnknownEither(schema)(body)
  throw new ApiFailure(
    `The host's answer did not match the API this console was built with: ${Either.isLeft(decoded) ? ParseResult.TreeFormatter.formatErrorSync(decoded.left) : "unexpected shape"}`,
    null,
    "ParseError"
  )
}

/**
 * `GET /recordings`, parsed and shape-checked like `getCapture` (the host encoded the rows with
 * the Schema), and conditional: the last answer is kept with its `ETag`, sent back as
 * `If-None-Match`, and a `304` (nothing changed since) hands back the rows already parsed — a
 * refresh of an unchanged list moves no body and parses nothing.
 */
const listFetcher = (baseUrl: string, token: string) => {
  let last: { readonly etag: string; readonly rows: ReadonlyArray<CaptureListItem> } | undefined
  return async (): Promise<ReadonlyArray<CaptureListItem>> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (last !== undefined) headers["if-none-match"] = last.etag
    const { res, body } = await fetchJson(`${baseUrl}${STATS}/recordings`, headers)
    if (res.status === 304 && last !== undefined) return last.rows
    const rows = checked(res, body, CaptureListing, listingRows)
    const etag = res.headers.get("etag")
    last = etag === null ? undefined : { etag, rows }
    return rows
  }
}

// Effect.runPromise would reject with a FiberFailure wrapper; reject with our own ApiFailure
// (status and words) so callers can tell a refused token from a missing recording.
const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const result = await Effect.runPromise(
    effect.pipe(Effect.mapError(describeError), Effect.catchAllDefect((d) => Effect.fail(describeError(d))), Effect.either)
  )
  if (Either.isLeft(result)) throw result.left
  return result.right
}

/**
 * One typed client for the whole API, derived with `HttpApiClient.make` from the definition, over
 * the browser's fetch, with the bearer header on every request.
 */
const typedClient = (baseUrl: string, token: string) =>
  Effect.runSync(
    HttpApiClient.make(PunktfunkApi, {
      baseUrl,
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

export const makeConsoleApi = (baseUrl: string, token: string): ConsoleApi => {
  const client = typedClient(baseUrl, token).stats
  return {
    status: () => run(client.status({})),
    start: () => run(client.start({})),
    stop: () => run(client.stop({}).pipe(Effect.map((meta) => meta ?? null))),
    live: (sinceMs) =>
      run(
        client.live({ urlParams: sinceMs === undefined ? {} : { since_t_ms: sinceMs } }).pipe(
          Effect.catchTag("NotArmed", () => Effect.succeed(null))
        )
      ),
    mark: (label) => run(client.mark({ payload: { label } })),
    list: listFetcher(baseUrl, token),
    get: (id) => getCapture(baseUrl, token, id),
    exportText: (id, format) => run(client.export({ path: { id }, urlParams: { format } })),
    frames: (id) => run(client.frames({ path: { id } })),
    label: (id, label) => run(client.label({ path: { id }, payload: { label } })),
    remove: (id) => run(client.remove({ path: { id } })),
    // The file's bytes as they are: the host migrates and checks them.
    importFile: async (file) => run(client.import({ payload: new Uint8Array(await file.arrayBuffer()) })),
    liveEvents: (signal, onMessage) => readLiveEvents(`${baseUrl}${LIVE_EVENTS_PATH}`, token, signal, onMessage)
  }
}

export const makeDevicesApi = (baseUrl: string, token: string): DevicesApi => {
  const client = typedClient(baseUrl, token).pairing
  return {
    pending: () => run(client.pending({})),
    enterPin: (request_id, pin) => run(client.enterPin({ path: { request_id }, payload: { pin } })),
    reject: (request_id) => run(client.reject({ path: { request_id } })),
    lockouts: () => run(client.lockouts({})),
    clients: () => run(client.clients({})),
    unpair: (fingerprint) => run(client.unpair({ path: { fingerprint } }))
  }
}
