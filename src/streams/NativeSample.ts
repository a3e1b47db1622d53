/**
 * From the addon's window summary to the stats model: one `NativeWindow` → one `StatsSample`,
 * and the session's `SessionMeta`.
 *
 * Invariant (honest counters): a field is listed in `measured` only if this path really counts
 * it, as the field table says (`src/api/Fields.ts`, `measuredOn`, for the frame loop's fields).
 * Without a media or GameStream video target the session sends nothing over a network, so
 * `send_dropped` and the send split are 0 and absent (and GameStream's `packetize` stage reads 0);
 * with one they are that sender's, `seal_us` only when what it sends is sealed. The fields the
 * control plane fills (client reports, RTT) are never claimed here: the session runners add them.
 *
 * Fields that need no arithmetic are copied from the addon's window by the key the table names
 * (`addon`); the type check below fails the build when a row names a key the window lacks.
 */
import type { SessionMeta, StatsSample } from "../api/Stats.js"
import { FIELD_NAMES, FIELDS, conditionOf, measuredFields, zeroFields } from "../api/Fields.js"
import type { FieldName, Fields, SessionFacts } from "../api/Fields.js"
import type { NativeSessionInfo, NativeWindow } from "../native/binding.js"
import type { SessionConfig } from "./Pipeline.js"

/** What the session's configuration tells the field table's conditions. */
export const pipelineFacts = (config: SessionConfig): SessionFacts => ({
  sending: config.media !== undefined || config.gamestream !== undefined,
  // punktfunk/1 media is always sealed; GameStream video only for a client that asked.
  sealed: config.media !== undefined || config.gamestream?.keyHex !== undefined,
  client_fec_status: false,
  client_e2e: false
})

type AddonKeyOf<K extends FieldName> = Fields[K] extends { readonly addon: infer A } ? A : never
type AddonKey = { [K in FieldName]: AddonKeyOf<K> }[FieldName]
type NumericWindowKey = { [K in keyof NativeWindow]-?: NativeWindow[K] extends number ? K : never }[keyof NativeWindow]
// Compile-time: every `addon` key of the table is a numeric field of the addon's window.
const addonKeysExist: [AddonKey] extends [NumericWindowKey] ? true : never = true
void addonKeysExist

const COPIED: ReadonlyArray<readonly [FieldName, NumericWindowKey]> = FIELD_NAMES.flatMap((f) => {
  const spec: { readonly source: string; readonly addon?: string } = FIELDS[f]
  return spec.source === "pipeline" && spec.addon !== undefined ? [[f, spec.addon as NumericWindowKey] as const] : []
})

export const nativeMeta = (sessionId: string, config: SessionConfig, info: NativeSessionInfo): SessionMeta => ({
  session_id: sessionId,
  kind: config.kind,
  width: config.width,
  height: config.height,
  fps: config.fps,
  codec: config.codec,
  client: config.client,
  encoder_backend: info.encoder_backend,
  gpu: info.gpu,
  stages: info.stages,
  measured: measuredFields(config.kind, "pipeline", pipelineFacts(config))
})

const perSecond = (count: number, durationMs: number): number => (durationMs > 0 ? (count * 1000) / durationMs : 0)

export const nativeSample = (meta: SessionMeta, config: SessionConfig, w: NativeWindow): StatsSample => {
  const sample: Record<string, unknown> = {
    ...zeroFields(),
    t_ms: w.t_ms,
    session_id: meta.session_id,
    stages: w.stages.map((s) => ({ name: s.name, p50_us: s.p50_us, p99_us: s.p99_us, max_us: s.max_us, mean_us: s.mean_us })),
    fps: perSecond(w.frames, w.duration_ms),
    repeat_fps: perSecond(w.repeats, w.duration_ms),
    mbps: perSecond(w.bytes * 8, w.duration_ms) / 1e6,
    bitrate_kbps: config.bitrate_kbps
  }
  for (const [field, key] of COPIED) {
    if (!meta.measured.includes(field)) continue
    // A window that says it sent nothing never lends its send numbers, whatever was asked.
    if (conditionOf(field, config.kind) !== "always" && !w.sending) continue
    sample[field] = w[key]
  }
  return sample as StatsSample
}
