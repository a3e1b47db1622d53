/**
 * The Prometheus text exposition (format 0.0.4) of a metrics snapshot and the Recorder's status.
 * Pure: no I/O, so the format is tested without a host.
 *
 * Naming follows Prometheus conventions: base units in the name (`_seconds`, `_bits_per_second`),
 * `_total` for counters, one HELP and TYPE line per family. Per-session gauges carry
 * `path` and `session` labels and vanish when the session ends; counters carry only `path`,
 * so they survive sessions and stay monotonic for `rate()`.
 *
 * Latency exists only for windows whose frames were timed (stage and host total alike): an
 * untimed window has no series, never a `0` that a dashboard would draw as "no latency". The
 * host's own sessions time every frame, armed or not (`measure` in `Pipeline.ts`: ≈ 0.2–0.3 µs
 * per frame), so a real host always has them; a window without stage timings (the fake source
 * disarmed, a still screen that encoded nothing) has none.
 *
 * Why the percentile is a `percentile` label ("p50", "p99") on a gauge and not a `summary`:
 * the values are the host's own percentiles of one aggregation window, and Prometheus reserves
 * `quantile` for summaries, whose `_sum` and `_count` are counters over the process's life —
 * which a per-window p50/p99 cannot honestly supply. A gauge with its own label is what they are.
 */
import type { StatsStatus, StreamKind } from "../api/Stats.js"
import { COUNTER_FIELDS, FIELD_NAMES, FIELDS } from "../api/Fields.js"
import type { FieldSpec } from "../api/Fields.js"
import type { ConnectionCounters } from "../lib/ConnectionLimiter.js"
import type { MetricsSnapshot } from "../services/Metrics.js"

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

type Labels = ReadonlyArray<readonly [string, string]>

interface Family {
  readonly name: string
  readonly type: "gauge" | "counter"
  readonly help: string
  readonly samples: Array<{ readonly labels: Labels; readonly value: number }>
}

/** Label values escape backslash, double quote and line feed (the format's three escapes). */
export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

export const formatValue = (value: number): string => {
  if (Number.isNaN(value)) return "NaN"
  if (value === Infinity) return "+Inf"
  if (value === -Infinity) return "-Inf"
  return String(value)
}

const renderFamily = (family: Family): string => {
  const lines = [`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`]
  for (const { labels, value } of family.samples) {
    const l = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`
    lines.push(`${family.name}${l} ${formatValue(value)}`)
  }
  return lines.join("\n")
}

// Per-session gauges of the field table (src/api/Fields.ts), in its order; rows sharing a family
// (the host total's percentiles, the send split's parts) tell themselves apart by their labels.
const GAUGE_FIELDS = FIELD_NAMES.filter((f) => FIELDS[f].prometheus.type === "gauge")
const promOf = (field: (typeof FIELD_NAMES)[number]): FieldSpec["prometheus"] => FIELDS[field].prometheus

/** Microseconds to seconds by division: `418 / 1e6` prints 0.000418, `418 * 1e-6` does not. */
const sec = (us: number): number => us / 1e6

export const renderMetrics = (
  snapshot: MetricsSnapshot,
  status: StatsStatus,
  /** Each TCP listener's connection limits at work (`ConnectionLimiter.ts`), by listener name. */
  connections: Readonly<Record<string, ConnectionCounters | undefined>> = {}
): string => {
  const family = (name: string, type: Family["type"], help: string): Family => ({ name, type, help, samples: [] })
  const stage = family("punktfunk_stage_latency_seconds", "gauge", "Per-stage frame latency of the session's last timed window, by percentile (p50, p99).")
  const gauges = new Map<string, Family>()
  for (const field of GAUGE_FIELDS) {
    const p = promOf(field)
    if (!gauges.has(p.name)) gauges.set(p.name, family(p.name, "gauge", p.help))
  }
  // The session's own setting, not a field of its windows.
  const targetFps = family("punktfunk_target_frames_per_second", "gauge", "The frame rate the session was opened with.")
  const windows = family("punktfunk_windows_total", "counter", "Aggregation windows received, by path.")
  const counters = COUNTER_FIELDS.map((field) => family(promOf(field).name, "counter", promOf(field).help))
  const armed = family("punktfunk_capture_armed", "gauge", "1 while a stats capture is armed, else 0.")
  const samples = family("punktfunk_capture_samples", "gauge", "Samples held by the armed capture.")
  const truncated = family("punktfunk_capture_truncated", "gauge", "1 when the armed capture reached its sample cap and stopped appending.")
  const unsaved = family("punktfunk_capture_unsaved", "gauge", "1 when a stopped capture could not be saved and waits in memory for a retried stop.")
  const active = family("punktfunk_active_sessions", "gauge", "Streaming sessions running now.")
  const open = family("punktfunk_connections_open", "gauge", "Open TCP connections, by listener.")
  const authenticated = family("punktfunk_connections_authenticated", "gauge", "Open TCP connections that authenticated (never evicted), by listener.")
  const streams = family("punktfunk_connections_streams", "gauge", "Long-lived streams held open (live events, pairing waits), by listener.")
  const inHeadBytes = family("punktfunk_connections_in_head_bytes", "gauge", "Bytes received by connections still sending their head, by listener.")
  const refused = family("punktfunk_connections_refused_total", "counter", "Connections refused at accept, by listener and reason (per_address, full).")
  const evicted = family("punktfunk_connections_evicted_total", "counter", "Unauthenticated connections closed to admit a newcomer to a full listener.")
  const timeouts = family("punktfunk_connections_timeouts_total", "counter", "Connections closed by a timeout, by listener and kind (header, idle).")
  const streamsRefused = family("punktfunk_connections_streams_refused_total", "counter", "Long-lived streams refused at their cap, by listener.")

  const sessions = [...snapshot.sessions].sort((a, b) => (a.meta.session_id < b.meta.session_id ? -1 : 1))
  for (const { meta, last: window } of sessions) {
    if (window === undefined) continue
    const base: Labels = [["path", meta.kind], ["session", meta.session_id]]
    for (const s of window.stages) {
      stage.samples.push({ labels: [...base, ["stage", s.name], ["percentile", "p50"]], value: sec(s.p50_us) })
      stage.samples.push({ labels: [...base, ["stage", s.name], ["percentile", "p99"]], value: sec(s.p99_us) })
    }
    // The host total is timed with the stages: a window without stage timings has no host total
    // either (its host_p50_us/p99_us are 0 there, not a measurement) — the rows marked `timed`.
    const timed = window.stages.length > 0
    // Only what the session measured: an unmeasured field has no series, never a 0.
    for (const field of GAUGE_FIELDS) {
      const value = window[field]
      const p = promOf(field)
      if (value === undefined || !meta.measured.includes(field) || (p.timed === true && !timed)) continue
      gauges.get(p.name)?.samples.push({ labels: [...base, ...(p.labels ?? [])], value: p.toBase(value) })
    }
    targetFps.samples.push({ labels: base, value: meta.fps })
  }
  const kinds = (Object.keys(snapshot.paths) as Array<StreamKind>).sort()
  for (const kind of kinds) {
    const totals = snapshot.paths[kind]
    if (totals === undefined) continue
    windows.samples.push({ labels: [["path", kind]], value: totals.windows })
    COUNTER_FIELDS.forEach((field, i) => {
      const value = totals.counters[field]
      if (value !== undefined) counters[i]?.samples.push({ labels: [["path", kind]], value })
    })
  }
  armed.samples.push({ labels: [], value: status.armed ? 1 : 0 })
  samples.samples.push({ labels: [], value: status.sample_count })
  truncated.samples.push({ labels: [], value: status.truncated ? 1 : 0 })
  unsaved.samples.push({ labels: [], value: status.unsaved_id === null ? 0 : 1 })
  active.samples.push({ labels: [], value: status.active_sessions })

  for (const name of Object.keys(connections).sort()) {
    const c = connections[name]
    if (c === undefined) continue
    const l: Labels = [["listener", name]]
    open.samples.push({ labels: l, value: c.open })
    authenticated.samples.push({ labels: l, value: c.authenticated })
    streams.samples.push({ labels: l, value: c.streams })
    inHeadBytes.samples.push({ labels: l, value: c.in_head_bytes })
    refused.samples.push({ labels: [...l, ["reason", "per_address"]], value: c.refused_per_address })
    refused.samples.push({ labels: [...l, ["reason", "full"]], value: c.refused_full })
    evicted.samples.push({ labels: l, value: c.evicted })
    timeouts.samples.push({ labels: [...l, ["kind", "header"]], value: c.header_timeouts })
    timeouts.samples.push({ labels: [...l, ["kind", "idle"]], value: c.idle_timeouts })
    streamsRefused.samples.push({ labels: l, value: c.streams_refused })
  }

  const all = [
    stage, ...gauges.values(), targetFps, windows, ...counters, armed, samples, truncated, unsaved, active,
    open, authenticated, streams, inHeadBytes, refused, evicted, timeouts, streamsRefused
  ]
  return all.map(renderFamily).join("\n") + "\n"
}
