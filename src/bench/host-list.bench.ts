/**
 * Listing 1,000 stored captures of 5,400 samples each (the cap: ≈ 3 h at one window every 2 s)
 * through `GET /api/v1/stats/recordings` on the compiled host. Targets (issue 15): p50 under 5 ms,
 * p99 under 20 ms, the first request after a start under 100 ms.
 *
 * The captures are written as the store writes them — `<id>.json` (the whole capture) and
 * `<id>.meta.json` beside it — and encoded with the Schemas, so each decodes like a real one.
 * The samples body is encoded once and reused (the listing never reads it; the files are still
 * full size, ≈ 3 GB in all, so the directory is as heavy as the real thing). The first request
 * after the host starts is reported apart (cold), then `RUNS` requests give p50/p99/max. The host
 * is then restarted on the same directory (its capture index now on disk) and its first request
 * timed again. On the first start the host also checks the 1,000 data files in the background
 * (none has a verdict yet): the requests are timed while that runs, as they would be on a host
 * upgraded with a full directory.
 *
 * The client does what the console's does (`web/src/api/client.ts`): the body as text,
 * `JSON.parse`, the table made rows and shape-checked (`listingRows`), and every figure
 * includes it. Beside the full requests, the same client's refresh with the last `ETag`
 * (`If-None-Match` → `304`, no body) is timed, and the gzip of the answer is measured in this
 * process (its size, the host's one-off compress, the client's inflate per request), to say
 * whether compressing it would pay on loopback.
 *
 * The bench's own `fetch` is loaded before the host starts (Node loads its HTTP client on the
 * first call, tens of milliseconds that belong to this process, not to the host's first answer).
 *
 * `PUNKTFUNK_LIST_CAPTURES` and `PUNKTFUNK_LIST_SAMPLES` shrink it for a quick look.
 */
import { sampleFixture } from "../api/SampleFixture.js"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { spawnBenchHost } from "./BenchHost.js"
import { CaptureListItem, CaptureMeta, StatsSample, captureListItem } from "../api/Stats.js"
import { structureGuard } from "../api/StructureGuard.js"
import { listingRows } from "../api/CaptureListing.js"
import * as zlib from "node:zlib"
import { CAPTURE_FORMAT_VERSION } from "../api/CaptureFormat.js"
import type { SessionMeta } from "../api/Stats.js"

const CAPTURES = Number(process.env["PUNKTFUNK_LIST_CAPTURES"] ?? "1000")
const SAMPLES = Number(process.env["PUNKTFUNK_LIST_SAMPLES"] ?? "5400")
/**
 * Why 200 and not 50: with 50 requests the p99 is the single slowest one, so one collection pause
 * in the client decides it; with 200 it is the second slowest of the run.
 */
const RUNS = 200
/** Measured before issue 15's work (in-memory metas, the listing encoded per request). */
const BEFORE = { cold: 502, p50: 39.6, p99: 152 }
/** The lead's idle rerun (2026-12-03 12:53 UTC) with every meta in full in the answer (751 KB). */
const BEFORE_FULL = { cold: 48.4, restart: 22.8, p50: 13.2, p99: 62.6, max: 62.6 }

const encodeMeta = Schema.encodeSync(Schema.parseJson(CaptureMeta))
const encodeSamples = Schema.encodeSync(Schema.parseJson(Schema.Array(StatsSample)))

const pad = (n: number) => String(n).padStart(2, "0")
const idOf = (ms: number) => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}Z_1920x1080`
}

const session: SessionMeta = {
  session_id: "bench-1",
  kind: "punktfunk1",
  width: 1920,
  height: 1080,
  fps: 60,
  codec: "h264",
  client: "bench",
  encoder_backend: "libx264",
  gpu: "none",
  stages: ["capture", "submit", "encode", "send"],
  measured: ["fps", "repeat_fps", "mbps", "bitrate_kbps", "rtt_us", "host_p50_us", "host_p99_us"]
}

const sampleAt = (i: number): StatsSample => sampleFixture({
  t_ms: i * 2000,
  session_id: session.session_id,
  stages: session.stages.map((name, k) => ({ name, p50_us: 900 + k * 400 + (i % 50), p99_us: 1800 + k * 700, max_us: 4000 + k, mean_us: 1000 + k * 410 })),
  fps: 60,
  repeat_fps: i % 7 === 0 ? 1 : 0,
  mbps: 19.7 + (i % 10) / 10,
  bitrate_kbps: 20_000,
  frames_dropped: 0,
  packets_dropped: 0,
  send_dropped: 0,
  fec_recovered: 0,
  rtt_us: 1200 + (i % 30),
  host_p50_us: 4200,
  host_p99_us: 7900
})

/** Write the store's two files per capture; returns the bytes written and the metas. */
export const writeCaptures = (dir: string, captures: number, samples: number): { readonly bytes: number; readonly metas: ReadonlyArray<CaptureMeta> } => {
  const metas: Array<CaptureMeta> = []
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const body = encodeSamples(Array.from({ length: samples }, (_, i) => sampleAt(i)))
  let bytes = 0
  const base = Date.UTC(2026, 0, 1)
  for (let c = 0; c < captures; c++) {
    const started = base + c * 3 * 3600 * 1000
    const meta: CaptureMeta = {
      format_version: CAPTURE_FORMAT_VERSION,
      id: idOf(started),
      label: c % 3 === 0 ? `run ${c}` : "",
      started_unix_ms: started,
      duration_ms: samples * 2000,
      kind: "punktfunk1",
      width: 1920,
      height: 1080,
      fps: 60,
      codec: "h264",
      client: "bench",
      encoder_backend: "libx264",
      gpu: "none",
      sample_count: samples,
      truncated: samples >= 5400,
      recovered: false,
      measured: session.measured,
      sessions: [session],
      imported: false
    }
    const metaJson = encodeMeta(meta)
    const data = `{"meta":${metaJson},"samples":${body}}`
    fs.writeFileSync(path.join(dir, `${meta.id}.json`), data, { mode: 0o600 })
    fs.writeFileSync(path.join(dir, `${meta.id}.meta.json`), metaJson, { mode: 0o600 })
    bytes += data.length + metaJson.length
    metas.push(meta)
  }
  return { bytes, metas }
}

/**
 * The client's share, side by side in this process: `JSON.parse` and the shape check of the
 * answer as it was first (every meta in full), then (the rows as objects) and now (the rows as
 * a table, turned into objects by `listingRows`), each `RUNS` times, interleaved.
 */
const clientShare = (metas: ReadonlyArray<CaptureMeta>, tableBody: string) => {
  const fullBody = Schema.encodeSync(Schema.parseJson(Schema.Array(CaptureMeta)))(metas)
  const isFull = structureGuard(Schema.Array(CaptureMeta))
  const rowsBody = Schema.encodeSync(Schema.parseJson(Schema.Array(CaptureListItem)))(metas.map(captureListItem))
  const isRows = structureGuard(Schema.Array(CaptureListItem))
  const full: Array<number> = []
  const rows: Array<number> = []
  const table: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now()
    if (!isFull(JSON.parse(fullBody))) throw new Error("full metas: wrong shape")
    full.push(performance.now() - t)
    t = performance.now()
    if (!isRows(JSON.parse(rowsBody))) throw new Error("rows: wrong shape")
    rows.push(performance.now() - t)
    t = performance.now()
    if (listingRows(JSON.parse(tableBody)) === undefined) throw new Error("table: wrong shape")
    table.push(performance.now() - t)
  }
  for (const times of [full, rows, table]) times.sort((a, b) => a - b)
  return {
    fullKb: Buffer.byteLength(fullBody) / 1024,
    rowsKb: Buffer.byteLength(rowsBody) / 1024,
    full: quantile(full, 0.5),
    rows: quantile(rows, 0.5),
    table: quantile(table, 0.5)
  }
}

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN

export default async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-list-"))
  const capturesDir = path.join(dir, "captures")
  const t0 = performance.now()
  const { bytes, metas } = writeCaptures(capturesDir, CAPTURES, SAMPLES)
  const writeS = (performance.now() - t0) / 1000
  const f = (ms: number) => `${ms.toFixed(1)} ms`
  const loadBefore = os.loadavg()[0] ?? Number.NaN
  await fetch("data:,warm").then((r) => r.text())
  try {
    const first = await timeHost(dir, RUNS)
    // The restarted host has every file's verdict in its index: no check runs beside the
    // requests, which is the steady state an operator lives in. The first start's requests run
    // while 1,000 unchecked files are checked (once, after an upgrade or a copied-in directory).
    const again = await timeHost(dir, RUNS)
    const gz = gzipFigures(first.body)
    const share = clientShare(metas, first.body)
    return {
      title: `Listing ${CAPTURES.toLocaleString("en")} stored captures of ${SAMPLES.toLocaleString("en")} samples`,
      lines: [
        `\`GET /api/v1/stats/recordings\` on the compiled host, ${CAPTURES} captures (${(bytes / 2 ** 30).toFixed(2)} GiB on disk, written in ${writeS.toFixed(1)} s; host start ${first.startS.toFixed(2)} s, restart with the index on disk ${again.startS.toFixed(2)} s), ${RUNS} requests after a first (cold) one, client time including JSON parse. Targets: p50 < 5 ms, p99 < 20 ms, first after a start < 100 ms.`,
        `Load average (1 min) ${loadBefore.toFixed(1)} before and ${(os.loadavg()[0] ?? Number.NaN).toFixed(1)} after, on ${os.cpus().length} cores.`,
        "",
        "| | first after start | first after restart | p50 | p99 | max |",
        "|---|---|---|---|---|---|",
        `| before (issue 15) | ${f(BEFORE.cold)} | — | ${f(BEFORE.p50)} | ${f(BEFORE.p99)} | — |`,
        `| before: every meta in full (751 KB), lead's idle rerun 12:53 | ${f(BEFORE_FULL.cold)} | ${f(BEFORE_FULL.restart)} | ${f(BEFORE_FULL.p50)} | ${f(BEFORE_FULL.p99)} | ${f(BEFORE_FULL.max)} |`,
        "| before: the rows as objects (290 KB), lead's idle runs 14:57 (200 requests each; first start / restarted) | 41.9–48.2 ms | 14.9–20.9 ms | 4.5–4.6 / 4.4–5.1 ms | 15.1–23.8 / 13.0–20.2 ms | 16.7–40.6 / 23.3–29.1 ms |",
        `| now: list rows as a table (${(Buffer.byteLength(first.body) / 1024).toFixed(0)} KB), first start: 1,000 unchecked files checked meanwhile | ${f(first.cold)} | ${f(again.cold)} | ${f(quantile(first.times, 0.5))} | ${f(quantile(first.times, 0.99))} | ${f(first.times[first.times.length - 1] ?? Number.NaN)} |`,
        `| now: list rows as a table (${(Buffer.byteLength(first.body) / 1024).toFixed(0)} KB), restarted: every file already checked | | | ${f(quantile(again.times, 0.5))} | ${f(quantile(again.times, 0.99))} | ${f(again.times[again.times.length - 1] ?? Number.NaN)} |`,
        `| now: refresh with the ETag (304, no body) | | | ${f(quantile(first.refreshes, 0.5))} | ${f(quantile(first.refreshes, 0.99))} | ${f(first.refreshes[first.refreshes.length - 1] ?? Number.NaN)} |`,
        "",
        `The client's parse and shape check alone, in this process, interleaved (p50 of ${RUNS}): every meta in full (${share.fullKb.toFixed(0)} KB) ${f(share.full)}; the rows as objects (${share.rowsKb.toFixed(0)} KB) ${f(share.rows)}; the rows as a table, made objects (${(Buffer.byteLength(first.body) / 1024).toFixed(0)} KB) ${f(share.table)} (×${(share.table / share.rows).toFixed(2)} of the objects, ×${(share.table / share.full).toFixed(2)} of the full metas).`,
        `gzip of the answer (level 6, measured in this process): ${(Buffer.byteLength(first.body) / 1024).toFixed(0)} KB → ${(gz.bytes / 1024).toFixed(0)} KB; compressing it once per change ${f(gz.compressMs)}, the client's inflate per request p50 ${f(gz.inflateP50)}.`
      ]
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** What gzip would change: the compressed size, one compress (per change) and the inflate a client would pay per request. */
const gzipFigures = (body: string) => {
  const raw = Buffer.from(body)
  let t = performance.now()
  const packed = zlib.gzipSync(raw)
  const compressMs = performance.now() - t
  const inflates: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    t = performance.now()
    zlib.gunzipSync(packed)
    inflates.push(performance.now() - t)
  }
  inflates.sort((a, b) => a - b)
  return { bytes: packed.length, compressMs, inflateP50: quantile(inflates, 0.5) }
}

/** Start the host on `dir`, time its first listing and `runs` more, stop it. */
const timeHost = async (dir: string, runs: number) => {
  const spawned = performance.now()
  const host = spawnBenchHost({ prefix: "punktfunk-list-", dir, env: { PUNKTFUNK_GAMESTREAM: "off", PUNKTFUNK_SOURCE: "none" } })
  try {
    const { url, token } = await host.started(60_000, 20)
    const startS = (performance.now() - spawned) / 1000
    let body = ""
    let etag = ""
    const list = async () => {
      const t = performance.now()
      const res = await fetch(`${url}/api/v1/stats/recordings`, { headers: { authorization: `Bearer ${token}` } })
      body = await res.text()
      const rows = listingRows(JSON.parse(body))
      if (rows === undefined) throw new Error("the listing does not have the Schema's shape")
      const ms = performance.now() - t
      if (res.status !== 200 || rows.length !== CAPTURES) throw new Error(`listing answered ${res.status} with ${rows.length} captures`)
      etag = res.headers.get("etag") ?? ""
      return ms
    }
    const refresh = async () => {
      const t = performance.now()
      const res = await fetch(`${url}/api/v1/stats/recordings`, { headers: { authorization: `Bearer ${token}`, "if-none-match": etag } })
      await res.arrayBuffer()
      const ms = performance.now() - t
      if (res.status !== 304) throw new Error(`a refresh with the ETag answered ${res.status}`)
      return ms
    }
    const cold = await list()
    const times: Array<number> = []
    const refreshes: Array<number> = []
    for (let i = 0; i < runs; i++) {
      times.push(await list())
      refreshes.push(await refresh())
    }
    times.sort((a, b) => a - b)
    refreshes.sort((a, b) => a - b)
    return { startS, cold, times, refreshes, body }
  } finally {
    await host.stop()
  }
}
