/**
 * Our encode vs the ffmpeg command line on the same raw frames with the same settings:
 * 60 frames of the synthetic pattern at 1280×720 (BGRX, written once to a temp file), looped
 * to LOOPS × 60 frames, BGRX → YUV 4:2:0 (ours: the pipeline's converter, colour_convert.cc; the
 * command line: libswscale), libx264 ultrafast / zerolatency at
 * 10 Mb/s with a one-frame VBV, GOP 240, no B-frames, encoder threads "auto" on both sides.
 *
 * Ours runs the Encoder class the frame loop uses (submit + encode) back to back on frames
 * already in memory; the command line reads the file (page cache) and starts a process, so its
 * fixed start-up cost is measured separately (one frame) and reported beside the raw ratio.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { nativeTestHooks } from "../native/testHooks.js"
import { fmt, load, median } from "./native-support.js"

const W = 1280
const H = 720
const FPS = 60
const KBPS = 10_000
const FRAMES = 60
const LOOPS = 10
const RUNS = 3

const ffmpegArgs = (raw: string, loops: number, frames?: number) => [
  "-v", "error", "-nostdin",
  "-f", "rawvideo", "-pix_fmt", "bgr0", "-s", `${W}x${H}`, "-r", String(FPS),
  "-stream_loop", String(loops - 1), "-i", raw,
  ...(frames === undefined ? [] : ["-frames:v", String(frames)]),
  "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
  "-b:v", `${KBPS}k`, "-maxrate", `${KBPS}k`, "-bufsize", `${Math.round(KBPS / FPS)}k`,
  "-g", String(FPS * 4), "-bf", "0", "-pix_fmt", "yuv420p",
  "-f", "null", "-"
]

const timeFfmpeg = (args: ReadonlyArray<string>): number => {
  const t0 = performance.now()
  execFileSync("ffmpeg", args, { stdio: "ignore" })
  return performance.now() - t0
}

export default async () => {
  const loadBefore = load()
  const addon = nativeTestHooks()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-bench-raw-"))
  const raw = path.join(dir, "pattern.bgr0")
  try {
    addon.writePatternFrames(raw, W, H, FRAMES)
    const settings = { width: W, height: H, fps: FPS, codec: "h264", encoder: "libx264", preset: "ultrafast", tune: "zerolatency", bitrate_kbps: KBPS }
    const ours: Array<number> = []
    const cli: Array<number> = []
    const startup: Array<number> = []
    let frames = 0
    for (let i = 0; i < RUNS; i++) {
      const r = addon.encodeRawFrames(raw, settings, LOOPS)
      frames = r.frames
      ours.push(r.wall_ns / 1e6)
      cli.push(timeFfmpeg(ffmpegArgs(raw, LOOPS)))
      startup.push(timeFfmpeg(ffmpegArgs(raw, 1, 1)))
    }
    const oursMs = median(ours)
    const cliMs = median(cli)
    const startMs = median(startup)
    const n = FRAMES * LOOPS
    return {
      title: `Native pipeline: our encode vs the ffmpeg command line (${n} frames, ${W}×${H}, libx264 ultrafast/zerolatency)`,
      lines: [
        `| | wall ms (median of ${RUNS}) | frames/s |`,
        `|---|---|---|`,
        `| ours (submit + encode, Encoder class of the frame loop; ${frames} frames out) | ${fmt(oursMs)} | ${fmt((n * 1000) / oursMs)} |`,
        `| ffmpeg CLI | ${fmt(cliMs)} | ${fmt((n * 1000) / cliMs)} |`,
        `| ffmpeg CLI, fixed start-up (1 frame) | ${fmt(startMs)} | |`,
        ``,
        `Speed ours / CLI: **${fmt(cliMs / oursMs, 3)}×** raw; **${fmt((cliMs - startMs) / oursMs, 3)}×** with the CLI's start-up subtracted (target ≥ 0.95×).`,
        `Load average (1 min) before / after: ${loadBefore} / ${load()} on ${os.cpus().length} cores.`
      ]
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
