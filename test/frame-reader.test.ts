/**
 * `punktfunk/1` framing, read back however the bytes were cut: the frames a client sent come out
 * whole, in order, with their UTF-8 intact, whether they arrive in one chunk, one byte at a time
 * or split at random places; an oversized length is refused from its four bytes alone, before
 * any of the body is held, and the reader keeps refusing after that.
 */
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { frame, FrameError, FrameReader, MAX_FRAME_BYTES } from "../src/streams/punktfunk1/FrameReader.js"
import { cut } from "./support/Mutate.js"

/** Pushes every chunk; the frames in order, or the first FrameError. */
const readAll = (reader: FrameReader, chunks: ReadonlyArray<Buffer>): Array<string> | FrameError => {
  const out: Array<string> = []
  for (const chunk of chunks) {
    const got = reader.push(chunk)
    if (got instanceof FrameError) return got
    out.push(...got)
  }
  return out
}

const oneByteChunks = (bytes: Buffer) => Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))

const bodies = fc.array(
  fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "grapheme", maxLength: 60 }), // multi-byte UTF-8, cut mid-character by the splits
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.constant("")
  ),
  { maxLength: 12 }
)

describe("FrameReader: frames come out the same however they were cut", () => {
  it("random frames split at random places", () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.nat(), { maxLength: 40 }), (messages, splits) => {
        const stream = Buffer.concat(messages.map(frame))
        expect(readAll(new FrameReader(), cut(stream, splits))).toEqual(messages)
      }),
      { numRuns: 300 }
    )
  })

  it("random frames one byte at a time, and all in one chunk", () => {
    fc.assert(
      fc.property(bodies, (messages) => {
        const stream = Buffer.concat(messages.map(frame))
        expect(readAll(new FrameReader(), oneByteChunks(stream))).toEqual(messages)
        expect(readAll(new FrameReader(), [stream])).toEqual(messages)
      }),
      { numRuns: 100 }
    )
  })

  it("the largest frame (64 KiB, with multi-byte characters) one byte at a time, then a small one", () => {
    // "é€😀a" is 2 + 3 + 4 + 1 bytes of UTF-8.
    const text = "é€😀a".repeat(6553) + "abcdef"
    expect(Buffer.byteLength(text)).toBe(MAX_FRAME_BYTES)
    const messages = [text, "{\"_tag\":\"IdrRequest\"}"]
    const stream = Buffer.concat(messages.map(frame))
    expect(readAll(new FrameReader(), oneByteChunks(stream))).toEqual(messages)
    expect(readAll(new FrameReader(), [stream])).toEqual(messages)
  })

  it("a length over 64 KiB is refused from its four bytes, however they arrive, and stays refused", () => {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(MAX_FRAME_BYTES + 1, 0)
    for (const chunks of [[head], oneByteChunks(head), [Buffer.concat([frame("{}"), head, Buffer.alloc(10)])]]) {
      const reader = new FrameReader()
      const got = readAll(reader, chunks)
      expect(got).toBeInstanceOf(FrameError)
      expect((got as FrameError).message).toBe(`control frame of ${MAX_FRAME_BYTES + 1} bytes is larger than ${MAX_FRAME_BYTES}`)
      expect(reader.push(frame("{}"))).toBeInstanceOf(FrameError)
    }
  })

  it("holds no more than twice what it was given of a frame in progress (the length is the peer's word)", () => {
    const reader = new FrameReader()
    const stream = frame("x".repeat(MAX_FRAME_BYTES))
    let given = 0
    for (const chunk of cut(stream.subarray(0, stream.length - 1), [2, 4, 5, 6, 100, 1000, 5000, 40_000])) {
      reader.push(chunk)
      given += chunk.length
      expect(reader.bufferedBytes).toBeLessThanOrEqual(Math.max(2 * given, 256 + 4))
    }
    expect(reader.push(stream.subarray(stream.length - 1))).toEqual(["x".repeat(MAX_FRAME_BYTES)])
    expect(reader.bufferedBytes).toBe(0)
  })
})
