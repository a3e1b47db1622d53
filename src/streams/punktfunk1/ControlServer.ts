/**
 * The punktfunk/1 path's control plane: TLS 1.3 with client certificates on
 * `PUNKTFUNK_PUNKTFUNK1_PORT`.
 *
 * A connection either pairs (`Pair`: the request waits for the operator's PIN) or streams
 * (`Hello`: only a paired certificate gets a session). A streaming connection owns one pipeline
 * session as a scoped resource: when the client says goodbye, goes silent past the timeout,
 * sends garbage, or is unpaired, the scope closes and the frame loop stops — and only that
 * session ends; other connections go on.
 *
 * Why the host pings and the client only echoes: the host's clock times the round trip, so
 * `rtt_us` in a capture is measured by the host that records it, not reported by a client.
 * Why `rejectUnauthorized: false`: client certificates are self-signed; trust is the pinned
 * fingerprint checked here, not a CA chain.
 *
 * Connection limits (`ConnectionLimiter.ts`): the header timeout runs from accept through the TLS
 * handshake to the first message; a connection is authenticated by a paired `Hello` or a `Pair`
 * request the host accepted (pending), and a pending pairing is held open (no idle timeout while
 * the operator types the PIN).
 *
 * Log lines a client can cause at will are bounded: a bitrate change is logged at most once per
 * session and second (`lib/Coalesced.ts`), the rest of a burst counted in the next line.
 */
import { Cause, Context, Data, Deferred, Duration, Effect, Either, FiberSet, Layer, Option, Schedule, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as tls from "node:tls"
import type { AddressInfo } from "node:net"
import { fingerprintOfDer } from "../../lib/Certificates.js"
import { makeCoalesced } from "../../lib/Coalesced.js"
import { HostIdentity } from "../../services/HostIdentity.js"
import { ConnectionLimits } from "../../services/ConnectionLimits.js"
import { Pairing, PairingRefused } from "../../services/Pairing.js"
import type { Recorder } from "../../services/Recorder.js"
import { HostMarkers } from "../../services/HostMarkers.js"
import type { ClientIdentity } from "../../services/HostMarkers.js"
import type { Pipeline } from "../Pipeline.js"
import type { PipelineConfigError, PipelineError, SessionConfig } from "../Pipeline.js"
import { framed } from "./Framed.js"
import type { Framed } from "./Framed.js"
import { isValidShare } from "./Cpace.js"
import { hostRespond, sessionIdOf, tagMatches } from "./PairingPake.js"
import {
  BitrateApplied,
  ClientMessage,
  encodeHostMessage,
  Goodbye,
  Hello,
  Paired,
  PairingPending,
  PairResponse,
  Ping,
  PROTOCOL,
  Refused,
  Welcome
} from "./Protocol.js"
import type { HostMessage, MediaParams, PairConfirm } from "./Protocol.js"
import { RttWindow } from "./RttWindow.js"
import { clientReports } from "../ClientReports.js"
import { makeSessionRunner } from "../SessionRunner.js"

/** What a client session inherits from the host's configuration (the client picks the format). */
export type SessionDefaults = Omit<SessionConfig, "kind" | "width" | "height" | "fps" | "codec" | "bitrate_kbps" | "client">

export interface ControlServerOptions {
  readonly port: number
  readonly bind: string
  readonly session: SessionDefaults
  /** A streaming client silent for this long is gone: its session ends and frees everything. */
  readonly clientTimeout?: Duration.DurationInput
  readonly pingInterval?: Duration.DurationInput
  /** How long a connection may take to say what it wants. */
  readonly helloTimeout?: Duration.DurationInput
  /** Media datagram size (IP + UDP + sealed shard), and the default parity share. */
  readonly mtu?: number
  readonly fecPercent?: number
}

export interface ControlCounters {
  readonly refused: number
  readonly malformed: number
  readonly active_sessions: number
}

export interface ControlServerShape {
  readonly port: number
  readonly counters: Effect.Effect<ControlCounters>
}

export class ControlServer extends Context.Tag("punktfunk/ControlServer")<ControlServer, ControlServerShape>() {}

/**
 * How long the host waits for the client's tag after sending its share. Our client answers at
 * once; a peer that never does learned nothing (the host's share alone tests no PIN, and the
 * host's tag comes only after a right one), so this only frees the connection.
 */
const PAIR_CONFIRM_TIMEOUT = Duration.seconds(30)

class SessionEnd extends Data.TaggedError("SessionEnd")<{ readonly reason: string; readonly tell: boolean }> {}

const decodeClient = Schema.decodeUnknownEither(Schema.parseJson(ClientMessage))

/** At most one log line of a session's bitrate changes in this span (see the header). */
export const BITRATE_LOG_MS = 1_000

/** A short reason for a frame that is not a client message (the full parse tree is for logs). */
const whatIsWrong = (body: string): string => {
  try {
    const value: unknown = JSON.parse(body)
    const tag = typeof value === "object" && value !== null && "_tag" in value ? String(value._tag).slice(0, 40) : undefined
    return tag === undefined ? "a JSON value without a message _tag" : `'${tag}' is not a valid client message`
  } catch {
    return "not JSON"
  }
}

export const ControlServerLive = (
  options: ControlServerOptions
): Layer.Layer<ControlServer, never, HostIdentity | Pairing | Pipeline | Recorder | HostMarkers | ConnectionLimits> =>
  Layer.scoped(
    ControlServer,
    Effect.gen(function* () {
      const identity = yield* HostIdentity
      const pairing = yield* Pairing
      const runner = yield* makeSessionRunner
      const markers = yield* HostMarkers
      const limiter = yield* Effect.flatMap(ConnectionLimits, (limits) => limits.listener("punktfunk1"))
      const clientTimeout = Duration.decode(options.clientTimeout ?? "10 seconds")
      const pingInterval = Duration.decode(options.pingInterval ?? "500 millis")
      const helloTimeout = Duration.decode(options.helloTimeout ?? "10 seconds")
      const counts = { refused: 0, malformed: 0, active_sessions: 0 }
      // Bursts outlive their session by at most a second: the summary line still comes.
      const coalescedLog = yield* makeCoalesced(BITRATE_LOG_MS)

      /** The next client message; garbage and a closed socket end the session. */
      const read = (conn: Framed) =>
        conn.next.pipe(
          // An oversized frame or a flood of unread ones is malformed input too: counted.
          Effect.mapError((e) => {
            counts.malformed++
            return new SessionEnd({ reason: e.message, tell: true })
          }),
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new SessionEnd({ reason: "the client closed the connection", tell: false })),
              onSome: (body) =>
                Either.match(decodeClient(body), {
                  onLeft: () => {
                    counts.malformed++
                    return Effect.fail(new SessionEnd({ reason: `malformed control message: ${whatIsWrong(body)}`, tell: true }))
                  },
                  onRight: (m) => Effect.succeed(m)
                })
            })
          )
        )

      const handle = (socket: tls.TLSSocket): Effect.Effect<void> =>
        Effect.gen(function* () {
          const conn = yield* framed(socket)
          const say = (m: HostMessage) => conn.send(encodeHostMessage(m))
          const refuse = (reason: string) =>
            Effect.sync(() => void counts.refused++).pipe(
              Effect.zipRight(say(new Refused({ reason }))),
              Effect.zipRight(conn.end),
              Effect.zipRight(Effect.logInfo(`punktfunk/1 client refused: ${reason}`))
            )
          const peer = socket.getPeerX509Certificate()
          if (peer === undefined) return yield* refuse("a client certificate is required")
          const fingerprint = fingerprintOfDer(peer.raw)

          const first = yield* read(conn).pipe(
            Effect.timeoutFail({
              duration: helloTimeout,
              onTimeout: () => new SessionEnd({ reason: "the client said nothing", tell: true })
            })
          )
          const connection = limiter.connectionOf(socket)
          connection?.headerDone()

          if (first._tag === "Pair") {
            // A share that is no group element is refused now, before it bothers the operator.
            if (!isValidShare(Buffer.from(first.ya, "hex"))) {
              counts.malformed++
              return yield* refuse("the pairing share is not a valid ristretto255 element")
            }
            // CPace (PairingPake.ts): the operator's PIN makes the host's share; the client's tag
            // decides. Both fingerprints as this end sees them, and this TLS session, are bound in.
            const parties = {
              clientFingerprint: fingerprint,
              hostFingerprint: identity.fingerprint,
              sid: sessionIdOf(socket),
              clientName: first.name
            }
            const confirmation = yield* Deferred.make<PairConfirm, PairingRefused>()
            let responded = false
            let hostTag: string | undefined
            // The only message expected while the request waits is the client's tag, once the
            // host sent its share; anything else, or the connection ending, ends the attempt.
            const listen = read(conn).pipe(
              Effect.flatMap((m) =>
                m._tag === "PairConfirm" && responded
                  ? Deferred.succeed(confirmation, m).pipe(
                      Effect.flatMap((first) =>
                        first ? Effect.void : Effect.fail(new SessionEnd({ reason: "a second pairing confirmation", tell: true }))
                      )
                    )
                  : Effect.fail(new SessionEnd({ reason: `unexpected ${m._tag} while pairing`, tell: true }))
              ),
              Effect.forever,
              Effect.catchAll((e) =>
                Deferred.fail(confirmation, new PairingRefused({ reason: e.reason })).pipe(
                  Effect.as(Either.left(new PairingRefused({ reason: e.reason })))
                )
              )
            )
            const checkPin = (pin: string): Effect.Effect<boolean, PairingRefused> =>
              Effect.gen(function* () {
                if (responded) return yield* new PairingRefused({ reason: "this pairing request already had its PIN" })
                responded = true
                const exchange = hostRespond({ ...parties, pin }, first.ya)
                if (Either.isLeft(exchange)) return yield* new PairingRefused({ reason: exchange.left.message })
                yield* say(new PairResponse({ yb: exchange.right.ybHex }))
                const confirmed = yield* Deferred.await(confirmation).pipe(
                  Effect.timeoutFail({
                    duration: PAIR_CONFIRM_TIMEOUT,
                    onTimeout: () =>
                      new PairingRefused({ reason: `the client did not confirm the PIN within ${Duration.format(PAIR_CONFIRM_TIMEOUT)}` })
                  })
                )
                const right = tagMatches(exchange.right.ta, confirmed.ta)
                if (right) hostTag = exchange.right.tbHex
                return right
              })
            const outcome = yield* Effect.raceFirst(
              pairing
                .request({
                  path: "punktfunk1",
                  name: first.name,
                  fingerprint,
                  address: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
                  checkPin,
                  onPending: (requestId) =>
                    Effect.sync(() => connection?.holdOpen()).pipe(Effect.zipRight(say(new PairingPending({ request_id: requestId }))))
                })
                .pipe(Effect.either),
              listen
            )
            if (Either.isLeft(outcome)) return yield* refuse(outcome.left.reason)
            if (hostTag === undefined) return yield* refuse("the pairing completed without the PIN exchange")
            yield* say(new Paired({ host_fingerprint: identity.fingerprint, tb: hostTag }))
            return yield* conn.end
          }

          if (first._tag !== "Hello") {
            counts.malformed++
            return yield* refuse(`expected Pair or Hello first, got ${first._tag}`)
          }
          if (first.protocol !== PROTOCOL) {
            return yield* refuse(`this host speaks ${PROTOCOL}; the client asked for '${first.protocol}'`)
          }
          const client = yield* pairing.pairedAs(fingerprint, "punktfunk1")
          if (client === undefined) {
            return yield* refuse(
              "this client is not paired with the host: run 'punktfunk-client pair' and enter the PIN it shows in the host's console"
            )
          }
          connection?.authenticate()
          yield* streamTo(conn, say, fingerprint, first, (socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "")).pipe(
            Effect.catchTag("PipelineConfigError", (e) => refuse(e.message)),
            Effect.catchTag("PipelineError", (e) => refuse(`the host could not start the stream: ${e.message}`))
          )
        }).pipe(
          Effect.scoped,
          Effect.catchTag("SessionEnd", (e) => Effect.logInfo(`punktfunk/1 control connection ended: ${e.reason}`)),
          // A bug in one connection's handling is logged and ends that connection only.
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("punktfunk/1 control connection failed", cause)
          )
        )

      const streamTo = (
        conn: Framed,
        say: (m: HostMessage) => Effect.Effect<void>,
        fingerprint: string,
        hello: Hello,
        clientAddress: string
      ): Effect.Effect<void, SessionEnd | PipelineConfigError | PipelineError, Scope.Scope> =>
        Effect.gen(function* () {
          // A fresh key per session: a nonce (the packet counter) never repeats under one key.
          const media: MediaParams | undefined =
            hello.udp_port === undefined
              ? undefined
              : {
                  key_hex: randomBytes(20).toString("hex"),
                  mtu: options.mtu ?? 1400,
                  fec_percent: Math.min(100, Math.max(0, hello.fec_percent ?? options.fecPercent ?? 20))
                }
          // RTT is timed here; with media, the client's receiver reports give the loss counters.
          const rtt = new RttWindow()
          const reports = clientReports({ path: "punktfunk1", media: media !== undefined, e2e: hello.reports_e2e === true }, () => rtt.takeMedianUs())
          const session = yield* runner.open(
            {
              ...(media === undefined || hello.udp_port === undefined
                ? {}
                : { media: { host: clientAddress, port: hello.udp_port, key_hex: media.key_hex, mtu: media.mtu, fec_percent: media.fec_percent } }),
              ...options.session,
              kind: "punktfunk1",
              width: hello.width,
              height: hello.height,
              fps: hello.fps,
              codec: hello.codec,
              bitrate_kbps: hello.bitrate_kbps,
              client: fingerprint.slice(0, 16)
            },
            reports
          )
          const meta = session.meta
          counts.active_sessions++
          yield* Effect.addFinalizer(() => Effect.sync(() => void counts.active_sessions--))
          yield* say(
            new Welcome({
              session_id: meta.session_id,
              width: meta.width,
              height: meta.height,
              fps: meta.fps,
              codec: meta.codec,
              bitrate_kbps: hello.bitrate_kbps,
              encoder_backend: meta.encoder_backend,
              ...(media === undefined ? {} : { media })
            })
          )

          // Marked in an armed capture: a first connect, or this client coming back (HostMarkers.ts).
          const who: ClientIdentity = { path: "punktfunk1", fingerprint, name: hello.name }
          yield* markers.clientConnected(who, meta.session_id)
          let endReason = "the connection ended"
          yield* Effect.addFinalizer(() => markers.clientLeft(who, endReason))

          let currentKbps = hello.bitrate_kbps
          const windows = session.pump.pipe(
            Effect.mapError((e) => new SessionEnd({ reason: `the stream failed: ${e.message}`, tell: true })),
            Effect.zipRight(Effect.fail(new SessionEnd({ reason: "the stream ended", tell: true })))
          )
          const pings = Effect.suspend(() => say(new Ping(rtt.sent()))).pipe(
            Effect.repeat(Schedule.spaced(pingInterval)),
            Effect.zipRight(Effect.never)
          )
          const inbound = read(conn).pipe(
            Effect.timeoutFail({
              duration: clientTimeout,
              onTimeout: () =>
                new SessionEnd({ reason: `no word from the client for ${Duration.format(clientTimeout)}: it is gone`, tell: true })
            }),
            Effect.flatMap((m) => {
              switch (m._tag) {
                case "Echo":
                  return Effect.sync(() => rtt.echoed(m.id))
                case "IdrRequest":
                  // Without an encoder to steer (a producer without control) there is no picture
                  // to refresh; the request is marked either way (coalesced, HostMarkers.ts).
                  return markers
                    .idrRequested(meta.session_id, "punktfunk1")
                    .pipe(Effect.zipRight(session.control === undefined ? Effect.void : session.control.requestIdr))
                case "BitrateChange": {
                  if (session.control === undefined) return say(new BitrateApplied({ kbps: currentKbps }))
                  const before = currentKbps
                  return session.control.setBitrate(m.kbps).pipe(
                    Effect.tap(() => Effect.sync(() => (currentKbps = m.kbps))),
                    Effect.zipRight(Effect.suspend(() => say(new BitrateApplied({ kbps: currentKbps })))),
                    // Only a real move is a marker: the same target again changes nothing.
                    Effect.zipRight(before === m.kbps ? Effect.void : markers.bitrateChanged(meta.session_id, before, m.kbps, "client")),
                    Effect.zipRight(
                      coalescedLog(
                        meta.session_id,
                        Effect.logInfo(`punktfunk/1 session ${meta.session_id}: bitrate ${m.kbps} kb/s at the client's request`),
                        (more) =>
                          Effect.logInfo(
                            `punktfunk/1 session ${meta.session_id}: ${more} more bitrate change${more === 1 ? "" : "s"} at the client's request within ${BITRATE_LOG_MS / 1000} s, the last to ${m.kbps} kb/s`
                          )
                      )
                    )
                  )
                }
                case "ReceiverReport":
                  // Deltas since the client's previous report, folded into the current window.
                  return Effect.sync(() => {
                    reports.add("packets_dropped", m.packets_lost)
                    reports.add("fec_recovered", m.fec_recovered)
                    // The client's own count: `frames_dropped` is the host's missed deadlines.
                    reports.add("client_frames_dropped", m.frames_dropped)
                    if (m.e2e_p50_us !== undefined && m.e2e_p99_us !== undefined) reports.e2e(m.e2e_p50_us, m.e2e_p99_us)
                  })
                case "Goodbye":
                  return Effect.fail(new SessionEnd({ reason: `the client said goodbye: ${m.reason}`, tell: false }))
                default:
                  counts.malformed++
                  return Effect.fail(new SessionEnd({ reason: `unexpected ${m._tag} during a session`, tell: true }))
              }
            }),
            Effect.forever
          )
          const removed = pairing.removals.pipe(
            Stream.filter((fp) => fp === fingerprint),
            Stream.runHead,
            Effect.zipRight(Effect.fail(new SessionEnd({ reason: "this client was removed from the host", tell: true })))
          )
          // Each of the four only ever ends by failing with why the session ends; the first one
          // to end decides (raceFirst, not race: race would wait for a success that never comes).
          const ended = yield* windows.pipe(
            Effect.raceFirst(pings),
            Effect.raceFirst(inbound),
            Effect.raceFirst(removed),
            Effect.flip
          )
          endReason = ended.reason
          if (ended.tell) yield* say(new Goodbye({ reason: ended.reason.slice(0, 200) }))
          yield* conn.end
          yield* Effect.logInfo(`punktfunk/1 session ${meta.session_id} ended: ${ended.reason}`)
        })

      const fibers = yield* FiberSet.make()
      const run = yield* FiberSet.runtime(fibers)<never>()
      const server = limiter.guard(
        tls.createServer({
          cert: identity.certPem,
          key: identity.keyPem,
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: "TLSv1.3"
        })
      )
      const sockets = new Set<tls.TLSSocket>()
      server.on("secureConnection", (socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.setNoDelay(true)
        run(handle(socket))
      })
      // A failed handshake (plain TCP, TLS 1.2, garbage) is the peer's problem: count and go on.
      server.on("tlsClientError", () => void counts.refused++)
      const port = yield* Effect.async<number, never>((resume) => {
        server.listen(options.port, options.bind, () => resume(Effect.succeed((server.address() as AddressInfo).port)))
      })
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          // `close` waits for open connections; the session fibers end them, but a connection
          // still in its TLS handshake has no fiber yet, so end every socket here too.
          server.close(() => resume(Effect.void))
          for (const socket of sockets) socket.destroy()
        })
      )
      yield* Effect.logInfo(`${PROTOCOL} control on ${options.bind}:${port}`)
      return { port, counters: Effect.sync(() => ({ ...counts })) }
    })
  )
