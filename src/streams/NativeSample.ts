/**
 * From the addon's window summary to the stats model: one `NativeWindow` → one `StatsSample`,
 * and the session's `SessionMeta`.
 *
 * Invariant (honest counters): a field is listed in `measured` only if this path really counts
 * it. Without a media or GameStream video target the session sends nothing over a network, so
 * `send_dropped` and the send split are 0 and absent (and GameStream's `packetize` stage reads 0,
 * see `stageMeasured`); with GameStream video, `send_dropped`, `fec_us` and `sock_us` are the
 * video sender's, and `seal_us` too when the client asked for encrypted video; `packets_dropped`, `fec_recovered` and `rtt_us` come from the
 * client (the control plane adds them) and are never claimed here.
 */
import type { MeasuredField, SessionMeta, StageName, StatsSample } from "../api/Stats.js"
import type { NativeSessionInfo, NativeWindow } from "../native/binding.js"
import type { SessionConfig } from "./Pipeline.js"

const ALWAYS: ReadonlyArray<MeasuredField> = [
  "fps",
  "repeat_fps",
  "mbps",
  "bitrate_kbps",
  "frames_dropped",
  "host_p50_us",
  "host_p99_us"
]
const WITH_MEDIA: ReadonlyArray<MeasuredField> = ["send_dropped", "fec_us", "seal_us", "sock_us"]
// GameStream video: parity on the frame thread (part of `packetize`) and the pacer's socket time;
// sealing (also part of `packetize`) only for a client that asked for encrypted video — for the
// others nothing is sealed, so seal_us stays unmeasured rather than a measured 0.
const WITH_GAMESTREAM_VIDEO: ReadonlyArray<MeasuredField> = ["send_dropped", "fec_us", "sock_us"]
const sealsVideo = (config: SessionConfig): boolean => config.gamestream?.keyHex !== undefined

const measuredOf = (config: SessionConfig): ReadonlyArray<MeasuredField> =>
  config.media !== undefined
    ? [...ALWAYS, ...WITH_MEDIA]
    : config.gamestream !== undefined
      ? [...ALWAYS, ...WITH_GAMESTREAM_VIDEO, ...(sealsVideo(config) ? (["seal_us"] as const) : [])]
      : ALWAYS

// GameStream's `packetize` stage is real work only with a video target (the packetizer runs on
// the frame thread and is timed there, its parity share reported as fec_us). Without one the
// addon times nothing and the stage reads 0 — it stays in the set so every GameStream sample has
// the same stages, but its number is never fabricated.

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
  stages: info.stages.map((s): StageName => s),
  measured: measuredOf(config)
})

const perSecond = (count: number, durationMs: number): number => (durationMs > 0 ? (count * 1000) / durationMs : 0)

export const nativeSample = (meta: SessionMeta, config: SessionConfig, w: NativeWindow): StatsSample => {
  const sample: StatsSample = {
    t_ms: w.t_ms,
    session_id: meta.session_id,
    stages: w.stages.map((s) => ({ name: s.name, p50_us: s.p50_us, p99_us: s.p99_us, max_us: s.max_us, mean_us: s.mean_us })),
    fps: perSecond(w.frames, w.duration_ms),
    repeat_fps: perSecond(w.repeats, w.duration_ms),
    mbps: perSecond(w.bytes * 8, w.duration_ms) / 1e6,
    bitrate_kbps: config.bitrate_kbps,
    frames_dropped: w.frames_dropped,
    packets_dropped: 0,
    send_dropped: w.has_media || w.has_gamestream ? w.send_dropped : 0,
    fec_recovered: 0,
    rtt_us: 0,
    host_p50_us: w.host_p50_us,
    host_p99_us: w.host_p99_us
  }
  if (w.has_media) return { ...sample, fec_us: w.fec_us, seal_us: w.seal_us, sock_us: w.sock_us }
  if (!w.has_gamestream) return sample
  return sealsVideo(config) ? { ...sample, fec_us: w.fec_us, seal_us: w.seal_us, sock_us: w.sock_us } : { ...sample, fec_us: w.fec_us, sock_us: w.sock_us }
}
