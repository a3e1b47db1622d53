/**
 * The one full check of a capture's bytes: UTF-8, JSON, the format's migrations
 * (`api/CaptureFormat.ts`) when the file is of an older version, and every part decoding with the
 * `Capture` Schemas. The store runs it once per file version (on save the bytes are valid by
 * construction; a file found on disk is checked when it is indexed) and remembers the verdict
 * against the file's signature, so opening a capture serves the stored bytes without decoding
 * them again. Import runs the same check on the body it was sent.
 *
 * Why samples are decoded one at a time with a yield every hundred: a 5,400-sample file takes
 * ~100 ms of Schema work, and the check of files found at start runs in the background while the
 * host answers requests; yielding keeps each stretch of Schema work to a few milliseconds (the
 * `JSON.parse` of the whole file before it, ~15 ms for 3 MB, is the longest).
 *
 * Why a file of an older version comes back decoded (`upgraded`): its bytes are not what this
 * host serves (they lack the newer keys), so the caller rewrites the file from the decoded
 * capture, encoded by today's Schema — after which the stored bytes are again the export.
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { CAPTURE_FORMAT_VERSION, isJsonRecord, migrateCapture } from "../../api/CaptureFormat.js"
import { Capture, CaptureMeta, StatsSample } from "../../api/Stats.js"

export class CaptureCheckFailed extends Data.TaggedError("CaptureCheckFailed")<{
  /** For the log and a read error: "sample 6 is invalid: …". */
  readonly reason: string
  /** The field at fault as a path (`samples.6.fps`, `meta.label`); empty for the file as a whole. */
  readonly field: string
  /** What is wrong with that field, in the Schema's words. */
  readonly problem: string
}> {}

export interface CheckedCapture {
  readonly meta: CaptureMeta
  /** The version the file was written in (the current one unless it was migrated). */
  readonly from: number
  /** Present when the file was of an older version: the whole capture, migrated and decoded. */
  readonly upgraded?: Capture
}

const decodeMeta = Schema.decodeUnknownEither(CaptureMeta)
const decodeSample = Schema.decodeUnknownEither(StatsSample)
/** Everything but the samples (markers and whatever joins them), checked in one go. */
const decodeRest = Schema.decodeUnknownEither(Capture.pipe(Schema.omit("samples", "meta")))
const SAMPLES_PER_SLICE = 100

const failed = (reason: string, field = "", problem = reason) => Effect.fail(new CaptureCheckFailed({ reason, field, problem }))

/** The first issue of a decode error as `field` (dotted path under `prefix`) and its message. */
const firstIssue = (prefix: ReadonlyArray<PropertyKey>, error: ParseResult.ParseError) => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  const field = [...prefix, ...(issue?.path ?? [])].map(String).join(".")
  return { field, problem: issue?.message ?? error.message, tree: ParseResult.TreeFormatter.formatErrorSync(error) }
}

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

const check = (bytes: Uint8Array, keep: boolean): Effect.Effect<CheckedCapture & { readonly capture?: Capture }, CaptureCheckFailed> =>
  Effect.gen(function* () {
    const parsed = parseBytes(bytes)
    if (Either.isLeft(parsed)) return yield* failed(parsed.left)
    const value = parsed.right
    if (!isJsonRecord(value)) return yield* failed("it is not a JSON object")
    const migration = migrateCapture(value)
    if (!migration.ok) {
      const { field, reason } = migration.refused
      return yield* failed(`its ${field} ${reason}`, field, reason)
    }
    const from = migration.migrated.from
    const old = from !== CAPTURE_FORMAT_VERSION
    const collect = old || keep
    const meta = decodeMeta(value["meta"])
    if (Either.isLeft(meta)) {
      const at = firstIssue(["meta"], meta.left)
      return yield* failed(`its meta is invalid: ${at.tree}`, at.field, at.problem)
    }
    const samples = value["samples"]
    if (!Array.isArray(samples)) return yield* failed("its samples are not a list", "samples", "is not a list")
    const decoded: Array<StatsSample> = []
    for (let i = 0; i < samples.length; i++) {
      const sample = decodeSample(samples[i])
      if (Either.isLeft(sample)) {
        const at = firstIssue(["samples", i], sample.left)
        return yield* failed(`sample ${i} is invalid: ${at.tree}`, at.field, at.problem)
      }
      if (collect) decoded.push(sample.right)
      // A timer, not `yieldNow`: Effect runs yielded fibers on microtasks for a while before it
      // lets the event loop turn, and a waiting HTTP request needs the event loop.
      if (i % SAMPLES_PER_SLICE === SAMPLES_PER_SLICE - 1) yield* Effect.sleep(0)
    }
    const rest = decodeRest(value)
    if (Either.isLeft(rest)) {
      const at = firstIssue([], rest.left)
      return yield* failed(`its ${at.field} is invalid: ${at.tree}`, at.field, at.problem)
    }
    if (!collect) return { meta: meta.right, from }
    const capture: Capture = { ...rest.right, meta: meta.right, samples: decoded }
    return old ? { meta: meta.right, from, upgraded: capture, capture } : { meta: meta.right, from, capture }
  })

/** The capture's meta when the bytes are a whole, valid capture of any known version; why not otherwise. */
export const checkCaptureBytes = (bytes: Uint8Array): Effect.Effect<CheckedCapture, CaptureCheckFailed> =>
  Effect.map(check(bytes, false), ({ meta, from, upgraded }) => (upgraded === undefined ? { meta, from } : { meta, from, upgraded }))

/**
 * The whole capture decoded from bytes of any known version (import reads a file this way): the
 * same check, keeping what it decoded.
 */
export const decodeCaptureBytes = (bytes: Uint8Array): Effect.Effect<{ readonly capture: Capture; readonly from: number }, CaptureCheckFailed> =>
  Effect.flatMap(check(bytes, true), ({ capture, from }) =>
    capture === undefined ? Effect.die("a kept check returned no capture") : Effect.succeed({ capture, from })
  )

/**
 * Bytes that passed `checkCaptureBytes` as the current version (the caller holds their verdict
 * and signature) as a `Capture`, with `JSON.parse` alone. Why no second decode: the check decoded
 * every part with the Schemas, and a current-version file is written by the Schema's encoder
 * (every key present), so the parsed value is the decoded value. Only ever call it with checked
 * bytes of the current version.
 */
export const parseCheckedCapture = (bytes: Uint8Array): Capture => {
  const value: unknown = JSON.parse(new TextDecoder().decode(bytes))
  return value as Capture
}
