/**
 * What the CLI prints: plain aligned text tables, no colours (output is often piped or logged).
 *
 * The capture summary comes from `api/Summary.ts`, the same math the console's table uses, so
 * the CLI and the console never disagree about a capture. The table prints the sentence saying
 * the figures are computed over windows, and counters only where some session measured them:
 * an unmeasured counter is "not measured", never "0".
 */
import type { Capture, CaptureListItem, StatsStatus } from "../api/Stats.js"
import { COUNTER_FIELDS, FIELD_NAMES, FIELDS } from "../api/Fields.js"
import { SUMMARY_METHOD, summarizeCapture } from "../api/Summary.js"
import type { CounterSummary, Distribution } from "../api/Summary.js"

// Rows of the rate table: every field the field table summarises as a distribution of its own
// (not the host total, shown with the stages, nor a target, shown with its rate).
const RATE_FIELDS = FIELD_NAMES.filter((f) => FIELDS[f].group === "rate" || FIELDS[f].group === "split")

/** Columns padded to their widest cell; numbers right-aligned. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+( ?[%a-zA-Z/]*)?$|^—$/.test(r[i] ?? "")))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}

const ms = (us: number) => (us / 1000).toFixed(2)
const fixed = (n: number, digits = 1) => n.toFixed(digits)

export const formatDuration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`
}

export const formatStatus = (status: StatsStatus): string => {
  const lines = [
    `armed:           ${status.armed ? "yes" : "no"}`,
    `samples:         ${status.sample_count}${status.truncated ? " (truncated: the cap was reached, the start is kept)" : ""}`,
    `elapsed:         ${status.armed ? formatDuration(status.elapsed_ms) : "—"}`,
    `kind:            ${status.kind ?? "—"}`,
    `active sessions: ${status.active_sessions}`
  ]
  if (status.unsaved_id !== null) {
    lines.push(`unsaved capture: ${status.unsaved_id} (its save failed; run 'punktfunk stats stop' again to retry)`)
  }
  return lines.join("\n")
}

export const formatList = (rows: ReadonlyArray<CaptureListItem>): string => {
  if (rows.length === 0) return "no stored captures"
  return table(
    ["id", "label", "kind", "format", "duration", "samples", "flags"],
    rows.map((m) => [
      m.id,
      m.label,
      m.kind,
      `${m.width}x${m.height}@${m.fps} ${m.codec}`,
      formatDuration(m.duration_ms),
      String(m.sample_count),
      [m.truncated ? "truncated" : "", m.recovered ? "recovered" : "", m.imported ? "imported" : ""].filter((f) => f !== "").join(",")
    ])
  )
}

const distRow = (name: string, d: Distribution | null, unit: string, scale = 1, digits = 1): ReadonlyArray<string> | undefined =>
  d === null
    ? undefined
    : [name, `${fixed(d.mean * scale, digits)}`, `${fixed(d.p1 * scale, digits)}`, `${fixed(d.p50 * scale, digits)}`, `${fixed(d.max * scale, digits)}`, unit]

const counterRow = (name: string, c: CounterSummary | null): ReadonlyArray<string> =>
  c === null ? [name, "not measured", "", ""] : [name, String(c.total), fixed(c.per_window.mean, 2), String(c.per_window.max)]

/** `punktfunk stats show ID`: the capture's meta, then stage, rate and counter tables. */
export const formatCaptureSummary = (capture: Capture): string => {
  const meta = capture.meta
  const summary = summarizeCapture(capture)
  const budgetMs = summary.frame_budget_ms
  const out: Array<string> = []
  out.push(`capture ${meta.id}${meta.label === "" ? "" : ` "${meta.label}"`}`)
  out.push(
    `${meta.kind} ${meta.width}x${meta.height}@${meta.fps} ${meta.codec} via ${meta.encoder_backend}, ` +
      `${formatDuration(meta.duration_ms)}, ${summary.windows} windows, ${meta.sessions.length} session(s)` +
      `${meta.truncated ? ", truncated" : ""}${meta.recovered ? ", recovered after a crash" : ""}${meta.imported ? ", imported from a file" : ""}`
  )
  out.push(`frame budget: ${budgetMs === null ? "unknown" : `${budgetMs.toFixed(2)} ms (${summary.target_fps} fps)`}`)
  out.push("")
  if (summary.stages.length === 0) {
    out.push("stages: no measured windows")
  } else {
    const pct = (us: number) => (budgetMs === null ? "—" : `${((us / 1000 / budgetMs) * 100).toFixed(0)}%`)
    const rows = summary.stages.map((s) => [s.name, ms(s.mean_us), ms(s.p50_us), ms(s.p95_us), ms(s.p99_us), ms(s.max_us), pct(s.p99_us)])
    if (summary.host_p50_us !== null && summary.host_p99_us !== null) {
      const h50 = summary.host_p50_us
      const h99 = summary.host_p99_us
      rows.push([
        "host total",
        ms(h50.mean),
        ms(h50.p50),
        ms(h99.p95),
        ms(h99.p99),
        ms(h99.max),
        pct(h99.p99)
      ])
    }
    out.push(table(["stage (ms)", "mean", "p50", "p95", "p99", "max", "p99/budget"], rows))
  }
  out.push("")
  const rates = RATE_FIELDS.map((f) => {
    const { label, show } = FIELDS[f]
    return distRow(label, summary[f] as Distribution | null, show.unit, show.scale, show.digits)
  }).filter((r): r is ReadonlyArray<string> => r !== undefined)
  if (rates.length > 0) out.push(table(["rate", "mean", "1% low", "p50", "max", "unit"], rates))
  if (summary.target_mbps !== null) out.push(`target bitrate: ${summary.target_mbps.toFixed(2)} Mb/s`)
  out.push("")
  out.push(
    table(
      ["counter", "total", "mean/window", "max/window"],
      COUNTER_FIELDS.map((f) => counterRow(FIELDS[f].label, summary[f]))
    )
  )
  out.push("")
  out.push(SUMMARY_METHOD)
  return out.join("\n")
}
