/**
 * Moonlight's input events, as they arrive in the payload of control message 0x0206 from a
 * client that talks to a generation-7 host (appversion 7.1.431.-1) over the encrypted control
 * stream: one event per message, with no further encryption (the control envelope already is).
 *
 * Layout of one event (written from the protocol description in moonlight-common-c's Input.h
 * and InputStream.c): u32 BIG endian size (what follows it, magic included), u32 LITTLE endian
 * magic, then the event's fields. Field endianness differs by event — mouse coordinates and
 * scroll amounts are big endian, key codes and gamepad fields little endian:
 *
 * | magic      | event                | fields after the magic                                   |
 * | ---------- | -------------------- | -------------------------------------------------------- |
 * | 0x03, 0x04 | key down / up        | u8 flags, i16 LE key code (Windows VK in the low byte), u8 modifiers, i16 0 |
 * | 0x05       | absolute mouse       | i16 BE x, i16 BE y, i16 unused, i16 BE reference width, i16 BE reference height (the client sends its view size − 1) |
 * | 0x07       | relative mouse       | i16 BE dx, i16 BE dy                                      |
 * | 0x08, 0x09 | mouse button down/up | u8 button (1 left, 2 middle, 3 right, 4 X1, 5 X2)         |
 * | 0x0A       | vertical scroll      | i16 BE amount (120 per notch, positive = away from the user), i16 BE the same, i16 0 |
 * | 0x55000001 | horizontal scroll    | i16 BE amount (positive = right)                          |
 * | 0x17       | UTF-8 text           | the text's bytes (a client sends one code point per event) |
 * | 0x0C       | gamepad state        | 26 bytes of multi-controller state                        |
 * | 0x0D       | enable haptics       | u16                                                       |
 * | 0x55000002 | touch                | 28 bytes                                                  |
 * | 0x55000003 | pen                  | 28 bytes                                                  |
 * | 0x55000004…7 | gamepad arrival, touchpad, motion, battery | 8, 20, 16, 4 bytes              |
 *
 * What is refused as malformed (counted by the caller, dropped, never thrown): a payload
 * shorter than the 8-byte header, a size field that disagrees with the bytes that follow it
 * (truncated, or trailing bytes: one event per message), an event shorter than its fields, a
 * button outside 1–5, a zero reference size, text that is empty, over 32 bytes, or not UTF-8.
 * An event longer than its fields is accepted (a newer client may append some). A magic not in
 * the table is `UnknownInput`, not an error: a newer client may send more.
 */
import { Data, Either, Schema } from "effect"

export const InputMagic = {
  keyDown: 0x03,
  keyUp: 0x04,
  mouseMoveAbsolute: 0x05,
  mouseMoveRelative: 0x07,
  mouseButtonDown: 0x08,
  mouseButtonUp: 0x09,
  scroll: 0x0a,
  multiController: 0x0c,
  enableHaptics: 0x0d,
  utf8Text: 0x17,
  horizontalScroll: 0x55000001,
  touch: 0x55000002,
  pen: 0x55000003,
  controllerArrival: 0x55000004,
  controllerTouch: 0x55000005,
  controllerMotion: 0x55000006,
  controllerBattery: 0x55000007
} as const

/** Size field + magic. */
export const INPUT_HEADER_BYTES = 8
/** Moonlight never sends more than 32 bytes of text in one event. */
export const MAX_TEXT_BYTES = 32

export const MouseMoveRelative = Schema.TaggedStruct("MouseMoveRelative", { dx: Schema.Int, dy: Schema.Int })
export const MouseMoveAbsolute = Schema.TaggedStruct("MouseMoveAbsolute", {
  x: Schema.Int,
  y: Schema.Int,
  /** The client's reference size (what it sends: its view size − 1), > 0. */
  referenceWidth: Schema.Int,
  referenceHeight: Schema.Int
})
export const MouseButtonNumber = Schema.Literal(1, 2, 3, 4, 5)
export const MouseButton = Schema.TaggedStruct("MouseButton", { button: MouseButtonNumber, down: Schema.Boolean })
/** High-resolution units, 120 per notch; positive = away from the user (up). */
export const Scroll = Schema.TaggedStruct("Scroll", { amount: Schema.Int })
/** High-resolution units, 120 per notch; positive = right. */
export const HorizontalScroll = Schema.TaggedStruct("HorizontalScroll", { amount: Schema.Int })
export const Key = Schema.TaggedStruct("Key", {
  /** Windows virtual-key code (the low byte of what the client sends). */
  virtualKey: Schema.Int,
  down: Schema.Boolean,
  modifiers: Schema.Int,
  flags: Schema.Int
})
export const Text = Schema.TaggedStruct("Text", { text: Schema.String })
/** Events this host parses but cannot apply (no virtual gamepad, touch screen or pen here). */
export const NotAppliedKind = Schema.Literal(
  "gamepad",
  "haptics",
  "touch",
  "pen",
  "gamepad-arrival",
  "gamepad-touch",
  "gamepad-motion",
  "gamepad-battery"
)
export const NotApplied = Schema.TaggedStruct("NotApplied", { kind: NotAppliedKind })
export const UnknownInput = Schema.TaggedStruct("UnknownInput", { magic: Schema.Number })

export const InputEvent = Schema.Union(
  MouseMoveRelative,
  MouseMoveAbsolute,
  MouseButton,
  Scroll,
  HorizontalScroll,
  Key,
  Text,
  NotApplied,
  UnknownInput
)
export type InputEvent = typeof InputEvent.Type

export class InputMalformed extends Data.TaggedError("InputMalformed")<{ readonly reason: string }> {}

const malformed = (reason: string) => Either.left(new InputMalformed({ reason }))

/** Bytes after the magic each event needs at least. */
const FIELD_BYTES: ReadonlyMap<number, number> = new Map([
  [InputMagic.keyDown, 6],
  [InputMagic.keyUp, 6],
  [InputMagic.mouseMoveAbsolute, 10],
  [InputMagic.mouseMoveRelative, 4],
  [InputMagic.mouseButtonDown, 1],
  [InputMagic.mouseButtonUp, 1],
  [InputMagic.scroll, 2],
  [InputMagic.horizontalScroll, 2],
  [InputMagic.utf8Text, 1],
  [InputMagic.multiController, 26],
  [InputMagic.enableHaptics, 2],
  [InputMagic.touch, 28],
  [InputMagic.pen, 28],
  [InputMagic.controllerArrival, 8],
  [InputMagic.controllerTouch, 20],
  [InputMagic.controllerMotion, 16],
  [InputMagic.controllerBattery, 4]
])

const NOT_APPLIED: ReadonlyMap<number, typeof NotAppliedKind.Type> = new Map([
  [InputMagic.multiController, "gamepad"],
  [InputMagic.enableHaptics, "haptics"],
  [InputMagic.touch, "touch"],
  [InputMagic.pen, "pen"],
  [InputMagic.controllerArrival, "gamepad-arrival"],
  [InputMagic.controllerTouch, "gamepad-touch"],
  [InputMagic.controllerMotion, "gamepad-motion"],
  [InputMagic.controllerBattery, "gamepad-battery"]
])

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Decodes the payload of one 0x0206 control message. */
export const decodeInput = (payload: Uint8Array): Either.Either<InputEvent, InputMalformed> => {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (buf.length < INPUT_HEADER_BYTES) return malformed(`input event header truncated (${buf.length} bytes)`)
  const size = buf.readUInt32BE(0)
  if (size !== buf.length - 4) {
    return malformed(
      size > buf.length - 4
        ? `input event truncated: size field ${size}, ${buf.length - 4} bytes follow`
        : `input event size field ${size} but ${buf.length - 4} bytes follow (one event per message)`
    )
  }
  const magic = buf.readUInt32LE(4)
  const fields = buf.subarray(INPUT_HEADER_BYTES)
  const need = FIELD_BYTES.get(magic)
  if (need === undefined) return Either.right(UnknownInput.make({ magic }))
  if (fields.length < need) {
    return malformed(`input event 0x${magic.toString(16)} has ${fields.length} bytes of fields, needs ${need}`)
  }
  switch (magic) {
    case InputMagic.keyDown:
    case InputMagic.keyUp:
      return Either.right(
        Key.make({
          virtualKey: fields.readUInt16LE(1) & 0xff,
          down: magic === InputMagic.keyDown,
          flags: fields.readUInt8(0),
          modifiers: fields.readUInt8(3)
        })
      )
    case InputMagic.mouseMoveAbsolute: {
      const referenceWidth = fields.readInt16BE(6)
      const referenceHeight = fields.readInt16BE(8)
      if (referenceWidth <= 0 || referenceHeight <= 0) {
        return malformed(`absolute mouse move with reference size ${referenceWidth}x${referenceHeight}`)
      }
      return Either.right(
        MouseMoveAbsolute.make({ x: fields.readInt16BE(0), y: fields.readInt16BE(2), referenceWidth, referenceHeight })
      )
    }
    case InputMagic.mouseMoveRelative:
      return Either.right(MouseMoveRelative.make({ dx: fields.readInt16BE(0), dy: fields.readInt16BE(2) }))
    case InputMagic.mouseButtonDown:
    case InputMagic.mouseButtonUp: {
      const button = fields.readUInt8(0)
      if (!Schema.is(MouseButtonNumber)(button)) return malformed(`mouse button ${button} (1–5 exist)`)
      return Either.right(MouseButton.make({ button, down: magic === InputMagic.mouseButtonDown }))
    }
    case InputMagic.scroll:
      return Either.right(Scroll.make({ amount: fields.readInt16BE(0) }))
    case InputMagic.horizontalScroll:
      return Either.right(HorizontalScroll.make({ amount: fields.readInt16BE(0) }))
    case InputMagic.utf8Text: {
      if (fields.length > MAX_TEXT_BYTES) return malformed(`text event of ${fields.length} bytes (at most ${MAX_TEXT_BYTES})`)
      try {
        return Either.right(Text.make({ text: utf8.decode(fields) }))
      } catch {
        return malformed("text event is not UTF-8")
      }
    }
    default: {
      const kind = NOT_APPLIED.get(magic)
      return kind === undefined ? Either.right(UnknownInput.make({ magic })) : Either.right(NotApplied.make({ kind }))
    }
  }
}
