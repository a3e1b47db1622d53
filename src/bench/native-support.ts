/**
 * Helpers shared by the native pipeline benchmarks: open a raw addon session (no Effect: the
 * benchmarks measure the native loop, not the fiber runtime), wait, read its totals, close.
 * Not a benchmark itself (the runner only loads `*.bench.js`).
 */
import { loadavg } from "node:os"
import { PATHS } from "../api/Paths.js"
import { nativeModule } from "../native/binding.js"
import type { NativeOptions, NativeSession, NativeWindow } from "../native/binding.js"

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const options720 = (overrides: Partial<NativeOptions> = {}): NativeOptions => ({
  stages: PATHS.punktfunk1.stages,
  window_ms: PATHS.punktfunk1.window_ms,
  source: "synthetic",
  width: 1280,
  height: 720,
  fps: 60,
  codec: "h264",
  encoder: "libx264",
  preset: "ultrafast",
  tune: "zerolatency",
  bitrate_kbps: 10_000,
  perf: false,
  ...overrides
})

export interface OpenedSession {
  readonly session: NativeSession
  readonly windows: Array<NativeWindow>
}

export const openSession = (options: NativeOptions): OpenedSession => {
  const windows: Array<NativeWindow> = []
  const session = new (nativeModule().NativeSession)(options, (w) => void windows.push(w))
  return { session, windows }
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n === 0 ? 0 : n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/** The `p`th percentile (0–100) of `xs`, nearest rank below; 0 for none. */
export const pct = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/**
 * Waits until a media sender's pacer has sent (or dropped) `expected` packets, at most `timeoutMs`:
 * the pacer sends after `send` returns, so a bench that times the call drains it between rounds
 * to keep one round's datagrams out of the next one's figures.
 */
export const drained = async (
  sender: { readonly counters: () => { readonly packets_sent: number; readonly send_dropped: number } },
  expected: number,
  timeoutMs = 500
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const c = sender.counters()
    if (c.packets_sent + c.send_dropped >= expected || Date.now() > deadline) return
    await sleep(1)
  }
}

export const fmt = (x: number, digits = 1): string => x.toFixed(digits)

/** The machine's 1-minute load average, printed beside figures taken on a shared machine. */
export const load = (): string => loadavg()[0]!.toFixed(2)
