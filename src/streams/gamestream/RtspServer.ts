/**
 * RTSP on TCP (`PUNKTFUNK_GAMESTREAM_RTSP_PORT`, 48010): the handshake a Moonlight client runs
 * after `launch` answered it `sessionUrl0 = rtsp://host:48010`.
 *
 * What the client does (moonlight-common-c, RtspConnection.c, for a host reporting appversion
 * 7.1.431): OPTIONS and DESCRIBE on the session URL; SETUP `streamid=audio/0/0` (no Session
 * header yet: it takes the `Session` of this answer, up to the first `;`), SETUP
 * `streamid=video/0/0` and `streamid=control/13/0` (with it); ANNOUNCE to `streamid=control/13/0`
 * with its stream settings as SDP; one PLAY `/`. From each SETUP answer it reads the port after
 * `server_port=` in `Transport`, from audio/video `X-SS-Ping-Payload` (used only when exactly 16
 * characters) and from control `X-SS-Connect-Data` (an integer, `strtoul` base 0: written in
 * decimal without leading zeros). Any status but 200 ends its connection attempt with that code.
 *
 * Connections: Moonlight opens a new TCP connection for every request and reads the answer until
 * the host closes it — so the host answers exactly one request per connection and then closes.
 * It never sends TEARDOWN (the stream ends over the control stream); TEARDOWN is answered anyway
 * and only forgets the negotiation.
 *
 * Sessions: the first SETUP without a `Session` header starts a new RTSP session for the current
 * launch, with a new session id, ping payload (16 random alphanumerics) and connect data (random
 * uint32) — so a resume gets fresh identifiers. Later requests must carry its id (else `454`).
 * ANNOUNCE decodes the client's SDP into `StreamSettings` (Sdp.ts); PLAY hands those to `play`
 * once per ANNOUNCE (a repeated PLAY is answered 200 without starting anything again — older
 * clients send one per stream; a new ANNOUNCE followed by PLAY starts the stream anew).
 *
 * Refusals, all with the reason as a text body: no launch → `454`; a peer other than the
 * launch's `clientAddress` → `403`; malformed request line or headers → `400`; unknown method →
 * `501`; head over 16 KiB or body over 64 KiB → `413` and close; nothing complete within
 * `requestTimeoutMs` → `408` and close; ANNOUNCE values the host cannot serve → `400` naming the
 * SDP attribute; a client that keeps the legacy control-stream IV → `461` (below); `play`
 * refusing → `503` with its message. Every connection is closed after its
 * answer (and destroyed if the peer does not finish closing), at most `MAX_CONNECTIONS` are open
 * at once, and a failure in one request's handling is that request's `500` — the listener and
 * other clients' requests go on.
 *
 * The legacy control IV: a client that does not take the V2 IV our DESCRIBE offers (bit 0x01 of
 * `x-ss-general.encryptionEnabled` unset: an old Moonlight, or a client that never learned V2)
 * would seal its control stream — its keyboard and mouse — with AES-GCM nonces that repeat every
 * 256 messages, and the host's messages share those nonces under the same key (ControlCrypto.ts).
 * Anyone on the path could then forge input and recover the keystream, reading what the user
 * types. So its ANNOUNCE is refused unless the operator set `allowLegacyControlIv`
 * (PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV=1). Why 461 ("Unsupported Transport"): Moonlight shows
 * only the status number ("Starting RTSP handshake failed: Error 461"), so a number no other
 * refusal uses is what a user can search for; the body says why and names the setting for
 * clients and tools that print it; the host logs one line. Allowed, each such session logs a
 * warning line that says what it risks.
 *
 * Why the handshake's state changes run one request at a time: ANNOUNCE and PLAY of one session
 * must see the SETUP before them, and PLAY waits for `play` (the stream opening) before it
 * answers; serializing them keeps that ordering without per-field locking.
 */
import { Cause, Data, Effect, FiberSet, Schema } from "effect"
import type { Scope } from "effect"
import { randomBytes, randomInt } from "node:crypto"
import * as net from "node:net"
import { DEFAULT_LIMITS, makeConnectionLimiter } from "../../lib/ConnectionLimiter.js"
import type { ConnectionCounters, ConnectionLimiter, LimiterOptions, ListenerLimits } from "../../lib/ConnectionLimiter.js"
import type { LaunchRecord } from "./Launches.js"
import { headerOf, refusalResponse, RtspMethod, RtspRefusal, RtspRequestReader, serializeResponse } from "./RtspMessage.js"
import type { RtspRequest, RtspResponse } from "./RtspMessage.js"
import { controlEncryptionOf } from "./ControlCrypto.js"
import { describeSdp, parseAnnounce } from "./Sdp.js"
import type { GameStreamCodec, StreamSettings } from "./StreamSettings.js"

export class RtspListenError extends Data.TaggedError("RtspListenError")<{ readonly message: string }> {}

/** Why PLAY could not start the stream; answered `503` with this message. */
export class RtspPlayRefused extends Data.TaggedError("RtspPlayRefused")<{ readonly message: string }> {}

export const DEFAULT_REQUEST_TIMEOUT_MS = DEFAULT_LIMITS.headerTimeoutMs
/** How long a closed-by-us connection may take to finish closing before it is destroyed. */
const LINGER_MS = 2_000

export interface RtspServerOptions {
  readonly bind: string
  /** 0 picks a free port. */
  readonly port: number
  /** Announced in the SETUP answers. */
  readonly ports: { readonly video: number; readonly audio: number; readonly control: number }
  readonly currentLaunch: Effect.Effect<LaunchRecord | undefined>
  /** PLAY → the stream starts; refusing fails PLAY with the message. */
  readonly play: (settings: StreamSettings) => Effect.Effect<void, RtspPlayRefused>
  /** Parity packets per 100 data packets (the host's choice); default 20. */
  readonly fecPercent?: number
  /** Codecs offered in DESCRIBE and accepted in ANNOUNCE; default H.264 only. */
  readonly codecs?: ReadonlyArray<GameStreamCodec>
  /** A connection without a complete request by then gets `408` and is closed; default 10 s. */
  readonly requestTimeoutMs?: number
  /** Let clients keep the legacy control-stream IV (repeating AES-GCM nonces); default false: refused with `461`. */
  readonly allowLegacyControlIv?: boolean
  /**
   * The listener's connection limits (the host's, from `ConnectionLimits`); by default a limiter
   * of its own with `limits` over the defaults and `requestTimeoutMs` as its header timeout.
   */
  readonly connections?: (options: LimiterOptions) => Effect.Effect<ConnectionLimiter>
  readonly limits?: Partial<ListenerLimits>
}

/** ANNOUNCE of a client that keeps the legacy control IV, while the host refuses it. */
export const LEGACY_CONTROL_IV_STATUS = 461

export interface RtspCounters {
  /** Requests answered (including refusals). */
  readonly requests: number
  /** Answers other than 200. */
  readonly refused: number
  /** Connections open right now (each lives for one request and its answer). */
  readonly open: number
}

/**
 * Connection limits (`ConnectionLimiter.ts`): a connection is authenticated once its request
 * came from the address of the current launch; before that it is the first to go when the port
 * is full. The header timeout is the time to send a complete request (answered `408`).
 */
export interface RtspServer {
  readonly port: number
  readonly counters: Effect.Effect<RtspCounters>
  /** The listener's connection limits at work (open, evicted, refused, timed out). */
  readonly connections: Effect.Effect<ConnectionCounters>
}

/** `streamid=audio`, `streamid=video/0/0`, `streamid=control/13/0`, optionally after the URL. */
const SETUP_TARGET = /^(?:rtsp:\/\/[\x21-\x7e]*\/)?streamid=([a-z]{1,16})(?:\/[0-9]{1,5}\/[0-9]{1,5})?$/
const StreamId = Schema.Literal("audio", "video", "control")
type StreamId = typeof StreamId.Type
const decodeStreamId = Schema.decodeUnknownOption(StreamId)

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const pingPayload = () => Array.from({ length: 16 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("")
/** Never 0 (Moonlight's "none"), so an echo of it is always distinguishable. */
const connectData = () => randomBytes(4).readUInt32BE(0) || 1

interface RtspSession {
  readonly id: string
  /** Which launch it negotiates (a new launch invalidates it). */
  readonly launchedAt: number
  readonly client: string
  readonly pingPayload: string
  readonly connectData: number
  readonly setUp: Set<StreamId>
  settings: StreamSettings | undefined
  played: boolean
}

const unmapped = (address: string | undefined) => (address ?? "").replace(/^::ffff:/, "")

const response = (r: RtspResponse): RtspResponse => r
const refuse = (status: number, reason: string, cseq: number) => Effect.fail(new RtspRefusal({ status, reason, cseq }))

export const makeRtspServer = (options: RtspServerOptions): Effect.Effect<RtspServer, RtspListenError, Scope.Scope> =>
  Effect.gen(function* () {
    const fecPercent = options.fecPercent ?? 20
    const codecs = options.codecs ?? ["h264"]
    /** Each open connection's answer to the header timeout (408 and close). */
    const expire = new Map<net.Socket, () => void>()
    const limiter = yield* (
      options.connections ??
      ((o: LimiterOptions) =>
        Effect.sync(() =>
          makeConnectionLimiter(
            "rtsp",
            { ...DEFAULT_LIMITS, headerTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, ...options.limits },
            o
          )
        ))
    )({
      onHeaderTimeout: (socket) => {
        const answer408 = expire.get(socket)
        if (answer408 === undefined) socket.destroy()
        else answer408()
      }
    })
    const requestTimeoutMs = limiter.limits.headerTimeoutMs
    const counts = { requests: 0, refused: 0 }
    let session: RtspSession | undefined
    const lock = yield* Effect.makeSemaphore(1)
    const fibers = yield* FiberSet.make()
    const run = yield* FiberSet.runtime(fibers)<never>()

    const sessionOf = (request: RtspRequest, cseq: number, launch: LaunchRecord) =>
      Effect.gen(function* () {
        const sent = headerOf(request, "Session")?.split(";")[0]?.trim()
        if (sent === undefined || sent === "") return yield* refuse(454, "missing header 'Session' (SETUP first)", cseq)
        if (session === undefined || session.id !== sent || session.launchedAt !== launch.launched_unix_ms || session.client !== launch.client) {
          return yield* refuse(454, `no session '${sent.slice(0, 32)}' for the current launch (SETUP again)`, cseq)
        }
        return session
      })

    const handle = (
      request: RtspRequest,
      cseq: number,
      peer: string,
      authenticate: () => void
    ): Effect.Effect<RtspResponse, RtspRefusal> =>
      Effect.gen(function* () {
        const method = Schema.decodeUnknownOption(RtspMethod)(request.method)
        if (method._tag === "None") {
          return yield* refuse(501, `method '${request.method}' is not implemented (OPTIONS, DESCRIBE, SETUP, ANNOUNCE, PLAY, TEARDOWN)`, cseq)
        }
        const launch = yield* options.currentLaunch
        if (launch === undefined) return yield* refuse(454, "no launched session on this host: launch an app first", cseq)
        if (unmapped(launch.clientAddress) !== peer) return yield* refuse(403, "the running session was launched from another address", cseq)
        authenticate()
        switch (method.value) {
          case "OPTIONS":
            return response({ status: 200, cseq, headers: [["Public", "OPTIONS, DESCRIBE, SETUP, ANNOUNCE, PLAY, TEARDOWN"]] })
          case "DESCRIBE":
            return response({ status: 200, cseq, body: describeSdp({ codecs }), contentType: "application/sdp" })
          case "SETUP":
            return yield* setup(request, cseq, launch)
          case "ANNOUNCE":
            return yield* announce(request, cseq, launch)
          case "PLAY":
            return yield* play(request, cseq, launch)
          case "TEARDOWN": {
            yield* sessionOf(request, cseq, launch)
            session = undefined
            return response({ status: 200, cseq })
          }
        }
      }).pipe(lock.withPermits(1))

    const setup = (request: RtspRequest, cseq: number, launch: LaunchRecord) =>
      Effect.gen(function* () {
        const target = decodeStreamId(SETUP_TARGET.exec(request.target)?.[1])
        if (target._tag === "None") {
          return yield* refuse(404, `no stream '${request.target.slice(0, 64)}' (streamid=audio, streamid=video, streamid=control)`, cseq)
        }
        const stream = target.value
        const current =
          headerOf(request, "Session") === undefined
            ? (session = {
                id: randomBytes(8).toString("hex").toUpperCase(),
                launchedAt: launch.launched_unix_ms,
                client: launch.client,
                pingPayload: pingPayload(),
                connectData: connectData(),
                setUp: new Set(),
                settings: undefined,
                played: false
              })
            : yield* sessionOf(request, cseq, launch)
        current.setUp.add(stream)
        const headers: Array<readonly [string, string]> = [
          ["Session", `${current.id};timeout = 90`],
          ["Transport", `server_port=${options.ports[stream]}`],
          stream === "control" ? ["X-SS-Connect-Data", String(current.connectData)] : ["X-SS-Ping-Payload", current.pingPayload]
        ]
        return { status: 200, cseq, headers } satisfies RtspResponse
      })

    const announce = (request: RtspRequest, cseq: number, launch: LaunchRecord) =>
      Effect.gen(function* () {
        const current = yield* sessionOf(request, cseq, launch)
        const missing = (["audio", "video", "control"] as const).filter((s) => !current.setUp.has(s))
        if (missing.length > 0) return yield* refuse(455, `SETUP ${missing.map((s) => `streamid=${s}`).join(", ")} first`, cseq)
        const type = headerOf(request, "Content-Type")
        if (type !== undefined && type.split(";")[0]?.trim().toLowerCase() !== "application/sdp") {
          return yield* refuse(415, `ANNOUNCE body must be application/sdp, got '${type.slice(0, 64)}'`, cseq)
        }
        if (request.body.length === 0) return yield* refuse(400, "ANNOUNCE without an SDP body", cseq)
        const settings = yield* parseAnnounce(request.body.toString("latin1"), {
          client: launch.client,
          clientAddress: unmapped(launch.clientAddress),
          rikey: launch.rikey,
          rikeyid: launch.rikeyid,
          fecPercent,
          pingPayload: current.pingPayload,
          connectData: current.connectData,
          codecs
        }).pipe(Effect.mapError((e) => new RtspRefusal({ status: 400, reason: e.message, cseq })))
        if (controlEncryptionOf(settings.encryptionFlags) === "legacy") {
          if (options.allowLegacyControlIv !== true) {
            return yield* refuse(
              LEGACY_CONTROL_IV_STATUS,
              "this client encrypts its control stream (input) with the legacy IV, whose AES-GCM nonces repeat: input could be forged and what you type read. " +
                "Update the client (Moonlight takes the V2 IV this host offers), or the host's operator can allow it with PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV=1",
              cseq
            )
          }
          yield* Effect.logWarning(
            `GameStream RTSP: ${launch.client.slice(0, 16)} keeps the legacy control IV (allowed by PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV=1): its input can be forged and read by anyone on the network path`
          )
        }
        current.settings = settings
        current.played = false
        return { status: 200, cseq } satisfies RtspResponse
      })

    const play = (request: RtspRequest, cseq: number, launch: LaunchRecord) =>
      Effect.gen(function* () {
        const current = yield* sessionOf(request, cseq, launch)
        const settings = current.settings
        if (settings === undefined) return yield* refuse(455, "ANNOUNCE the stream settings before PLAY", cseq)
        if (!current.played) {
          yield* options.play(settings).pipe(Effect.mapError((e) => new RtspRefusal({ status: 503, reason: e.message, cseq })))
          current.played = true
          yield* Effect.logInfo(
            `GameStream RTSP: PLAY by ${launch.client.slice(0, 16)}: ${settings.width}x${settings.height}@${settings.fps} ${settings.codec} ${settings.bitrateKbps} kb/s`
          )
        }
        return { status: 200, cseq } satisfies RtspResponse
      })

    // ---- sockets ---------------------------------------------------------------------------------

    const sockets = new Set<net.Socket>()

    /** Answer and close; a peer that does not finish closing is destroyed after LINGER_MS. */
    const finish = (socket: net.Socket, bytes: Buffer, status: number) => {
      counts.requests++
      if (status !== 200) counts.refused++
      if (socket.destroyed) return
      socket.end(bytes)
      setTimeout(() => socket.destroy(), LINGER_MS).unref()
    }

    const answer = (socket: net.Socket, request: RtspRequest, cseq: number) => {
      const peer = unmapped(socket.remoteAddress)
      run(
        handle(request, cseq, peer, () => limiter.connectionOf(socket)?.authenticate()).pipe(
          Effect.catchTag("RtspRefusal", (r) => Effect.succeed<RtspResponse>({ status: r.status, cseq, body: `${r.reason}\r\n` })),
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause)
              : Effect.logError("GameStream RTSP request failed", cause).pipe(
                  Effect.as<RtspResponse>({ status: 500, cseq, body: "the host failed to answer this request\r\n" })
                )
          ),
          // A refused ANNOUNCE or PLAY is a Moonlight client failing to start: worth the operator's
          // eye. Other refusals are mostly scanners and stale clients.
          Effect.tap((response) => {
            if (response.status === 200) return Effect.void
            const line = `GameStream RTSP ${request.method} from ${peer} refused: ${response.status} ${response.body?.trim() ?? ""}`
            return request.method === "ANNOUNCE" || request.method === "PLAY" ? Effect.logWarning(line) : Effect.logDebug(line)
          }),
          Effect.tap((response) => Effect.sync(() => finish(socket, serializeResponse(response), response.status))),
          Effect.onInterrupt(() => Effect.sync(() => socket.destroy()))
        )
      )
    }

    const onConnection = (socket: net.Socket) => {
      sockets.add(socket)
      // Keeps what arrived without re-copying it per chunk (a byte per segment stays linear).
      const reader = new RtspRequestReader()
      let complete = false
      expire.set(socket, () => {
        if (complete) return
        complete = true
        finish(
          socket,
          refusalResponse(new RtspRefusal({ status: 408, reason: `no complete request within ${requestTimeoutMs} ms` })),
          408
        )
      })
      socket.on("close", () => {
        expire.delete(socket)
        sockets.delete(socket)
      })
      // A peer resetting the connection is its own business; it must not reach the process.
      socket.on("error", () => socket.destroy())
      socket.on("data", (chunk: Buffer) => {
        // One request per connection (Moonlight's way); bytes after it are not read.
        if (complete) return
        const outcome = reader.push(chunk)
        if (outcome._tag === "Incomplete") return
        complete = true
        limiter.connectionOf(socket)?.headerDone()
        if (outcome._tag === "Refused") return finish(socket, refusalResponse(outcome.refusal), outcome.refusal.status)
        const cseq = Number(headerOf(outcome.request, "CSeq"))
        try {
          answer(socket, outcome.request, cseq)
        } catch (e) {
          // Through the server's runtime (its logger, its fiber set), not the default one.
          run(Effect.logError(`GameStream RTSP request failed: ${e instanceof Error ? e.message : String(e)}`))
          finish(socket, serializeResponse({ status: 500, cseq, body: "the host failed to answer this request\r\n" }), 500)
        }
      })
    }

    const server = limiter.guard(net.createServer({ noDelay: true }, onConnection))

    const port = yield* Effect.acquireRelease(
      Effect.async<number, RtspListenError>((resume) => {
        const onError = (e: Error) =>
          resume(
            Effect.fail(
              new RtspListenError({
                message: `GameStream RTSP cannot listen on ${options.bind}:${options.port}: ${e.message} (choose another PUNKTFUNK_GAMESTREAM_RTSP_PORT, or PUNKTFUNK_GAMESTREAM=0 to turn the path off)`
              })
            )
          )
        server.once("error", onError)
        server.listen(options.port, options.bind, () => {
          server.off("error", onError)
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : options.port))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          for (const socket of sockets) socket.destroy()
        })
    )
    yield* Effect.logInfo(`GameStream RTSP on ${options.bind}:${port}`)
    return {
      port,
      counters: Effect.sync(() => ({ ...counts, open: sockets.size })),
      connections: Effect.sync(() => limiter.counters())
    }
  })
