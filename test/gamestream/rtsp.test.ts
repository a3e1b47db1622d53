/**
 * The RTSP handshake as a Moonlight client runs it after `launch`: OPTIONS, DESCRIBE, SETUP
 * audio/video/control, ANNOUNCE, PLAY — each on its own connection — against `makeRtspServer`
 * with a fake launch. The settings PLAY hands over must be what the client announced, combined
 * with the launch and the identifiers the SETUP answers gave the client.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { controlEncryptionOf } from "../../src/streams/gamestream/ControlCrypto.js"
import { describeSdp, ENCRYPTION_AUDIO, ENCRYPTION_CONTROL_V2, ENCRYPTION_VIDEO, parseAnnounce } from "../../src/streams/gamestream/Sdp.js"
import { announcedBitrate, DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"
import { fakeLaunch, startRtsp, TEST_PORTS } from "./support/RtspHost.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** What the RTSP server knows of a session besides the ANNOUNCE body (for parseAnnounce alone). */
const ANNOUNCE_CONTEXT = {
  client: "c",
  clientAddress: "127.0.0.1",
  rikey: "00",
  rikeyid: 0,
  fecPercent: 20,
  pingPayload: "",
  connectData: 0,
  codecs: ["h264"]
} as const

describe("GameStream RTSP handshake", () => {
  it.scopedLive("OPTIONS, DESCRIBE, SETUP x3, ANNOUNCE, PLAY: PLAY receives what the client announced", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ fecPercent: 25 })
      const client = new RtspClient(rtsp.port)
      const result = yield* call(() => client.handshake())

      // DESCRIBE offers H.264 only (no HEVC/AV1 markers), no RFI, the V2 control IV and encrypted
      // video (requiring neither), stereo Opus.
      const sdp = result.describe.body
      expect(result.describe.header("Content-Type")).toBe("application/sdp")
      expect(sdp).not.toContain("sprop-parameter-sets=AAAAAU")
      expect(sdp).not.toContain("AV1/90000")
      expect(sdp).not.toContain("refPicInvalidation")
      expect(sdp).toContain("a=x-ss-general.featureFlags:0")
      expect(sdp).toContain("a=x-ss-general.encryptionSupported:3")
      expect(sdp).toContain("a=x-ss-general.encryptionRequested:0")
      expect(sdp).toContain("a=fmtp:97 surround-params=21101")
      // 5.1 and 7.1: the layouts the audio sender encodes (channels, streams, coupled, mapping).
      expect(sdp).toMatch(/a=fmtp:97 surround-params=6\d{8}\r\n/)
      expect(sdp).toMatch(/a=fmtp:97 surround-params=8\d{10}\r\n/)

      // SETUP answers: the configured ports, a session, the identifiers.
      expect(result.audioPort).toBe(TEST_PORTS.audio)
      expect(result.videoPort).toBe(TEST_PORTS.video)
      expect(result.controlPort).toBe(TEST_PORTS.control)
      expect(result.session).toMatch(/^[0-9A-F]{16}$/)
      expect(result.audioPingPayload).toMatch(/^[A-Za-z0-9]{16}$/)
      expect(result.videoPingPayload).toBe(result.audioPingPayload)
      expect(result.connectData).toBeGreaterThan(0)

      const played = yield* rtsp.played
      expect(played).toHaveLength(1)
      const launch = fakeLaunch()
      expect(played[0]).toEqual({
        client: launch.client,
        clientAddress: "127.0.0.1",
        width: DEFAULT_CLIENT_CONFIG.width,
        height: DEFAULT_CLIENT_CONFIG.height,
        fps: DEFAULT_CLIENT_CONFIG.fps,
        packetSize: DEFAULT_CLIENT_CONFIG.packetSize,
        bitrateKbps: announcedBitrate(DEFAULT_CLIENT_CONFIG.bitrateKbps),
        codec: "h264",
        fecPercent: 25,
        minRequiredFecPackets: 2,
        slicesPerFrame: DEFAULT_CLIENT_CONFIG.slicesPerFrame,
        audioPacketDurationMs: 5,
        audioChannels: 2,
        audioChannelMask: 3,
        encryptionFlags: 0x01, // the V2 control IV
        mlFeatureFlags: 3,
        rikey: launch.rikey,
        rikeyid: launch.rikeyid,
        pingPayload: result.audioPingPayload,
        connectData: result.connectData
      })
      expect(yield* rtsp.server.counters).toMatchObject({ requests: 7, refused: 0 })
    })
  )

  it.scopedLive("other stream settings arrive as announced; a client opting into audio encryption gets flag 0x04", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const config = {
        ...DEFAULT_CLIENT_CONFIG,
        width: 640,
        height: 360,
        fps: 30,
        bitrateKbps: 200_000,
        packetSize: 1024,
        slicesPerFrame: 1,
        audioPacketDurationMs: 10,
        encryptAudio: true
      }
      yield* call(() => new RtspClient(rtsp.port).handshake(moonlightAnnounce(config)))
      const [settings] = yield* rtsp.played
      expect(settings).toMatchObject({
        width: 640,
        height: 360,
        fps: 30,
        bitrateKbps: 100_000, // Moonlight caps what it announces at 100 Mb/s
        packetSize: 1024,
        slicesPerFrame: 1,
        audioPacketDurationMs: 10,
        encryptionFlags: 0x01 | 0x04,
        fecPercent: 20
      })
    })
  )

  it.scopedLive("a new handshake (reconnect, resume) gets new identifiers; a repeated PLAY starts nothing twice", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const client = new RtspClient(rtsp.port)
      const first = yield* call(() => client.handshake())
      const again = yield* call(() => client.play())
      expect(again.status).toBe(200)
      expect(yield* rtsp.played).toHaveLength(1)

      const second = yield* call(() => client.handshake())
      expect(second.session).not.toBe(first.session)
      expect(second.audioPingPayload).not.toBe(first.audioPingPayload)
      const played = yield* rtsp.played
      expect(played).toHaveLength(2)
      expect(played[1]?.pingPayload).toBe(second.audioPingPayload)
      expect(played[1]?.connectData).toBe(second.connectData)

      // The old session is gone: its id no longer drives anything.
      const stale = new RtspClient(rtsp.port)
      stale.session = first.session
      expect((yield* call(() => stale.play())).status).toBe(454)
    })
  )

  it.scopedLive("requests arriving in pieces (Moonlight sends 536-byte segments) are reassembled", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const client = new RtspClient(rtsp.port)
      client.segment = 536
      const result = yield* call(() => client.handshake(moonlightAnnounce({ ...DEFAULT_CLIENT_CONFIG, width: 1920, height: 1080 })))
      expect(result.play.status).toBe(200)
      client.segment = 7
      expect((yield* call(() => client.announce(moonlightAnnounce()))).status).toBe(200)
      expect((yield* rtsp.played).map((s) => s.width)).toEqual([1920])
    })
  )

  it.scopedLive("a PLAY the session cannot start is refused with its reason, and can be retried", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      yield* rtsp.refusePlay("the encoder refused 1280x720@60")
      const client = new RtspClient(rtsp.port)
      const error = yield* call(() => client.handshake().then(() => "", (e: Error) => e.message))
      expect(error).toBe("RTSP PLAY failed: 503 the encoder refused 1280x720@60")
      expect(yield* rtsp.played).toHaveLength(0)

      yield* rtsp.refusePlay(undefined)
      expect((yield* call(() => client.play())).status).toBe(200)
      expect(yield* rtsp.played).toHaveLength(1)
    })
  )

  it.scopedLive("TEARDOWN forgets the negotiation", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const client = new RtspClient(rtsp.port)
      yield* call(() => client.handshake())
      const teardown = yield* call(() => client.request("TEARDOWN", "/", [["Session", client.session ?? ""]]))
      expect(teardown.status).toBe(200)
      expect((yield* call(() => client.play())).status).toBe(454)
    })
  )

  it.effect("the DESCRIBE builder writes a codec's marker only when it is offered", () =>
    Effect.sync(() => {
      expect(describeSdp({ codecs: ["h264", "hevc"] })).toContain("sprop-parameter-sets=AAAAAU")
      expect(describeSdp({ codecs: ["h264", "av1"] })).toContain("AV1/90000")
      expect(describeSdp({ codecs: ["h264"] })).not.toMatch(/AAAAAU|AV1/)
    })
  )

  it.effect("ANNOUNCE attributes older clients omit take GameStream's defaults", () =>
    Effect.gen(function* () {
      const sdp = moonlightAnnounce(DEFAULT_CLIENT_CONFIG, {
        "x-nv-vqos[0].bitStreamFormat": undefined,
        "x-nv-vqos[0].fec.minRequiredFecPackets": undefined,
        "x-nv-aqos.packetDuration": undefined,
        "x-ml-general.featureFlags": undefined,
        "x-ss-general.encryptionEnabled": undefined
      })
      const settings = yield* parseAnnounce(sdp, ANNOUNCE_CONTEXT)
      expect(settings).toMatchObject({ codec: "h264", minRequiredFecPackets: 0, audioPacketDurationMs: 5, mlFeatureFlags: 0, encryptionFlags: 0 })
    })
  )

  it.effect("a client that takes the offered V2 control IV gets it; audio encryption still comes from the nv flag", () =>
    Effect.gen(function* () {
      const modern = yield* parseAnnounce(moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": "1" }), ANNOUNCE_CONTEXT)
      expect(controlEncryptionOf(modern.encryptionFlags)).toBe("v2")
      expect(modern.encryptionFlags & ENCRYPTION_AUDIO).toBe(0)
      const withAudio = yield* parseAnnounce(
        moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": "1", "x-nv-general.featureFlags": String(0x20) }),
        ANNOUNCE_CONTEXT
      )
      expect(controlEncryptionOf(withAudio.encryptionFlags)).toBe("v2")
      expect(withAudio.encryptionFlags & ENCRYPTION_AUDIO).toBe(ENCRYPTION_AUDIO)
      // A client that announces nothing (or 0) keeps the legacy IV.
      const older = yield* parseAnnounce(moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": "0" }), ANNOUNCE_CONTEXT)
      expect(controlEncryptionOf(older.encryptionFlags)).toBe("legacy")
    })
  )

  it.effect("encrypted video only for a client that asks for it (bit 0x02), whatever else it asks", () =>
    Effect.gen(function* () {
      const flags = (enabled: string, nv?: number) =>
        parseAnnounce(
          moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": enabled, ...(nv === undefined ? {} : { "x-nv-general.featureFlags": String(nv) }) }),
          ANNOUNCE_CONTEXT
        ).pipe(Effect.map((s) => s.encryptionFlags))
      expect((yield* flags("3")) & ENCRYPTION_VIDEO).toBe(ENCRYPTION_VIDEO)
      expect((yield* flags("2")) & ENCRYPTION_VIDEO).toBe(ENCRYPTION_VIDEO)
      expect(yield* flags("3", 0x07 | 0x20 | 0x80)).toBe(ENCRYPTION_CONTROL_V2 | ENCRYPTION_VIDEO | ENCRYPTION_AUDIO)
      // Asking for audio (the nv flag) or the V2 IV is not asking for video.
      expect((yield* flags("1", 0x07 | 0x20 | 0x80)) & ENCRYPTION_VIDEO).toBe(0)
      expect((yield* flags("0")) & ENCRYPTION_VIDEO).toBe(0)
    })
  )
})
