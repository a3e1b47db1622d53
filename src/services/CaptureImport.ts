/**
 * Import: a capture file this host (or an earlier version of it) exported, read from bytes and
 * stored as a capture of its own.
 *
 * The bytes go through the same check as a file the store finds on disk (`CaptureCheck.ts`):
 * UTF-8, JSON, the format's migrations from whichever version the file says it is
 * (`api/CaptureFormat.ts`), then every part decoded with today's Schemas. A file that fails is a
 * 400 naming the field at fault; one that passes is stored by the store's `importCapture`, under a
 * new id and marked `imported`, so it can never replace a capture recorded here, and is then
 * listed, opened, exported and compared like any other.
 *
 * Why the size bound is not here: it is enforced where the body is read (`http/ImportBody.ts`),
 * before any of it is parsed; this module only ever sees a body within the bound.
 */
import { Effect } from "effect"
import { CaptureImportInvalid } from "../api/Errors.js"
import type { CaptureSaveError } from "../api/Errors.js"
import type { CaptureMeta } from "../api/Stats.js"
import { decodeCaptureBytes } from "./CaptureCheck.js"
import { CaptureStore } from "./CaptureStore.js"

export const importCaptureBytes = (
  bytes: Uint8Array
): Effect.Effect<CaptureMeta, CaptureImportInvalid | CaptureSaveError, CaptureStore> =>
  Effect.gen(function* () {
    const store = yield* CaptureStore
    const { capture, from } = yield* decodeCaptureBytes(bytes).pipe(
      Effect.mapError(
        (e) =>
          new CaptureImportInvalid({
            field: e.field,
            message: e.field === "" ? `not a capture file: ${e.problem}` : `not a capture file: ${e.field}: ${e.problem}`
          })
      )
    )
    const meta = yield* store.importCapture(capture)
    yield* Effect.logInfo(
      `imported capture ${meta.id} (${meta.sample_count} samples, capture format ${from}${from === meta.format_version ? "" : ` migrated to ${meta.format_version}`})`
    )
    return meta
  })
