/**
 * A fake `InputInjector` (src/streams/gamestream/InputInjector.ts) for tests: it records every
 * display it is opened on and every operation pushed into it, and keeps a model of "the desktop"
 * those operations make — where the pointer is, which keys and buttons are held — so a test of
 * a whole GameStream launch asserts what reached the desktop without an X server. Closing it
 * (the session's scope ending) releases what is held, as the XTEST injector does.
 */
import { Effect, Layer } from "effect"
import { InputInjector } from "../../../src/streams/gamestream/InputInjector.js"
import type { Injector } from "../../../src/streams/gamestream/InputInjector.js"
import type { InjectOp } from "../../../src/streams/gamestream/InputTranslate.js"

export interface FakeDesktop {
  readonly pointer: { readonly x: number; readonly y: number }
  /** Keysyms held down now. */
  readonly keysDown: ReadonlyArray<number>
  /** X buttons held down now. */
  readonly buttonsDown: ReadonlyArray<number>
}

export interface FakeInputInjector {
  readonly layer: Layer.Layer<InputInjector>
  /** Displays opened, in order (one per session that injects). */
  readonly opened: () => ReadonlyArray<string>
  /** Injectors closed so far. */
  readonly closed: () => number
  /** Every operation pushed, in order. */
  readonly ops: () => ReadonlyArray<InjectOp>
  /** The desktop those operations made (the pointer starts at 0, 0). */
  readonly desktop: () => FakeDesktop
}

export const makeFakeInputInjector = (): FakeInputInjector => {
  const opened: Array<string> = []
  const ops: Array<InjectOp> = []
  let closed = 0
  let pointer = { x: 0, y: 0 }
  const keys = new Set<number>()
  const buttons = new Set<number>()

  const apply = (op: InjectOp) => {
    switch (op.op) {
      case "motion":
        pointer = { x: pointer.x + op.dx, y: pointer.y + op.dy }
        return
      case "moveTo":
        pointer = { x: op.x, y: op.y }
        return
      case "button":
        if (op.down) buttons.add(op.button)
        else buttons.delete(op.button)
        return
      case "key":
        if (op.down) keys.add(op.keysym)
        else keys.delete(op.keysym)
        return
      case "text":
        return
    }
  }

  const injector: Injector = {
    push: (op) => {
      ops.push(op)
      apply(op)
      return true
    },
    counters: () => ({ applied: ops.length, refused: 0, unmapped: 0, x_errors: 0, lost: false })
  }

  const layer = Layer.succeed(
    InputInjector,
    InputInjector.of({
      open: (display) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            opened.push(display)
            return injector
          }),
          () =>
            Effect.sync(() => {
              closed++
              keys.clear()
              buttons.clear()
            })
        )
    })
  )

  return {
    layer,
    opened: () => [...opened],
    closed: () => closed,
    ops: () => [...ops],
    desktop: () => ({ pointer, keysDown: [...keys], buttonsDown: [...buttons] })
  }
}
