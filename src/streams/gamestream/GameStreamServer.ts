/**
 * The GameStream path's front door: nvhttp on plain HTTP (`PUNKTFUNK_GAMESTREAM_HTTP_PORT`,
 * 47989) and HTTPS (`PUNKTFUNK_GAMESTREAM_HTTPS_PORT`, 47984) with the host's RSA certificate,
 * both bound to `PUNKTFUNK_STREAM_BIND`. Port 0 picks a free port; the bound ports are on the
 * `GameStream` tag (tests and the next parts read them there).
 *
 * Why node's http/https servers and not the platform HttpServer the operator API uses: nvhttp
 * needs the TLS peer certificate of each request, the raw socket for answering garbage, and a
 * long-poll whose client may hang up (that must withdraw the pending pairing request) — all
 * plain socket events here. Each request runs as its own fiber; a defect in one is a `500` for
 * that request only.
 *
 * Why `rejectUnauthorized: false` with `requestCert`: Moonlight certificates are self-signed;
 * trust is the pinned fingerprint checked per request, and an unpaired client must still reach
 * serverinfo over HTTPS to learn it is unpaired.
 *
 * Connection limits (`ConnectionLimiter.ts`, one limiter per port): a connection is authenticated
 * once a whole request is in and being answered, or over HTTPS once its certificate is a paired
 * one; until then it is the first to go when the port is full. A pairing's `getservercert` wait
 * is held open (no idle timeout while the operator types the PIN); how many of those one address
 * may have is the pairing policy's business.
 *
 * Bad input: an unparseable request or oversized headers get `400` with an XML reason from the
 * socket handler; a body over 64 KiB (nvhttp requests have none) is refused and the connection
 * closed; a failed TLS handshake is counted and dropped.
 *
 * What a stream is made from comes from the Layer's context, not from imports, so tests swap it:
 * the `Pipeline` (video source and encoder), the `GameStreamAudioSender` (the audio port) and the
 * `InputInjector` (where the client's input goes). src/Host.ts provides the live ones; a test
 * composes this layer with fakes and runs a whole launch (test/gamestream/seams.test.ts). The
 * sockets of the protocol itself (nvhttp, RTSP, the video port, the control stream) stay real.
 */
import { Cause, Context, Data, Effect, Fiber, FiberSet, Layer, Stream } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo, Socket } from "node:net"
import type { TLSSocket } from "node:tls"
import { fingerprintOfDer } from "../../lib/Certificates.js"
import { HostConfig } from "../../services/Config.js"
import { ConnectionLimits } from "../../services/ConnectionLimits.js"
import { DiskOps } from "../../services/DiskOps.js"
import type { ConnectionLimiter } from "../../lib/ConnectionLimiter.js"
import { Pairing } from "../../services/Pairing.js"
import { loadOrCreateGameStreamIdentity } from "./Identity.js"
import type { GameStreamIdentityError } from "./Identity.js"
import { makeLaunches } from "./Launches.js"
import type { LaunchRecord } from "./Launches.js"
import { handleNvRequest } from "./Nvhttp.js"
import type { NvRequest } from "./Nvhttp.js"
import { makePairingSessions } from "./PairingSessions.js"
import type { PairingSessionsOptions } from "./PairingSessions.js"
import { queryRecord } from "./Query.js"
import { refusal, xmlDocument } from "./Xml.js"
import { nativeModule } from "../../native/binding.js"
import { GameStreamAudioSender } from "./GameStreamAudio.js"
import type { InputInjector } from "./InputInjector.js"
import { makeControlStream } from "./ControlStream.js"
import type { ControlCounters } from "./ControlStream.js"
import { makeRtspServer, RtspPlayRefused } from "./RtspServer.js"
import { makeStreamRunner } from "./StreamRunner.js"
import { sessionDefaultsOf } from "../SessionDefaults.js"
import type { EncoderChoice, Pipeline } from "../Pipeline.js"
import type { GameStreamCodec } from "./StreamSettings.js"
import type { Recorder } from "../../services/Recorder.js"
import type { HostMarkers } from "../../services/HostMarkers.js"
import type { RunningStream } from "./StreamRunner.js"
import type { NvResponse } from "./Xml.js"

export const MAX_BODY_BYTES = 64 * 1024
/** Moonlight's longest request (getservercert with its certificate in hex) is a few KiB. */
export const MAX_HEADER_BYTES = 16 * 1024

export class GameStreamListenError extends Data.TaggedError("GameStreamListenError")<{ readonly message: string }> {}

export interface GameStreamCounters {
  readonly requests: number
  readonly malformed: number
  readonly unauthorized: number
  readonly tls_refused: number
}

export interface GameStreamShape {
  readonly httpPort: number
  readonly httpsPort: number
  /** RTSP (TCP) and the media/control ports it announces (UDP), as bound. */
  readonly rtspPort: number
  readonly videoPort: number
  readonly controlPort: number
  readonly audioPort: number
  /** The stream being served (between PLAY and its end), if any. */
  readonly stream: Effect.Effect<RunningStream | undefined>
  /** SHA-256 of the host's GameStream certificate (what Moonlight pins). */
  readonly hostFingerprint: string
  /** The session Moonlight launched, for the RTSP part to serve; undefined when none. */
  readonly currentLaunch: Effect.Effect<LaunchRecord | undefined>
  readonly counters: Effect.Effect<GameStreamCounters>
  /** `getservercert` long polls waiting for the operator's PIN now (capped, see PairingSessions). */
  readonly pairingWaits: Effect.Effect<number>
  /** The control stream's counters (malformed, refused and replayed messages, peers). */
  readonly controlCounters: Effect.Effect<ControlCounters>
}

export class GameStream extends Context.Tag("punktfunk/GameStream")<GameStream, GameStreamShape>() {}

/**
 * What DESCRIBE and serverinfo offer: H.264 always (every Moonlight client needs it), HEVC when
 * the configured encoder can make it (auto picks libx265 or NVENC; a pinned H.264 encoder cannot).
 */
export const offeredCodecs = (encoder: EncoderChoice): ReadonlyArray<GameStreamCodec> =>
  encoder === "auto" || encoder === "libx265" || encoder === "hevc_nvenc" ? ["h264", "hevc"] : ["h264"]

/** `getservercert` waits for the operator's PIN: held open, not cut by the idle timeout. */
const isPairingWait = (target: string | undefined) =>
  target !== undefined && target.startsWith("/pair?") && /[?&]phrase=getservercert(?:&|$)/.test(target)

const unmapped = (address: string | undefined) => (address ?? "127.0.0.1").replace(/^::ffff:/, "")

const rawRefusal = (message: string): string => {
  const body = xmlDocument(400, [], message)
  return `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}

export const GameStreamLive = (
  options: PairingSessionsOptions = {}
): Layer.Layer<
  GameStream,
  GameStreamIdentityError | GameStreamListenError,
  HostConfig | Pairing | Pipeline | Recorder | HostMarkers | ConnectionLimits | GameStreamAudioSender | InputInjector | DiskOps
> =>
  Layer.scoped(
    GameStream,
    Effect.gen(function* () {
      const config = yield* HostConfig
      const pairing = yield* Pairing
      const limits = yield* ConnectionLimits
      const identity = yield* loadOrCreateGameStreamIdentity(config.configDir, yield* DiskOps)
      const sessions = yield* makePairingSessions(identity, pairing, options)
      const launches = yield* makeLaunches
      const counts = { requests: 0, malformed: 0, unauthorized: 0, tls_refused: 0 }

      // A client removed in the console loses its launched session too.
      yield* pairing.removals.pipe(Stream.runForEach(launches.forget), Effect.forkScoped)

      const fibers = yield* FiberSet.make()
      const run = yield* FiberSet.runtime(fibers)<never>()
      const ports = { http: 0, https: 0, rtsp: 0 }
      const codecs = offeredCodecs(config.encoder)

      const answer = (res: http.ServerResponse, response: NvResponse) => {
        if (res.headersSent || res.destroyed) return
        const body = typeof response.body === "string" ? Buffer.from(response.body, "utf8") : response.body
        res.writeHead(response.status, {
          "content-type": response.contentType,
          "content-length": body.length,
          connection: "close"
        })
        res.end(body)
      }

      // Whatever goes wrong synchronously here is that request's 500, never an uncaught exception.
      const onRequest = (secure: boolean, limiter: ConnectionLimiter) => (req: http.IncomingMessage, res: http.ServerResponse) => {
        // The whole request in (nvhttp requests have no body) makes it a request in progress,
        // which is never evicted for a newcomer.
        const connection = limiter.connectionOf(req.socket)
        req.once("end", () => connection?.authenticate())
        if (isPairingWait(req.url)) connection?.holdOpen()
        try {
          accept(secure, req, res)
        } catch (e) {
          answer(res, refusal(500, "the host failed to answer this request", [], 500))
          // Through the server's runtime (its logger, its fiber set), not the default one.
          run(Effect.logError(`GameStream request failed: ${e instanceof Error ? e.message : String(e)}`))
        }
      }

      const accept = (secure: boolean, req: http.IncomingMessage, res: http.ServerResponse) => {
        counts.requests++
        const declared = Number(req.headers["content-length"] ?? "0")
        if (!(declared <= MAX_BODY_BYTES)) {
          counts.malformed++
          answer(res, refusal(400, `request body larger than ${MAX_BODY_BYTES} bytes (nvhttp requests carry none)`, [], 400))
          req.socket.destroySoon()
          return
        }
        let received = 0
        req.on("data", (chunk: Buffer) => {
          received += chunk.length
          if (received > MAX_BODY_BYTES) {
            counts.malformed++
            answer(res, refusal(400, `request body larger than ${MAX_BODY_BYTES} bytes (nvhttp requests carry none)`, [], 400))
            req.socket.destroySoon()
          }
        })
        let url: URL
        try {
          url = new URL(req.url ?? "/", "http://nvhttp.invalid")
        } catch {
          counts.malformed++
          return answer(res, refusal(400, "malformed request target", [], 400))
        }
        const socket = req.socket as Socket & Partial<Pick<TLSSocket, "getPeerX509Certificate">>
        const peer = secure ? socket.getPeerX509Certificate?.() : undefined
        const request: NvRequest = {
          secure,
          pathname: url.pathname,
          query: queryRecord(url.searchParams),
          clientFingerprint: peer === undefined ? undefined : fingerprintOfDer(peer.raw),
          localAddress: unmapped(socket.localAddress),
          remoteAddress: unmapped(socket.remoteAddress)
        }
        const fiber = run(
          handle(request).pipe(
            Effect.tap((response) =>
              Effect.sync(() => {
                if (response.statusCode === 400 || response.statusCode === 404) counts.malformed++
                if (response.statusCode === 401) counts.unauthorized++
              })
            ),
            Effect.catchAllCause((cause) =>
              // Interrupted: the client hung up or the host is stopping; there is nobody to answer.
              Cause.isInterruptedOnly(cause)
                ? Effect.failCause(cause)
                : Effect.logError("GameStream request failed", cause).pipe(
                    Effect.as(refusal(500, "the host failed to answer this request", [], 500))
                  )
            ),
            Effect.tap((response) => Effect.sync(() => answer(res, response)))
          )
        )
        // A client that hangs up (Moonlight cancelling while the PIN is awaited) ends its request:
        // interrupting the pending pairing withdraws it from the operator's list.
        res.on("close", () => {
          if (!res.writableFinished) run(Fiber.interrupt(fiber))
        })
      }

      const handle = handleNvRequest({
        identity,
        pairing,
        sessions,
        launches,
        get httpPort() {
          return ports.http
        },
        get httpsPort() {
          return ports.https
        },
        get rtspPort() {
          return ports.rtsp
        },
        hevc: codecs.includes("hevc")
      })

      const onClientError = (err: Error & { code?: string }, socket: Socket) => {
        counts.malformed++
        if (!socket.writable) return socket.destroy()
        const why =
          err.code === "HPE_HEADER_OVERFLOW"
            ? `request headers larger than ${MAX_HEADER_BYTES} bytes`
            : `malformed HTTP request${err.code === undefined ? "" : ` (${err.code})`}`
        socket.end(rawRefusal(why))
      }

      const plainLimiter = yield* limits.listener("nvhttp")
      const secureLimiter = yield* limits.listener("nvhttps")
      // Node checks its header and request timeouts on this interval (30 s by default).
      const connectionsCheckingInterval = Math.max(100, Math.min(1_000, limits.limits.headerTimeoutMs))
      const plain = plainLimiter.guard(
        http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval }, onRequest(false, plainLimiter))
      )
      const secure = secureLimiter.guard(
        https.createServer(
          {
            cert: identity.certPem,
            key: identity.keyPem,
            requestCert: true,
            rejectUnauthorized: false,
            minVersion: "TLSv1.2",
            maxHeaderSize: MAX_HEADER_BYTES,
            connectionsCheckingInterval
          },
          onRequest(true, secureLimiter)
        )
      )
      // A paired client's certificate authenticates its connection as soon as TLS is done.
      secure.on("secureConnection", (socket: TLSSocket) => {
        const peer = socket.getPeerX509Certificate()
        if (peer === undefined) return
        run(
          pairing
            .pairedAs(fingerprintOfDer(peer.raw), "gamestream")
            .pipe(Effect.map((client) => (client === undefined ? undefined : secureLimiter.connectionOf(socket)?.authenticate())))
        )
      })
      plain.on("clientError", onClientError)
      secure.on("clientError", onClientError)
      secure.on("tlsClientError", () => void counts.tls_refused++)

      const listen = (server: http.Server, port: number) =>
        Effect.async<number, GameStreamListenError>((resume) => {
          const onError = (e: Error) =>
            resume(
              Effect.fail(
                new GameStreamListenError({
                  message: `GameStream cannot listen on ${config.streamBind}:${port}: ${e.message} (choose another port, or PUNKTFUNK_GAMESTREAM=0 to turn the path off)`
                })
              )
            )
          server.once("error", onError)
          server.listen(port, config.streamBind, () => {
            server.off("error", onError)
            resume(Effect.succeed((server.address() as AddressInfo).port))
          })
        })
      const close = (server: http.Server) =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })

      ports.http = yield* Effect.acquireRelease(listen(plain, config.gamestreamHttpPort), () => close(plain))
      ports.https = yield* Effect.acquireRelease(listen(secure, config.gamestreamHttpsPort), () => close(secure))
      // The stream: media and control ports are bound for the host's lifetime (RTSP announces
      // them before any session exists); the runner serves one stream at a time on them, and
      // is released before them (scopes close in reverse).
      const listenError = (what: string, port: number) => (e: { readonly message: string }) =>
        new GameStreamListenError({
          message: `GameStream ${what} cannot listen on ${config.streamBind}:${port}: ${e.message} (choose another port, or PUNKTFUNK_GAMESTREAM=0 to turn the path off)`
        })
      const videoPort = yield* Effect.acquireRelease(
        Effect.try({
          try: () => new (nativeModule().GameStreamVideoPort)(config.streamBind, config.gamestreamVideoPort),
          catch: (e) => listenError("video", config.gamestreamVideoPort)({ message: e instanceof Error ? e.message : String(e) })
        }),
        (port) => Effect.sync(() => port.close())
      )
      // The audio port through its seam (the native sender in the host, a recording fake in tests).
      const audioSender = yield* GameStreamAudioSender
      const audio = yield* audioSender.open(config.streamBind, config.gamestreamAudioPort).pipe(
        Effect.mapError(listenError("audio", config.gamestreamAudioPort))
      )
      const control = yield* makeControlStream({
        bind: config.streamBind,
        port: config.gamestreamControlPort,
        maxPeers: config.gamestreamControlPeers,
        peersPerAddress: config.gamestreamControlPeersPerAddress,
        authTimeoutMs: config.gamestreamControlAuthTimeoutMs
      }).pipe(
        Effect.mapError(listenError("control", config.gamestreamControlPort))
      )
      const runner = yield* makeStreamRunner({
        session: sessionDefaultsOf(config),
        videoFd: videoPort.fd,
        audio,
        control,
        clientTimeoutMs: config.gamestreamClientTimeoutMs,
        currentLaunch: launches.current,
        input: config.input,
        audioSource: { mode: config.audio, device: config.audioDevice }
      })
      const rtsp = yield* makeRtspServer({
        bind: config.streamBind,
        port: config.gamestreamRtspPort,
        ports: { video: videoPort.port, audio: audio.port, control: control.port },
        currentLaunch: launches.current,
        codecs,
        allowLegacyControlIv: config.gamestreamLegacyControlIv,
        connections: (o) => limits.listener("rtsp", o),
        play: (settings) =>
          runner.play(settings).pipe(
            Effect.asVoid,
            Effect.mapError((e) => new RtspPlayRefused({ message: e.message }))
          )
      }).pipe(Effect.mapError(listenError("RTSP", config.gamestreamRtspPort)))
      ports.rtsp = rtsp.port

      yield* Effect.logInfo(
        `GameStream media on ${config.streamBind}: video :${videoPort.port}, control :${control.port}, audio :${audio.port} (UDP)`
      )
      yield* Effect.logInfo(
        `GameStream nvhttp on ${config.streamBind}:${ports.http} (HTTP) and :${ports.https} (HTTPS); Moonlight clients pair with a PIN entered in the console`
      )
      return {
        httpPort: ports.http,
        httpsPort: ports.https,
        rtspPort: rtsp.port,
        videoPort: videoPort.port,
        controlPort: control.port,
        audioPort: audio.port,
        stream: runner.current,
        hostFingerprint: identity.fingerprint,
        currentLaunch: launches.current,
        counters: Effect.sync(() => ({ ...counts })),
        pairingWaits: sessions.longPolls,
        controlCounters: control.counters
      }
    })
  )
