/**
 * Arm / Stop and where the capture stands, from the host's own status: armed or idle, elapsed time
 * on the host's clock, sample count, the path (punktfunk/1 / GameStream) and its sessions. An API
 * failure is shown in words next to the buttons, not swallowed.
 */
import { useState } from "react"
import type { CaptureMeta, SessionMeta, StatsStatus } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { duration, seconds } from "../lib/format.js"
import type { Marker } from "../../../src/api/Markers.js"
import { MARKER_LABEL_MAX } from "../../../src/api/Markers.js"
import { ErrorNote } from "./Notes.js"
import { pathOf } from "../../../src/api/Paths.js"

export interface CaptureControlProps {
  readonly api: ConsoleApi
  readonly status: StatsStatus | null
  readonly sessions: ReadonlyArray<SessionMeta>
  readonly error: string | null
  readonly onChanged: (saved: CaptureMeta | null) => void
  /** A marker the operator just added (the live view shows it before the event stream does). */
  readonly onMarked?: (marker: Marker) => void
}

/**
 * The operator's marker while armed: a label typed here ("stutter when the boss spawned") is sent
 * through the console's one API client and lands in the capture at the host's clock, drawn on
 * every chart of the recording afterwards. The label is kept in the field after a failure (so it
 * can be retried) and cleared after a success.
 */
const MarkForm = ({ api, onMarked }: { api: ConsoleApi; onMarked?: (marker: Marker) => void }) => {
  const [label, setLabel] = useState("")
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<{ readonly ok: boolean; readonly text: string } | null>(null)
  return (
    <form
      className="mark-form"
      aria-label="add a marker"
      onSubmit={(e) => {
        e.preventDefault()
        if (label.trim() === "") return setResult({ ok: false, text: "Type what happened first." })
        setBusy(true)
        api.mark(label.trim()).then(
          (marker) => {
            setBusy(false)
            setLabel("")
            setResult({ ok: true, text: `Marked "${marker.label}" at ${seconds(marker.t_ms / 1000)}.` })
            onMarked?.(marker)
          },
          (err: unknown) => {
            setBusy(false)
            setResult({ ok: false, text: describeError(err).message })
          }
        )
      }}
    >
      <input
        type="text"
        aria-label="marker label"
        placeholder="what happened (e.g. stutter here)"
        maxLength={MARKER_LABEL_MAX}
        value={label}
        onChange={(e) => setLabel(e.target.value)}
      />
      <button type="submit" disabled={busy}>
        Mark
      </button>
      {result === null ? null : (
        <span className={result.ok ? "muted small" : "error small"} role={result.ok ? "status" : "alert"} data-testid="mark-result">
          {result.text}
        </span>
      )}
    </form>
  )
}

export const CaptureControl = ({ api, status, sessions, error, onChanged, onMarked }: CaptureControlProps) => {
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState<string | null>(null)
  const [saved, setSaved] = useState<CaptureMeta | null>(null)
  const act = async (action: () => Promise<CaptureMeta | null | void>) => {
    setBusy(true)
    setActionError(null)
    try {
      const result = await action()
      const meta = result === undefined ? null : result
      setSaved(meta)
      onChanged(meta)
    } catch (e) {
      setActionError(describeError(e).message)
    } finally {
      setBusy(false)
    }
  }
  const armed = status?.armed === true
  const path = status?.kind ?? sessions[0]?.kind ?? null
  return (
    <section className="panel capture-control" aria-label="capture control">
      <div className="row">
        <span className={`state ${armed ? "armed" : "idle"}`} data-testid="capture-state">
          {status === null ? "connecting…" : armed ? "● armed" : "idle"}
        </span>
        <button type="button" disabled={busy || status === null || armed} onClick={() => void act(() => api.start().then(() => undefined))}>
          Arm
        </button>
        <button type="button" disabled={busy || status === null || (!armed && status.unsaved_id === null)} onClick={() => void act(() => api.stop())}>
          {status?.unsaved_id !== null && status?.unsaved_id !== undefined && !armed ? "Retry save" : "Stop"}
        </button>
        {status !== null && armed ? (
          <span className="facts">
            <span data-testid="elapsed">elapsed {duration(status.elapsed_ms)}</span>
            <span data-testid="sample-count">{status.sample_count} samples</span>
            <span>path {path ?? "no session yet"}</span>
            <span>{status.active_sessions} active session{status.active_sessions === 1 ? "" : "s"}</span>
            {status.truncated ? <span className="badge warn">truncated</span> : null}
          </span>
        ) : null}
      </div>
      {armed ? <MarkForm api={api} {...(onMarked === undefined ? {} : { onMarked })} /> : null}
      {armed && sessions.length > 0 ? (
        <ul className="sessions muted small">
          {sessions.map((s) => (
            <li key={s.session_id}>
              {s.session_id}: {pathOf(s.kind).title} {s.width}×{s.height}@{s.fps} {s.codec} ({s.encoder_backend}) → {s.client}
            </li>
          ))}
        </ul>
      ) : null}
      {status?.unsaved_id !== null && status?.unsaved_id !== undefined ? (
        <p className="error" role="alert">
          Capture {status.unsaved_id} could not be saved and is kept in memory. Free space or fix the directory, then press Retry save.
        </p>
      ) : null}
      {saved !== null ? (
        <p className="muted" data-testid="saved">
          Saved {saved.id} ({saved.sample_count} samples).
        </p>
      ) : null}
      <ErrorNote text={actionError} testId="action-error" />
      <ErrorNote text={error} />
    </section>
  )
}
