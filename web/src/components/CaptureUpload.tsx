/**
 * Import a capture file into this host: a file picker on the recordings page that sends the
 * chosen file's bytes, as they are, to `POST /stats/recordings/import` (the host migrates an older
 * format and checks every field). The new recording appears in the list marked `imported`; a
 * refusal shows the host's own sentence, which names the field at fault or the size bound.
 */
import { useState } from "react"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"

type Outcome = { readonly kind: "idle" } | { readonly kind: "busy"; readonly name: string } | { readonly kind: "done"; readonly text: string } | { readonly kind: "error"; readonly text: string }

export const CaptureUpload = ({ api, onImported }: { api: ConsoleApi; onImported: () => void }) => {
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" })
  const importFile = api.importFile
  if (importFile === undefined) return null
  return (
    <section className="panel" data-testid="capture-upload" aria-label="import a capture file">
      <label>
        Import a capture file (JSON exported by a punktfunk host){" "}
        <input
          type="file"
          accept="application/json,.json"
          aria-label="capture file to import"
          disabled={outcome.kind === "busy"}
          onChange={(e) => {
            const input = e.currentTarget
            const file = input.files?.[0]
            if (file === undefined) return
            setOutcome({ kind: "busy", name: file.name })
            importFile(file).then(
              (meta) => {
                setOutcome({ kind: "done", text: `Imported ${file.name} as ${meta.id} (${meta.sample_count} samples).` })
                input.value = ""
                onImported()
              },
              (err: unknown) => {
                setOutcome({ kind: "error", text: `${file.name} was not imported: ${describeError(err).message}` })
                input.value = ""
              }
            )
          }}
        />
      </label>
      {outcome.kind === "busy" ? <p className="muted small">Importing {outcome.name}…</p> : null}
      {outcome.kind === "done" ? (
        <p className="small" role="status" data-testid="upload-result">
          {outcome.text}
        </p>
      ) : null}
      {outcome.kind === "error" ? (
        <p className="error small" role="alert" data-testid="upload-error">
          {outcome.text}
        </p>
      ) : null}
    </section>
  )
}
