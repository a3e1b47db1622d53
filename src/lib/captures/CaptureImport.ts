/**
 * Import: a capture file this host (or an earlier version of it) exported, read from bytes.
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
import { CaptureImportInvalid } from "../../api/Errors.js"
import type { Capture } from "../../api/Stats.js"
import { decodeCaptureBytes } from "./CaptureCheck.js"

export const decodeImport = (bytes: Uint8Array): Effect.Effect<Capture, CaptureImportInvalid> =>
  decodeCaptureBytes(bytes).pipe(
    Effect.map(({ capture }) => capture),
    Effect.mapError(
      (e) =>
        new CaptureImportInvalid({
          field: e.field,
          message: e.field === "" ? `not a capture file: ${e.problem}` : `not a capture file: ${e.field}: ${e.problem}`
        })
    )
  )
