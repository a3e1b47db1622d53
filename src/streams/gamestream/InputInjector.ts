/**
 * The seam between a GameStream session's input and the desktop: the `InputInjector` Tag opens
 * an injector on an X display; the session's input sink (InputSink.ts) pushes translated
 * operations (pointer moves, buttons, keys by keysym, text) into it.
 *
 * Why a Tag and not a direct call into the addon: what reached "the desktop" is what an operator
 * notices, and a test should be able to assert it without an X server. The host provides
 * `InputInjectorLive` (the XTEST injector of `src/native/input`, on its own thread); tests swap
 * in a fake that records the operations it is given (test/gamestream/support/FakeInputInjector.ts).
 * Whether a session injects at all (view-only, a source without a desktop) stays the sink's
 * decision: the injector is only opened when there is somewhere to inject.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { InjectOpCode, inputModule } from "../../native/input.js"
import type { XInjectorCounters } from "../../native/input.js"
import type { InjectOp } from "./InputTranslate.js"

/** What the desktop side processed (the XTEST injector's counters, or a fake's). */
export type InjectorCounters = XInjectorCounters

/** An open injector. `push` only queues (never waits for the desktop); false: refused. */
export interface Injector {
  readonly push: (op: InjectOp) => boolean
  readonly counters: () => InjectorCounters
}

/** The display could not be opened for injection (no server, no XTEST); `message` says why. */
export class InputInjectorError extends Data.TaggedError("InputInjectorError")<{ readonly message: string }> {}

export interface InputInjectorService {
  /** Opens an injector on `display` for the scope's life; closing it releases held keys and buttons. */
  readonly open: (display: string) => Effect.Effect<Injector, InputInjectorError, Scope.Scope>
}

export class InputInjector extends Context.Tag("punktfunk/InputInjector")<InputInjector, InputInjectorService>() {}

const codeOf = (op: InjectOp): readonly [number, number, number] => {
  switch (op.op) {
    case "motion":
      return [InjectOpCode.motion, op.dx, op.dy]
    case "moveTo":
      return [InjectOpCode.moveTo, op.x, op.y]
    case "button":
      return [InjectOpCode.button, op.button, op.down ? 1 : 0]
    case "key":
      return [InjectOpCode.key, op.keysym, op.down ? 1 : 0]
    case "text":
      return [InjectOpCode.text, op.keysym, 0]
  }
}

/** The XTEST injector: one connection to the display per session, closed with its scope. */
export const InputInjectorLive: Layer.Layer<InputInjector> = Layer.succeed(
  InputInjector,
  InputInjector.of({
    open: (display) =>
      Effect.acquireRelease(
        Effect.try({
          try: () => new (inputModule().XInjector)(display),
          catch: (e) => new InputInjectorError({ message: e instanceof Error ? e.message : String(e) })
        }),
        (x) => Effect.sync(() => x.close())
      ).pipe(
        Effect.map(
          (x): Injector => ({
            push: (op) => {
              const [code, a, b] = codeOf(op)
              return x.push(code, a, b)
            },
            counters: () => x.counters()
          })
        )
      )
  })
)
