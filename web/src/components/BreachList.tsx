/**
 * Budget-breach events in the detail view: the four thresholds (shown, and adjustable), and the
 * events they give — time, session, rule, severity and one line of words — where a click on an
 * event's time selects exactly its range on every chart.
 *
 * Why the page recomputes the events instead of only showing the stored ones: the capture stores
 * the events found at save under the default thresholds (so exports carry them), but "is a 20 ms
 * p99 at 60 fps a problem" depends on the game; moving a threshold here reruns the same pure rules
 * (`src/api/Breaches.ts`) over the samples in the page. Nothing is written back: the stored events
 * and their thresholds stay what the capture was saved with, and "Reset" returns to them.
 *
 * Why each field keeps its own text until it parses: typing "1.5" passes through "1." and "",
 * which are not thresholds; the list follows the last valid value and the field says what is
 * wrong meanwhile, with the Schema's own rule for each threshold.
 */
import { Either, Schema } from "effect"
import { useState } from "react"
import type { BreachEvent, BreachThresholds } from "../../../src/api/Breaches.js"
import { BreachThresholds as BreachThresholdsSchema } from "../../../src/api/Breaches.js"
import { seconds } from "../lib/format.js"
import { TableHead } from "./TableHead.js"

const decodeThresholds = Schema.decodeUnknownEither(BreachThresholdsSchema)

interface FieldSpec {
  readonly key: keyof BreachThresholds
  readonly label: string
  readonly text: string
  /** From the field's text to the threshold's value (the fps shortfall is typed in percent). */
  readonly parse: (text: string) => number
  readonly show: (value: number) => string
  readonly step: string
  readonly hint: (value: number, budgetMs: number | null) => string
}

const FIELDS: ReadonlyArray<FieldSpec> = [
  {
    key: "host_p99_budget",
    label: "host p99 threshold",
    text: "host p99 over budget ×",
    parse: Number,
    show: String,
    step: "0.1",
    hint: (v, budget) => (budget === null ? "" : `= ${(budget * v).toFixed(1)} ms`)
  },
  {
    key: "fps_shortfall",
    label: "fps shortfall threshold",
    text: "fps under target by %",
    parse: (t) => Number(t) / 100,
    show: (v) => String(Math.round(v * 1000) / 10),
    step: "1",
    hint: () => ""
  },
  {
    key: "drops",
    label: "drops threshold",
    text: "drops/losses per window ≥",
    parse: Number,
    show: String,
    step: "1",
    hint: () => ""
  },
  {
    key: "rtt_factor",
    label: "rtt threshold",
    text: "RTT over median ×",
    parse: Number,
    show: String,
    step: "0.1",
    hint: () => ""
  }
]

export interface BreachThresholdsFormProps {
  readonly value: BreachThresholds
  /** The thresholds the capture was saved with (the defaults), for Reset. */
  readonly saved: BreachThresholds
  readonly budgetMs: number | null
  readonly onChange: (thresholds: BreachThresholds) => void
}

export const BreachThresholdsForm = ({ value, saved, budgetMs, onChange }: BreachThresholdsFormProps) => {
  const [drafts, setDrafts] = useState<Partial<Record<keyof BreachThresholds, string>>>({})
  const [problem, setProblem] = useState<string | null>(null)
  const edit = (spec: FieldSpec, text: string) => {
    setDrafts((d) => ({ ...d, [spec.key]: text }))
    const decoded = decodeThresholds({ ...value, [spec.key]: text.trim() === "" ? Number.NaN : spec.parse(text) })
    if (Either.isRight(decoded)) {
      setProblem(null)
      onChange(decoded.right)
    } else setProblem(`${spec.text}: not a valid threshold`)
  }
  const changed = FIELDS.some((f) => value[f.key] !== saved[f.key])
  return (
    <div className="thresholds" role="group" aria-label="breach thresholds" data-testid="breach-thresholds">
      {FIELDS.map((spec) => (
        <label key={spec.key}>
          {spec.text}{" "}
          <input
            type="number"
            step={spec.step}
            aria-label={spec.label}
            value={drafts[spec.key] ?? spec.show(value[spec.key])}
            onChange={(e) => edit(spec, e.target.value)}
            onBlur={() => setDrafts((d) => ({ ...d, [spec.key]: undefined }))}
          />{" "}
          <span className="muted small">{spec.hint(value[spec.key], budgetMs)}</span>
        </label>
      ))}
      <button
        type="button"
        disabled={!changed}
        onClick={() => {
          setDrafts({})
          setProblem(null)
          onChange(saved)
        }}
      >
        Reset to saved
      </button>
      {problem !== null ? (
        <span className="error small" role="alert">
          {problem}
        </span>
      ) : null}
    </div>
  )
}

const KIND_TEXT: Record<BreachEvent["kind"], string> = {
  host_p99: "host p99",
  fps: "fps",
  drops: "drops",
  rtt: "RTT"
}

export interface BreachListProps {
  readonly events: ReadonlyArray<BreachEvent>
  /** Whether the events are the ones stored in the capture (thresholds as saved) or recomputed. */
  readonly source: "stored" | "computed"
  readonly onSelect: (event: BreachEvent) => void
}

export const BreachList = ({ events, source, onSelect }: BreachListProps) => {
  const critical = events.filter((e) => e.severity === "critical").length
  return (
    <section className="breaches" aria-label="budget-breach events" data-testid="breach-list" data-count={events.length}>
      <h3>
        Budget breaches{" "}
        <span className="muted small" data-testid="breach-list-count">
          {events.length === 0 ? "none" : `${events.length} (${critical} critical)`}
          {source === "stored" ? " · as saved" : " · under the thresholds above"}
        </span>
      </h3>
      {events.length === 0 ? null : (
        <table className="grid compact">
          <TableHead columns={["time", "rule", "severity", "what"]} />
          <tbody>
            {events.map((e) => (
              <tr key={`${e.session_id}-${e.kind}-${e.from_ms}`} data-testid="breach-row" data-kind={e.kind} data-severity={e.severity}>
                <td>
                  <button
                    type="button"
                    className="time-link"
                    onClick={() => onSelect(e)}
                    aria-label={`select ${KIND_TEXT[e.kind]} breach ${(e.from_ms / 1000).toFixed(1)} to ${(e.to_ms / 1000).toFixed(1)} s`}
                  >
                    {seconds(e.from_ms / 1000)} – {seconds(e.to_ms / 1000)}
                  </button>
                </td>
                <td>{KIND_TEXT[e.kind]}</td>
                <td>
                  <span className={`badge ${e.severity === "critical" ? "crit" : "warn"}`}>{e.severity}</span>
                </td>
                <td title={`session ${e.session_id}`}>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
