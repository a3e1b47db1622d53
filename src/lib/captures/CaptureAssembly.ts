/**
 * Turning what the Recorder (or a recovered journal) holds into a `Capture`: one pure function,
 * so a capture saved on stop and one rebuilt after a crash have exactly the same shape.
 */
import { breachRecordOf, countBreaches } from "../../api/Breaches.js"
import { CAPTURE_FORMAT_VERSION } from "../../api/CaptureFormat.js"
import type { Marker } from "../../api/Markers.js"
import type { Capture, CaptureMeta, MeasuredField, SessionMeta, StatsSample } from "../../api/Stats.js"
import { MeasuredField as MeasuredFieldSchema } from "../../api/Stats.js"

export interface CaptureParts {
  readonly id: string
  readonly label: string
  readonly startedUnixMs: number
  /** Elapsed ms at stop; for a recovered capture, the last sample's time. */
  readonly durationMs: number
  readonly sessions: ReadonlyArray<SessionMeta>
  readonly samples: ReadonlyArray<StatsSample>
  /** Absent in parts from before markers; an empty list is saved as none. */
  readonly markers?: ReadonlyArray<Marker>
  readonly truncated: boolean
  readonly recovered: boolean
}

/** Union of what the sessions measured, in canonical order. */
export const measuredUnion = (sessions: ReadonlyArray<SessionMeta>): ReadonlyArray<MeasuredField> => {
  const set = new Set<MeasuredField>()
  for (const s of sessions) for (const m of s.measured) set.add(m)
  return MeasuredFieldSchema.literals.filter((m) => set.has(m))
}

/**
 * The capture as saved: its breach events are found here, once, under the default thresholds and
 * stored with them (and counted in the meta for the list), so the stored bytes — which the JSON
 * export serves unchanged — already hold them.
 */
export const assembleCapture = (parts: CaptureParts): Capture => {
  const first = parts.sessions[0]
  const meta: CaptureMeta = {
    format_version: CAPTURE_FORMAT_VERSION,
    id: parts.id,
    label: parts.label,
    started_unix_ms: parts.startedUnixMs,
    duration_ms: Math.max(0, Math.round(parts.durationMs)),
    kind: first?.kind ?? "punktfunk1",
    width: first?.width ?? 0,
    height: first?.height ?? 0,
    fps: first?.fps ?? 0,
    codec: first?.codec ?? "",
    client: first?.client ?? "",
    encoder_backend: first?.encoder_backend ?? "",
    gpu: first?.gpu ?? "",
    sample_count: parts.samples.length,
    truncated: parts.truncated,
    recovered: parts.recovered,
    measured: measuredUnion(parts.sessions),
    sessions: parts.sessions,
    imported: false
  }
  return withStoredBreaches({
    meta,
    samples: parts.samples,
    ...(parts.markers === undefined || parts.markers.length === 0 ? {} : { markers: parts.markers })
  })
}

/**
 * A capture with its breach events stored (under the default thresholds) and counted in its meta;
 * one that already has them is returned as it is. For the save above, and for a migration that
 * brings a capture saved before breach events were stored up to date when it rewrites the file
 * (its list entry then gets a count too).
 */
export const withStoredBreaches = (capture: Capture): Capture => {
  if (capture.breaches !== undefined && capture.meta.breach_count !== undefined) return capture
  const breaches = capture.breaches ?? breachRecordOf(capture.meta, capture.samples)
  return { ...capture, meta: { ...capture.meta, breach_count: countBreaches(breaches.events) }, breaches }
}
