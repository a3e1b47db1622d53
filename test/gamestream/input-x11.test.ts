/**
 * XTEST injection on a private Xvfb: the native injector moves the pointer (relative and
 * absolute), presses buttons and keys, types text on a borrowed keycode, and releases what a
 * client left held when it closes; a second connection (the module's test probe:
 * XQueryPointer, XQueryKeymap) observes the server's state. Then the session-level sink: a
 * decoded Moonlight event scaled onto the captured area, and the view-only and synthetic cases
 * counting and dropping. Skipped, with a warning, where Xvfb is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Scope } from "effect"
import { InjectOpCode, inputModule } from "../../src/native/input.js"
import type { XInjector } from "../../src/native/input.js"
import { decodeInput } from "../../src/streams/gamestream/InputMessages.js"
import { InputInjectorLive } from "../../src/streams/gamestream/InputInjector.js"
import { makeInputSink as makeSink } from "../../src/streams/gamestream/InputSink.js"
import type { InputSinkOptions } from "../../src/streams/gamestream/InputSink.js"
import { hasXvfb, startXvfb, until } from "./support/inputXvfb.js"
import type { TestDisplay } from "./support/inputXvfb.js"

/** The session sink with the host's injector (XTEST), as a GameStream session gets it. */
const makeInputSink = (options: InputSinkOptions) => makeSink(options).pipe(Effect.provide(InputInjectorLive))

const W = 640
const H = 480
const BUTTON1_MASK = 1 << 8
const BUTTON3_MASK = 1 << 10
const XK_a = 0x61
const XK_Shift_L = 0xffe1

const available = hasXvfb()
if (!available) console.warn("input-x11: Xvfb is not installed (apt-get install xvfb); the XTEST injection tests are skipped")

let x: TestDisplay | undefined
const screen = (): TestDisplay => {
  if (x === undefined) throw new Error("no Xvfb")
  return x
}

beforeAll(async () => {
  if (available) x = await startXvfb(W, H)
})
afterAll(() => x?.stop())

/** Pushes operations and waits until the server has processed them all. */
const inject = async (injector: XInjector, ops: ReadonlyArray<readonly [number, number, number]>) => {
  const before = injector.counters().applied + injector.counters().unmapped
  for (const [op, a, b] of ops) expect(injector.push(op, a, b)).toBe(true)
  await until("the injector to apply its queue", () => {
    const c = injector.counters()
    return c.applied + c.unmapped >= before + ops.length
  })
}

describe.skipIf(!available)("XTEST injection under Xvfb", () => {
  it("moves the pointer absolutely and relatively", async () => {
    const injector = new (inputModule().XInjector)(screen().display)
    try {
      await inject(injector, [[InjectOpCode.moveTo, 100, 50]])
      expect(screen().probe.pointer()).toMatchObject({ x: 100, y: 50 })
      await inject(injector, [[InjectOpCode.motion, 25, -10]])
      expect(screen().probe.pointer()).toMatchObject({ x: 125, y: 40 })
      await inject(injector, [[InjectOpCode.moveTo, 639, 479]])
      expect(screen().probe.pointer()).toMatchObject({ x: 639, y: 479 })
    } finally {
      injector.close()
    }
  })

  it("presses and releases buttons and keys; closing releases what is still held", async () => {
    const injector = new (inputModule().XInjector)(screen().display)
    try {
      await inject(injector, [[InjectOpCode.button, 1, 1]])
      expect(screen().probe.pointer().mask & BUTTON1_MASK).not.toBe(0)
      await inject(injector, [[InjectOpCode.button, 1, 0]])
      expect(screen().probe.pointer().mask & BUTTON1_MASK).toBe(0)

      await inject(injector, [[InjectOpCode.key, XK_a, 1]])
      expect(screen().probe.keyDown(XK_a)).toBe(true)
      await inject(injector, [[InjectOpCode.key, XK_a, 0]])
      expect(screen().probe.keyDown(XK_a)).toBe(false)

      // A client that leaves with Shift and the right button held.
      await inject(injector, [
        [InjectOpCode.key, XK_Shift_L, 1],
        [InjectOpCode.button, 3, 1]
      ])
      expect(screen().probe.keyDown(XK_Shift_L)).toBe(true)
      expect(screen().probe.pointer().mask & BUTTON3_MASK).not.toBe(0)
    } finally {
      injector.close()
    }
    expect(screen().probe.keyDown(XK_Shift_L)).toBe(false)
    expect(screen().probe.pointer().mask & BUTTON3_MASK).toBe(0)
    expect(injector.push(InjectOpCode.motion, 1, 1)).toBe(false) // closed: refused
  })

  it("a keysym no key carries is counted as unmapped; text borrows a spare keycode and gives it back", async () => {
    const injector = new (inputModule().XInjector)(screen().display)
    const euro = 0x01000000 + 0x20ac // what text input uses for U+20AC
    try {
      await inject(injector, [[InjectOpCode.key, 0x0100fffe, 1]])
      expect(injector.counters().unmapped).toBe(1)
      await inject(injector, [[InjectOpCode.text, euro, 0]])
      expect(injector.counters().applied).toBe(1)
      expect(screen().probe.keycodeOf(euro)).not.toBe(0)
    } finally {
      injector.close()
    }
    expect(screen().probe.keycodeOf(euro)).toBe(0)
  })

  it.live("keys, text, wheel and buttons reach an application as the right symbols and buttons", () =>
    Effect.gen(function* () {
      const probe = screen().probe
      expect(probe.watchKeys()).toBe(true)
      probe.events() // whatever came before
      const scope = yield* Scope.make()
      const sink = yield* makeInputSink({ enabled: true, source: "x11", display: screen().display, width: W, height: H }).pipe(
        Scope.extend(scope)
      )
      const key = (virtualKey: number, down: boolean) => sink.event({ _tag: "Key", virtualKey, down, modifiers: 0, flags: 0 })
      key(0x48, true) // h
      key(0x48, false)
      key(0xa0, true) // Shift + 1 → exclam on a US layout
      key(0x31, true)
      key(0x31, false)
      key(0xa0, false)
      key(0xbe, true) // .
      key(0xbe, false)
      sink.event({ _tag: "Text", text: "é" })
      sink.event({ _tag: "Text", text: "€" })
      sink.event({ _tag: "Text", text: "Z" })
      // Over the window: a wheel notch up, two half notches down (one click), one notch right.
      sink.event({ _tag: "MouseMoveAbsolute", x: 10, y: 10, referenceWidth: W - 1, referenceHeight: H - 1 })
      sink.event({ _tag: "Scroll", amount: 120 })
      sink.event({ _tag: "Scroll", amount: -60 })
      sink.event({ _tag: "Scroll", amount: -60 })
      sink.event({ _tag: "HorizontalScroll", amount: 120 })
      sink.event({ _tag: "MouseButton", button: 4, down: true }) // X1
      sink.event({ _tag: "MouseButton", button: 4, down: false })
      const seen: Array<{ readonly kind: "key" | "button"; readonly code: number; readonly down: boolean }> = []
      yield* Effect.promise(() =>
        until("the key and button events to reach the window", () => {
          seen.push(...probe.events())
          return seen.length >= 22
        })
      )
      yield* Scope.close(scope, Exit.void)
      const pressed = (kind: "key" | "button") => seen.filter((e) => e.down && e.kind === kind).map((e) => e.code)
      expect(pressed("key")).toEqual([0x68, 0xffe1, 0x21, 0x2e, 0xe9, 0x010020ac, 0x5a])
      expect(pressed("button")).toEqual([4, 5, 7, 8])
      expect(seen.filter((e) => !e.down)).toHaveLength(11)
      expect(sink.counters()).toMatchObject({ received: 18, injected: 18, dropped: 0 })
    })
  )

  it("an X server that goes away mid-session: input is refused and counted, nothing crashes, close still works", async () => {
    const doomed = await startXvfb(320, 240)
    const injector = new (inputModule().XInjector)(doomed.display)
    try {
      await inject(injector, [[InjectOpCode.moveTo, 10, 10]])
      doomed.stop() // the probe closes, the server is killed
      // Keep pushing until the injector notices (its next XSync fails): then everything is refused.
      await until("the injector to notice the lost display", () => {
        injector.push(InjectOpCode.motion, 1, 1)
        return injector.counters().lost
      })
      expect(injector.push(InjectOpCode.motion, 1, 1)).toBe(false)
      expect(injector.counters().refused).toBeGreaterThan(0)
    } finally {
      injector.close()
    }
  })

  it("a display that does not exist is an error naming it", () => {
    expect(() => new (inputModule().XInjector)(":249")).toThrow(/cannot open X display ':249'/)
  })

  it.live("the session sink: decoded Moonlight events reach the display, scaled onto the captured area", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const sink = yield* makeInputSink({ enabled: true, source: "x11", display: screen().display, width: W, height: H }).pipe(
        Scope.extend(scope)
      )
      // Absolute (1279, 719) of a 1280x720 client view (reference 1279x719): the far corner.
      const abs = Buffer.from([0, 0, 0, 14, 5, 0, 0, 0, 0x04, 0xff, 0x02, 0xcf, 0, 0, 0x04, 0xff, 0x02, 0xcf])
      const decoded = decodeInput(abs)
      expect(Either.isRight(decoded)).toBe(true)
      if (Either.isRight(decoded)) sink.event(decoded.right)
      sink.event({ _tag: "NotApplied", kind: "gamepad" })
      sink.malformed("test")
      yield* Effect.promise(() => until("the absolute move", () => (sink.injector()?.applied ?? 0) >= 1))
      expect(screen().probe.pointer()).toMatchObject({ x: W - 1, y: H - 1 })
      expect(sink.counters()).toEqual({ received: 2, injected: 1, not_applied: 1, malformed: 1, dropped: 0 })
      yield* Scope.close(scope, Exit.void)
    })
  )
})

describe("the session sink without a display to inject into", () => {
  it.live("view-only (PUNKTFUNK_INPUT=0) and the synthetic source count and drop", () =>
    Effect.gen(function* () {
      for (const options of [
        { enabled: false, source: "x11", display: ":0" },
        { enabled: true, source: "synthetic", display: undefined }
      ]) {
        const sink = yield* Effect.scoped(makeInputSink({ ...options, width: W, height: H }))
        sink.event({ _tag: "MouseMoveRelative", dx: 1, dy: 1 })
        sink.event({ _tag: "Key", virtualKey: 0x41, down: true, modifiers: 0, flags: 0 })
        expect(sink.counters()).toEqual({ received: 2, injected: 0, not_applied: 0, malformed: 0, dropped: 2 })
        expect(sink.injector()).toBeUndefined()
      }
    })
  )
})
