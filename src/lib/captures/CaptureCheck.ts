/**
 * The one full check of a capture's bytes: UTF-8, JSON, the format's migrations
 * (`api/CaptureFormat.ts`) when the file is of an older version, and every part decoding with the
 * `Capture` Schemas. The store runs it once per file version (on save the bytes are valid by
 * construction; a file found on disk is checked when it is indexed) and remembers the verdict
 * against the file's signature, so opening a capture serves the stored bytes without decoding
 * them again. Import runs the same check on the body it was sent.
 *
 * The check is written once, as steps (`checkSteps`): a generator that pauses after every slice
 * of samples. A worker thread runs the steps straight through (`checkCaptureBytesSync`, see
 * `CaptureChecker.ts`); on the event loop (`checkCaptureBytes`, `decodeCaptureBytes`) they run
 * with a timer between slices. Why slices there: a 5,400-sample file takes ~100 ms of Schema
 * work, and a host answering requests meanwhile must not hold them for all of it.
 *
 * Why a file of an older version comes back decoded (`upgraded`): its bytes are not what this
 * host serves (they lack the newer keys), so the caller rewrites the file from the decoded
 * capture, encoded by today's Schema — after which the stored bytes are again the export.
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { CAPTURE_FORMAT_VERSION, isJsonRecord, migrateCapture } from "../../api/CaptureFormat.js"
import { Capture, CaptureMeta, StatsSample } from "../../api/Stats.js"
import { withStoredBreaches } from "./CaptureAssembly.js"

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

/**
 * Why a guard first: `Schema.is` validates without building a decoded copy, ~2× faster than the
 * decode over 5,400 samples (measured 71 vs 163 ms of CPU). `StatsSample` has no transformations,
 * so a sample the guard accepts is one the decode accepts; a sample it refuses is decoded, for
 * the Schema's own words on what is wrong (and taken should the decode accept it). Where the
 * decoded samples are kept (an older file, an import), every sample is decoded.
 */
const isSample = Schema.is(StatsSample)

/** Why the bytes are not a capture, in the fields of `CaptureCheckFailed`. */
export interface CheckRefusal {
  readonly reason: string
  readonly field: string
  readonly problem: string
}

const failed = (reason: string, field = "", problem = reason): Either.Either<never, CheckRefusal> => Either.left({ reason, field, problem })

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

type Checked = CheckedCapture & { readonly capture?: Capture }

/** The check, pausing (`yield`) after every slice of samples: what it found, or why the bytes fail. */
function* checkSteps(bytes: Uint8Array, keep: boolean): Generator<void, Either.Either<Checked, CheckRefusal>> {
  const parsed = parseBytes(bytes)
  if (Either.isLeft(parsed)) return failed(parsed.left)
  const value = parsed.right
  if (!isJsonRecord(value)) return failed("it is not a JSON object")
  const migration = migrateCapture(value)
  if (!migration.ok) {
    const { field, reason } = migration.refused
    return failed(`its ${field} ${reason}`, field, reason)
  }
  const from = migration.migrated.from
  const old = from !== CAPTURE_FORMAT_VERSION
  const collect = old || keep
  const meta = decodeMeta(value["meta"])
  if (Either.isLeft(meta)) {
    const at = firstIssue(["meta"], meta.left)
    return failed(`its meta is invalid: ${at.tree}`, at.field, at.problem)
  }
  const samples = value["samples"]
  if (!Array.isArray(samples)) return failed("its samples are not a list", "samples", "is not a list")
  const decoded: Array<StatsSample> = []
  for (let i = 0; i < samples.length; i++) {
    if (collect || !isSample(samples[i])) {
      const sample = decodeSample(samples[i])
      if (Either.isLeft(sample)) {
        const at = firstIssue(["samples", i], sample.left)
        return failed(`sample ${i} is invalid: ${at.tree}`, at.field, at.problem)
      }
      if (collect) decoded.push(sample.right)
    }
    if (i % SAMPLES_PER_SLICE === SAMPLES_PER_SLICE - 1) yield
  }
  const rest = decodeRest(value)
  if (Either.isLeft(rest)) {
    const at = firstIssue([], rest.left)
    return failed(`its ${at.field} is invalid: ${at.tree}`, at.field, at.problem)
  }
  if (!collect) return Either.right({ meta: meta.right, from })
  const capture: Capture = { ...rest.right, meta: meta.right, samples: decoded }
  if (!old) return Either.right({ meta: meta.right, from, capture })
  // A file of an older format predates stored breach events: the rewrite stores them (found
  // under the default thresholds, as a save would) and counts them in its meta, so the list
  // counts them too.
  const upgraded = withStoredBreaches(capture)
  return Either.right({ meta: upgraded.meta, from, upgraded, capture: upgraded })
}

const withoutCapture = ({ meta, from, upgraded }: Checked): CheckedCapture => (upgraded === undefined ? { meta, from } : { meta, from, upgraded })

/** The whole check at once (in a worker thread, where holding the loop holds nobody). */
export const checkCaptureBytesSync = (bytes: Uint8Array): Either.Either<CheckedCapture, CheckRefusal> => {
  const steps = checkSteps(bytes, false)
  for (;;) {
    const step = steps.next()
    if (step.done === true) return Either.map(step.value, withoutCapture)
  }
}

/** The steps on the event loop, a timer between slices. */
const check = (bytes: Uint8Array, keep: boolean): Effect.Effect<Checked, CaptureCheckFailed> =>
  Effect.gen(function* () {
    const steps = checkSteps(bytes, keep)
    for (;;) {
      const step = steps.next()
      if (step.done === true) {
        if (Either.isLeft(step.value)) return yield* Effect.fail(new CaptureCheckFailed(step.value.left))
        return step.value.right
      }
      // A timer, not `yieldNow`: Effect runs yielded fibers on microtasks for a while before it
      // lets the event loop turn, and a waiting HTTP request needs the event loop.
      yield* Effect.sleep(0)
    }
  })

/** The capture's meta when the bytes are a whole, valid capture of any known version; why not otherwise. */
export const checkCaptureBytes = (bytes: Uint8Array): Effect.Effect<CheckedCapture, CaptureCheckFailed> =>
  Effect.map(check(bytes, false), withoutCapture)

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

/**
 * A check's outcome as the check worker sends it back (`CaptureChecker.ts`). The envelope and the
 * meta are decoded on arrival; an `upgraded` capture (a file of an older format, migrated) is
 * taken as the worker's `Capture` Schema decoded it — structured cloning keeps it as it was, and
 * decoding 5,400 samples again here would put the check's cost back on the event loop.
 */
export const CheckReply = Schema.Struct({
  seq: Schema.Number,
  outcome: Schema.Union(
    Schema.Struct({ ok: Schema.Literal(true), meta: CaptureMeta, from: Schema.Number, upgraded: Schema.optional(Schema.Unknown) }),
    Schema.Struct({ ok: Schema.Literal(false), reason: Schema.String, field: Schema.String, problem: Schema.String })
  )
})
export type CheckReply = typeof CheckReply.Encoded

/** What the host sends the check worker: the bytes of one file, numbered. */
export interface CheckRequest {
  readonly seq: number
  readonly bytes: Uint8Array
}
