/**
 * Shared helpers of the native pipeline tests: a small session config (light enough for a
 * 2-core CI machine running other suites), window collection with generous deadlines, ffprobe.
 */
import { Chunk, Effect, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { SessionConfig, SessionWindow } from "../../src/streams/Pipeline.js"

export const baseConfig = (overrides: Partial<SessionConfig> = {}): SessionConfig => ({
  kind: "punktfunk1",
  source: "synthetic",
  width: 320,
  height: 240,
  fps: 30,
  codec: "h264",
  encoder: "libx264",
  preset: "ultrafast",
  tune: "zerolatency",
  bitrate_kbps: 2000,
  perf: true,
  client: "",
  ...overrides
})

export const tmp = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

/** The first `n` windows, or a failure naming what was awaited after `seconds`. */
export const takeWindows = <E>(windows: Stream.Stream<SessionWindow, E>, n: number, seconds = 60) =>
  windows.pipe(
    Stream.take(n),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error(`${n} windows did not arrive within ${seconds} s`) })
  )

export interface ProbedStream {
  readonly codec_name: string
  readonly width: number
  readonly height: number
  readonly nb_read_frames: string
}

/** Decodes every frame of an elementary stream with ffprobe (a real decoder, not our code). */
export const probe = (file: string, format: "h264" | "hevc"): ProbedStream => {
  const out = execFileSync(
    "ffprobe",
    ["-v", "error", "-f", format, "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", file],
    { encoding: "utf8" }
  )
  const parsed = JSON.parse(out) as { streams: Array<ProbedStream> }
  const stream = parsed.streams[0]
  if (stream === undefined) throw new Error(`ffprobe found no stream in ${file}`)
  return stream
}
