/**
 * The client end of the `punktfunk/1` control plane: pair with a PIN, then connect and hold a
 * session (answering the host's pings) until either side ends it.
 *
 * Trust runs both ways through pinning: the client presents its own certificate (the host pins
 * it at pairing), and it pins the host's fingerprint learned while pairing; a later connection to
 * a host whose certificate changed is refused here before a word is sent.
 */
import { Data, Effect, Either, Option, Schema } from "effect"
import type { Scope } from "effect"
import { randomInt } from "node:crypto"
import * as tls from "node:tls"
import { fingerprintOfDer } from "../lib/Certificates.js"
import type { CertificatePair } from "../lib/Certificates.js"
import { PingStamps } from "./ClockOffset.js"
import type { OffsetEstimate } from "./ClockOffset.js"
import { framed } from "../streams/punktfunk1/Framed.js"
import type { Framed } from "../streams/punktfunk1/Framed.js"
import {
  BitrateChange,
  Echo,
  encodeClientMessage,
  Goodbye,
  Hello,
  HostMessage,
  IdrRequest,
  Pair,
  PairConfirm,
  PROTOCOL
} from "../streams/punktfunk1/Protocol.js"
import { clientFinish, clientStart, sessionIdOf, tagMatches } from "../streams/punktfunk1/PairingPake.js"
import type { ClientMessage, ReceiverReport, Welcome } from "../streams/punktfunk1/Protocol.js"

export class ClientError extends Data.TaggedError("ClientError")<{ readonly message: string }> {}

export interface Endpoint {
  readonly host: string
  readonly port: number
  /** The local address to connect from (tests bind 127.0.0.2 and up to be another machine). */
  readonly localAddress?: string
}

export interface ClientIdentity extends CertificatePair {
  readonly fingerprint: string
}

const decodeHost = Schema.decodeUnknownEither(Schema.parseJson(HostMessage))

const open = (endpoint: Endpoint, identity: ClientIdentity) =>
  Effect.gen(function* () {
    const socket = yield* Effect.async<tls.TLSSocket, ClientError>((resume) => {
      const s = tls.connect({
        host: endpoint.host,
        port: endpoint.port,
        cert: identity.certPem,
        key: identity.keyPem,
        // Self-signed host: trust is the pinned fingerprint, checked by the caller.
        rejectUnauthorized: false,
        minVersion: "TLSv1.3",
        ...(endpoint.localAddress === undefined ? {} : { localAddress: endpoint.localAddress })
      })
      const fail = (e: Error) =>
        resume(Effect.fail(new ClientError({ message: `cannot reach the host at ${endpoint.host}:${endpoint.port}: ${e.message}` })))
      s.once("error", fail)
      s.once("secureConnect", () => {
        s.off("error", fail)
        resume(Effect.succeed(s))
      })
      return Effect.sync(() => s.destroy())
    })
    const peer = socket.getPeerX509Certificate()
    if (peer === undefined) return yield* new ClientError({ message: "the host presented no certificate" })
    const conn = yield* framed(socket)
    return { conn, socket, hostFingerprint: fingerprintOfDer(peer.raw) }
  })

const say = (conn: Framed, m: ClientMessage) => conn.send(encodeClientMessage(m))

const hear = (conn: Framed) =>
  conn.next.pipe(
    Effect.mapError((e) => new ClientError({ message: e.message })),
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.fail(new ClientError({ message: "the host closed the connection" })),
        onSome: (body) =>
          Either.match(decodeHost(body), {
            onLeft: (e) => Effect.fail(new ClientError({ message: `the host sent a malformed message: ${e.message}` })),
            onRight: (m) => Effect.succeed(m)
          })
      })
    )
  )

/** A PIN for the operator to type: 4 digits, from a CSPRNG. */
export const newPin = (): string => String(randomInt(0, 10_000)).padStart(4, "0")

/**
 * Asks to pair and waits for the operator. Resolves with the host's fingerprint to pin.
 * `onPending` is told the request id the host's console lists.
 *
 * The PIN is proven by CPace (PairingPake.ts): the client's share goes with `Pair`, its tag after
 * the host's share, and the host's fingerprint is returned only once the host's tag checks —
 * a host (or a machine in the middle) that does not know the PIN gets nothing pinned here.
 */
export const pair = (options: {
  readonly endpoint: Endpoint
  readonly identity: ClientIdentity
  readonly name: string
  readonly pin: string
  readonly onPending?: (requestId: string) => void
}): Effect.Effect<string, ClientError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { conn, socket, hostFingerprint } = yield* open(options.endpoint, options.identity)
      const parties = {
        pin: options.pin,
        clientFingerprint: options.identity.fingerprint,
        hostFingerprint,
        sid: sessionIdOf(socket),
        clientName: options.name
      }
      const mine = clientStart(parties)
      yield* say(conn, new Pair({ name: options.name, ya: mine.yaHex }))
      let hostTag: Uint8Array | undefined
      while (true) {
        const m = yield* hear(conn)
        if (m._tag === "PairingPending") options.onPending?.(m.request_id)
        else if (m._tag === "PairResponse") {
          if (hostTag !== undefined) return yield* new ClientError({ message: "the host sent a second pairing share" })
          const finished = clientFinish(parties, mine, m.yb)
          if (Either.isLeft(finished)) return yield* new ClientError({ message: `pairing failed: ${finished.left.message}` })
          hostTag = finished.right.tb
          yield* say(conn, new PairConfirm({ ta: finished.right.taHex }))
        } else if (m._tag === "Paired") {
          if (hostTag === undefined) {
            return yield* new ClientError({ message: "the host said 'paired' without the PIN exchange: it proved nothing, nothing is pinned" })
          }
          if (!tagMatches(hostTag, m.tb)) {
            return yield* new ClientError({
              message:
                "the host did not prove it knows the PIN (its confirmation does not match): a machine in the middle, or another host; nothing is pinned"
            })
          }
          if (m.host_fingerprint !== hostFingerprint) {
            return yield* new ClientError({ message: "the host's pairing answer names a certificate other than the one it presented" })
          }
          return hostFingerprint
        } else if (m._tag === "Refused") return yield* new ClientError({ message: `pairing refused: ${m.reason}` })
        else return yield* new ClientError({ message: `unexpected ${m._tag} while pairing` })
      }
    })
  )

export interface SessionRequest {
  readonly width: number
  readonly height: number
  readonly fps: number
  readonly codec: "h264" | "hevc"
  readonly bitrate_kbps: number
  /** Where this client receives media; without it the host streams nothing to it. */
  readonly udp_port?: number
  readonly fec_percent?: number
}

export interface ClientSession {
  readonly welcome: Welcome
  readonly conn: Framed
  /** Runs until the session ends; resolves with the host's reason (or the client's own). */
  readonly run: Effect.Effect<string, ClientError>
  readonly goodbye: (reason: string) => Effect.Effect<void>
  readonly report: (report: ReceiverReport) => Effect.Effect<void>
  readonly requestIdr: Effect.Effect<void>
  readonly setBitrate: (kbps: number) => Effect.Effect<void>
  /** The bitrate the host last confirmed (the requested one until a change is answered). */
  readonly bitrateKbps: () => number
  readonly pings: () => number
  /** The client's clock minus the host's, from the pings so far (undefined before the first exchange). */
  readonly clockOffset: () => OffsetEstimate | undefined
}

/**
 * Connects to a paired host and starts a session. The caller's scope owns the connection.
 * `answerPings: false` makes a client that stays connected but says nothing (a vanished client,
 * for tests).
 */
export const connect = (options: {
  readonly endpoint: Endpoint
  readonly identity: ClientIdentity
  readonly pinnedHost: string
  readonly name: string
  readonly request: SessionRequest
  readonly answerPings?: boolean
  /**
   * The client's clock (µs) for the ping exchanges: the media receiver's, so the offset it yields
   * applies to the receiver's latencies. Defaults to this process's monotonic clock.
   */
  readonly clockUs?: () => number
}): Effect.Effect<ClientSession, ClientError, Scope.Scope> =>
  Effect.gen(function* () {
    const { conn, hostFingerprint } = yield* open(options.endpoint, options.identity)
    if (hostFingerprint !== options.pinnedHost) {
      return yield* new ClientError({
        message: `the host's certificate is not the one paired (${hostFingerprint.slice(0, 16)} ≠ ${options.pinnedHost.slice(0, 16)}): refusing to connect`
      })
    }
    // A client that takes media measures capture→decoded latency on the host's clock (StreamLoop).
    yield* say(conn, new Hello({ protocol: PROTOCOL, name: options.name, ...options.request, ...(options.request.udp_port === undefined ? {} : { reports_e2e: true }) }))
    const first = yield* hear(conn)
    if (first._tag === "Refused") return yield* new ClientError({ message: `the host refused: ${first.reason}` })
    if (first._tag !== "Welcome") return yield* new ClientError({ message: `expected Welcome, got ${first._tag}` })
    let pings = 0
    let bitrate = options.request.bitrate_kbps
    const clockUs = options.clockUs ?? (() => Number(process.hrtime.bigint() / 1000n))
    const stamps = new PingStamps()
    const run = Effect.gen(function* () {
      while (true) {
        const m = yield* hear(conn).pipe(
          Effect.catchAll((e) => (e.message === "the host closed the connection" ? Effect.succeed(undefined) : Effect.fail(e)))
        )
        if (m === undefined) return "the host closed the connection"
        if (m._tag === "Ping") {
          const t2 = clockUs()
          pings++
          if (m.echo !== undefined) stamps.echoArrived(m.echo.id, m.echo.host_us)
          if (options.answerPings !== false) {
            const t3 = clockUs()
            yield* say(conn, new Echo({ id: m.id }))
            if (m.host_us !== undefined) stamps.answered(m.id, m.host_us, t2, t3)
          }
        } else if (m._tag === "BitrateApplied") bitrate = m.kbps
        else if (m._tag === "Goodbye") return m.reason
      }
    })
    return {
      welcome: first,
      conn,
      run,
      goodbye: (reason) => say(conn, new Goodbye({ reason })).pipe(Effect.zipRight(conn.end)),
      report: (report) => say(conn, report),
      requestIdr: say(conn, new IdrRequest()),
      setBitrate: (kbps) => say(conn, new BitrateChange({ kbps })),
      bitrateKbps: () => bitrate,
      pings: () => pings,
      clockOffset: () => stamps.offset.best()
    }
  })
