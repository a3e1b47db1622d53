/**
 * The typed face of the input module (`src/native/input`, built by `npm run build:native`):
 * Moonlight's pointer and keyboard replayed on an X display through XTEST, on a native thread
 * of the injector's own. `push` only queues (it never waits for the X server); `counters().applied`
 * counts operations the server has processed. `close()` releases every key and button still
 * held, gives back keycodes borrowed for text, and closes the connection.
 *
 * `XProbe` is a test hook: a second connection that asks where the pointer is and which keys
 * are down, and can hold the focus with a window that records the key events it receives.
 */
import { addonLoader } from "./addonLoader.js"

/** What `push` takes as its first argument. */
export const InjectOpCode = {
  /** a = dx, b = dy */
  motion: 0,
  /** a = x, b = y (root window coordinates) */
  moveTo: 1,
  /** a = X button (1–9), b = 1 down / 0 up */
  button: 2,
  /** a = keysym, b = 1 down / 0 up */
  key: 3,
  /** a = keysym, typed on a borrowed keycode (press and release) */
  text: 4
} as const

export interface XInjectorCounters {
  readonly applied: number
  /** Queue full, or closed, or the display was lost. */
  readonly refused: number
  /** A keysym no keycode carries (or text with no spare keycode to borrow). */
  readonly unmapped: number
  /** X protocol errors seen in this process since the module loaded. */
  readonly x_errors: number
  readonly lost: boolean
}

export interface XInjector {
  push(op: number, a: number, b: number): boolean
  counters(): XInjectorCounters
  close(): void
}

export interface XProbe {
  pointer(): { readonly x: number; readonly y: number; readonly mask: number }
  keyDown(keysym: number): boolean
  keycodeOf(keysym: number): number
  /**
   * Maps a window of the probe's own (64x64 at the top-left corner) and gives it the input
   * focus; key events to it, and button events while the pointer is over it, are recorded.
   */
  watchKeys(): boolean
  /**
   * What the watching window received since the last call: keys as an application reads them
   * (XLookupString: `code` is the keysym), buttons by X button number.
   */
  events(): ReadonlyArray<{ readonly kind: "key" | "button"; readonly code: number; readonly down: boolean }>
  close(): void
}

interface InputModule {
  /** Opens the display and checks XTEST; throws with the reason. */
  readonly XInjector: new (display: string) => XInjector
  readonly XProbe: new (display: string) => XProbe
}

/** The input module; throws with the command to run when it has not been built. */
export const inputModule: () => InputModule = addonLoader<InputModule>("input", "punktfunk_input", "the input module").load
