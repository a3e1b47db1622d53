/**
 * The one full check of a stored capture's bytes: UTF-8, JSON, and every part decoding with the
 * `Capture` Schemas. The store runs it once per file version (on save the bytes are valid by
 * construction; a file found on disk is checked when it is indexed) and remembers the verdict
 * against the file's signature, so opening a capture serves the stored bytes without decoding
 * them again.
 *
 * Why samples are decoded one at a time with a yield every hundred: a 5,400-sample file takes
 * ~100 ms of Schema work, and the check of files found at start runs in the background while the
 * host answers requests; yielding keeps each stretch of Schema work to a few milliseconds (the
 * `JSON.parse` of the whole file before it, ~15 ms for 3 MB, is the longest).
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { CaptureMeta, StatsSample } from "../api/Stats.js"
import type { Capture } from "../api/Stats.js"

export class CaptureCheckFailed extends Data.TaggedError("CaptureCheckFailed")<{ readonly reason: string }> {}

const decodeMeta = Schema.decodeUnknownEither(CaptureMeta)
const decodeSample = Schema.decodeUnknownEither(StatsSample)
const SAMPLES_PER_SLICE = 100

const failed = (reason: string) => Effect.fail(new CaptureCheckFailed({ reason }))

const parseBytes = (bytes: Uint8Array): Either.Either<unknown, string> => {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return Either.left("it is not UTF-8 text")
  }
  try {
    const value: unknown = JSON.parse(text)
    return Either.right(value)
  } catch (e) {
    return Either.left(`it is not JSON (${e instanceof Error ? e.message : String(e)})`)
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The capture's meta when the bytes are a whole, valid capture; why not otherwise. */
export const checkCaptureBytes = (bytes: Uint8Array): Effect.Effect<CaptureMeta, CaptureCheckFailed> =>
  Effect.gen(function* () {
    const parsed = parseBytes(bytes)
    if (Either.isLeft(parsed)) return yield* failed(parsed.left)
    const value = parsed.right
    if (!isRecord(value)) return yield* failed("it is not a JSON object")
    const meta = decodeMeta(value["meta"])
    if (Either.isLeft(meta)) return yield* failed(`its meta is invalid: ${ParseResult.TreeFormatter.formatErrorSync(meta.left)}`)
    const samples = value["samples"]
    if (!Array.isArray(samples)) return yield* failed("its samples are not a list")
    for (let i = 0; i < samples.length; i++) {
      const sample = decodeSample(samples[i])
      if (Either.isLeft(sample)) {
        return yield* failed(`sample ${i} is invalid: ${ParseResult.TreeFormatter.formatErrorSync(sample.left)}`)
      }
      // A timer, not `yieldNow`: Effect runs yielded fibers on microtasks for a while before it
      // lets the event loop turn, and a waiting HTTP request needs the event loop.
      if (i % SAMPLES_PER_SLICE === SAMPLES_PER_SLICE - 1) yield* Effect.sleep(0)
    }
    return meta.right
  })

/**
 * Bytes that passed `checkCaptureBytes` (the caller holds their verdict and signature) as a
 * `Capture`, with `JSON.parse` alone. Why no second decode: the check decoded every part with the
 * Schemas, and `Capture` has no transformations (its encoded and decoded forms are the same
 * JSON), so the parsed value is the decoded value. Only ever call it with checked bytes.
 */
export const parseCheckedCapture = (bytes: Uint8Array): Capture => {
  const value: unknown = JSON.parse(new TextDecoder().decode(bytes))
  return value as Capture
}
