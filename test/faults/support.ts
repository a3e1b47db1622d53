/**
 * Shared tools of the fault suite: an SSE recorder (what an operator saw before a fault), the
 * journal as it is on disk (what was promised durable), and the captures directory's hygiene
 * (no half file, every file decodes with the Schemas).
 *
 * Why the journal is decoded here line by line and not with the host's `replayJournal`: the
 * suite checks the host's recovery against the raw file; reusing the code under test as the
 * oracle would let a shared bug pass.
 */
import { Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { decodeLiveEvent, LIVE_EVENTS_PATH } from "../../src/api/LiveEvents.js"
import { Capture, CaptureMeta, StatsSample } from "../../src/api/Stats.js"
import { JournalLine } from "../../src/lib/captures/Journal.js"
import { spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { sseEvents } from "../support/Sse.js"

export const FAULT_RUNS = Number(process.env["PUNKTFUNK_FAULT_RUNS"] ?? "12")

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(JournalLine))
const decodeCapture = Schema.decodeUnknownSync(Schema.parseJson(Capture))
const decodeMeta = Schema.decodeUnknownSync(Schema.parseJson(CaptureMeta))

export interface SseRecorder {
  /** Samples received so far, in order. */
  readonly samples: Array<StatsSample>
  /** Stop reading; resolves once the stream is closed (or was closed by the host dying). */
  readonly close: () => Promise<void>
}

/** Read `sample` events from `/api/v1/stats/live/events` until closed or the host goes away. */
export const recordSse = async (url: string, token: string): Promise<SseRecorder> => {
  const controller = new AbortController()
  const res = await fetch(`${url}${LIVE_EVENTS_PATH}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal
  })
  if (res.status !== 200 || res.body === null) throw new Error(`SSE answered ${res.status}`)
  const samples: Array<StatsSample> = []
  const body = res.body
  const done = (async () => {
    try {
      for await (const { event, data } of sseEvents(body)) {
        const message = decodeLiveEvent(event, data)
        if (message?.type === "sample") samples.push(message.sample)
      }
    } catch {
      // The host was killed or the test aborted: what arrived is what the operator saw.
    }
  })()
  return {
    samples,
    close: async () => {
      controller.abort()
      await done
    }
  }
}

export interface JournalOnDisk {
  readonly begun: boolean
  readonly samples: ReadonlyArray<StatsSample>
  /** Lines that did not decode; only the last line may be torn by a kill mid-append. */
  readonly tornLast: boolean
}

/** The journal in progress, or another journal file in the directory (a parked one). */
export const readJournal = (capturesDir: string, name = ".journal.ndjson"): JournalOnDisk => {
  const file = path.join(capturesDir, name)
  if (!fs.existsSync(file)) return { begun: false, samples: [], tornLast: false }
  const lines = fs.readFileSync(file, "utf8").split("\n")
  const last = lines.pop()
  let tornLast = last !== undefined && last !== ""
  const samples: Array<StatsSample> = []
  let begun = false
  lines.forEach((line, i) => {
    const decoded = decodeLine(line)
    if (decoded._tag === "Left") {
      // A complete line (ended by "\n") that does not decode is corruption, not a torn append.
      throw new Error(`journal line ${i + 1} does not decode: ${line.slice(0, 200)}`)
    }
    if (decoded.right._tag === "begin") begun = true
    if (decoded.right._tag === "sample") samples.push(decoded.right.sample)
  })
  if (tornLast && last !== undefined && decodeLine(last)._tag === "Right") tornLast = false
  return { begun, samples, tornLast }
}

export const journalSampleCount = (capturesDir: string): number => {
  const file = path.join(capturesDir, ".journal.ndjson")
  if (!fs.existsSync(file)) return 0
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.includes("\"_tag\":\"sample\"")).length
}

/**
 * No temp file, and every `.json` decodes: data files as `Capture`, `.meta.json` as `CaptureMeta`
 * equal to the data file's meta, and every data file has its meta. Returns the captures.
 */
export const checkCapturesDir = (capturesDir: string): ReadonlyArray<Capture> => {
  const names = fs.readdirSync(capturesDir)
  const stray = names.filter((n) => n.endsWith(".tmp"))
  if (stray.length > 0) throw new Error(`temp files left: ${stray.join(", ")}`)
  const captures: Array<Capture> = []
  for (const name of names) {
    if (!name.endsWith(".json") || name.endsWith(".meta.json")) continue
    const capture = decodeCapture(fs.readFileSync(path.join(capturesDir, name), "utf8"))
    const metaFile = path.join(capturesDir, name.replace(/\.json$/, ".meta.json"))
    if (!fs.existsSync(metaFile)) throw new Error(`${name} has no meta file`)
    const meta = decodeMeta(fs.readFileSync(metaFile, "utf8"))
    if (JSON.stringify(meta) !== JSON.stringify(capture.meta)) throw new Error(`${name}: meta file differs from the data file's meta`)
    if (capture.meta.sample_count !== capture.samples.length) throw new Error(`${name}: sample_count ${capture.meta.sample_count} for ${capture.samples.length} samples`)
    captures.push(capture)
  }
  for (const name of names) {
    if (name.endsWith(".meta.json") && !names.includes(name.replace(/\.meta\.json$/, ".json"))) {
      throw new Error(`${name} lists a capture whose data file is missing`)
    }
  }
  return captures
}

/** The length of the common prefix, asserting the two series agree on it sample for sample. */
export const agreeingPrefix = (a: ReadonlyArray<StatsSample>, b: ReadonlyArray<StatsSample>): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
      throw new Error(`series disagree at sample ${i}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`)
    }
  }
  return n
}

/** Every file under `dir` with its size and mtime, for "nothing outside was touched". */
export const treeSnapshot = (dir: string, skip: (full: string) => boolean = () => false): Map<string, string> => {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name)
      if (skip(full)) continue
      const st = fs.lstatSync(full)
      out.set(full, `${entry.isDirectory() ? "d" : "f"}:${st.size}:${st.mtimeMs}:${st.mode}`)
      if (entry.isDirectory()) walk(full)
    }
  }
  walk(dir)
  return out
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** The compiled host started through a wrapper (`setpriv … --`, to run it as another user). */
export type WrappedHost = HostProcess

export const spawnWrappedHost = (prefix: ReadonlyArray<string>, env: Record<string, string>): Promise<WrappedHost> =>
  spawnHost(env, [], prefix)

/** Run a command to completion; `ok` is exit status 0. */
export const sh = (command: string, args: ReadonlyArray<string>): { ok: boolean; output: string } => {
  const r = spawnSync(command, args, { encoding: "utf8" })
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error?.message ?? ""}` }
}

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0
