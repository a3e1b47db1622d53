/**
 * A paired punktfunk/1 client that watches without taking media, for the benches and tests that
 * need a host session someone watches (a host encodes only then) but no decoder beside it: the
 * library client in this process, paired through the operator API as the console would.
 */
import { Deferred, Effect, Fiber, Schema } from "effect"
import { PendingPairing } from "../api/Pairing.js"
import { connect, newPin, pair } from "../client/ControlClient.js"
import type { ClientError, ClientIdentity, ClientSession } from "../client/ControlClient.js"
import { fingerprintOfPem, generateCertificate } from "../lib/Certificates.js"

/** What the viewer needs of a running host: its URL, its token, and what it printed (the control port). */
export interface WatchedHost {
  readonly url: string
  readonly token: string
  readonly output: () => string
}

const waitFor = async (f: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await f()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** The format the viewer asks for. */
export interface ViewerFormat {
  readonly width: number
  readonly height: number
  readonly fps: number
  /** Default 2,000 kb/s. */
  readonly bitrateKbps?: number
}

export interface Viewer {
  readonly name: string
  /** Says goodbye and closes the connection: the host's session ends with it. */
  readonly stop: () => Promise<void>
}

const CONTROL_LINE = /punktfunk\/1 control on [^:]+:(\d+)/

/** The host's punktfunk/1 control port, once its start-up output names it. */
export const controlPort = async (host: WatchedHost): Promise<number> => {
  await waitFor(() => CONTROL_LINE.test(host.output()), 15_000, "the control port")
  return Number(CONTROL_LINE.exec(host.output())?.[1])
}

/**
 * The operator's half of pairing, as the console does it: wait until the host lists a pending
 * request that `pick` chooses, then type the PIN the client shows for it. Throws unless the host
 * answers the PIN with 200 (the client's own half then completes).
 */
export const enterPinFor = async (
  host: WatchedHost,
  pick: (request: PendingPairing) => boolean,
  pin: string,
  timeoutMs: number
): Promise<void> => {
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${host.url}/api/v1/pairing${route}`, {
      ...init,
      headers: { authorization: `Bearer ${host.token}`, "content-type": "application/json" }
    })
  let requestId = ""
  await waitFor(async () => {
    const pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await (await api("/pending")).json())
    requestId = pending.find(pick)?.request_id ?? ""
    return requestId !== ""
  }, timeoutMs, "the pairing request")
  const entered = await api(`/pending/${requestId}/pin`, { method: "POST", body: JSON.stringify({ pin }) })
  if (entered.status !== 200) throw new Error(`the operator's PIN was answered ${entered.status}`)
}

/**
 * A paired punktfunk/1 client that watches without taking media (`Hello` without a UDP port):
 * the host runs a real session for it — source, encoder, windows — and sends nothing over the
 * network, so its captures list no network counters (`packets_dropped`… are "not measured").
 * In-process (the library client), answering the host's pings until `stop`.
 */
export const watchWithoutMedia = async (host: WatchedHost, name: string, format: ViewerFormat): Promise<Viewer> => {
  const endpoint = { host: "127.0.0.1", port: await controlPort(host) }
  const made = await generateCertificate(name)
  const identity: ClientIdentity = { ...made, fingerprint: fingerprintOfPem(made.certPem) }
  const pin = newPin()
  const pairing = Effect.runPromise(pair({ endpoint, identity, name, pin }))
  await enterPinFor(host, (p) => p.name === name, pin, 20_000)
  const pinnedHost = await pairing
  const opened = await Effect.runPromise(Deferred.make<ClientSession, ClientError>())
  const fiber = Effect.runFork(
    Effect.scoped(
      connect({ endpoint, identity, pinnedHost, name, request: { width: format.width, height: format.height, fps: format.fps, codec: "h264", bitrate_kbps: format.bitrateKbps ?? 2_000 } }).pipe(
        Effect.tap((session) => Deferred.succeed(opened, session)),
        Effect.tapError((e) => Deferred.fail(opened, e)),
        Effect.flatMap((session) => session.run)
      )
    )
  )
  const session = await Effect.runPromise(Deferred.await(opened))
  return {
    name,
    stop: () => Effect.runPromise(session.goodbye("done watching").pipe(Effect.ignore, Effect.zipRight(Fiber.interrupt(fiber)), Effect.asVoid))
  }
}
