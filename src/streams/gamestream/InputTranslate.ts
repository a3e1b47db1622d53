/**
 * From Moonlight's input events (InputMessages.ts) to what an X server understands: pointer
 * motion, pointer buttons, and key presses by keysym. Pure, so the mapping is tested without a
 * display; the X11 injector (src/native/input) only turns keysyms into the server's keycodes.
 *
 * - Keys: Moonlight sends Windows virtual-key codes, which name PHYSICAL keys of a US layout
 *   (VK_OEM_1 is the `;:` key). Each maps to the keysym on that key's unshifted level; the
 *   keycode carrying that keysym is the same key on the host, and shift arrives as its own
 *   event. Keys with no entry here are dropped (counted as unmapped).
 * - Absolute pointer: the client's (x, y) within its reference size (view size − 1, so x may
 *   equal it) scales onto the captured area, 0 … width − 1, clamped.
 * - Buttons: 1 left, 2 middle, 3 right as X buttons 1–3; X1/X2 as X buttons 8/9.
 * - Scroll: X has no smooth wheel for XTest, only clicks (buttons 4/5 up/down, 6/7 left/right):
 *   high-resolution amounts accumulate per axis and each whole 120 becomes one click; a change
 *   of direction discards what was pending in the other direction.
 */
import type { InputEvent } from "./InputMessages.js"

export type InjectOp =
  | { readonly op: "motion"; readonly dx: number; readonly dy: number }
  | { readonly op: "moveTo"; readonly x: number; readonly y: number }
  | { readonly op: "button"; readonly button: number; readonly down: boolean }
  | { readonly op: "key"; readonly keysym: number; readonly down: boolean }
  /** Typed as a character, whatever key carries it (or none): the injector borrows a keycode. */
  | { readonly op: "text"; readonly keysym: number }

/** Notch of a high-resolution wheel (Windows' WHEEL_DELTA). */
export const WHEEL_DELTA = 120

const entries: Array<readonly [number, number]> = [
  [0x08, 0xff08], // VK_BACK → BackSpace
  [0x09, 0xff09], // VK_TAB → Tab
  [0x0c, 0xff0b], // VK_CLEAR → Clear
  [0x0d, 0xff0d], // VK_RETURN → Return
  [0x10, 0xffe1], // VK_SHIFT → Shift_L
  [0x11, 0xffe3], // VK_CONTROL → Control_L
  [0x12, 0xffe9], // VK_MENU → Alt_L
  [0x13, 0xff13], // VK_PAUSE → Pause
  [0x14, 0xffe5], // VK_CAPITAL → Caps_Lock
  [0x1b, 0xff1b], // VK_ESCAPE → Escape
  [0x20, 0x0020], // VK_SPACE → space
  [0x21, 0xff55], // VK_PRIOR → Page_Up
  [0x22, 0xff56], // VK_NEXT → Page_Down
  [0x23, 0xff57], // VK_END → End
  [0x24, 0xff50], // VK_HOME → Home
  [0x25, 0xff51], // VK_LEFT → Left
  [0x26, 0xff52], // VK_UP → Up
  [0x27, 0xff53], // VK_RIGHT → Right
  [0x28, 0xff54], // VK_DOWN → Down
  [0x29, 0xff60], // VK_SELECT → Select
  [0x2a, 0xff61], // VK_PRINT → Print
  [0x2b, 0xff62], // VK_EXECUTE → Execute
  [0x2c, 0xff61], // VK_SNAPSHOT → Print
  [0x2d, 0xff63], // VK_INSERT → Insert
  [0x2e, 0xffff], // VK_DELETE → Delete
  [0x2f, 0xff6a], // VK_HELP → Help
  [0x5b, 0xffeb], // VK_LWIN → Super_L
  [0x5c, 0xffec], // VK_RWIN → Super_R
  [0x5d, 0xff67], // VK_APPS → Menu
  [0x6a, 0xffaa], // VK_MULTIPLY → KP_Multiply
  [0x6b, 0xffab], // VK_ADD → KP_Add
  [0x6c, 0xffac], // VK_SEPARATOR → KP_Separator
  [0x6d, 0xffad], // VK_SUBTRACT → KP_Subtract
  [0x6e, 0xffae], // VK_DECIMAL → KP_Decimal
  [0x6f, 0xffaf], // VK_DIVIDE → KP_Divide
  [0x90, 0xff7f], // VK_NUMLOCK → Num_Lock
  [0x91, 0xff14], // VK_SCROLL → Scroll_Lock
  [0xa0, 0xffe1], // VK_LSHIFT → Shift_L
  [0xa1, 0xffe2], // VK_RSHIFT → Shift_R
  [0xa2, 0xffe3], // VK_LCONTROL → Control_L
  [0xa3, 0xffe4], // VK_RCONTROL → Control_R
  [0xa4, 0xffe9], // VK_LMENU → Alt_L
  [0xa5, 0xffea], // VK_RMENU → Alt_R
  [0xad, 0x1008ff12], // VK_VOLUME_MUTE → XF86AudioMute
  [0xae, 0x1008ff11], // VK_VOLUME_DOWN → XF86AudioLowerVolume
  [0xaf, 0x1008ff13], // VK_VOLUME_UP → XF86AudioRaiseVolume
  [0xb0, 0x1008ff17], // VK_MEDIA_NEXT_TRACK → XF86AudioNext
  [0xb1, 0x1008ff16], // VK_MEDIA_PREV_TRACK → XF86AudioPrev
  [0xb2, 0x1008ff15], // VK_MEDIA_STOP → XF86AudioStop
  [0xb3, 0x1008ff14], // VK_MEDIA_PLAY_PAUSE → XF86AudioPlay
  // US layout punctuation keys, by their unshifted symbol.
  [0xba, 0x003b], // VK_OEM_1 → semicolon
  [0xbb, 0x003d], // VK_OEM_PLUS → equal
  [0xbc, 0x002c], // VK_OEM_COMMA → comma
  [0xbd, 0x002d], // VK_OEM_MINUS → minus
  [0xbe, 0x002e], // VK_OEM_PERIOD → period
  [0xbf, 0x002f], // VK_OEM_2 → slash
  [0xc0, 0x0060], // VK_OEM_3 → grave
  [0xdb, 0x005b], // VK_OEM_4 → bracketleft
  [0xdc, 0x005c], // VK_OEM_5 → backslash
  [0xdd, 0x005d], // VK_OEM_6 → bracketright
  [0xde, 0x0027], // VK_OEM_7 → apostrophe
  [0xe2, 0x003c] // VK_OEM_102 → less (the extra key of ISO keyboards)
]
// Digits and letters: VK '0'–'9' are the digit keysyms, VK 'A'–'Z' the lowercase letters.
for (let vk = 0x30; vk <= 0x39; vk++) entries.push([vk, vk])
for (let vk = 0x41; vk <= 0x5a; vk++) entries.push([vk, vk + 0x20])
// Keypad digits VK_NUMPAD0–9 → KP_0–KP_9; VK_F1–VK_F24 → F1–F24.
for (let n = 0; n <= 9; n++) entries.push([0x60 + n, 0xffb0 + n])
for (let n = 0; n < 24; n++) entries.push([0x70 + n, 0xffbe + n])

const KEYSYMS: ReadonlyMap<number, number> = new Map(entries)

/** The X keysym for a Windows virtual-key code, or undefined when this host does not map it. */
export const keysymOfVirtualKey = (vk: number): number | undefined => KEYSYMS.get(vk & 0xff)

/** Moonlight's buttons (1 left, 2 middle, 3 right, 4 X1, 5 X2) as X pointer buttons. */
export const X_BUTTON: Readonly<Record<1 | 2 | 3 | 4 | 5, number>> = { 1: 1, 2: 2, 3: 3, 4: 8, 5: 9 }

/** Scales a client coordinate within its reference size onto 0 … size − 1 of the captured area. */
export const scaleAxis = (value: number, reference: number, size: number): number => {
  if (reference <= 0 || size <= 0) return 0
  const scaled = Math.round((value * (size - 1)) / reference)
  return Math.min(size - 1, Math.max(0, scaled))
}

const CONTROL_KEYSYMS: ReadonlyMap<number, number> = new Map([
  [0x08, 0xff08], // backspace → BackSpace
  [0x09, 0xff09], // tab → Tab
  [0x0a, 0xff0d], // line feed → Return
  [0x0d, 0xff0d], // carriage return → Return
  [0x1b, 0xff1b], // escape → Escape
  [0x7f, 0xffff] // delete → Delete
])

/**
 * The X keysym of a Unicode code point: Latin-1 keysyms are the code point itself, the rest of
 * Unicode is 0x01000000 + the code point; the few control characters a text field may carry
 * are their keys. Undefined for other control characters.
 */
export const keysymOfCodePoint = (cp: number): number | undefined => {
  const control = CONTROL_KEYSYMS.get(cp)
  if (control !== undefined) return control
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return undefined
  return cp <= 0xff ? cp : 0x01000000 + cp
}

export interface TranslatorState {
  /** The captured area the client sees (absolute positions are scaled onto it). */
  readonly width: number
  readonly height: number
}

export type Translation =
  | { readonly _tag: "Ops"; readonly ops: ReadonlyArray<InjectOp> }
  | { readonly _tag: "NotApplied"; readonly why: string }

/**
 * A per-session translator (it keeps the pending scroll remainders). Returns the X operations
 * for an event, or why it is not applied here.
 */
export const makeTranslator = (area: TranslatorState) => {
  let pendingV = 0
  let pendingH = 0

  const clicks = (pending: number, positive: number, negative: number): { rest: number; ops: Array<InjectOp> } => {
    const ops: Array<InjectOp> = []
    let rest = pending
    while (Math.abs(rest) >= WHEEL_DELTA) {
      const button = rest > 0 ? positive : negative
      ops.push({ op: "button", button, down: true }, { op: "button", button, down: false })
      rest -= rest > 0 ? WHEEL_DELTA : -WHEEL_DELTA
    }
    return { rest, ops }
  }

  const accumulate = (pending: number, amount: number) => (Math.sign(pending) * Math.sign(amount) < 0 ? amount : pending + amount)

  return (event: InputEvent): Translation => {
    switch (event._tag) {
      case "MouseMoveRelative":
        return { _tag: "Ops", ops: event.dx === 0 && event.dy === 0 ? [] : [{ op: "motion", dx: event.dx, dy: event.dy }] }
      case "MouseMoveAbsolute":
        return {
          _tag: "Ops",
          ops: [
            {
              op: "moveTo",
              x: scaleAxis(event.x, event.referenceWidth, area.width),
              y: scaleAxis(event.y, event.referenceHeight, area.height)
            }
          ]
        }
      case "MouseButton":
        return { _tag: "Ops", ops: [{ op: "button", button: X_BUTTON[event.button], down: event.down }] }
      case "Scroll": {
        const { rest, ops } = clicks(accumulate(pendingV, event.amount), 4, 5)
        pendingV = rest
        return { _tag: "Ops", ops }
      }
      case "HorizontalScroll": {
        const { rest, ops } = clicks(accumulate(pendingH, event.amount), 7, 6)
        pendingH = rest
        return { _tag: "Ops", ops }
      }
      case "Key": {
        const keysym = keysymOfVirtualKey(event.virtualKey)
        return keysym === undefined
          ? { _tag: "NotApplied", why: `virtual key 0x${event.virtualKey.toString(16)} has no keysym here` }
          : { _tag: "Ops", ops: [{ op: "key", keysym, down: event.down }] }
      }
      case "Text": {
        const ops: Array<InjectOp> = []
        for (const c of event.text) {
          const keysym = keysymOfCodePoint(c.codePointAt(0) ?? 0)
          if (keysym !== undefined) ops.push({ op: "text", keysym })
        }
        return ops.length === 0 ? { _tag: "NotApplied", why: "text with no printable character" } : { _tag: "Ops", ops }
      }
      case "NotApplied":
        return { _tag: "NotApplied", why: `${event.kind} input is not supported on this host` }
      case "UnknownInput":
        return { _tag: "NotApplied", why: `unknown input event 0x${event.magic.toString(16)}` }
    }
  }
}
