/**
 * Where one GameStream session's input goes: the X display the session captures, through the
 * injector the `InputInjector` Tag provides (the host's: XTEST, src/native/input; a test's: a fake
 * that records what it is given, InputInjector.ts), or nowhere, counted.
 *
 * - `PUNKTFUNK_INPUT=0` (view-only): every event is counted and dropped.
 * - The synthetic source: there is no desktop to inject into; counted and dropped.
 * - X11 capture: the injector opens the display the capture uses (the same display string),
 *   when the session starts, and closes with the session's scope — releasing whatever key or
 *   button the client left held. If it cannot open (no XTEST), the stream goes on without input.
 * In the three cases without injection, one log line per session says why.
 *
 * Gamepads, touch, pen (and unknown events) are counted as not applied: this host has no
 * virtual devices (no uinput). Keys without a keysym here are not applied either.
 *
 * `event` runs on the control stream's event fiber: it translates and queues, never waits for
 * the X server (the injector's own thread does), and never throws.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import type { InputHandler } from "./ControlStream.js"
import { InputInjector } from "./InputInjector.js"
import type { Injector, InjectorCounters } from "./InputInjector.js"
import type { InputEvent } from "./InputMessages.js"
import { makeTranslator } from "./InputTranslate.js"

export interface InputCounters {
  /** Decoded input events received. */
  readonly received: number
  /** Events whose operations were queued for the X server. */
  readonly injected: number
  /** Events this host cannot apply (gamepad, touch, pen, unknown, unmapped keys). */
  readonly not_applied: number
  /** Input messages that could not be decoded. */
  readonly malformed: number
  /** Events dropped: view-only, no display to inject into, or the injector's queue refused them. */
  readonly dropped: number
}

export interface InputSink extends InputHandler {
  readonly counters: () => InputCounters
  /** The injector's own counters (what the X server processed), when one is open. */
  readonly injector: () => InjectorCounters | undefined
}

export interface InputSinkOptions {
  /** `PUNKTFUNK_INPUT`: false makes the host view-only. */
  readonly enabled: boolean
  readonly source: string
  readonly display: string | undefined
  /** The captured area (the stream's size): absolute positions scale onto it. */
  readonly width: number
  readonly height: number
}

/** Why this session injects nothing (undefined: it injects into the display). */
const withoutInjection = (options: InputSinkOptions): string | undefined =>
  !options.enabled
    ? "PUNKTFUNK_INPUT=0: the host is view-only"
    : options.source !== "x11"
      ? `the ${options.source} source has no desktop to inject into; PUNKTFUNK_SOURCE=x11 captures one`
      : options.display === undefined
        ? "no X display is configured"
        : undefined

export const makeInputSink = (options: InputSinkOptions): Effect.Effect<InputSink, never, Scope.Scope | InputInjector> =>
  Effect.gen(function* () {
    const counts = { received: 0, injected: 0, not_applied: 0, malformed: 0, dropped: 0 }
    let injector: Injector | undefined
    const why = withoutInjection(options)
    if (why === undefined && options.display !== undefined) {
      const display = options.display
      const injectors = yield* InputInjector
      injector = yield* injectors.open(display).pipe(
        Effect.tap(() => Effect.logInfo(`GameStream input: injecting into X display '${display}' (XTEST)`)),
        Effect.catchAll((e) =>
          Effect.logWarning(`GameStream input: client input is counted and dropped this session (${e.message})`).pipe(Effect.as(undefined))
        )
      )
    } else {
      yield* Effect.logInfo(`GameStream input: client input is counted and dropped this session (${why ?? "no display"})`)
    }

    yield* Effect.addFinalizer(() =>
      counts.received + counts.malformed === 0
        ? Effect.void
        : Effect.logInfo(
            `GameStream input: ${counts.received} events, ${counts.injected} injected, ${counts.not_applied} not applied, ${counts.malformed} malformed, ${counts.dropped} dropped`
          )
    )

    const translate = makeTranslator({ width: options.width, height: options.height })
    const target = injector

    const event = (e: InputEvent): void => {
      counts.received++
      try {
        if (target === undefined) {
          counts.dropped++
          return
        }
        const t = translate(e)
        if (t._tag === "NotApplied") {
          counts.not_applied++
          return
        }
        let queued = true
        for (const op of t.ops) queued = target.push(op) && queued
        if (queued) counts.injected++
        else counts.dropped++
      } catch {
        counts.dropped++
      }
    }

    return {
      event,
      malformed: () => void counts.malformed++,
      counters: () => ({ ...counts }),
      injector: () => target?.counters()
    } satisfies InputSink
  })
