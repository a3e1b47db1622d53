/**
 * The GameStream video path, in two parts.
 *
 * 1. Packetize cost, side by side with the punktfunk/1 sender, for frame sizes our own pipeline
 *    produces (the median P-frame and the median IDR of a short libx264 run of the synthetic
 *    source at 720p60 10 Mb/s and 1080p60 20 Mb/s, taken from the session's Annex B dump):
 *    - GameStream: `gsPacketizeFrame` (RTP + video header + nanors-compatible parity, 20% FEC,
 *      packetSize 1392, minRequiredFecPackets 2). The hook builds an 8192-slot ring per call and
 *      copies every datagram out into a JavaScript Uint8Array, so each sample is one call that
 *      packetizes the frame K times, timed from JavaScript, minus the median of interleaved
 *      calls that packetize it 0 times (the ring), divided by K. The copy-out stays in (the
 *      session's path does not copy: its pacer sends from the ring); the session part below
 *      gives the in-pipeline figure.
 *    - punktfunk/1: `MediaSender.sendFrame` (Reed-Solomon parity + AES-128-GCM seal of every
 *      packet into its ring, mtu 1400 = 1320-byte shards, 20% parity), both as the sender's own
 *      per-frame fec + seal split (C++ clock) and timed from JavaScript like the GameStream
 *      hook (K calls per sample). The pacer thread sends to a socket nobody reads; its
 *      sendmmsg is not charged to the frame.
 *    The two alternate sample by sample (same load for both); the pacer is drained between
 *    samples.
 *    Then GameStream sealed vs plain (a client that asked for encrypted video: the same
 *    datagrams, each then AES-128-GCM-sealed in place behind its 32-byte prefix): `gsPacketizeTimed`
 *    with and without a key, alternating, K packetizations per sample timed on the C++ clock
 *    (no copy-out, the ring made before the clock starts), with the sealing share on its own
 *    clock. Timing from JavaScript cannot show it: on a loaded machine the noise of the
 *    copy-out is larger than the sealing. p50/p99 are over samples of K frames each (batch means), not single frames.
 *    Parity dominates, and Reed-Solomon costs data × parity × bytes per block: GameStream puts
 *    up to 212 data shards in one block at 20% (255 shards a block, at most 4 blocks),
 *    punktfunk/1 at most 64, so a large frame costs GameStream more per packet.
 *
 * 2. A real GameStream video session on loopback: the addon's GameStream session (synthetic
 *    source, libx264 ultrafast/zerolatency, 60 fps, 20% FEC, packetSize 1392) sends from a
 *    `GameStreamVideoPort` to the test suite's VideoReceiver (pings like Moonlight, rebuilds lost
 *    packets with its own Reed-Solomon, decodes with libavcodec), in this process. One warm-up
 *    window (≈ 1 s) is skipped, then 6 windows are read: fps the receiver completed, the share
 *    of judged frames complete and decoded, the windows' packetize and send stage p50/p99 and
 *    send_dropped; then again with 5% of arriving datagrams dropped by the receiver (seeded);
 *    and the 720p session again with encrypted video (the receiver opens every datagram with
 *    the key; the windows' seal_us is the sealing share of packetize).
 *
 * Nothing here asserts a time. The host and the receiver share this machine's cores.
 */
import { PATHS } from "../api/Paths.js"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { nativeModule } from "../native/binding.js"
import type { NativeOptions, NativeWindow } from "../native/binding.js"
import { nativeTestHooks } from "../native/testHooks.js"
import { loadVideoReceiver } from "./gamestream-support.js"
import type { BenchReceiverCounters, BenchReceiverOptions } from "./gamestream-support.js"
import { drained, fmt, load, median, openSession, options720, pct, sleep } from "./native-support.js"
import type { BenchReport } from "./run.js"

const PACKET_SIZE = 1392
const FEC_PERCENT = 20
const MIN_FEC = 2
const PAYLOAD = "0123456789abcdef"
/** A launch key for the sealed cases (any 16 bytes: the cost does not depend on the key). */
const KEY_HEX = "00112233445566778899aabbccddeeff"
const SAMPLES = 60
const WARMUP_WINDOWS = 1
const STEADY_WINDOWS = 6

const nowUs = (): number => Number(process.hrtime.bigint()) / 1000

// ── frame sizes from our own pipeline ─────────────────────────────────────────────────────────

export interface Sizes {
  readonly label: string
  readonly p: Buffer
  readonly idr: Buffer
  readonly pCount: number
  readonly idrCount: number
}

/** Runs the native pipeline (synthetic, libx264, frames back to back) with an IDR every 30 frames (fec.bench uses the same frames). */
export const pipelineFrames = async (dir: string, width: number, height: number, kbps: number): Promise<Sizes> => {
  const file = path.join(dir, `frames-${width}x${height}.h264`)
  const { session } = openSession(options720({ width, height, bitrate_kbps: kbps, paced: false, window_ms: 1_000, dump_path: file }))
  try {
    let asked = 0
    const deadline = Date.now() + 20_000
    while (session.totals().frames < 240 && Date.now() < deadline) {
      const next = Math.floor(session.totals().frames / 30)
      if (next > asked) {
        asked = next
        session.requestIdr()
      }
      await sleep(5)
    }
  } finally {
    session.close()
  }
  const probed = JSON.parse(
    execFileSync("ffprobe", ["-v", "error", "-show_entries", "packet=pos,size,flags", "-of", "json", file]).toString()
  ) as { packets: Array<{ pos: string; size: string; flags: string }> }
  const data = fs.readFileSync(file)
  const units = probed.packets.map((p) => ({ key: p.flags.includes("K"), bytes: data.subarray(Number(p.pos), Number(p.pos) + Number(p.size)) }))
  // The first frames settle the rate control; the very first IDR also carries SPS/PPS like every IDR.
  const steady = units.slice(10)
  const pick = (xs: ReadonlyArray<Buffer>): Buffer => {
    const m = median(xs.map((b) => b.length))
    return [...xs].sort((a, b) => Math.abs(a.length - m) - Math.abs(b.length - m))[0] ?? Buffer.alloc(0)
  }
  const ps = steady.filter((u) => !u.key).map((u) => u.bytes)
  const idrs = steady.filter((u) => u.key).map((u) => u.bytes)
  if (ps.length === 0 || idrs.length === 0) throw new Error(`no P-frame or no IDR in ${file} (${units.length} units)`)
  return { label: `${width}×${height} ${kbps / 1000} Mb/s`, p: pick(ps), idr: pick(idrs), pCount: ps.length, idrCount: idrs.length }
}

// ── part 1: packetize cost ────────────────────────────────────────────────────────────────────

interface Cost {
  readonly packets: number
  readonly p50: number
  readonly p99: number
}

/**
 * One frame size: GameStream and punktfunk/1 samples alternate (one of each per round), so both
 * see the same load on this shared machine; the pacer is drained between rounds.
 */
const costCase = async (au: Buffer, idr: boolean, k: number, sinkPort: number) => {
  const addon = nativeTestHooks()
  const o = { packetSize: PACKET_SIZE, fecPercent: FEC_PERCENT, minRequiredFecPackets: MIN_FEC, idr }
  const sender = new addon.MediaSender({ keyHex: randomBytes(20).toString("hex"), host: "127.0.0.1", port: sinkPort, fecPercent: FEC_PERCENT, fps: 240 })
  try {
    let expected = 0
    // Warm both.
    addon.gsPacketizeFrame(au, { ...o, frames: k })
    for (let i = 0; i < k; i++) expected += sender.sendFrame(au, idr).packets
    await drained(sender, expected)
    const droppedBefore = sender.counters().send_dropped
    const base: Array<number> = []
    const gsBatch: Array<number> = []
    const pfWall: Array<number> = []
    const pfSplit: Array<number> = []
    let gsPackets = 0
    let pfPackets = 0
    for (let s = 0; s < SAMPLES; s++) {
      let t = nowUs()
      addon.gsPacketizeFrame(au, { ...o, frames: 0 })
      base.push(nowUs() - t)
      t = nowUs()
      const out = addon.gsPacketizeFrame(au, { ...o, frames: k })
      gsBatch.push(nowUs() - t)
      gsPackets = out.length / k
      await sleep(1)
      t = nowUs()
      for (let i = 0; i < k; i++) {
        const r = sender.sendFrame(au, idr)
        pfSplit.push(r.fec_us + r.seal_us)
        pfPackets = r.packets
        expected += r.packets
      }
      pfWall.push((nowUs() - t) / k)
      await drained(sender, expected)
    }
    const b = median(base)
    const gsPer = gsBatch.map((x) => Math.max(0, x - b) / k)
    return {
      gs: { packets: gsPackets, p50: pct(gsPer, 50), p99: pct(gsPer, 99) } satisfies Cost,
      ringUs: b,
      pfWall: { packets: pfPackets, p50: pct(pfWall, 50), p99: pct(pfWall, 99) } satisfies Cost,
      pfSplit: { packets: pfPackets, p50: pct(pfSplit, 50), p99: pct(pfSplit, 99) } satisfies Cost,
      // Packets the ring had no room for are not sealed: a non-zero count would flatter pf/1.
      pfDropped: sender.counters().send_dropped - droppedBefore
    }
  } finally {
    sender.close()
  }
}

/**
 * GameStream sealed vs plain, same frame, on the packetizer's own clock: samples alternate
 * (plain, sealed), each K packetizations; µs per frame.
 */
const sealCase = (au: Buffer, idr: boolean, k: number) => {
  const addon = nativeTestHooks()
  const o = { packetSize: PACKET_SIZE, fecPercent: FEC_PERCENT, minRequiredFecPackets: MIN_FEC, idr, frames: k }
  const sealed = { ...o, keyHex: KEY_HEX }
  addon.gsPacketizeTimed(au, o)
  addon.gsPacketizeTimed(au, sealed)
  const plainUs: Array<number> = []
  const sealedUs: Array<number> = []
  const sealUs: Array<number> = []
  let packets = 0
  for (let s = 0; s < SAMPLES; s++) {
    const p = addon.gsPacketizeTimed(au, o)
    const x = addon.gsPacketizeTimed(au, sealed)
    plainUs.push(p.total_ns / 1000 / k)
    sealedUs.push(x.total_ns / 1000 / k)
    sealUs.push(x.seal_ns / 1000 / k)
    packets = x.packets / k
  }
  return {
    packets,
    plain: { packets, p50: pct(plainUs, 50), p99: pct(plainUs, 99) } satisfies Cost,
    sealed: { packets, p50: pct(sealedUs, 50), p99: pct(sealedUs, 99) } satisfies Cost,
    seal: { packets, p50: pct(sealUs, 50), p99: pct(sealUs, 99) } satisfies Cost
  }
}

// ── part 2: a GameStream session on loopback ──────────────────────────────────────────────────

type MakeReceiver = Awaited<ReturnType<typeof loadVideoReceiver>>

const waitFor = async (ok: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

const diff = (a: BenchReceiverCounters, b: BenchReceiverCounters, k: keyof BenchReceiverCounters) => b[k] - a[k]

const gsSession = (makeReceiver: MakeReceiver, width: number, height: number, kbps: number, loss: number, sealed = false) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const addon = nativeModule()
        // Released in reverse: the session closes before the port it borrows.
        const port = yield* Effect.acquireRelease(
          Effect.sync(() => new addon.GameStreamVideoPort("127.0.0.1", 0)),
          (p) => Effect.sync(() => p.close())
        )
        const rxOptions: BenchReceiverOptions = {
          hostPort: port.port,
          pingPayload: PAYLOAD,
          packetSize: PACKET_SIZE,
          dropFraction: loss,
          seed: 42,
          ...(sealed ? { keyHex: KEY_HEX } : {})
        }
        const receiver = yield* makeReceiver(rxOptions)
        const windows: Array<NativeWindow> = []
        const options: NativeOptions = {
          ...options720({ width, height, bitrate_kbps: kbps, perf: true, window_ms: 1_000 }),
          stages: PATHS.gamestream.stages,
          gamestream: {
            videoFd: port.fd,
            clientHost: "127.0.0.1",
            pingPayload: PAYLOAD,
            packetSize: PACKET_SIZE,
            fecPercent: FEC_PERCENT,
            minRequiredFecPackets: MIN_FEC,
            ...(sealed ? { keyHex: KEY_HEX } : {})
          }
        }
        const session = yield* Effect.acquireRelease(
          Effect.sync(() => new addon.NativeSession(options, (w) => void windows.push(w))),
          (s) => Effect.sync(() => s.close())
        )
        yield* Effect.promise(() => waitFor(() => windows.length >= WARMUP_WINDOWS, 30_000, "the warm-up window"))
        const c0 = yield* receiver.counters
        const t0 = performance.now()
        const w0 = windows.length
        yield* Effect.promise(() => waitFor(() => windows.length >= w0 + STEADY_WINDOWS, 60_000, "the measured windows"))
        // Read while the session still runs, so the frame in flight is never judged.
        const c1 = yield* receiver.counters
        const seconds = (performance.now() - t0) / 1000
        const video = session.videoCounters()
        const steady = windows.slice(w0, w0 + STEADY_WINDOWS)
        const error = windows.find((w) => w.error !== undefined)?.error
        if (error !== undefined) throw new Error(`the session's encoder failed: ${error}`)
        const stage = (name: string) => {
          const xs = steady.map((w) => w.stages.find((s) => s.name === name)).filter((s) => s !== undefined)
          return { p50: median(xs.map((s) => s.p50_us)), p99: Math.max(0, ...xs.map((s) => s.p99_us)) }
        }
        const complete = diff(c0, c1, "framesComplete")
        const judged = complete + diff(c0, c1, "framesIncomplete")
        return {
          width,
          height,
          kbps,
          loss,
          sealed,
          sealUs: median(steady.map((w) => w.seal_us)),
          decryptFailures: diff(c0, c1, "decryptFailures"),
          hostFps: median(steady.map((w) => (w.frames * 1000) / w.duration_ms)),
          deliveredFps: complete / seconds,
          judged,
          complete,
          decoded: diff(c0, c1, "framesDecoded"),
          decodeErrors: diff(c0, c1, "decodeErrors"),
          encode: stage("encode"),
          packetize: stage("packetize"),
          send: stage("send"),
          host50: median(steady.map((w) => w.host_p50_us)),
          host99: Math.max(0, ...steady.map((w) => w.host_p99_us)),
          fecUs: median(steady.map((w) => w.fec_us)),
          sendDropped: steady.reduce((n, w) => n + w.send_dropped, 0),
          framesDropped: steady.reduce((n, w) => n + w.frames_dropped, 0),
          dropped: diff(c0, c1, "dropped"),
          lost: diff(c0, c1, "lost"),
          recovered: diff(c0, c1, "recovered"),
          recoveredBadHeader: diff(c0, c1, "recoveredBadHeader"),
          malformed: c1.malformed,
          size: `${c1.width}×${c1.height}`,
          packetsPerFrame: video.frames_sent > 0 ? video.packets_sent / video.frames_sent : 0,
          parityShare: video.packets_sent > 0 ? video.parity_sent / video.packets_sent : 0,
          totalSendDropped: video.send_dropped,
          ringRefused: video.frames_dropped
        }
      })
    )
  )

// ── report ────────────────────────────────────────────────────────────────────────────────────

const ms = (us: number) => (us < 1000 ? `${fmt(us, 1)} µs` : `${fmt(us / 1000, 2)} ms`)
const pctOf = (n: number, d: number) => (d === 0 ? "–" : `${fmt((100 * n) / d, 1)}%`)

export default async (): Promise<BenchReport> => {
  const loadBefore = load()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-gs-"))
  const lines: Array<string> = []
  try {
    const sizes = [await pipelineFrames(dir, 1280, 720, 10_000), await pipelineFrames(dir, 1920, 1080, 20_000)]

    // A sink for the punktfunk/1 sender's pacer: bound, never read (the kernel drops the excess).
    const sink = dgram.createSocket("udp4")
    await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()))
    const rows: Array<string> = []
    const sealRows: Array<string> = []
    try {
      for (const s of sizes) {
        // Our encoder's one-frame VBV caps an IDR near a P-frame's size; an encoder without it
        // (or a larger VBV) makes IDRs several times larger: "IDR ×8" is the real IDR repeated 8
        // times, a multi-block frame for both paths (parity cost is per byte, not per content).
        const big = Buffer.concat(Array.from({ length: 8 }, () => s.idr))
        const cases = [["P", s.p, false, 128], ["IDR", s.idr, true, 128], ["IDR ×8", big, true, 16]] as const
        for (const [kind, au, idr, k] of cases) {
          const c = await costCase(au, idr, k, sink.address().port)
          rows.push(
            `| ${s.label} ${kind} | ${au.length.toLocaleString("en")} B | ${c.gs.packets} | ${fmt(c.gs.p50)} / ${fmt(c.gs.p99)} | ${fmt(c.gs.p50 / c.gs.packets, 2)} | ${c.pfWall.packets} | ${fmt(c.pfWall.p50)} / ${fmt(c.pfWall.p99)} | ${fmt(c.pfWall.p50 / c.pfWall.packets, 2)} | ${fmt(c.pfSplit.p50)} / ${fmt(c.pfSplit.p99)} | **${fmt(c.gs.p50 / c.pfWall.p50, 2)}×** | ${fmt(c.ringUs, 0)} µs | ${c.pfDropped} |`
          )
          const x = sealCase(au, idr, k)
          sealRows.push(
            `| ${s.label} ${kind} | ${au.length.toLocaleString("en")} B | ${x.packets} | ${fmt(x.plain.p50)} / ${fmt(x.plain.p99)} | ${fmt(x.sealed.p50)} / ${fmt(x.sealed.p99)} | **${fmt(x.seal.p50)}** / ${fmt(x.seal.p99)} | ${fmt(x.seal.p50 / x.packets, 2)} | ${fmt(x.sealed.p50 / x.plain.p50, 2)}× |`
          )
        }
      }
    } finally {
      sink.close()
    }
    lines.push(
      `Frame sizes: the median P-frame and median IDR (after the first 10 frames) of 240 frames of our pipeline (synthetic source, libx264 ultrafast/zerolatency, one-frame VBV, IDR asked every 30 frames): ${sizes.map((s) => `${s.label}: P ${s.p.length.toLocaleString("en")} B (of ${s.pCount}), IDR ${s.idr.length.toLocaleString("en")} B (of ${s.idrCount})`).join("; ")}.`,
      ``,
      `| frame | bytes | GS packets | GS packetize µs/frame p50 / p99 | GS µs/packet | pf/1 packets | pf/1 sendFrame µs/frame p50 / p99 | pf/1 µs/packet | pf/1 fec+seal (own clock) p50 / p99 µs | GS / pf/1 (p50) | GS ring alloc (subtracted) | pf/1 ring drops |`,
      `|---|---|---|---|---|---|---|---|---|---|---|---|`,
      ...rows,
      ``,
      `GS = \`gsPacketizeFrame\` (RTP + video header + nanors parity, packetSize ${PACKET_SIZE}, ${FEC_PERCENT}% FEC, minRequiredFecPackets ${MIN_FEC}; includes copying each datagram out to JavaScript). pf/1 = \`MediaSender.sendFrame\` (RS parity + AES-GCM seal into the pacer's ring, 1320-byte shards, ${FEC_PERCENT}% parity). Both timed from JavaScript, alternating, ${SAMPLES} samples of K frames (K = 128 P, 128 IDR, 16 IDR ×8): p50/p99 of batch means.`,
      ``,
      `Encrypted video (a client that asked for ENCFLG_VIDEO) vs plain, same frames, same run:`,
      ``,
      `| frame | bytes | packets | plain packetize µs/frame p50 / p99 | sealed packetize µs/frame p50 / p99 | of which sealing µs/frame p50 / p99 | sealing µs/packet | sealed / plain (p50) |`,
      `|---|---|---|---|---|---|---|---|`,
      ...sealRows,
      ``,
      `\`gsPacketizeTimed\` with and without \`keyHex\` (every datagram, parity included, AES-128-GCM-sealed in place behind its 32-byte prefix: ${PACKET_SIZE + 48}-byte datagrams, same packetSize so the same packets as plain), alternating, ${SAMPLES} samples of K frames, timed on the packetizer's own clock (no copy-out); sealing is the sealed run's own share.`
    )

    const makeReceiver = await loadVideoReceiver()
    const runs = []
    for (const [w, h, kbps] of [[1280, 720, 10_000], [640, 360, 2_000]] as const) {
      for (const loss of [0, 0.05]) runs.push(await gsSession(makeReceiver, w, h, kbps, loss))
    }
    for (const loss of [0, 0.05]) runs.push(await gsSession(makeReceiver, 1280, 720, 10_000, loss, true))
    lines.push(
      ``,
      `Loopback sessions (60 fps, ${FEC_PERCENT}% FEC, packetSize ${PACKET_SIZE}), ${STEADY_WINDOWS} windows of ≈ 1 s after ${WARMUP_WINDOWS} warm-up window:`,
      ``,
      `| session | loss | host fps | fps delivered | complete | decoded | encode p50/p99 | packetize p50/p99 | parity µs/frame | seal µs/frame | send p50/p99 | host p50/p99 | send_dropped | packets/frame (parity) | dropped by receiver | lost | rebuilt |`,
      `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
      ...runs.map(
        (r) =>
          `| ${r.width}×${r.height}@60 ${r.kbps / 1000} Mb/s${r.sealed ? " sealed" : ""} | ${fmt(r.loss * 100, 0)}% | ${fmt(r.hostFps)} | ${fmt(r.deliveredFps)} | ${r.complete}/${r.judged} (${pctOf(r.complete, r.judged)}) | ${r.decoded} (${pctOf(r.decoded, r.judged)}) | ${ms(r.encode.p50)} / ${ms(r.encode.p99)} | ${ms(r.packetize.p50)} / ${ms(r.packetize.p99)} | ${fmt(r.fecUs)} | ${r.sealed ? fmt(r.sealUs) : "–"} | ${ms(r.send.p50)} / ${ms(r.send.p99)} | ${ms(r.host50)} / ${ms(r.host99)} | ${r.sendDropped} | ${fmt(r.packetsPerFrame)} (${pctOf(r.parityShare * r.packetsPerFrame, r.packetsPerFrame)}) | ${r.dropped} | ${r.lost} | ${r.recovered} |`
      ),
      ``,
      `Stage p50: median of the windows' p50; p99: the worst window's p99. "complete" = frames the receiver judged whole (after FEC) of those judged; "decoded" = of those, libavcodec decoded. Decode errors: ${runs.map((r) => r.decodeErrors).join(", ")}; rebuilt packets with a wrong header: ${runs.map((r) => r.recoveredBadHeader).join(", ")}; malformed datagrams: ${runs.map((r) => r.malformed).join(", ")}; sealed datagrams that did not open: ${runs.filter((r) => r.sealed).map((r) => r.decryptFailures).join(", ")}; decoded picture sizes: ${runs.map((r) => r.size).join(", ")}; deadlines skipped by the frame loop: ${runs.map((r) => r.framesDropped).join(", ")}; frames the video send ring refused (whole session): ${runs.map((r) => r.ringRefused).join(", ")}; send_dropped over the whole session: ${runs.map((r) => r.totalSendDropped).join(", ")}.`,
      ``,
      `Load average (1 min) before / after: ${loadBefore} / ${load()} on ${os.cpus().length} cores.`
    )
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return { title: "GameStream video: packetize cost vs punktfunk/1, and loopback sessions with the test receiver", lines }
}
