/**
 * nvhttp routing: which request is answered on which socket, for whom.
 *
 * Plain HTTP knows nobody (Moonlight sends no certificate there), so it answers only what an
 * unpaired client needs: `serverinfo` (never "paired"), the PIN phases of `pair`, and `unpair` as
 * "forget my unfinished pairing". HTTPS sees the client's certificate; a certificate the operator
 * paired (pinned only once the client proved the PIN — see PairingSessions) gets `applist`,
 * `appasset`, `launch`, `resume`, `cancel`, `unpair` and `pairchallenge`; any other gets
 * `status_code` 401 (and serverinfo with `PairStatus` 0), as GameStream hosts answer, so
 * Moonlight offers to pair.
 */
import { Effect } from "effect"
import * as os from "node:os"
import type { PairingService } from "../../services/Pairing.js"
import { applistFields, DESKTOP_APP_ID } from "./Apps.js"
import { boxArtPng } from "./BoxArt.js"
import type { GameStreamIdentityShape } from "./Identity.js"
import type { Launches } from "./Launches.js"
import type { PairingSessionsShape } from "./PairingSessions.js"
import {
  AppAssetQuery,
  ClientChallengeQuery,
  ClientPairingSecretQuery,
  decodeQuery,
  GetServerCertQuery,
  LaunchQuery,
  PairChallengeQuery,
  ResumeQuery,
  ServerChallengeRespQuery,
  ServerInfoQuery,
  UnpairQuery
} from "./Query.js"
import { ok, refusal } from "./Xml.js"
import type { NvResponse } from "./Xml.js"

/** What GameStream hosts report; clients pick SHA-256 pairing from `appversion` 7 and up. */
export const APP_VERSION = "7.1.431.-1"
export const GFE_VERSION = "3.23.0.74"
/** ServerCodecModeSupport bits: H.264 (always), HEVC Main when the host's encoder can (AV1 is 0x10000). */
export const CODEC_MODES_H264 = 0x1
export const CODEC_MODES_HEVC = 0x100
/** The largest picture HEVC may be asked for (what PUNKTFUNK_WIDTH/HEIGHT allow at most). */
export const MAX_LUMA_PIXELS_HEVC = 7680 * 4320

export interface NvRequest {
  readonly secure: boolean
  readonly pathname: string
  readonly query: Record<string, string>
  /** Fingerprint of the certificate the client presented over HTTPS. */
  readonly clientFingerprint: string | undefined
  /** The host address the client reached (IPv4-mapped prefix removed). */
  readonly localAddress: string
  readonly remoteAddress: string
}

export interface NvhttpDeps {
  readonly identity: GameStreamIdentityShape
  readonly pairing: PairingService
  readonly sessions: PairingSessionsShape
  readonly launches: Launches
  readonly httpPort: number
  readonly httpsPort: number
  readonly rtspPort: number
  /** Whether the host's encoder choice can produce HEVC (advertised in serverinfo). */
  readonly hevc: boolean
}

const notAuthorized = (path: string) =>
  refusal(401, `the client is not authorized for ${path}: pair it with this host first (its certificate is not paired)`)

const isV6 = (address: string) => address.includes(":")

export const handleNvRequest = (deps: NvhttpDeps) => (req: NvRequest): Effect.Effect<NvResponse> =>
  Effect.gen(function* () {
    const paired =
      req.secure && req.clientFingerprint !== undefined
        ? (yield* deps.pairing.pairedAs(req.clientFingerprint, "gamestream")) !== undefined
        : false
    const q = req.query

    switch (req.pathname) {
      case "/serverinfo": {
        yield* decodeQuery(ServerInfoQuery, q)
        const running = yield* deps.launches.current
        return ok([
          ["hostname", os.hostname().slice(0, 64)],
          ["appversion", APP_VERSION],
          ["GfeVersion", GFE_VERSION],
          ["uniqueid", deps.identity.uniqueId],
          ["HttpsPort", deps.httpsPort],
          ["ExternalPort", deps.httpPort],
          ["MaxLumaPixelsHEVC", deps.hevc ? MAX_LUMA_PIXELS_HEVC : 0],
          // No Wake-on-LAN: the placeholder clients know to ignore.
          ["mac", "00:00:00:00:00:00"],
          // Clients keep LocalIP as IPv4; over IPv6 the loopback placeholder tells them to ignore it.
          ["LocalIP", isV6(req.localAddress) ? "127.0.0.1" : req.localAddress],
          ["ServerCodecModeSupport", CODEC_MODES_H264 | (deps.hevc ? CODEC_MODES_HEVC : 0)],
          ["PairStatus", paired ? 1 : 0],
          ["currentgame", running?.appid ?? 0],
          ["state", running === undefined ? "PUNKTFUNK_SERVER_FREE" : "PUNKTFUNK_SERVER_BUSY"]
        ])
      }

      case "/pair": {
        const phrase = q["phrase"]
        if (phrase === "getservercert") return yield* deps.sessions.getServerCert(yield* decodeQuery(GetServerCertQuery, q), req.remoteAddress)
        if (phrase === "pairchallenge") {
          yield* decodeQuery(PairChallengeQuery, q)
          if (!paired) {
            return refusal(401, "pairchallenge needs HTTPS with the certificate just paired", [["paired", 0]])
          }
          return ok([["paired", 1]])
        }
        if (phrase !== undefined) return refusal(400, `unknown pairing phrase '${phrase.slice(0, 40)}'`, [["paired", 0]])
        if ("clientchallenge" in q) return yield* deps.sessions.clientChallenge(yield* decodeQuery(ClientChallengeQuery, q), req.remoteAddress)
        if ("serverchallengeresp" in q) return yield* deps.sessions.serverChallengeResp(yield* decodeQuery(ServerChallengeRespQuery, q), req.remoteAddress)
        if ("clientpairingsecret" in q) return yield* deps.sessions.clientPairingSecret(yield* decodeQuery(ClientPairingSecretQuery, q), req.remoteAddress)
        return refusal(400, "not a pairing request: missing phrase, clientchallenge, serverchallengeresp or clientpairingsecret", [["paired", 0]])
      }

      case "/unpair": {
        const { uniqueid } = yield* decodeQuery(UnpairQuery, q)
        // An unfinished attempt of this uniqueid from this address is dropped either way (Moonlight
        // sends this after it found the PIN wrong; another address's attempt is not its to end); a
        // proven pairing only by its own certificate, over HTTPS.
        yield* deps.sessions.abandon(uniqueid, req.remoteAddress)
        if (paired && req.clientFingerprint !== undefined) {
          yield* deps.pairing.unpair(req.clientFingerprint).pipe(Effect.catchAll(() => Effect.void))
          yield* deps.launches.forget(req.clientFingerprint)
        }
        return ok([])
      }

      case "/applist":
      case "/appasset":
      case "/launch":
      case "/resume":
      case "/cancel":
        break

      default:
        return refusal(404, `no such nvhttp request '${req.pathname.slice(0, 60)}'`, [], 404)
    }

    if (!paired || req.clientFingerprint === undefined) {
      return notAuthorized(req.pathname)
    }
    const client = req.clientFingerprint
    const host = isV6(req.localAddress) ? `[${req.localAddress}]` : req.localAddress
    const ctx = { client, clientAddress: req.remoteAddress, sessionUrl: `rtsp://${host}:${deps.rtspPort}` }

    switch (req.pathname) {
      case "/applist":
        return ok(applistFields)
      case "/appasset": {
        const { appid } = yield* decodeQuery(AppAssetQuery, q)
        if (appid !== DESKTOP_APP_ID) return refusal(404, `no app with id ${appid} on this host`)
        return { status: 200, statusCode: 200, contentType: "image/png", body: boxArtPng() }
      }
      case "/launch":
        return yield* deps.launches.launch(yield* decodeQuery(LaunchQuery, q), ctx)
      case "/resume":
        return yield* deps.launches.resume(yield* decodeQuery(ResumeQuery, q), ctx)
      default:
        return yield* deps.launches.cancel
    }
  }).pipe(Effect.catchTag("BadRequest", (e) => Effect.succeed(refusal(400, e.message))))
