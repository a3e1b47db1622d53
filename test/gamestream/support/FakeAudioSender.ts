/**
 * A fake `GameStreamAudioSender` (src/streams/gamestream/GameStreamAudio.ts) for tests: it binds
 * a plain UDP socket for the port RTSP announces (so the port is real and no other host's) and
 * sends nothing on it; it records every session's `start` with its options and every `stop`, so
 * a test of a whole launch asserts what the session asked of its sound without PulseAudio or
 * Opus. `refuse` makes every start fail with that message, as a sender that cannot start does.
 */
import { Effect, Layer } from "effect"
import * as dgram from "node:dgram"
import { GameStreamAudioError, GameStreamAudioSender } from "../../../src/streams/gamestream/GameStreamAudio.js"
import type { AudioStartInput } from "../../../src/native/audio.js"

export type AudioCall = { readonly _tag: "start"; readonly options: AudioStartInput } | { readonly _tag: "stop" }

export interface FakeAudioSender {
  readonly layer: Layer.Layer<GameStreamAudioSender>
  /** Starts and stops, in order. */
  readonly calls: () => ReadonlyArray<AudioCall>
}

const bindUdp = (bind: string, port: number) =>
  Effect.acquireRelease(
    Effect.async<dgram.Socket, GameStreamAudioError>((resume) => {
      const socket = dgram.createSocket(bind.includes(":") ? "udp6" : "udp4")
      socket.once("error", (e) => resume(Effect.fail(new GameStreamAudioError({ message: e.message }))))
      socket.bind(port, bind, () => resume(Effect.succeed(socket)))
    }),
    (socket) => Effect.sync(() => socket.close())
  )

export const makeFakeAudioSender = (options: { readonly refuse?: string } = {}): FakeAudioSender => {
  const calls: Array<AudioCall> = []
  const layer = Layer.succeed(
    GameStreamAudioSender,
    GameStreamAudioSender.of({
      open: (bind, port) =>
        bindUdp(bind, port).pipe(
          Effect.map((socket) => ({
            port: socket.address().port,
            start: (o: AudioStartInput) =>
              Effect.sync(() => void calls.push({ _tag: "start", options: o })).pipe(
                Effect.zipRight(options.refuse === undefined ? Effect.void : Effect.fail(new GameStreamAudioError({ message: options.refuse })))
              ),
            stop: Effect.sync(() => void calls.push({ _tag: "stop" }))
          }))
        )
    })
  )
  return { layer, calls: () => [...calls] }
}
