/**
 * What a paired Moonlight client does after pairing, against a real host: serverinfo fields it
 * reads, the app list, box art as a real PNG, launch/resume/cancel recorded for the stream (the
 * stream itself is tested end to end in test/gamestream/streaming/session.test.ts), the codecs
 * offered for the configured encoder, and unpair.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { crc32, inflateSync } from "node:zlib"
import { waitFor } from "../support/TestHost.js"
import { DESKTOP_APP_ID } from "../../src/streams/gamestream/Apps.js"
import { launchParams } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairedClients, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Chunks of a PNG, each CRC checked, as any decoder would. */
const pngChunks = (png: Buffer) => {
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a")
  const chunks: Array<{ type: string; data: Buffer }> = []
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at)
    const type = png.subarray(at + 4, at + 8).toString("latin1")
    const data = png.subarray(at + 8, at + 8 + length)
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)) >>> 0)
    chunks.push({ type, data })
    at += 12 + length
  }
  return chunks
}

describe("GameStream nvhttp for a paired client", () => {
  it.scopedLive("serverinfo, applist, appasset, launch, resume, cancel, unpair", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const gs = gameStreamOf(host)
      const identity = yield* newIdentity("desk")
      const client = clientFor(host, identity)

      const open = yield* call(() => client.serverInfo(false))
      expect(open.status).toBe(200)
      expect(open.contentType).toMatch(/xml/)
      expect(open.xml.statusCode).toBe(200)
      expect(open.xml.get("appversion")).toMatch(/^7\./) // SHA-256 pairing for current clients
      expect(open.xml.get("GfeVersion")).toMatch(/^\d+\.\d+/)
      expect(open.xml.get("uniqueid")).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
      expect(open.xml.get("HttpsPort")).toBe(String(gs.httpsPort))
      expect(open.xml.get("ExternalPort")).toBe(String(gs.httpPort))
      expect(open.xml.get("mac")).toBe("00:00:00:00:00:00")
      expect(open.xml.get("LocalIP")).toBe("127.0.0.1")
      // encoder=auto can make HEVC (libx265 or NVENC): H.264 | HEVC Main, up to 8K.
      expect(open.xml.get("ServerCodecModeSupport")).toBe(String(0x1 | 0x100))
      expect(open.xml.get("MaxLumaPixelsHEVC")).toBe(String(7680 * 4320))
      expect(open.xml.get("hostname")).not.toBe("")
      expect(open.xml.get("currentgame")).toBe("0")
      expect(open.xml.get("state")).toMatch(/_SERVER_FREE$/)

      expect((yield* pairViaOperator(host, client, "8080")).outcome).toMatchObject({ paired: true })

      const apps = yield* call(() => client.applist())
      expect(apps.xml.statusCode).toBe(200)
      expect(apps.xml.all("AppTitle")).toEqual(["Desktop"])
      const [appId] = apps.xml.all("ID")
      expect(appId).toMatch(/^\d+$/)
      const id = Number(appId)

      const art = yield* call(() => client.appasset(id))
      expect(art.status).toBe(200)
      expect(art.contentType).toBe("image/png")
      const chunks = pngChunks(art.body)
      expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"])
      const ihdr = chunks[0]?.data ?? Buffer.alloc(13)
      const [w, h] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)]
      expect(w).toBeGreaterThan(0)
      expect(inflateSync(chunks[1]?.data ?? Buffer.alloc(0)).length).toBe((1 + w * 3) * h)
      expect((yield* call(() => client.appasset(id + 1))).xml.statusCode).toBe(404)

      const launched = yield* call(() => client.launch(launchParams(id)))
      expect(launched.xml.statusCode).toBe(200)
      expect(launched.xml.get("gamesession")).toBe("1")
      expect(launched.xml.get("sessionUrl0")).toBe(`rtsp://127.0.0.1:${gs.rtspPort}`)
      expect(yield* gs.currentLaunch).toMatchObject({
        client: identity.fingerprint,
        appid: id,
        width: 1280,
        height: 720,
        fps: 60,
        rikey: "00112233445566778899aabbccddeeff",
        rikeyid: -1652287337,
        localAudioPlayMode: false,
        surroundAudioInfo: 196610,
        remoteControllersBitmap: 1,
        gcmap: 1,
        sops: false
      })
      const busy = yield* call(() => client.serverInfo(true))
      expect(busy.xml.get("currentgame")).toBe(String(id))
      expect(busy.xml.get("state")).toMatch(/_SERVER_BUSY$/)
      const twice = yield* call(() => client.launch(launchParams(id)))
      expect(twice.xml.statusCode).toBe(400)
      expect(twice.xml.statusMessage).toMatch(/already running/)

      const resumed = yield* call(() => client.resume({ rikey: "ff".repeat(16), rikeyid: "7", localAudioPlayMode: "1" }))
      expect(resumed.xml.get("resume")).toBe("1")
      expect(resumed.xml.get("sessionUrl0")).toBe(`rtsp://127.0.0.1:${gs.rtspPort}`)
      expect(yield* gs.currentLaunch).toMatchObject({ rikey: "ff".repeat(16), rikeyid: 7, localAudioPlayMode: true, width: 1280 })

      expect((yield* call(() => client.cancel())).xml.get("cancel")).toBe("1")
      expect(yield* gs.currentLaunch).toBeUndefined()
      expect((yield* call(() => client.serverInfo(true))).xml.get("state")).toMatch(/_SERVER_FREE$/)
      const nothing = yield* call(() => client.resume({ rikey: "ff".repeat(16), rikeyid: "7" }))
      expect(nothing.xml.statusCode).toBe(503)

      // Launch again, then unpair over HTTPS: the pinning and the launched session both go.
      expect((yield* call(() => client.launch(launchParams(id)))).xml.get("gamesession")).toBe("1")
      expect((yield* call(() => client.unpair(true))).xml.statusCode).toBe(200)
      expect(yield* pairedClients(host)).toEqual([])
      expect(yield* gs.currentLaunch).toBeUndefined()
      expect((yield* call(() => client.serverInfo(true))).xml.get("PairStatus")).toBe("0")
      expect((yield* call(() => client.applist())).xml.statusCode).toBe(401)
    })
  )

  it.scopedLive("removing the client in the console ends its HTTPS access at once", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const identity = yield* newIdentity("sofa")
      const client = clientFor(host, identity)
      expect((yield* pairViaOperator(host, client, "1357")).outcome).toMatchObject({ paired: true })
      expect((yield* call(() => client.launch(launchParams(1)))).xml.get("gamesession")).toBe("1")
      const removed = yield* call(() => host.fetch(`${host.url}/api/v1/pairing/clients/${identity.fingerprint}`, { method: "DELETE" }))
      expect(removed.status).toBe(204)
      expect((yield* call(() => client.applist())).xml.statusCode).toBe(401)
      // Its launched session is forgotten too (the removal is published; follow it).
      const gs = gameStreamOf(host)
      yield* call(() => waitFor(async () => (await Effect.runPromise(gs.currentLaunch)) === undefined, 10_000, "the launch forgotten"))
    })
  )

  it.scopedLive("an encoder pinned to H.264 offers H.264 only: serverinfo, DESCRIBE and ANNOUNCE agree", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_ENCODER: "libx264" } })
      const gs = gameStreamOf(host)
      const client = clientFor(host, yield* newIdentity())
      expect((yield* pairViaOperator(host, client, "1357")).outcome.paired).toBe(true)
      const info = yield* call(() => client.serverInfo(true))
      expect(info.xml.get("ServerCodecModeSupport")).toBe("1")
      expect(info.xml.get("MaxLumaPixelsHEVC")).toBe("0")
      yield* call(() => client.launch(launchParams(DESKTOP_APP_ID)))
      const rtsp = new RtspClient(gs.rtspPort)
      const described = yield* call(() => rtsp.describe())
      expect(described.status).toBe(200)
      expect(described.body).toContain("H264/90000")
      expect(described.body).not.toContain("sprop-parameter-sets=AAAAAU")
      // A client that asks for HEVC anyway is refused at ANNOUNCE, naming the attribute.
      const refused = yield* call(() =>
        rtsp.handshake(moonlightAnnounce({ ...DEFAULT_CLIENT_CONFIG, bitStreamFormat: 1 })).then(
          () => "accepted",
          (e: unknown) => String(e)
        )
      )
      expect(refused).toMatch(/ANNOUNCE failed: 400 .*bitStreamFormat/)
      expect(yield* gs.stream).toBeUndefined()
    })
  )
})
