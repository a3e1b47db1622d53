/**
 * Moonlight's input events as its client frames them inside control message 0x0206 (u32 BE size,
 * u32 LE magic, the event's fields), for tests that send input through a real control stream.
 * Written from the host's decoder's description (src/streams/gamestream/InputMessages.ts), not
 * from Moonlight's code; the decoder's own tests check the formats field by field.
 */

/** One input event: its size (magic + fields), the magic, the fields as given. */
export const inputEvent = (magic: number, fields: ReadonlyArray<number>): Buffer => {
  const out = Buffer.alloc(8 + fields.length)
  out.writeUInt32BE(4 + fields.length, 0)
  out.writeUInt32LE(magic, 4)
  Buffer.from(fields).copy(out, 8)
  return out
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff]

/** A relative pointer move (signed 16-bit deltas). */
export const relativeMove = (dx: number, dy: number) => inputEvent(0x07, [...be16(dx & 0xffff), ...be16(dy & 0xffff)])

/** An absolute pointer position in a `viewW` × `viewH` client view (Moonlight sends its size − 1 as the reference). */
export const absoluteMove = (x: number, y: number, viewW: number, viewH: number) =>
  inputEvent(0x05, [...be16(x), ...be16(y), 0, 0, ...be16(viewW - 1), ...be16(viewH - 1)])

/** A mouse button (1 left, 2 middle, 3 right, 4/5 X1/X2) going down or up. */
export const button = (down: boolean, which: number) => inputEvent(down ? 0x08 : 0x09, [which])

/** A key by Windows virtual-key code going down or up, no modifiers. */
export const key = (down: boolean, vk: number) => inputEvent(down ? 0x03 : 0x04, [0, vk & 0xff, 0x80, 0, 0, 0])
