/**
 * Attack surface: the legacy GameStream control IV. A client that does not take the V2 IV our
 * DESCRIBE offers would seal its input with AES-GCM nonces that repeat every 256 messages (and
 * share them with the host's messages under one key), so anyone on the path could forge input
 * and read what is typed. By default the host refuses such a client at ANNOUNCE — RTSP 461, the
 * number Moonlight shows ("Starting RTSP handshake failed: Error 461"), a body that says why and
 * names the setting, one log line — and no stream starts. The operator can allow it with
 * PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV=1; then the legacy client streams, with a warning.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ControlType } from "../../src/streams/gamestream/ControlMessages.js"
import { LEGACY_CONTROL_IV_STATUS } from "../../src/streams/gamestream/RtspServer.js"
import { ControlClient } from "../gamestream/support/ControlClient.js"
import { launchParams } from "../gamestream/support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../gamestream/support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient, strtoul0 } from "../gamestream/support/RtspClient.js"
import { startRtsp } from "../gamestream/support/RtspHost.js"
import { waitFor } from "../support/TestHost.js"
import { withLogLines } from "../support/LogLines.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)
const RIKEY = launchParams(1).rikey ?? ""

/** What a client that never learned the V2 IV announces: the bit unset, or no attribute at all. */
const LEGACY_ANNOUNCES = {
  "bit unset": moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": "0" }),
  "no attribute": moonlightAnnounce(DEFAULT_CLIENT_CONFIG, { "x-ss-general.encryptionEnabled": undefined })
} as const


/** Moonlight's handshake up to ANNOUNCE; then PLAY, which it sends only after a 200. */
const handshakeTo = (port: number, sdp: string) =>
  promise(async () => {
    const client = new RtspClient(port)
    for (const answer of [await client.options(), await client.describe()]) expect(answer.status).toBe(200)
    let connectData = 0
    for (const target of ["streamid=audio/0/0", "streamid=video/0/0", "streamid=control/13/0"]) {
      const setup = await client.setup(target)
      expect(setup.status).toBe(200)
      connectData = strtoul0(setup.header("X-SS-Connect-Data") ?? "0")
    }
    const announce = await client.announce(sdp)
    const play = announce.status === 200 ? await client.play() : undefined
    return { announce, play, connectData }
  })

describe("attack surface: the legacy GameStream control IV", () => {
  it.scopedLive("refused by default: 461 with the reason and the setting, one log line, nothing played", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        const rtsp = yield* startRtsp()
        for (const [what, sdp] of Object.entries(LEGACY_ANNOUNCES)) {
          const before = lines.length
          const { announce, play } = yield* handshakeTo(rtsp.port, sdp)
          expect(announce.status, what).toBe(LEGACY_CONTROL_IV_STATUS)
          expect(announce.body).toMatch(/legacy IV/)
          expect(announce.body).toMatch(/forged/)
          expect(announce.body).toContain("PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV=1")
          expect(play).toBeUndefined()
          const said = lines.slice(before).filter((l) => /legacy|461/.test(l))
          expect(said, what).toHaveLength(1)
          expect(said[0]).toMatch(/ANNOUNCE .* refused: 461/)
        }
        expect(yield* rtsp.played).toEqual([])
        // A current client on the same host is served.
        const { announce, play } = yield* handshakeTo(rtsp.port, moonlightAnnounce())
        expect([announce.status, play?.status]).toEqual([200, 200])
        expect(yield* rtsp.played).toHaveLength(1)
      })
    )
  )

  it.scopedLive("allowed by the operator: the legacy client plays, and the host warns what it risks", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        const rtsp = yield* startRtsp({ allowLegacyControlIv: true })
        const { announce, play } = yield* handshakeTo(rtsp.port, LEGACY_ANNOUNCES["bit unset"])
        expect([announce.status, play?.status]).toEqual([200, 200])
        const [settings] = yield* rtsp.played
        expect((settings?.encryptionFlags ?? -1) & 0x01).toBe(0)
        const warned = lines.filter((l) => /legacy control IV/.test(l))
        expect(warned).toHaveLength(1)
        expect(warned[0]).toMatch(/forged/)
      })
    )
  )

  it.scopedLive("a whole host: a paired legacy client gets no stream by default; with the setting its control stream and input work", () =>
    Effect.gen(function* () {
      const session = (env: Record<string, string>) =>
        Effect.gen(function* () {
          const host = yield* startGameStreamHost({ env })
          const gs = gameStreamOf(host)
          const client = clientFor(host, yield* newIdentity("legacy-client"))
          expect((yield* pairViaOperator(host, client, "1357")).outcome.paired).toBe(true)
          const apps = yield* promise(() => client.applist())
          yield* promise(() => client.launch(launchParams(Number(apps.xml.all("ID")[0]))))
          return { gs, attempt: yield* handshakeTo(gs.rtspPort, LEGACY_ANNOUNCES["bit unset"]) }
        })

      const refused = yield* Effect.scoped(session({}))
      expect(refused.attempt.announce.status).toBe(LEGACY_CONTROL_IV_STATUS)
      expect(yield* refused.gs.stream).toBeUndefined()

      const allowed = yield* session({ PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV: "1" })
      expect(allowed.attempt.play?.status).toBe(200)
      const gs = allowed.gs
      yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) !== undefined, 20_000, "the stream to start"))
      const control = yield* Effect.acquireRelease(
        promise(() =>
          ControlClient.start({
            host: "127.0.0.1",
            port: gs.controlPort,
            connectData: allowed.attempt.connectData,
            keyHex: RIKEY,
            mode: "legacy"
          })
        ),
        (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
      )
      const move = Buffer.from([0, 0, 0, 8, 0x07, 0, 0, 0, 0, 5, 0, 5])
      yield* promise(() => control.sendMessage(ControlType.inputData, move))
      yield* promise(() =>
        waitFor(async () => (await Effect.runPromise(gs.stream))?.input?.().received === 1, 10_000, "the legacy client's input")
      )
      expect(yield* gs.controlCounters).toMatchObject({ malformed: 0, refused: 0, replayed: 0 })
    })
  )
})
