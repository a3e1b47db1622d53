/**
 * The RTSP request reader, fed however the client cut its bytes: a request comes out the same
 * (method, target, headers, body, bytes consumed) whether it arrives whole, one byte per
 * segment, or split at random places, and a refusal is the same refusal (status, reason, CSeq) —
 * for valid requests, mutated ones and random bytes alike. The largest request the host accepts
 * (a 16 KiB head and a 64 KiB body) is read one byte at a time; one byte more of head is 413
 * without buffering past the limit.
 */
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { MAX_BODY_BYTES, MAX_HEAD_BYTES, parseRequest, RtspRequestReader } from "../../src/streams/gamestream/RtspMessage.js"
import type { ParseOutcome } from "../../src/streams/gamestream/RtspMessage.js"
import { cut } from "../support/Mutate.js"

/** The outcome as plain data (the refusal is an Error: compare its fields, not its identity). */
const plain = (o: ParseOutcome) =>
  o._tag === "Incomplete"
    ? { tag: o._tag }
    : o._tag === "Refused"
      ? { tag: o._tag, status: o.refusal.status, reason: o.refusal.reason, cseq: o.refusal.cseq }
      : { tag: o._tag, method: o.request.method, target: o.request.target, headers: o.request.headers, body: o.request.body.toString("hex"), consumed: o.consumed }

/** The first final outcome of pushing the chunks one by one (or Incomplete). */
const readChunks = (chunks: ReadonlyArray<Buffer>) => {
  const reader = new RtspRequestReader()
  let last: ParseOutcome = { _tag: "Incomplete" }
  for (const chunk of chunks) {
    last = reader.push(chunk)
    if (last._tag !== "Incomplete") break
  }
  return plain(last)
}

const oneByteChunks = (bytes: Buffer) => Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))

const token = fc.string({ unit: fc.constantFrom(..."ABCXYZabcxyz019-_.".split("")), minLength: 1, maxLength: 20 })
const requestArb = fc
  .record({
    method: fc.constantFrom("OPTIONS", "DESCRIBE", "SETUP", "ANNOUNCE", "PLAY", "TEARDOWN", "GET_PARAMETER"),
    target: fc.constantFrom("rtsp://10.0.0.2:48010", "streamid=audio/0/0", "streamid=control/13/0", "/"),
    cseq: fc.nat({ max: 999_999 }),
    headers: fc.array(fc.tuple(token, fc.string({ unit: fc.constantFrom(..."abc 019;=/\t".split("")), maxLength: 40 })), { maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 300 }),
    trailing: fc.uint8Array({ maxLength: 20 })
  })
  .map(({ method, target, cseq, headers, body, trailing }) => {
    const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${cseq}`, ...headers.map(([n, v]) => `${n}: ${v}`)]
    if (body.length > 0) lines.push(`Content-length: ${body.length}`)
    return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), Buffer.from(body), Buffer.from(trailing)])
  })

/** Byte flips, truncation, extension, a duplicated or deleted slice. */
const mutated = (base: fc.Arbitrary<Buffer>) =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom("flip", "cut", "extend", "dup", "drop")), { minLength: 1, maxLength: 4 })).map(
    ([bytes, edits]) => {
      let b = Buffer.from(bytes)
      for (const [at, value, kind] of edits) {
        const i = b.length === 0 ? 0 : at % b.length
        if (kind === "flip" && b.length > 0) b[i] = value
        else if (kind === "cut") b = b.subarray(0, i)
        else if (kind === "extend") b = Buffer.concat([b, Buffer.alloc(value % 40, value)])
        else if (kind === "dup") b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + value), b.subarray(i)])
        else if (kind === "drop") b = Buffer.concat([b.subarray(0, i), b.subarray(i + (value % 8) + 1)])
      }
      return b
    }
  )

const anyInput = fc.oneof(requestArb, mutated(requestArb), fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.from(u)))

describe("RtspRequestReader: the same answer however the bytes were cut", () => {
  it("valid requests split anywhere come out whole and equal to the one-chunk read", () => {
    fc.assert(
      fc.property(requestArb, fc.array(fc.nat(), { maxLength: 30 }), (bytes, splits) => {
        const whole = plain(parseRequest(bytes))
        expect(whole.tag).toBe("Complete")
        expect(readChunks(cut(bytes, splits))).toEqual(whole)
      }),
      { numRuns: 300 }
    )
  })

  it("mutated requests and random bytes: split anywhere or byte by byte, the same outcome", () => {
    fc.assert(
      fc.property(anyInput, fc.array(fc.nat(), { maxLength: 30 }), (bytes, splits) => {
        const whole = plain(parseRequest(bytes))
        expect(readChunks(cut(bytes, splits))).toEqual(whole)
        expect(readChunks(oneByteChunks(bytes))).toEqual(whole)
      }),
      { numRuns: 300 }
    )
  })

  it("the largest request allowed (16 KiB head, 64 KiB body) one byte at a time", () => {
    const lines = ["ANNOUNCE streamid=control/13/0 RTSP/1.0", "CSeq: 6", "Content-Type: application/sdp", `Content-Length: ${MAX_BODY_BYTES}`]
    const headOf = (pad: number) => `${lines.join("\r\n")}\r\nX-Pad: ${"p".repeat(pad)}`
    const pad = MAX_HEAD_BYTES - headOf(0).length
    const head = headOf(pad)
    expect(head.length).toBe(MAX_HEAD_BYTES)
    const body = Buffer.from(Array.from({ length: MAX_BODY_BYTES }, (_, i) => (i * 7) % 256))
    const request = Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), body])
    const expected = {
      tag: "Complete",
      method: "ANNOUNCE",
      target: "streamid=control/13/0",
      headers: [["CSeq", "6"], ["Content-Type", "application/sdp"], ["Content-Length", String(MAX_BODY_BYTES)], ["X-Pad", "p".repeat(pad)]],
      body: body.toString("hex"),
      consumed: request.length
    }
    expect(readChunks([request])).toEqual(expected)
    expect(readChunks(oneByteChunks(request))).toEqual(expected)

    // One byte more of head: refused, one chunk or byte by byte, and never held past the limit.
    const over = Buffer.from(`${headOf(pad + 1)}\r\n\r\n`, "latin1")
    const refusal = { tag: "Refused", status: 413, reason: `request head larger than ${MAX_HEAD_BYTES} bytes`, cseq: undefined }
    expect(readChunks([over])).toEqual(refusal)
    expect(readChunks(oneByteChunks(over))).toEqual(refusal)
    const reader = new RtspRequestReader()
    reader.push(Buffer.alloc(MAX_HEAD_BYTES * 4, "a").fill("OPTIONS x RTSP/1.0\r\n", 0, 20))
    expect(reader.bufferedBytes).toBeLessThanOrEqual(MAX_HEAD_BYTES + 4)
  })

  it("a request line that cannot end within 2 KiB is refused as soon as that is certain", () => {
    const line = Buffer.from(`OPTIONS /${"a".repeat(3000)}`, "latin1")
    const expected = { tag: "Refused", status: 400, reason: "request line longer than 2048 bytes", cseq: undefined }
    expect(readChunks([line])).toEqual(expected)
    expect(readChunks(oneByteChunks(line))).toEqual(expected)
    expect(readChunks([line.subarray(0, 2049)])).toEqual({ tag: "Incomplete" })
  })
})
