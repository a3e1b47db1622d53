/**
 * A built host (`dist/main.js`) started as a child process for a bench: its own config directory,
 * every port 0 (the host prints the management URL; the rest are not needed from outside), its
 * output kept (the tail) for the error when it does not start, and a stop that waits for it to
 * exit and removes the directory. The idle-host, slow-sockets, host-soak and host-list benches
 * start their hosts here, so each says only what differs (source, GameStream, its own settings).
 */
import { spawn } from "node:child_process"
import type { ChildProcessByStdio } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { tokenFromStartOutput, urlFromStartOutput } from "./StartOutput.js"

export const defaultMainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "main.js")

/** GameStream on, every one of its ports 0, no mDNS, streams on loopback. */
export const GAMESTREAM_ON_PORT_ZERO: Readonly<Record<string, string>> = {
  PUNKTFUNK_GAMESTREAM: "1",
  PUNKTFUNK_GAMESTREAM_HTTP_PORT: "0",
  PUNKTFUNK_GAMESTREAM_HTTPS_PORT: "0",
  PUNKTFUNK_GAMESTREAM_RTSP_PORT: "0",
  PUNKTFUNK_GAMESTREAM_VIDEO_PORT: "0",
  PUNKTFUNK_GAMESTREAM_CONTROL_PORT: "0",
  PUNKTFUNK_GAMESTREAM_AUDIO_PORT: "0",
  PUNKTFUNK_GAMESTREAM_MDNS: "0",
  PUNKTFUNK_STREAM_BIND: "127.0.0.1"
}

export interface BenchHostOptions {
  /** The config directory's name prefix under the temp directory (`punktfunk-idle-`). */
  readonly prefix: string
  /** Settings on top of ports 0 and the config directory (a source, GameStream, …). */
  readonly env: Readonly<Record<string, string>>
  /** An existing config directory (kept at stop) instead of a new one. */
  readonly dir?: string
  readonly mainJs?: string
  /** How much of the host's output to keep for the error message; default 50,000 characters. */
  readonly keepChars?: number
}

export interface BenchHost {
  readonly child: ChildProcessByStdio<null, Readable, Readable>
  readonly dir: string
  /** The kept tail of the host's stdout and stderr. */
  readonly output: () => string
  /** The management URL and token once printed; throws with the output after `timeoutMs` or an early exit. */
  readonly started: (timeoutMs?: number, pollMs?: number) => Promise<{ readonly url: string; readonly token: string }>
  /** SIGTERM (SIGKILL after `graceMs`), wait for the exit, remove a directory made here. */
  readonly stop: (graceMs?: number) => Promise<void>
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const spawnBenchHost = (options: BenchHostOptions): BenchHost => {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), options.prefix))
  const child = spawn(process.execPath, [options.mainJs ?? defaultMainJs], {
    env: { ...process.env, PUNKTFUNK_PORT: "0", PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_CONFIG_DIR: dir, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const keep = options.keepChars ?? 50_000
  let out = ""
  const append = (c: Buffer) => {
    out = (out + c.toString()).slice(-keep)
  }
  child.stdout.on("data", append)
  child.stderr.on("data", append)
  return {
    child,
    dir,
    output: () => out,
    started: async (timeoutMs = 30_000, pollMs = 50) => {
      const since = Date.now()
      for (;;) {
        const url = urlFromStartOutput(out)
        const token = url === undefined ? undefined : tokenFromStartOutput(out)
        if (url !== undefined && token !== undefined) return { url, token }
        if (Date.now() - since > timeoutMs || child.exitCode !== null) throw new Error(`host did not start:\n${out.slice(-4_000)}`)
        await sleep(pollMs)
      }
    },
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()))
        child.kill("SIGTERM")
        const kill = setTimeout(() => child.kill("SIGKILL"), graceMs)
        kill.unref()
        await exited
        clearTimeout(kill)
      }
      if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * The settings of a host that serves the console's build (`webDir`) to a browser on this machine:
 * its configuration in `dir`, every listener on loopback; `env` comes last and wins. For the
 * console benches and the browser tests (`test/e2e/consoleHost.ts`).
 */
export const loopbackConsoleEnv = (dir: string, webDir: string, env: Readonly<Record<string, string>> = {}): Record<string, string> => ({
  PUNKTFUNK_CONFIG_DIR: dir,
  PUNKTFUNK_BIND: "127.0.0.1",
  PUNKTFUNK_STREAM_BIND: "127.0.0.1",
  PUNKTFUNK_WEB_DIR: webDir,
  ...env
})

/**
 * A host with GameStream off, started and waited for (the console benches): its URL, token and
 * stop. `env` may name its own `PUNKTFUNK_CONFIG_DIR` (a prepared captures folder).
 */
export const startBenchHost = async (
  env: Readonly<Record<string, string>>,
  timeoutMs = 30_000
): Promise<{ readonly url: string; readonly token: string; readonly stop: () => Promise<void> }> => {
  const host = spawnBenchHost({ prefix: "punktfunk-bench-", env: { PUNKTFUNK_GAMESTREAM: "off", ...env } })
  try {
    const { url, token } = await host.started(timeoutMs)
    return { url, token, stop: () => host.stop() }
  } catch (e) {
    await host.stop(0)
    throw e
  }
}
