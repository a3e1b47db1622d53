/**
 * Input end to end: a GameStream host capturing a private Xvfb (PUNKTFUNK_SOURCE=x11, the native
 * pipeline), a client that pairs, launches, plays and opens its encrypted control stream (the
 * TypeScript Moonlight-like client), then sends input as Moonlight does — control message 0x0206
 * carrying one event (u32 BE size, u32 LE magic, fields) — and the pointer on the X display
 * moves, a button and a key go down and up. What the host made of it is on the running stream's
 * input counters. Then the same with PUNKTFUNK_INPUT=0: the pointer stays where it was.
 * Skipped, with a warning, where Xvfb is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { nativePipelineLayer } from "../../src/PipelineChoice.js"
import { ControlType } from "../../src/streams/gamestream/ControlMessages.js"
import { ControlClient } from "./support/ControlClient.js"
import { launchParams } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"
import { hasXvfb, startXvfb, until } from "./support/inputXvfb.js"
import type { TestDisplay } from "./support/inputXvfb.js"
import { absoluteMove, button, inputEvent, key, relativeMove } from "./support/InputEvents.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"
import { waitFor } from "../support/TestHost.js"

// The client streams the display's top-left 320x240; absolute positions scale onto that area.
const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 240, fps: 30, bitrateKbps: 1_000 }
const RIKEY = launchParams(1).rikey ?? ""
const BUTTON1_MASK = 1 << 8
const XK_a = 0x61

const available = hasXvfb()
if (!available) console.warn("input-session: Xvfb is not installed (apt-get install xvfb); the end-to-end input test is skipped")

let x: TestDisplay | undefined
beforeAll(async () => {
  if (available) x = await startXvfb(640, 480)
})
afterAll(() => x?.stop())

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** A host on the Xvfb display, a paired client streaming from it, its control stream open. */
const streamingClient = (display: string, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const host = yield* startGameStreamHost({
      pipeline: nativePipelineLayer(),
      env: { PUNKTFUNK_SOURCE: "x11", PUNKTFUNK_DISPLAY: display, ...env }
    })
    const gs = gameStreamOf(host)
    const client = clientFor(host, yield* newIdentity("input-e2e"))
    expect((yield* pairViaOperator(host, client, "1234")).outcome.paired).toBe(true)
    const apps = yield* promise(() => client.applist())
    yield* promise(() => client.launch(launchParams(Number(apps.xml.all("ID")[0]))))
    const rtsp = new RtspClient(gs.rtspPort)
    const hs = yield* promise(() => rtsp.handshake(moonlightAnnounce(STREAM)))
    expect(hs.play.status).toBe(200)
    yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) !== undefined, 20_000, "the stream to start"))
    const control = yield* Effect.acquireRelease(
      promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
      (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
    )
    const send = (event: Buffer) => promise(() => control.sendMessage(ControlType.inputData, event))
    const inputCounters = Effect.gen(function* () {
      const running = yield* gs.stream
      return running?.input?.()
    })
    return { send, inputCounters }
  })

describe.skipIf(!available)("GameStream input on an X11 desktop, end to end", () => {
  it.scopedLive("the client's encrypted mouse and keyboard input moves the pointer and presses keys on the captured display", () =>
    Effect.gen(function* () {
      const screen = x
      if (screen === undefined) throw new Error("no Xvfb")
      const { send, inputCounters } = yield* streamingClient(screen.display)

      // A 1280x720 client view: (640, 360) is the middle of the captured 320x240 area.
      yield* send(absoluteMove(640, 360, 1280, 720))
      yield* promise(() => until("the absolute move", () => screen.probe.pointer().x === 160 && screen.probe.pointer().y === 120))
      yield* send(relativeMove(-40, 25))
      yield* promise(() => until("the relative move", () => screen.probe.pointer().x === 120 && screen.probe.pointer().y === 145))

      yield* send(button(true, 1))
      yield* promise(() => until("the left button down", () => (screen.probe.pointer().mask & BUTTON1_MASK) !== 0))
      yield* send(button(false, 1))
      yield* promise(() => until("the left button up", () => (screen.probe.pointer().mask & BUTTON1_MASK) === 0))

      yield* send(key(true, 0x41)) // VK 'A'
      yield* promise(() => until("the key down", () => screen.probe.keyDown(XK_a)))
      yield* send(key(false, 0x41))
      yield* promise(() => until("the key up", () => !screen.probe.keyDown(XK_a)))

      // A malformed event and a gamepad event: counted, nothing else happens.
      yield* send(Buffer.from([0, 0, 0, 9, 7, 0, 0, 0]))
      yield* send(inputEvent(0x0c, new Array<number>(26).fill(0)))
      yield* promise(() =>
        until("the last events to be counted", () => {
          const c = Effect.runSync(inputCounters)
          return c !== undefined && c.malformed === 1 && c.not_applied === 1
        })
      )
      expect(yield* inputCounters).toEqual({ received: 7, injected: 6, not_applied: 1, malformed: 1, dropped: 0 })
    })
  )

  it.scopedLive("PUNKTFUNK_INPUT=0: the host is view-only, input is counted and dropped", () =>
    Effect.gen(function* () {
      const screen = x
      if (screen === undefined) throw new Error("no Xvfb")
      const { send, inputCounters } = yield* streamingClient(screen.display, { PUNKTFUNK_INPUT: "0" })
      const before = screen.probe.pointer()
      yield* send(absoluteMove(10, 10, 1280, 720))
      yield* send(relativeMove(7, 7))
      yield* promise(() => until("the events to be counted", () => Effect.runSync(inputCounters)?.dropped === 2))
      expect(yield* inputCounters).toEqual({ received: 2, injected: 0, not_applied: 0, malformed: 0, dropped: 2 })
      expect(screen.probe.pointer()).toMatchObject({ x: before.x, y: before.y })
    })
  )
})
