/**
 * `punktfunk/1` framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
 * `frame` writes one; `FrameReader` splits a received byte stream back into frame bodies.
 *
 * Why the reader never re-copies what it holds: it runs before the peer is authenticated, and a
 * peer choosing how its bytes are cut (one byte per TLS record or TCP segment) must not choose
 * how much work the host does. Appending each chunk to everything buffered so far costs
 * O(n²) for an n-byte frame cut into single bytes (64 KiB → 2 GiB copied). Here each received
 * byte is copied at most a bounded number of times:
 * - the 4 length bytes go into a fixed 4-byte header buffer;
 * - a body that arrives whole inside one chunk is decoded straight from that chunk (no copy);
 * - a body cut across chunks goes into a buffer that doubles as it fills, up to the declared
 *   length, so the copies add up to less than 3× the body (each byte once, plus the doublings).
 * Why doubling and not one buffer of the declared length: the length is the peer's word; four
 * bytes must not make the host allocate 64 KiB. Held memory stays under twice what was received.
 *
 * The length is checked against `MAX_FRAME_BYTES` as soon as its four bytes are in, before any
 * byte of the body is buffered; after that refusal the reader keeps refusing (the stream has lost
 * its framing, and the connection is unusable).
 */
import { Schema } from "effect"

export const MAX_FRAME_BYTES = 64 * 1024

/** The first allocation for a body cut across chunks; it doubles from here. */
const FIRST_CAPACITY = 256

export class FrameError extends Schema.TaggedError<FrameError>()("FrameError", { message: Schema.String }) {}

export const frame = (json: string): Buffer => {
  const body = Buffer.from(json, "utf8")
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length, 0)
  return Buffer.concat([head, body])
}

/** Shared answer for a chunk that completed no frame (the common case for a slow sender). */
const NONE: ReadonlyArray<string> = Object.freeze([])

/**
 * Splits a byte stream into frames. `push` returns the complete frame bodies so far (in order),
 * or a `FrameError` for a frame larger than `MAX_FRAME_BYTES`.
 */
export class FrameReader {
  private readonly header = Buffer.alloc(4)
  private headerFill = 0
  /** The declared length of the frame whose body is being received, or -1 between frames. */
  private expected = -1
  private body: Buffer = Buffer.alloc(0)
  private bodyFill = 0
  private failed: FrameError | undefined

  /** Bytes held for the frame in progress (its length bytes and the body's buffer). */
  get bufferedBytes(): number {
    return this.headerFill + this.body.length
  }

  /**
   * Why a one-byte fast path in front: a peer sending a byte per TLS record calls this once per
   * byte, and the general loop (`pushAny`) is too large for V8 to inline into the socket's
   * handler; a byte in the middle of a body (not its last) only needs storing.
   */
  push(chunk: Buffer): ReadonlyArray<string> | FrameError {
    if (chunk.length === 1 && this.expected >= 0) {
      const fill = this.bodyFill
      if (fill + 1 < this.expected && fill < this.body.length) {
        this.body[fill] = chunk[0]!
        this.bodyFill = fill + 1
        return NONE
      }
    }
    return this.pushAny(chunk)
  }

  private pushAny(chunk: Buffer): ReadonlyArray<string> | FrameError {
    if (this.failed !== undefined) return this.failed
    let out: Array<string> | undefined
    let offset = 0
    while (offset < chunk.length) {
      if (this.expected < 0) {
        const take = Math.min(4 - this.headerFill, chunk.length - offset)
        for (let i = 0; i < take; i++) this.header[this.headerFill + i] = chunk[offset + i]!
        this.headerFill += take
        offset += take
        if (this.headerFill < 4) break
        this.headerFill = 0
        const length = this.header.readUInt32BE(0)
        if (length > MAX_FRAME_BYTES) {
          this.failed = new FrameError({ message: `control frame of ${length} bytes is larger than ${MAX_FRAME_BYTES}` })
          return this.failed
        }
        if (chunk.length - offset >= length) {
          // The whole body is in this chunk: decode it where it lies.
          ;(out ??= []).push(chunk.toString("utf8", offset, offset + length))
          offset += length
          continue
        }
        this.expected = length
        this.bodyFill = 0
        this.body = Buffer.allocUnsafe(Math.min(length, FIRST_CAPACITY))
        continue
      }
      const take = Math.min(this.expected - this.bodyFill, chunk.length - offset)
      const needed = this.bodyFill + take
      if (needed > this.body.length) {
        let capacity = this.body.length * 2
        while (capacity < needed) capacity *= 2
        const grown = Buffer.allocUnsafe(Math.min(capacity, this.expected))
        this.body.copy(grown, 0, 0, this.bodyFill)
        this.body = grown
      }
      if (take < 16) {
        // A handful of bytes: a loop is cheaper than a call into Buffer.copy.
        for (let i = 0; i < take; i++) this.body[this.bodyFill + i] = chunk[offset + i]!
      } else {
        chunk.copy(this.body, this.bodyFill, offset, offset + take)
      }
      this.bodyFill = needed
      offset += take
      if (this.bodyFill === this.expected) {
        ;(out ??= []).push(this.body.toString("utf8", 0, this.bodyFill))
        this.expected = -1
        this.body = Buffer.alloc(0)
      }
    }
    return out ?? NONE
  }
}
