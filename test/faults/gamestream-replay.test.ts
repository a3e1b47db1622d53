/**
 * Attack: replaying a GameStream client's sealed input. A host capturing a private Xvfb, a paired
 * client streaming from it (our TypeScript Moonlight-like client, V2 control IV), and an attacker
 * who recorded one of the client's sealed control messages — a relative mouse move — off the
 * network. It cannot read or forge it, but it can send the same bytes again:
 *  - on the client's own ENet connection (as if injected into it);
 *  - wrapped in a fresh ENet connection of its own, while the session runs;
 *  - wrapped in a fresh ENet connection after the launch was played again (a new RTSP
 *    handshake: a new control session under the SAME key).
 * Each time the pointer does not move a second time and the host's `replayed` counter (or, for a
 * peer no session expects, `refused`) rises. And what a strict sequence check would break still
 * works: messages overtaken by later ones (Moonlight numbers all channels from one counter) are
 * applied, among them a key release that arrives after later mouse moves.
 * Skipped, with a warning, where Xvfb is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nativePipelineLayer } from "../../src/PipelineChoice.js"
import { ControlType } from "../../src/streams/gamestream/ControlMessages.js"
import { ControlClient } from "../gamestream/support/ControlClient.js"
import { EnetClient } from "../gamestream/support/EnetClient.js"
import { launchParams } from "../gamestream/support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../gamestream/support/Hosts.js"
import { hasXvfb, startXvfb, until } from "../gamestream/support/inputXvfb.js"
import type { TestDisplay } from "../gamestream/support/inputXvfb.js"
import { absoluteMove, key, relativeMove } from "../gamestream/support/InputEvents.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "../gamestream/support/RtspClient.js"
import { waitFor } from "../support/TestHost.js"

const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 240, fps: 30, bitrateKbps: 1_000 }
const RIKEY = launchParams(1).rikey ?? ""
const XK_a = 0x61
/** Moonlight's channels (CTRL_CHANNEL_KEYBOARD, CTRL_CHANNEL_MOUSE). */
const KEYBOARD = 2
const MOUSE = 3

const available = hasXvfb()
if (!available) console.warn("gamestream-replay: Xvfb is not installed (apt-get install xvfb); the replay attack test is skipped")

let x: TestDisplay | undefined
beforeAll(async () => {
  if (available) x = await startXvfb(640, 480)
})
afterAll(() => x?.stop())

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe.skipIf(!available)("attack: replayed GameStream control messages", () => {
  it.scopedLive("a recorded input message is applied once, however it is sent again; overtaken messages still count", () =>
    Effect.gen(function* () {
      const screen = x
      if (screen === undefined) throw new Error("no Xvfb")
      const host = yield* startGameStreamHost({
        pipeline: nativePipelineLayer(),
        env: { PUNKTFUNK_SOURCE: "x11", PUNKTFUNK_DISPLAY: screen.display }
      })
      const gs = gameStreamOf(host)
      const client = clientFor(host, yield* newIdentity("replay-victim"))
      expect((yield* pairViaOperator(host, client, "4321")).outcome.paired).toBe(true)
      const apps = yield* promise(() => client.applist())
      yield* promise(() => client.launch(launchParams(Number(apps.xml.all("ID")[0]))))
      const rtsp = new RtspClient(gs.rtspPort)
      const hs = yield* promise(() => rtsp.handshake(moonlightAnnounce(STREAM)))
      yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) !== undefined, 20_000, "the stream to start"))
      const control = yield* Effect.acquireRelease(
        promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
        (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
      )
      const counters = () => Effect.runSync(gs.controlCounters)
      const pointer = () => screen.probe.pointer()

      // A 1280x720 view: (640, 360) is the middle of the captured 320x240 area.
      yield* promise(() => control.sendMessage(ControlType.inputData, absoluteMove(640, 360, 1280, 720), MOUSE))
      yield* promise(() => until("the absolute move", () => pointer().x === 160 && pointer().y === 120))

      // The message the attacker records: 10 px to the right.
      const recorded = control.sealForTest(ControlType.inputData, relativeMove(10, 0))
      yield* promise(() => control.enet.send(MOUSE, recorded))
      yield* promise(() => until("the recorded move", () => pointer().x === 170))
      expect(counters().replayed).toBe(0)

      // 1. The same bytes again on the client's own connection: dropped and counted. A fresh
      //    1 px move sent after it shows the host got past the replay.
      yield* promise(() => control.enet.send(MOUSE, recorded))
      yield* promise(() => until("the replay to be counted", () => counters().replayed === 1))
      yield* promise(() => control.sendMessage(ControlType.inputData, relativeMove(1, 0), MOUSE))
      yield* promise(() => until("the fresh move", () => pointer().x !== 170))
      expect(pointer()).toMatchObject({ x: 171, y: 120 })

      // 2. Re-wrapped in a fresh ENet connection with the session's connect data, while the
      //    session runs: no session takes a second peer; refused, the move never applied.
      const refusedBefore = counters().refused
      const intruder = yield* promise(() => EnetClient.connect({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData }))
      yield* promise(() => intruder.send(MOUSE, recorded))
      yield* promise(() => intruder.disconnected)
      expect(counters().refused).toBe(refusedBefore + 1)
      expect(pointer()).toMatchObject({ x: 171, y: 120 })

      // 3. Overtaken messages are not replays: +5 is numbered before +3 but arrives after it.
      const five = control.sealForTest(ControlType.inputData, relativeMove(5, 0))
      const three = control.sealForTest(ControlType.inputData, relativeMove(3, 0))
      yield* promise(() => control.enet.send(MOUSE, three))
      yield* promise(() => control.enet.send(MOUSE, five))
      yield* promise(() => until("both overtaken moves", () => pointer().x === 179))

      // A key release lost once and retransmitted after 20 later mouse moves (other channel).
      yield* promise(() => control.sendMessage(ControlType.inputData, key(true, 0x41), KEYBOARD))
      yield* promise(() => until("the key down", () => screen.probe.keyDown(XK_a)))
      const release = control.sealForTest(ControlType.inputData, key(false, 0x41))
      for (let i = 0; i < 20; i++) yield* promise(() => control.sendMessage(ControlType.inputData, relativeMove(0, 1), MOUSE))
      yield* promise(() => until("the later moves", () => pointer().y === 140))
      yield* promise(() => control.enet.send(KEYBOARD, release))
      yield* promise(() => until("the overtaken key release", () => !screen.probe.keyDown(XK_a)))
      expect(counters().replayed).toBe(1)
      const applied = (yield* gs.stream)?.input?.()
      // The absolute move, +10 once, +1, +5, +3, the key down, 20 moves, the key up.
      expect(applied).toMatchObject({ received: 27, injected: 27, malformed: 0 })

      // 4. The launch played again: a new RTSP handshake, a new control session under the SAME
      //    key. The recorded bytes in a fresh ENet connection with the new connect data are the
      //    first thing that session sees: a replay, the peer dropped, nothing applied.
      const before = (yield* gs.stream)?.session_id
      const again = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(STREAM)))
      yield* promise(() =>
        waitFor(async () => {
          const running = await Effect.runPromise(gs.stream)
          return running !== undefined && running.session_id !== before
        }, 20_000, "the stream to start again")
      )
      const replayer = yield* promise(() => EnetClient.connect({ host: "127.0.0.1", port: gs.controlPort, connectData: again.connectData }))
      yield* promise(() => replayer.send(MOUSE, recorded))
      yield* promise(() => replayer.disconnected)
      expect(counters().replayed).toBe(2)
      expect(pointer()).toMatchObject({ x: 179, y: 140 })
      expect((yield* gs.stream)?.input?.()).toMatchObject({ received: 0, injected: 0 })
    })
  )
})
