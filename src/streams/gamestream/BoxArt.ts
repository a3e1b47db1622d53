/**
 * The box art `appasset` serves: a PNG made here, once, from a few lines of arithmetic.
 *
 * Why generate it rather than ship an image file: the package has no asset pipeline for the
 * host, and Moonlight only needs *a* valid PNG per app (it caches it and shows it as the tile).
 * Why 300x400: the portrait ratio Moonlight lays its tiles out in. The picture is a vertical
 * gradient with a lighter band, enough to tell the tile is there.
 */
import { crc32, deflateSync } from "node:zlib"

const WIDTH = 300
const HEIGHT = 400

const chunk = (type: string, data: Buffer): Buffer => {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, "latin1")
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}

const render = (): Buffer => {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(WIDTH, 0)
  ihdr.writeUInt32BE(HEIGHT, 4)
  ihdr[8] = 8 // bits per sample
  ihdr[9] = 2 // truecolour RGB
  ihdr[10] = 0 // deflate
  ihdr[11] = 0 // adaptive filtering
  ihdr[12] = 0 // no interlace
  const rowBytes = 1 + WIDTH * 3
  const raw = Buffer.alloc(rowBytes * HEIGHT)
  for (let y = 0; y < HEIGHT; y++) {
    raw[y * rowBytes] = 0 // filter: none
    const band = y > HEIGHT * 0.45 && y < HEIGHT * 0.55
    for (let x = 0; x < WIDTH; x++) {
      const o = y * rowBytes + 1 + x * 3
      raw[o] = band ? 230 : 20 + Math.round((y / HEIGHT) * 40)
      raw[o + 1] = band ? 230 : 30 + Math.round((y / HEIGHT) * 60)
      raw[o + 2] = band ? 240 : 60 + Math.round((y / HEIGHT) * 120)
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0))
  ])
}

let cached: Buffer | undefined

/** The PNG bytes (rendered on first use). */
export const boxArtPng = (): Buffer => (cached ??= render())
