/**
 * The `punktfunk/1` parsers of network input, fuzzed with fast-check (bounded runs): the frame
 * reader over random byte streams cut anywhere, and the client-message decode the control
 * server runs on every frame (valid messages generated from the Schema, then mutated, cut,
 * extended; random bytes; JSON of other shapes). Receiver reports are the counts the host sums
 * into captures: whatever decodes is within the bounds that keep those sums safe integers.
 *
 * Asserted: no exception and no defect; the reader answers frames or `FrameError` (and keeps
 * answering it); the decode answers a message its Schema accepts or a `ParseError`. The listener
 * that counts the refusals is tested in test/faults/punktfunk1-control-fuzz.test.ts.
 */
import { describe, expect, it } from "vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import fc from "fast-check"
import { frame, FrameError, FrameReader } from "../src/streams/punktfunk1/FrameReader.js"
import { ClientMessage, ReceiverReport } from "../src/streams/punktfunk1/Protocol.js"
import { applyEdits, cut, edits, hostile, randomBytes } from "./support/Mutate.js"

const RUNS = { numRuns: Number(process.env["PUNKTFUNK_FUZZ_RUNS"] ?? "400") }

const decodeClient = Schema.decodeUnknownEither(Schema.parseJson(ClientMessage))
const encodeClient = Schema.encodeSync(Schema.parseJson(ClientMessage))
/**
 * Valid messages drawn from the Schema itself (Effect's Arbitrary, which runs its own copy of
 * fast-check: drawn once with a fixed seed, then picked from by ours).
 */
const VALID_MESSAGES = FastCheck.sample(Arbitrary.make(ClientMessage), { numRuns: 300, seed: 42 })
const validMessage = fc.constantFrom(...VALID_MESSAGES)
const validJson = validMessage.map((m) => encodeClient(m))

describe("punktfunk/1 frames", () => {
  it("any byte stream, cut anywhere: frame bodies or a FrameError that stays; never a throw", () => {
    const stream = fc.oneof(
      randomBytes(300),
      fc.array(validJson, { maxLength: 5 }).map((list) => Buffer.concat(list.map(frame))),
      hostile(fc.array(validJson, { maxLength: 5 }).map((list) => Buffer.concat(list.map(frame))), 100)
    )
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 20 }), (bytes, splits) => {
        const reader = new FrameReader()
        let failed: FrameError | undefined
        for (const chunk of cut(bytes, splits)) {
          const got = reader.push(chunk)
          if (got instanceof FrameError) {
            failed = got
            expect(got.message).toMatch(/larger than 65536/)
          } else {
            expect(failed).toBeUndefined()
            for (const body of got) expect(typeof body).toBe("string")
          }
        }
        if (failed !== undefined) expect(reader.push(Buffer.from([0, 0, 0, 0]))).toBeInstanceOf(FrameError)
      }),
      RUNS
    )
  })
})

describe("punktfunk/1 client messages", () => {
  it("valid messages from the Schema decode to themselves", () => {
    fc.assert(
      fc.property(validMessage, (m) => {
        const decoded = decodeClient(encodeClient(m))
        expect(Either.isRight(decoded) && decoded.right._tag).toBe(m._tag)
      }),
      RUNS
    )
  })

  it("mutated, cut, extended or random frames: a message the Schema accepts, or a ParseError; never a throw", () => {
    const body = fc.oneof(
      fc.tuple(validJson, edits).map(([json, list]) => applyEdits(Buffer.from(json), list).toString("utf8")),
      fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u).toString("utf8")),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
      fc
        .tuple(fc.constantFrom("Pair", "Hello", "IdrRequest", "BitrateChange", "ReceiverReport", "Echo", "Goodbye", "__proto__", "constructor"), fc.dictionary(fc.string({ maxLength: 16 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 8 }))
        .map(([_tag, fields]) => JSON.stringify({ ...fields, _tag }))
    )
    fc.assert(
      fc.property(body, (text) => {
        const decoded = decodeClient(text)
        if (Either.isRight(decoded)) expect(Schema.is(ClientMessage)(decoded.right)).toBe(true)
        else expect(decoded.left._tag).toBe("ParseError")
      }),
      RUNS
    )
  })

  it("a receiver report that decodes holds counts a capture can sum: integers up to 2^32 - 1, a finite decode time", () => {
    const value = fc.oneof(
      fc.nat(),
      fc.constantFrom(2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, 0.5, 1e308),
      fc.double()
    )
    const fields = fc.record({
      packets_received: value,
      packets_lost: value,
      fec_recovered: value,
      frames_decoded: value,
      frames_dropped: value,
      decode_us: fc.oneof(value, fc.constant("1e999"))
    })
    fc.assert(
      fc.property(fields, (f) => {
        const text = `{"_tag":"ReceiverReport",${Object.entries(f).map(([k, v]) => `"${k}":${typeof v === "string" ? v : JSON.stringify(v) ?? "null"}`).join(",")}}`
        const decoded = decodeClient(text)
        if (Either.isLeft(decoded)) return
        const report = decoded.right as ReceiverReport
        for (const n of [report.packets_received, report.packets_lost, report.fec_recovered, report.frames_decoded, report.frames_dropped]) {
          expect(Number.isSafeInteger(n) && n >= 0 && n <= 2 ** 32 - 1).toBe(true)
        }
        expect(Number.isFinite(report.decode_us)).toBe(true)
      }),
      RUNS
    )
    // Regression: the old Schema took any safe integer (two of them overflowed the capture's
    // sums) and JSON's 1e999 (Infinity) as decode time.
    expect(Either.isLeft(decodeClient(`{"_tag":"ReceiverReport","packets_received":0,"packets_lost":${Number.MAX_SAFE_INTEGER},"fec_recovered":0,"frames_decoded":0,"frames_dropped":0,"decode_us":0}`))).toBe(true)
    expect(Either.isLeft(decodeClient('{"_tag":"ReceiverReport","packets_received":0,"packets_lost":0,"fec_recovered":0,"frames_decoded":0,"frames_dropped":0,"decode_us":1e999}'))).toBe(true)
  })
})
