/**
 * GameStream's seams swapped, as the design promises ("developers swap fake capture layers in
 * tests"): a whole host with the GameStream layer composed with the fake frame producer
 * (FakePipeline), a recording audio sender and a recording input injector, and a real launch from
 * our TypeScript client — pairing, nvhttp launch, RTSP, the encrypted ENet control stream. What
 * the session did to each seam is then asserted where it landed, without an encoder, PulseAudio
 * or an X server:
 *  - the input the client sent reached "the desktop" translated (the pointer moved to the scaled
 *    position and by the sent delta, a button and a key went down and up), and a replayed sealed
 *    message (issue 11.1's attack) did not reach it a second time — the cheap twin of the X11
 *    attack test test/faults/gamestream-replay.test.ts, which stays;
 *  - the audio sender got one start with the client's channels and packet duration, and a stop
 *    when the client left; a sender that refuses to start does not stop the picture;
 *  - the capture armed meanwhile holds the session as GameStream, with its stage set, and no
 *    sending claimed by a producer that sent nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { fakePipelineLayer } from "../../src/PipelineChoice.js"
import { stagesOf } from "../../src/api/Paths.js"
import { ControlType } from "../../src/streams/gamestream/ControlMessages.js"
import { withLogLines } from "../support/LogLines.js"
import { arm, stopAndRead } from "../support/Markers.js"
import { waitFor } from "../support/TestHost.js"
import { ControlClient } from "./support/ControlClient.js"
import { makeFakeAudioSender } from "./support/FakeAudioSender.js"
import type { FakeAudioSender } from "./support/FakeAudioSender.js"
import { makeFakeInputInjector } from "./support/FakeInputInjector.js"
import type { FakeInputInjector } from "./support/FakeInputInjector.js"
import { launchParams } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"
import { absoluteMove, button, key, relativeMove } from "./support/InputEvents.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"

// 5.1 sound in 10 ms packets, so the audio start's options are the client's, not the defaults.
const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 240, fps: 30, bitrateKbps: 1_000, audioChannels: 6, audioChannelMask: 0x3f, audioPacketDurationMs: 10 }
const RIKEY = launchParams(1).rikey ?? ""
/** Moonlight's mouse channel (CTRL_CHANNEL_MOUSE). */
const MOUSE = 3
const XK_a = 0x61
// The "desktop" the capture names; nothing opens it but the fake injector.
const DISPLAY = ":77"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** A host with the three fakes, a paired client that launched and played, its control stream open. */
const launched = (audio: FakeAudioSender, input: FakeInputInjector, name: string) =>
  Effect.gen(function* () {
    const host = yield* startGameStreamHost({
      pipeline: fakePipelineLayer(100),
      gamestreamAudio: audio.layer,
      inputInjector: input.layer,
      // An X11 capture, so the session injects (the synthetic source has no desktop).
      env: { PUNKTFUNK_SOURCE: "x11", PUNKTFUNK_DISPLAY: DISPLAY }
    })
    const gs = gameStreamOf(host)
    const client = clientFor(host, yield* newIdentity(name))
    expect((yield* pairViaOperator(host, client, "2468")).outcome.paired).toBe(true)
    expect(yield* arm(host)).toBe(200)
    const apps = yield* promise(() => client.applist())
    yield* promise(() => client.launch(launchParams(Number(apps.xml.all("ID")[0]))))
    const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(STREAM)))
    expect(hs.play.status).toBe(200)
    const control = yield* promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY }))
    return { host, gs, hs, client, control }
  })

describe("GameStream with its seams swapped for fakes", () => {
  it.scopedLive("a launch's input reaches the fake desktop once, its sound starts and stops, the capture holds a GameStream session", () =>
    Effect.gen(function* () {
      const audio = makeFakeAudioSender()
      const input = makeFakeInputInjector()
      const { host, gs, hs, client, control } = yield* launched(audio, input, "seams-moonlight")
      const session = (yield* gs.stream)?.session_id ?? "none"
      const send = (event: Buffer) => promise(() => control.sendMessage(ControlType.inputData, event, MOUSE))
      const desktop = input.desktop
      const until = (what: string, holds: () => boolean | Promise<boolean>) => promise(() => waitFor(holds, 15_000, what))

      // A 1280x720 view: (640, 360) is the middle of the captured 320x240 area; then -40, +25.
      yield* send(absoluteMove(640, 360, 1280, 720))
      yield* send(relativeMove(-40, 25))
      yield* send(button(true, 1))
      yield* until("the button down", () => desktop().buttonsDown.includes(1))
      yield* send(button(false, 1))
      yield* send(key(true, 0x41)) // VK 'A'
      yield* until("the key down", () => desktop().keysDown.includes(XK_a))
      yield* send(key(false, 0x41))
      yield* until("the key up", () => input.ops().length === 6)
      expect(input.opened()).toEqual([DISPLAY])
      expect(input.ops()).toEqual([
        { op: "moveTo", x: 160, y: 120 },
        { op: "motion", dx: -40, dy: 25 },
        { op: "button", button: 1, down: true },
        { op: "button", button: 1, down: false },
        { op: "key", keysym: XK_a, down: true },
        { op: "key", keysym: XK_a, down: false }
      ])
      expect(desktop()).toEqual({ pointer: { x: 120, y: 145 }, keysDown: [], buttonsDown: [] })

      // Issue 11.1's attack: a recorded sealed move, sent again on the client's connection.
      const recorded = control.sealForTest(ControlType.inputData, relativeMove(10, 0))
      yield* promise(() => control.enet.send(MOUSE, recorded))
      yield* until("the recorded move", () => desktop().pointer.x === 130)
      yield* promise(() => control.enet.send(MOUSE, recorded))
      yield* until("the replay to be counted", () => Effect.runSync(gs.controlCounters).replayed === 1)
      // A fresh 1 px move after it: the host got past the replay, which never reached the desktop.
      yield* send(relativeMove(1, 0))
      yield* until("the fresh move", () => desktop().pointer.x !== 130)
      expect(desktop().pointer).toEqual({ x: 131, y: 145 })
      expect(input.ops().filter((op) => op.op === "motion" && op.dx === 10)).toHaveLength(1)
      expect((yield* gs.stream)?.input?.()).toEqual({ received: 8, injected: 8, not_applied: 0, malformed: 0, dropped: 0 })

      // The sound: started once with the client's layout and packet duration, for its address
      // and the ping payload RTSP gave it (the same for audio and video), not encrypted (not asked).
      expect(audio.calls()).toEqual([
        {
          _tag: "start",
          options: {
            clientHost: "127.0.0.1",
            pingPayload: hs.audioPingPayload,
            packetDurationMs: 10,
            channels: 6,
            source: "auto"
          }
        }
      ])

      // At least one window of the session in the armed capture before the client leaves (the
      // fake makes one every 100 ms; a fast machine gets through the input above in less).
      yield* until("a window of the session", async () => {
        const status = (await (await host.fetch("/status")).json()) as { readonly sample_count?: number }
        return (status.sample_count ?? 0) > 0
      })

      // The client leaves: the stream ends, the sound stops, the injector closes (releasing keys).
      yield* promise(() => control.disconnect())
      yield* until("the stream to end", () => Effect.runSync(gs.stream) === undefined)
      expect(audio.calls().map((c) => c._tag)).toEqual(["start", "stop"])
      expect(input.closed()).toBe(1)

      // The capture armed during it: the session as GameStream, its stage set, its windows.
      const capture = yield* stopAndRead(host)
      const meta = capture.meta.sessions.find((s) => s.session_id === session)
      expect(meta).toMatchObject({ kind: "gamestream", encoder_backend: "fake", client: client.identity.fingerprint.slice(0, 16), width: 320, height: 240, fps: 30 })
      expect(meta?.stages).toEqual(stagesOf("gamestream"))
      expect(meta?.stages).toEqual(["capture", "encode", "packetize", "send"])
      // The fake sent no video: no send-side counter is claimed, and its send stages read 0.
      expect(meta?.measured).not.toContain("send_dropped")
      expect(meta?.measured).not.toContain("sock_us")
      const windows = capture.samples.filter((s) => s.session_id === session)
      expect(windows.length).toBeGreaterThan(0)
      for (const w of windows) {
        expect(w.stages.map((s) => s.name)).toEqual(["capture", "encode", "packetize", "send"])
        expect(w.stages.filter((s) => s.name === "packetize" || s.name === "send").every((s) => s.max_us === 0)).toBe(true)
        expect(w.stages.find((s) => s.name === "encode")?.p50_us).toBeGreaterThan(0)
      }
    })
  )

  it.scopedLive("an audio sender that cannot start: the picture goes on, input still arrives", () =>
    withLogLines((lines) => Effect.gen(function* () {
      const audio = makeFakeAudioSender({ refuse: "no sound device (fake)" })
      const input = makeFakeInputInjector()
      const { gs, control } = yield* launched(audio, input, "seams-no-sound")
      yield* promise(() => control.sendMessage(ControlType.inputData, relativeMove(3, 4), MOUSE))
      yield* promise(() => waitFor(() => input.ops().length === 1, 15_000, "the move"))
      expect(input.desktop().pointer).toEqual({ x: 3, y: 4 })
      expect((yield* gs.stream)?.session_id).toBeDefined()
      // A start that failed is not stopped (nothing runs); the stream still ends when the client goes.
      yield* promise(() => control.disconnect())
      yield* promise(() => waitFor(() => Effect.runSync(gs.stream) === undefined, 15_000, "the stream to end"))
      expect(audio.calls().map((c) => c._tag)).toEqual(["start"])
      expect(input.closed()).toBe(1)
      expect(lines.filter((l) => l.includes("GameStream audio not started (video goes on): no sound device (fake)"))).toHaveLength(1)
    }))
  )
})
