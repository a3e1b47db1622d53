/**
 * The saved recordings: when, which path, resolution@fps, codec, encoder backend, duration and
 * samples, budget-breach events (as counted at save or migration; "—" for a capture that has none
 * stored), with `truncated` / `recovered` badges; and per row view, label, download (JSON or
 * CSV), delete with an inline confirmation, and a tick box to pick recordings to compare.
 */
import { useState } from "react"
import type { CaptureListItem } from "../../../src/api/Stats.js"
import type { ConsoleApi } from "../api/client.js"
import { describeError } from "../api/errors.js"
import { ImportedBadge } from "./ImportedBadge.js"
import { saveText } from "../lib/download.js"
import { dateTime, duration } from "../lib/format.js"
import { ConfirmAction } from "./ConfirmAction.js"
import { ErrorNote } from "./Notes.js"
import { pathOf } from "../../../src/api/Paths.js"

export interface RecordingsListProps {
  readonly api: ConsoleApi
  readonly recordings: ReadonlyArray<CaptureListItem> | null
  readonly error: string | null
  readonly onView: (id: string) => void
  readonly onCompare: (ids: ReadonlyArray<string>) => void
  readonly onChanged: () => void
}

const LabelEditor = ({ meta, api, onDone }: { meta: CaptureListItem; api: ConsoleApi; onDone: (error: string | null) => void }) => {
  const [text, setText] = useState(meta.label)
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault()
        api.label(meta.id, text).then(
          () => onDone(null),
          (err: unknown) => onDone(describeError(err).message)
        )
      }}
    >
      <input aria-label={`label for ${meta.id}`} value={text} maxLength={200} onChange={(e) => setText(e.target.value)} autoFocus />
      <button type="submit">Save label</button>
      <button type="button" onClick={() => onDone(null)}>
        Cancel
      </button>
    </form>
  )
}

export const RecordingsList = ({ api, recordings, error, onView, onCompare, onChanged }: RecordingsListProps) => {
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set())
  const [editing, setEditing] = useState<string | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)
  const [rowError, setRowError] = useState<string | null>(null)
  const toggle = (id: string) =>
    setPicked((prev) => {
      const next = new Set(prev)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })
  const download = (id: string, format: "json" | "csv") => {
    setRowError(null)
    api.exportText(id, format).then(
      (text) => saveText(text, `${id}.${format}`, format === "csv" ? "text/csv" : "application/json"),
      (e: unknown) => setRowError(describeError(e).message)
    )
  }
  const remove = (id: string) => {
    setRowError(null)
    api.remove(id).then(
      () => {
        setConfirming(null)
        setPicked((prev) => new Set([...prev].filter((p) => p !== id)))
        onChanged()
      },
      (e: unknown) => setRowError(describeError(e).message)
    )
  }
  const chosen = (recordings ?? []).filter((r) => picked.has(r.id)).map((r) => r.id)
  return (
    <section className="panel recordings" aria-label="recordings">
      <div className="row">
        <h2>Recordings</h2>
        <button type="button" disabled={chosen.length < 2} onClick={() => onCompare(chosen)} data-testid="compare-button">
          Compare {chosen.length >= 2 ? `(${chosen.length})` : "(pick two or more)"}
        </button>
        <button type="button" onClick={onChanged}>
          Refresh
        </button>
      </div>
      <ErrorNote text={error} />
      <ErrorNote text={rowError} />
      {recordings === null ? (
        <p className="muted">Loading…</p>
      ) : recordings.length === 0 ? (
        <p className="muted">No recordings yet. Arm, play, stop: the capture appears here.</p>
      ) : (
        <table className="grid" data-testid="recordings">
          <thead>
            <tr>
              <th aria-label="pick to compare" />
              <th>started</th>
              <th>label</th>
              <th>path</th>
              <th>format</th>
              <th>codec</th>
              <th>encoder</th>
              <th>duration</th>
              <th>samples</th>
              <th title="budget-breach events found when the capture was saved (default thresholds)">breaches</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {recordings.map((r) => (
              <tr key={r.id} data-testid="recording-row" data-id={r.id}>
                <td>
                  <input type="checkbox" aria-label={`compare ${r.id}`} checked={picked.has(r.id)} onChange={() => toggle(r.id)} />
                </td>
                <td title={r.id}>{dateTime(r.started_unix_ms)}</td>
                <td>
                  {editing === r.id ? (
                    <LabelEditor
                      meta={r}
                      api={api}
                      onDone={(err) => {
                        setEditing(null)
                        setRowError(err)
                        onChanged()
                      }}
                    />
                  ) : (
                    <span data-testid="label">{r.label}</span>
                  )}
                  {r.truncated ? <span className="badge warn">truncated</span> : null}
                  {r.recovered ? <span className="badge info">recovered</span> : null}
                  <ImportedBadge meta={r} />
                </td>
                <td>
                  {pathOf(r.kind).title}
                  {r.session_count > 1 ? ` (${r.session_count} sessions)` : ""}
                </td>
                <td>
                  {r.width}×{r.height}@{r.fps}
                </td>
                <td>{r.codec}</td>
                <td>{r.encoder_backend}</td>
                <td>{duration(r.duration_ms)}</td>
                <td className="num">{r.sample_count}</td>
                <td className="num" data-testid="breach-count">
                  {r.breach_count === undefined ? (
                    <span className="muted" title="no breach events stored (an older capture not yet rewritten): open it to see them">
                      —
                    </span>
                  ) : (
                    <>
                      {r.breach_count.total}
                      {r.breach_count.critical > 0 ? <span className="badge crit">{r.breach_count.critical} critical</span> : null}
                    </>
                  )}
                </td>
                <td className="actions">
                  <button type="button" onClick={() => onView(r.id)}>
                    View
                  </button>
                  <button type="button" onClick={() => setEditing(r.id)}>
                    Label
                  </button>
                  <button type="button" onClick={() => download(r.id, "json")}>
                    JSON
                  </button>
                  <button type="button" onClick={() => download(r.id, "csv")}>
                    CSV
                  </button>
                  <ConfirmAction
                    asking={confirming === r.id}
                    action="Delete"
                    question="Delete for good?"
                    yes="Yes, delete"
                    dialogLabel={`delete ${r.id}?`}
                    onAsk={() => setConfirming(r.id)}
                    onKeep={() => setConfirming(null)}
                    onYes={() => remove(r.id)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
