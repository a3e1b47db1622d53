/**
 * Moonlight's input events (control message 0x0206), byte layouts written from the protocol
 * description (moonlight-common-c's Input.h: u32 BE size of what follows, u32 LE magic, then
 * the fields — mouse coordinates and scroll amounts BE, key codes LE), decoded; and the
 * translation to X operations (keysyms, scaled positions, wheel clicks).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { ControlType, decodeControlMessage, encodeInner } from "../../src/streams/gamestream/ControlMessages.js"
import { decodeInput } from "../../src/streams/gamestream/InputMessages.js"
import type { InputEvent } from "../../src/streams/gamestream/InputMessages.js"
import { keysymOfVirtualKey, makeTranslator, scaleAxis } from "../../src/streams/gamestream/InputTranslate.js"

/** One event as a client frames it: BE size (magic + fields), LE magic, fields. */
const event = (magic: number, fields: ReadonlyArray<number>): Buffer => {
  const out = Buffer.alloc(8 + fields.length)
  out.writeUInt32BE(4 + fields.length, 0)
  out.writeUInt32LE(magic >>> 0, 4)
  Buffer.from(fields).copy(out, 8)
  return out
}
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff]
const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff]

const ok = (bytes: Buffer): InputEvent => {
  const r = decodeInput(bytes)
  if (Either.isLeft(r)) throw new Error(`expected an event, got: ${r.left.reason}`)
  return r.right
}
const bad = (bytes: Buffer): string => {
  const r = decodeInput(bytes)
  if (Either.isRight(r)) throw new Error(`expected malformed, got ${JSON.stringify(r.right)}`)
  return r.left.reason
}

describe("input event decoding", () => {
  it("relative mouse move (0x07): BE signed deltas", () => {
    expect(ok(event(0x07, [...be16(5), ...be16(-3 & 0xffff)]))).toEqual({ _tag: "MouseMoveRelative", dx: 5, dy: -3 })
    expect(ok(event(0x07, [0x80, 0x00, 0x7f, 0xff]))).toEqual({ _tag: "MouseMoveRelative", dx: -32768, dy: 32767 })
  })

  it("absolute mouse move (0x05): BE x, y, unused, reference width and height", () => {
    expect(ok(event(0x05, [...be16(100), ...be16(200), 0, 0, ...be16(1279), ...be16(719)]))).toEqual({
      _tag: "MouseMoveAbsolute",
      x: 100,
      y: 200,
      referenceWidth: 1279,
      referenceHeight: 719
    })
    expect(bad(event(0x05, [...be16(1), ...be16(1), 0, 0, 0, 0, ...be16(719)]))).toContain("reference size")
  })

  it("mouse buttons (0x08 down, 0x09 up): left, middle, right, X1, X2; others refused", () => {
    for (const button of [1, 2, 3, 4, 5]) {
      expect(ok(event(0x08, [button]))).toEqual({ _tag: "MouseButton", button, down: true })
      expect(ok(event(0x09, [button]))).toEqual({ _tag: "MouseButton", button, down: false })
    }
    expect(bad(event(0x08, [0]))).toContain("mouse button 0")
    expect(bad(event(0x09, [6]))).toContain("mouse button 6")
  })

  it("vertical scroll (0x0A, BE amount twice + zero) and horizontal scroll (0x55000001, BE)", () => {
    expect(ok(event(0x0a, [...be16(120), ...be16(120), 0, 0]))).toEqual({ _tag: "Scroll", amount: 120 })
    expect(ok(event(0x0a, [...be16(-30 & 0xffff), ...be16(-30 & 0xffff), 0, 0]))).toEqual({ _tag: "Scroll", amount: -30 })
    expect(ok(event(0x55000001, be16(-240 & 0xffff)))).toEqual({ _tag: "HorizontalScroll", amount: -240 })
  })

  it("keys (0x03 down, 0x04 up): flags, LE key code (VK in the low byte, Moonlight sets 0x8000), modifiers", () => {
    // 'A' with shift held, as moonlight-qt sends it: keyCode 0x8041.
    expect(ok(event(0x03, [0x00, ...le16(0x8041), 0x01, 0, 0]))).toEqual({
      _tag: "Key",
      virtualKey: 0x41,
      down: true,
      flags: 0,
      modifiers: 0x01
    })
    expect(ok(event(0x04, [0x01, ...le16(0x0d), 0x00, 0, 0]))).toEqual({ _tag: "Key", virtualKey: 0x0d, down: false, flags: 1, modifiers: 0 })
  })

  it("UTF-8 text (0x17): the bytes after the magic; not UTF-8, empty or over 32 bytes refused", () => {
    expect(ok(event(0x17, [...Buffer.from("é", "utf8")]))).toEqual({ _tag: "Text", text: "é" })
    expect(ok(event(0x17, [...Buffer.from("😀", "utf8")]))).toEqual({ _tag: "Text", text: "😀" })
    expect(bad(event(0x17, [0xc3]))).toContain("not UTF-8")
    expect(bad(event(0x17, []))).toContain("needs 1")
    expect(bad(event(0x17, new Array<number>(33).fill(0x61)))).toContain("at most 32")
  })

  it("gamepad, haptics, touch, pen and the other Sunshine gamepad events parse as not applied", () => {
    const cases: ReadonlyArray<readonly [number, number, string]> = [
      [0x0c, 26, "gamepad"],
      [0x0d, 2, "haptics"],
      [0x55000002, 28, "touch"],
      [0x55000003, 28, "pen"],
      [0x55000004, 8, "gamepad-arrival"],
      [0x55000005, 20, "gamepad-touch"],
      [0x55000006, 16, "gamepad-motion"],
      [0x55000007, 4, "gamepad-battery"]
    ]
    for (const [magic, size, kind] of cases) {
      expect(ok(event(magic, new Array<number>(size).fill(0)))).toEqual({ _tag: "NotApplied", kind })
      expect(bad(event(magic, new Array<number>(size - 1).fill(0)))).toContain(`needs ${size}`)
    }
  })

  it("an unknown magic is UnknownInput, not an error", () => {
    expect(ok(event(0x55000099, [1, 2, 3]))).toEqual({ _tag: "UnknownInput", magic: 0x55000099 })
  })

  it("truncated, oversized and lying headers are malformed", () => {
    expect(bad(Buffer.alloc(0))).toContain("header truncated")
    expect(bad(Buffer.from([0, 0, 0, 8, 7, 0, 0]))).toContain("header truncated")
    // Size field says more than follows (truncated in transit).
    const truncated = event(0x07, [0, 1, 0, 2]).subarray(0, 10)
    expect(bad(truncated)).toContain("truncated")
    // Trailing bytes beyond the declared size (one event per message).
    expect(bad(Buffer.concat([event(0x07, [0, 1, 0, 2]), Buffer.from([9, 9])]))).toContain("one event per message")
    // A size field near 2^32.
    const huge = event(0x07, [0, 1, 0, 2])
    huge.writeUInt32BE(0xffffffff, 0)
    expect(bad(huge)).toContain("truncated")
    // Right framing, too few fields for the event.
    expect(bad(event(0x07, [0, 1]))).toContain("needs 4")
    expect(bad(event(0x03, [0, 0x41, 0]))).toContain("needs 6")
  })

  it("an event longer than its fields is accepted (a newer client may append some)", () => {
    expect(ok(event(0x07, [0, 1, 0, 2, 0xaa, 0xbb]))).toEqual({ _tag: "MouseMoveRelative", dx: 1, dy: 2 })
  })

  it("as control message 0x0206: an Input message, or malformed with type 0x0206", () => {
    const good = decodeControlMessage(encodeInner(ControlType.inputData, event(0x07, [0, 1, 0, 2])))
    expect(Either.getOrThrow(good)).toEqual({ _tag: "Input", event: { _tag: "MouseMoveRelative", dx: 1, dy: 2 } })
    const broken = decodeControlMessage(encodeInner(ControlType.inputData, Buffer.from([0, 0, 0, 4])))
    expect(Either.isLeft(broken) && broken.left.type).toBe(0x0206)
  })
})

describe("input translation to X operations", () => {
  it("virtual keys map to the keysyms of a US layout", () => {
    expect(keysymOfVirtualKey(0x41)).toBe(0x61) // A → a
    expect(keysymOfVirtualKey(0x5a)).toBe(0x7a) // Z → z
    expect(keysymOfVirtualKey(0x30)).toBe(0x30) // 0
    expect(keysymOfVirtualKey(0x70)).toBe(0xffbe) // F1
    expect(keysymOfVirtualKey(0x7b)).toBe(0xffc9) // F12
    expect(keysymOfVirtualKey(0x25)).toBe(0xff51) // Left
    expect(keysymOfVirtualKey(0x28)).toBe(0xff54) // Down
    expect(keysymOfVirtualKey(0xa0)).toBe(0xffe1) // LShift → Shift_L
    expect(keysymOfVirtualKey(0xa3)).toBe(0xffe4) // RControl → Control_R
    expect(keysymOfVirtualKey(0xa4)).toBe(0xffe9) // LMenu → Alt_L
    expect(keysymOfVirtualKey(0x5b)).toBe(0xffeb) // LWin → Super_L
    expect(keysymOfVirtualKey(0x0d)).toBe(0xff0d) // Return
    expect(keysymOfVirtualKey(0x1b)).toBe(0xff1b) // Escape
    expect(keysymOfVirtualKey(0x09)).toBe(0xff09) // Tab
    expect(keysymOfVirtualKey(0x08)).toBe(0xff08) // BackSpace
    expect(keysymOfVirtualKey(0x20)).toBe(0x20) // space
    expect(keysymOfVirtualKey(0x2e)).toBe(0xffff) // Delete
    expect(keysymOfVirtualKey(0x24)).toBe(0xff50) // Home
    expect(keysymOfVirtualKey(0x23)).toBe(0xff57) // End
    expect(keysymOfVirtualKey(0x21)).toBe(0xff55) // Page_Up
    expect(keysymOfVirtualKey(0x22)).toBe(0xff56) // Page_Down
    expect(keysymOfVirtualKey(0xba)).toBe(0x3b) // ;:
    expect(keysymOfVirtualKey(0xde)).toBe(0x27) // '"
    expect(keysymOfVirtualKey(0xc0)).toBe(0x60) // `~
    expect(keysymOfVirtualKey(0xbf)).toBe(0x2f) // /?
    expect(keysymOfVirtualKey(0x8041)).toBe(0x61) // the 0x8000 Moonlight sets is ignored
    expect(keysymOfVirtualKey(0xff)).toBeUndefined()
  })

  it("absolute positions scale from the client's reference size onto the captured area", () => {
    expect(scaleAxis(0, 1279, 640)).toBe(0)
    expect(scaleAxis(1279, 1279, 640)).toBe(639) // the far edge is reachable
    expect(scaleAxis(640, 1279, 640)).toBe(320)
    expect(scaleAxis(5000, 1279, 640)).toBe(639) // clamped
    expect(scaleAxis(-10, 1279, 640)).toBe(0)
    const t = makeTranslator({ width: 640, height: 480 })
    expect(t({ _tag: "MouseMoveAbsolute", x: 1279, y: 0, referenceWidth: 1279, referenceHeight: 719 })).toEqual({
      _tag: "Ops",
      ops: [{ op: "moveTo", x: 639, y: 0 }]
    })
  })

  it("buttons: X1/X2 are X buttons 8/9", () => {
    const t = makeTranslator({ width: 640, height: 480 })
    expect(t({ _tag: "MouseButton", button: 4, down: true })).toEqual({ _tag: "Ops", ops: [{ op: "button", button: 8, down: true }] })
    expect(t({ _tag: "MouseButton", button: 3, down: false })).toEqual({ _tag: "Ops", ops: [{ op: "button", button: 3, down: false }] })
  })

  it("scroll: 120 high-resolution units per click, remainders kept, reset on a change of direction", () => {
    const t = makeTranslator({ width: 640, height: 480 })
    const click = (button: number) => [
      { op: "button", button, down: true },
      { op: "button", button, down: false }
    ]
    expect(t({ _tag: "Scroll", amount: 240 })).toEqual({ _tag: "Ops", ops: [...click(4), ...click(4)] })
    expect(t({ _tag: "Scroll", amount: 60 })).toEqual({ _tag: "Ops", ops: [] })
    expect(t({ _tag: "Scroll", amount: 60 })).toEqual({ _tag: "Ops", ops: click(4) })
    expect(t({ _tag: "Scroll", amount: 100 })).toEqual({ _tag: "Ops", ops: [] })
    expect(t({ _tag: "Scroll", amount: -120 })).toEqual({ _tag: "Ops", ops: click(5) }) // the pending 100 up is dropped
    expect(t({ _tag: "HorizontalScroll", amount: 120 })).toEqual({ _tag: "Ops", ops: click(7) })
    expect(t({ _tag: "HorizontalScroll", amount: -120 })).toEqual({ _tag: "Ops", ops: click(6) })
  })

  it("text becomes keysyms; gamepads and unmapped keys are not applied", () => {
    const t = makeTranslator({ width: 640, height: 480 })
    expect(t({ _tag: "Text", text: "aé€\n" })).toEqual({
      _tag: "Ops",
      ops: [
        { op: "text", keysym: 0x61 },
        { op: "text", keysym: 0xe9 },
        { op: "text", keysym: 0x010020ac },
        { op: "text", keysym: 0xff0d }
      ]
    })
    expect(t({ _tag: "NotApplied", kind: "gamepad" })._tag).toBe("NotApplied")
    expect(t({ _tag: "Key", virtualKey: 0xff, down: true, modifiers: 0, flags: 0 })._tag).toBe("NotApplied")
  })
})
