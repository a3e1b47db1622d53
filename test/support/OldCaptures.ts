/**
 * Capture files as each earlier version of the format wrote them (`src/api/CaptureFormat.ts` lists
 * the versions). Written out by hand as plain JSON, not built from today's Schemas: a fixture
 * derived from the current model would change with it and could no longer show that an old file
 * still opens.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export type Json = Record<string, unknown>

/** The versions these fixtures cover: every one before the current. */
export const OLD_VERSIONS = [1, 2, 3, 4, 5, 6, 7, 8] as const
export type OldVersion = (typeof OLD_VERSIONS)[number]

const STARTED = Date.UTC(2026, 10, 20, 18, 0, 0)

export const oldIdOf = (version: number) => `2026-11-20T18-00-0${version}Z_1280x720`

/** A version-1 sample: the counters of the first format, the native send split where measured. */
const sampleV1 = (i: number): Json => ({
  t_ms: i * 2000,
  session_id: "s1",
  stages: [
    { name: "capture", p50_us: 300 + i, p99_us: 600 + i, max_us: 900 + i, mean_us: 350 + i },
    { name: "submit", p50_us: 800, p99_us: 1200, max_us: 1500, mean_us: 850 },
    { name: "encode", p50_us: 2100, p99_us: 4000, max_us: 5200, mean_us: 2300 },
    { name: "send", p50_us: 400, p99_us: 700, max_us: 950, mean_us: 420 }
  ],
  fps: 59.5 + (i % 2) * 0.5,
  repeat_fps: 0,
  mbps: 19.75,
  bitrate_kbps: 20000,
  frames_dropped: i === 2 ? 1 : 0,
  packets_dropped: i === 3 ? 4 : 0,
  send_dropped: 0,
  fec_recovered: i === 3 ? 4 : 0,
  rtt_us: 850 + i * 10,
  host_p50_us: 3700 + i,
  host_p99_us: 6400 + i,
  fec_us: 80,
  seal_us: 30,
  sock_us: 210
})

const MEASURED_V1 = [
  "fps", "repeat_fps", "mbps", "bitrate_kbps", "frames_dropped", "packets_dropped", "send_dropped", "fec_recovered",
  "rtt_us", "host_p50_us", "host_p99_us", "fec_us", "seal_us", "sock_us"
]

const SAMPLES = 6

/** One old capture file's parts: the data file, its meta file, and (v5 on) a frames file beside it. */
export interface OldCapture {
  readonly version: OldVersion
  readonly id: string
  readonly data: Json
  readonly meta: Json
  readonly frames?: string
}

export const oldCapture = (version: OldVersion): OldCapture => {
  const id = oldIdOf(version)
  const measured = [...MEASURED_V1]
  // v2: the client's dropped frames, their own counter.
  if (version >= 2) measured.splice(5, 0, "client_frames_dropped")
  // v3: the windows the addon could not hand over.
  if (version >= 3) measured.splice(measured.indexOf("fec_recovered") + 1, 0, "windows_dropped")
  // v6: end-to-end latency where a client reported it.
  if (version >= 6) measured.splice(measured.indexOf("host_p99_us") + 1, 0, "e2e_p50_us", "e2e_p99_us")
  const samples = Array.from({ length: SAMPLES }, (_, i) => {
    const s: Json = sampleV1(i)
    if (version >= 2) s["client_frames_dropped"] = i === 4 ? 2 : 0
    if (version >= 3) s["windows_dropped"] = i === 5 ? 1 : 0
    if (version >= 6 && i >= 1) {
      s["e2e_p50_us"] = 9000 + i
      s["e2e_p99_us"] = 14000 + i
    }
    return s
  })
  // Up to version 8 the punktfunk/1 path's kind was stored as "native" (version 9 renamed it).
  const session = {
    session_id: "s1", kind: "native", width: 1280, height: 720, fps: 60, codec: "h264", client: "old-client",
    encoder_backend: "libx264", gpu: "none", stages: ["capture", "submit", "encode", "send"], measured
  }
  const meta: Json = {
    id, label: `written by format ${version}`, started_unix_ms: STARTED + version * 1000, duration_ms: (SAMPLES - 1) * 2000,
    kind: "native", width: 1280, height: 720, fps: 60, codec: "h264", client: "old-client", encoder_backend: "libx264",
    gpu: "none", sample_count: SAMPLES, truncated: false, recovered: false, measured, sessions: [session]
  }
  // v8: the format's number and the import mark in the meta.
  if (version >= 8) {
    meta["format_version"] = 8
    meta["imported"] = false
  }
  // v5: what the frames file beside the capture holds.
  if (version >= 5) meta["frames"] = { spans: 1, frames: 3, bound_hit: false }
  const data: Json = { meta, samples }
  // v4: markers, absent when there were none.
  if (version >= 4) {
    data["markers"] = [
      { t_ms: 0, label: "session start", kind: "session_start", session_id: "s1" },
      { t_ms: 5000, label: "stutter here", kind: "operator" }
    ]
  }
  // v7: the budget-breach events found at save, and their count in the meta.
  if (version >= 7) {
    data["breaches"] = {
      thresholds: { host_p99_budget: 1, fps_shortfall: 0.05, drops: 1, rtt_factor: 2 },
      events: [
        {
          kind: "drops", severity: "warning", session_id: "s1", from_ms: 4000, to_ms: 6000, windows: 1, worst: 1, threshold: 1,
          message: "1 frame dropped in 1 window"
        }
      ]
    }
    meta["breach_count"] = { total: 1, critical: 0 }
  }
  return {
    version,
    id,
    data,
    meta,
    ...(version >= 5 ? { frames: `{"version":1,"id":"${id}","note":"kept as it was"}` } : {})
  }
}

/**
 * The old meta as today's host holds it after the migration, where a migration changes a value
 * rather than adding one: the punktfunk/1 kind `native` is `punktfunk1` (format 9), and the
 * format's number is the current one (the tests check it beside this).
 */
export const migratedMetaOf = (old: OldCapture): Json => {
  const meta = structuredClone(old.meta)
  delete meta["format_version"]
  const rename = (holder: Json) => {
    if (holder["kind"] === "native") holder["kind"] = "punktfunk1"
  }
  rename(meta)
  for (const session of meta["sessions"] as Array<Json>) rename(session)
  return meta
}

/** Write an old capture as its host did: frames, data file, then its meta beside it. Returns the data bytes. */
export const writeOldCapture = (capturesDir: string, old: OldCapture): string => {
  fs.mkdirSync(capturesDir, { recursive: true, mode: 0o700 })
  if (old.frames !== undefined) fs.writeFileSync(path.join(capturesDir, `${old.id}.frames.json`), old.frames)
  const data = JSON.stringify(old.data)
  fs.writeFileSync(path.join(capturesDir, `${old.id}.json`), data)
  fs.writeFileSync(path.join(capturesDir, `${old.id}.meta.json`), JSON.stringify(old.meta))
  return data
}

/**
 * The `.capture-index` an older host left (index version 1, its metas of their own format), with
 * signatures matching the files and every verdict ok: the index must not spare an old file its
 * migration.
 */
export const writeOldIndex = (capturesDir: string, olds: ReadonlyArray<OldCapture>) => {
  const sig = (file: string) => {
    const st = fs.statSync(path.join(capturesDir, file))
    return { size: st.size, mtime_ms: st.mtimeMs, ino: st.ino }
  }
  const entries = olds.map((o) => ({ meta: o.meta, meta_file: sig(`${o.id}.meta.json`), data_file: sig(`${o.id}.json`), verdict: { ok: true } }))
  fs.writeFileSync(path.join(capturesDir, ".capture-index"), JSON.stringify({ version: 1, entries }))
}
