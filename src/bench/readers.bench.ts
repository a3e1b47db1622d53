/**
 * Readers that run before a peer is authenticated, fed the largest message they accept in one
 * chunk and then one byte per chunk (what a client gets by sending one byte per TCP segment or
 * TLS record): the `punktfunk/1` FrameReader with a 64 KiB frame, the RTSP request reader with a
 * 16 KiB head and a 64 KiB body (the largest request the host accepts).
 *
 * Each row says three things: the total time of one-byte chunks against one write (median of a
 * few against median of many); the cost per byte at a quarter of the size and at the full size,
 * and their quotient (1 means linear in the bytes however they are cut; before issue 11 it grew
 * with the square); and the ratio to the floor: the same one-byte chunks handed to a consumer that
 * only copies each byte into a preallocated buffer — the least any reader must spend per chunk (a
 * call, a bounds check, a store), timed in pairs with the reader. The target (issue 11.4) is a
 * reader within 2× of that floor. The chunks are cut before timing, so creating them is not
 * charged to the reader. A sentence under the table says the same for each reader.
 *
 * Why "one-byte / floor" and not only "one-byte / one write": one write is one call that copies
 * 64 KiB with memcpy; 65,536 one-byte chunks are 65,536 calls, and no reader can make a call cost
 * what one byte of memcpy costs. The floor ratio is what the reader's own design decides.
 *
 * Nothing here asserts a time. Runs in-process, without sockets (their per-segment cost is the
 * kernel's and TLS's, the same for any reader).
 */
import { performance } from "node:perf_hooks"
import { cpus, loadavg } from "node:os"
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"
import { MAX_BODY_BYTES, MAX_HEAD_BYTES, RtspRequestReader } from "../streams/gamestream/RtspMessage.js"
import { frame, FrameReader, MAX_FRAME_BYTES } from "../streams/punktfunk1/FrameReader.js"
import type { BenchReport } from "./run.js"

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

/** Median ms of `runs` calls of `f`, after `warmup` untimed calls. */
const timeMs = (f: () => void, runs: number, warmup = 2): number => {
  for (let i = 0; i < warmup; i++) f()
  const xs: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    f()
    xs.push(performance.now() - t)
  }
  return median(xs)
}

export const oneByteChunks = (bytes: Buffer): Array<Buffer> => Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))

/** The least a reader must do per chunk: copy its byte into place. */
const floorConsumer = (chunks: ReadonlyArray<Buffer>, total: number) => () => {
  const into = Buffer.allocUnsafe(total)
  let at = 0
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) into[at++] = chunk[i]!
  }
  if (at !== total) throw new Error("floor consumer lost bytes")
}

export interface ReaderCase {
  readonly name: string
  readonly bytes: Buffer
  /** Reads the chunks with a fresh reader; throws unless the message came out whole. */
  readonly read: (chunks: ReadonlyArray<Buffer>) => void
}

export interface ReaderRow {
  readonly oneWriteMs: number
  readonly oneByteMs: number
  readonly floorMs: number
  /** Median over interleaved pairs of (one-byte chunks ms / floor ms). */
  readonly floorRatio: number
  /** ns per byte for one-byte chunks of the whole message and of a quarter-size one. */
  readonly nsPerByte: number
  readonly nsPerByteQuarter: number
}

/** Milliseconds of one call. */
const once = (f: () => void): number => {
  const t = performance.now()
  f()
  return performance.now() - t
}

/**
 * `pairs` interleaved runs of the reader and the floor on the same one-byte chunks (so both see
 * the same load, which on this shared machine moves from one millisecond to the next), after
 * `warmup` untimed ones of each: the first runs of a function called 65,536 times are the JIT's
 * (interpreted, then baseline code), ten times slower than the rest.
 */
export const measure = (c: ReaderCase, quarter: ReaderCase, pairs = 31, warmup = 8): ReaderRow => {
  const chunks = oneByteChunks(c.bytes)
  const quarterChunks = oneByteChunks(quarter.bytes)
  const floor = floorConsumer(chunks, c.bytes.length)
  const oneWriteMs = timeMs(() => c.read([c.bytes]), 200, 20)
  for (let i = 0; i < warmup; i++) {
    c.read(chunks)
    floor()
    quarter.read(quarterChunks)
  }
  const reader: Array<number> = []
  const floors: Array<number> = []
  const quarters: Array<number> = []
  const ratios: Array<number> = []
  for (let i = 0; i < pairs; i++) {
    const r = once(() => c.read(chunks))
    const f = once(floor)
    quarters.push(once(() => quarter.read(quarterChunks)))
    reader.push(r)
    floors.push(f)
    ratios.push(r / f)
  }
  const oneByteMs = median(reader)
  return {
    oneWriteMs,
    oneByteMs,
    floorMs: median(floors),
    floorRatio: median(ratios),
    nsPerByte: (oneByteMs * 1e6) / c.bytes.length,
    nsPerByteQuarter: (median(quarters) * 1e6) / quarter.bytes.length
  }
}

// ---- the messages ------------------------------------------------------------------------------

/** A frame of `size` bytes of JSON (a Goodbye padded with spaces, as a client could send). */
export const frameOf = (size: number): Buffer => {
  const json = '{"_tag":"Goodbye","reason":"bench"}'
  return frame(json + " ".repeat(size - json.length))
}

/** An ANNOUNCE with a head of `headBytes` (before its empty line) and a body of `bodyBytes`. */
export const announceOf = (headBytes: number, bodyBytes: number): Buffer => {
  const lines = ["ANNOUNCE streamid=control/13/0 RTSP/1.0", "CSeq: 6", "Content-Type: application/sdp", `Content-Length: ${bodyBytes}`]
  const base = `${lines.join("\r\n")}\r\nX-Pad: `
  const head = base + "p".repeat(headBytes - base.length)
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), Buffer.alloc(bodyBytes, "v=0\r\n")])
}

export const frameCase = (bytes: Buffer): ReaderCase => ({
  name: `punktfunk/1 frame, ${bytes.length - 4} B`,
  bytes,
  read: (chunks) => {
    const reader = new FrameReader()
    let frames = 0
    for (const chunk of chunks) {
      const got = reader.push(chunk)
      if (!Array.isArray(got)) throw new Error("frame refused")
      frames += got.length
    }
    if (frames !== 1) throw new Error(`expected one frame, got ${frames}`)
  }
})

export const rtspCase = (bytes: Buffer): ReaderCase => ({
  name: `RTSP request, ${bytes.length} B`,
  bytes,
  read: (chunks) => {
    const reader = new RtspRequestReader()
    for (const chunk of chunks) {
      const outcome = reader.push(chunk)
      if (outcome._tag === "Complete") return
      if (outcome._tag === "Refused") throw new Error(outcome.refusal.reason)
    }
    throw new Error("request incomplete")
  }
})

const fmt = (x: number, digits = 3) => x.toFixed(digits)

export const rowLine = (name: string, r: ReaderRow): string =>
  `| ${name} | ${fmt(r.oneWriteMs)} ms | ${fmt(r.oneByteMs, 2)} ms | ${fmt(r.oneByteMs / r.oneWriteMs, 0)}× | ` +
  `${fmt(r.nsPerByteQuarter, 1)} | ${fmt(r.nsPerByte, 1)} | ${fmt(r.nsPerByte / r.nsPerByteQuarter, 2)} | ` +
  `${fmt(r.floorMs, 2)} ms | **${fmt(r.floorRatio, 2)}×** |`

export const TABLE_HEAD = [
  "| message | one write, total | one byte per chunk, total | chunks ÷ one write | ns per byte, ¼ size | ns per byte, full size | full ÷ ¼ per byte (1 = linear) | floor, total | chunks ÷ floor (median of pairs; target < 2×) |",
  "|---|---|---|---|---|---|---|---|---|"
]

/** The row said in a sentence: what one-byte chunks cost against one write and against the floor, and whether it is linear. */
export const rowSentence = (name: string, bytes: number, quarterBytes: number, r: ReaderRow): string =>
  `- ${name}: one write ${fmt(r.oneWriteMs)} ms; one byte per chunk ${fmt(r.oneByteMs, 2)} ms in all ` +
  `(${fmt(r.oneByteMs / r.oneWriteMs, 0)}× one write); ${fmt(r.nsPerByte, 1)} ns per byte at ${bytes.toLocaleString("en")} B and ` +
  `${fmt(r.nsPerByteQuarter, 1)} at ${quarterBytes.toLocaleString("en")} B (${fmt(r.nsPerByte / r.nsPerByteQuarter, 2)}: ` +
  `${r.nsPerByte / r.nsPerByteQuarter < 1.5 ? "linear" : "growing with the size"}); ${fmt(r.floorRatio, 2)}× the floor ` +
  `(${r.floorRatio < 2 ? "within" : "over"} the 2× target).`

/** The two readers' cases by name: the largest message each accepts and one a quarter of it. */
const CASES = {
  frame: () => [frameCase(frameOf(MAX_FRAME_BYTES)), frameCase(frameOf(MAX_FRAME_BYTES / 4))] as const,
  rtsp: () => [rtspCase(announceOf(MAX_HEAD_BYTES, MAX_BODY_BYTES)), rtspCase(announceOf(MAX_HEAD_BYTES / 4, MAX_BODY_BYTES / 4))] as const
}
type CaseName = keyof typeof CASES
const isCaseName = (u: unknown): u is CaseName => u === "frame" || u === "rtsp"

/**
 * Each reader is measured in a worker thread of its own. Why: in one isolate the floor loop's
 * optimized code is shared by both readers' runs, and the switch from one message to the other
 * deoptimized it — the second reader's floor came out 2–3× slower than the first's (so its ratio
 * looked 2–3× better) depending only on the order. A fresh isolate per reader gives each its own
 * JIT state for the floor and the reader alike.
 */
const measureInWorker = (name: CaseName) =>
  new Promise<ReaderRow>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { readersBenchCase: name } })
    worker.once("message", (row: ReaderRow) => resolve(row))
    worker.once("error", reject)
    worker.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`the ${name} reader's worker exited with ${code}`))))
  })

const asWorker = (): CaseName | undefined => {
  if (isMainThread || typeof workerData !== "object" || workerData === null) return undefined
  const name: unknown = (workerData as Record<string, unknown>)["readersBenchCase"]
  return isCaseName(name) ? name : undefined
}

const workerCase = asWorker()
if (workerCase !== undefined) {
  const [c, quarter] = CASES[workerCase]()
  parentPort?.postMessage(measure(c, quarter))
}

export default async (): Promise<BenchReport> => {
  const loadBefore = loadavg()[0]!
  const rows: Array<{ c: ReaderCase; quarter: ReaderCase; row: ReaderRow }> = []
  for (const name of ["frame", "rtsp"] as const) {
    const [c, quarter] = CASES[name]()
    rows.push({ c, quarter, row: await measureInWorker(name) })
  }
  const lines = [
    "Each message whole in one chunk (one write), then one byte per chunk; the floor is the same one-byte chunks copied into place by a bare loop, " +
      "timed in pairs with the reader, each reader in a worker thread of its own. A reader's cost is linear when its ns per byte stays the same " +
      "from a quarter-size message to the full one.",
    "",
    ...TABLE_HEAD,
    ...rows.map(({ c, row }) => rowLine(c.name, row)),
    "",
    ...rows.map(({ c, quarter, row }) => rowSentence(c.name, c.bytes.length, quarter.bytes.length, row)),
    "",
    `Load average (1 min) ${loadBefore.toFixed(2)} before and ${loadavg()[0]!.toFixed(2)} after the run, on ${cpus().length} cores.`
  ]
  return { title: "Readers before authentication: one-byte chunks vs one write (issue 11)", lines }
}
