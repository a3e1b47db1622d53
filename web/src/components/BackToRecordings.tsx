/**
 * The way back from a recording (or a comparison) to the list, and what such a page shows when
 * what it opened could not be read: the way back and the reason, nothing else.
 */
import { ErrorNote } from "./Notes.js"

export const BackToRecordings = ({ onBack }: { onBack: () => void }) => (
  <button type="button" onClick={onBack}>
    ← Recordings
  </button>
)

export const OpenFailed = ({ error, onBack }: { error: string; onBack: () => void }) => (
  <section className="panel">
    <BackToRecordings onBack={onBack} />
    <ErrorNote text={error} />
  </section>
)
