/**
 * The GameStream switch and ports: on by default on the well-known ports, configurable, off on
 * request — and an invalid port stops the start with the variable's name.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Option } from "effect"
import { hostConfig } from "../../src/services/Config.js"
import { GameStream } from "../../src/streams/gamestream/GameStreamServer.js"
import { startHost } from "../support/TestHost.js"
import { gameStreamOf, startGameStreamHost } from "./support/Hosts.js"

const configFrom = (env: Record<string, string>) =>
  hostConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))

describe("GameStream configuration", () => {
  it.effect("on by default, on 47989 / 47984 / 48010 and UDP 47998-48000, each configurable", () =>
    Effect.gen(function* () {
      const config = yield* configFrom({})
      expect([config.gamestream, config.gamestreamHttpPort, config.gamestreamHttpsPort, config.gamestreamRtspPort]).toEqual([
        true,
        47989,
        47984,
        48010
      ])
      const custom = yield* configFrom({
        PUNKTFUNK_GAMESTREAM: "off",
        PUNKTFUNK_GAMESTREAM_HTTP_PORT: "0",
        PUNKTFUNK_GAMESTREAM_HTTPS_PORT: "50001",
        PUNKTFUNK_GAMESTREAM_RTSP_PORT: "50002"
      })
      expect([custom.gamestream, custom.gamestreamHttpPort, custom.gamestreamHttpsPort, custom.gamestreamRtspPort]).toEqual([
        false,
        0,
        50001,
        50002
      ])
      // The stream's ports: RTSP (TCP), video, control and audio (UDP), as Moonlight expects them.
      expect([config.gamestreamVideoPort, config.gamestreamControlPort, config.gamestreamAudioPort]).toEqual([47998, 47999, 48000])
      const media = yield* configFrom({
        PUNKTFUNK_GAMESTREAM_VIDEO_PORT: "50010",
        PUNKTFUNK_GAMESTREAM_CONTROL_PORT: "50011",
        PUNKTFUNK_GAMESTREAM_AUDIO_PORT: "50012"
      })
      expect([media.gamestreamVideoPort, media.gamestreamControlPort, media.gamestreamAudioPort]).toEqual([50010, 50011, 50012])
      // Announced over mDNS unless switched off; a value that is not a switch names the variable.
      expect(config.gamestreamMdns).toBe(true)
      expect((yield* configFrom({ PUNKTFUNK_GAMESTREAM_MDNS: "0" })).gamestreamMdns).toBe(false)
      const badMdns = yield* configFrom({ PUNKTFUNK_GAMESTREAM_MDNS: "maybe" }).pipe(Effect.flip)
      expect(String(badMdns)).toMatch(/PUNKTFUNK_GAMESTREAM_MDNS must be 1\/0/)
      const badAudio = yield* configFrom({ PUNKTFUNK_GAMESTREAM_AUDIO_PORT: "-1" }).pipe(Effect.flip)
      expect(String(badAudio)).toMatch(/PUNKTFUNK_GAMESTREAM_AUDIO_PORT must be a port number/)
      const bad = yield* configFrom({ PUNKTFUNK_GAMESTREAM_HTTPS_PORT: "70000" }).pipe(Effect.flip)
      expect(String(bad)).toMatch(/PUNKTFUNK_GAMESTREAM_HTTPS_PORT must be a port number/)
    })
  )

  it.scopedLive("a host with GameStream off has no nvhttp; on, it serves on the ports it reports", () =>
    Effect.gen(function* () {
      const off = yield* startHost({ env: { PUNKTFUNK_GAMESTREAM: "0" } })
      expect(Option.isNone(Context.getOption(off.context, GameStream))).toBe(true)
      const on = yield* startGameStreamHost()
      const gs = gameStreamOf(on)
      const bound = [gs.httpPort, gs.httpsPort, gs.rtspPort, gs.videoPort, gs.controlPort, gs.audioPort]
      for (const port of bound) expect(port).toBeGreaterThan(0)
      // TCP and UDP ports may coincide; within each protocol they are distinct.
      expect(new Set([gs.httpPort, gs.httpsPort, gs.rtspPort]).size).toBe(3)
      expect(new Set([gs.videoPort, gs.controlPort, gs.audioPort]).size).toBe(3)
      const info = yield* Effect.promise(() => fetch(`http://127.0.0.1:${gs.httpPort}/serverinfo?uniqueid=1`).then((r) => r.text()))
      expect(info).toContain(`<HttpsPort>${gs.httpsPort}</HttpsPort>`)
    })
  )

  it.scopedLive("a GameStream port already taken stops the start with a message that says so", () =>
    Effect.gen(function* () {
      const first = yield* startGameStreamHost()
      const taken = gameStreamOf(first).httpPort
      const second = yield* startGameStreamHost({ env: { PUNKTFUNK_GAMESTREAM_HTTP_PORT: String(taken) } }).pipe(Effect.flip)
      expect(second).toMatchObject({ _tag: "GameStreamListenError" })
      expect(String((second as { message?: unknown }).message)).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}.*PUNKTFUNK_GAMESTREAM=0`))
      for (const [name, port] of [
        ["VIDEO", gameStreamOf(first).videoPort],
        ["CONTROL", gameStreamOf(first).controlPort],
        ["AUDIO", gameStreamOf(first).audioPort]
      ] as const) {
        const clash = yield* startGameStreamHost({ env: { [`PUNKTFUNK_GAMESTREAM_${name}_PORT`]: String(port) } }).pipe(Effect.flip)
        expect(clash).toMatchObject({ _tag: "GameStreamListenError" })
        expect(String((clash as { message?: unknown }).message)).toMatch(new RegExp(`${name.toLowerCase()} cannot listen on 127\\.0\\.0\\.1:${port}`))
      }
    })
  )
})
