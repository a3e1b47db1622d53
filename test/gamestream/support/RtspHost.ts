/**
 * An RTSP server for the tests, built with `makeRtspServer` around a fake launch (no nvhttp, no
 * native code): the launch can be set or cleared, and every settings object PLAY hands over is
 * recorded, or PLAY is made to refuse.
 */
import { Effect, Ref } from "effect"
import type { LaunchRecord } from "../../../src/streams/gamestream/Launches.js"
import { makeRtspServer, RtspPlayRefused } from "../../../src/streams/gamestream/RtspServer.js"
import type { RtspServerOptions } from "../../../src/streams/gamestream/RtspServer.js"
import type { StreamSettings } from "../../../src/streams/gamestream/StreamSettings.js"

export const TEST_PORTS = { video: 47998, audio: 48000, control: 47999 } as const

export const fakeLaunch = (overrides: Partial<LaunchRecord> = {}): LaunchRecord => ({
  client: "ab".repeat(32),
  clientAddress: "127.0.0.1",
  appid: 1,
  width: 1280,
  height: 720,
  fps: 60,
  rikey: "00112233445566778899aabbccddeeff",
  rikeyid: 1234567,
  localAudioPlayMode: false,
  surroundAudioInfo: 196610,
  remoteControllersBitmap: 1,
  gcmap: 1,
  sops: true,
  corever: 1,
  launched_unix_ms: 1_700_000_000_000,
  ...overrides
})

export const startRtsp = (
  options: Partial<Omit<RtspServerOptions, "currentLaunch" | "play">> = {},
  initial: { readonly launch: LaunchRecord | undefined } = { launch: fakeLaunch() }
) =>
  Effect.gen(function* () {
    const current = yield* Ref.make<LaunchRecord | undefined>(initial.launch)
    const played = yield* Ref.make<ReadonlyArray<StreamSettings>>([])
    const refusal = yield* Ref.make<string | undefined>(undefined)
    const server = yield* makeRtspServer({
      bind: "127.0.0.1",
      port: 0,
      ports: TEST_PORTS,
      ...options,
      currentLaunch: Ref.get(current),
      play: (settings) =>
        Ref.get(refusal).pipe(
          Effect.flatMap((message) =>
            message === undefined ? Ref.update(played, (all) => [...all, settings]) : Effect.fail(new RtspPlayRefused({ message }))
          )
        )
    })
    return {
      server,
      port: server.port,
      setLaunch: (l: LaunchRecord | undefined) => Ref.set(current, l),
      played: Ref.get(played),
      refusePlay: (message: string | undefined) => Ref.set(refusal, message)
    }
  })
