/**
 * punktfunk/1 end to end on loopback: the compiled host (synthetic 720p60, libx264, 10 Mb/s
 * target) streaming to the compiled `punktfunk-client`, each in its own process, paired through
 * the operator API. The client timestamps nothing itself: the capture time travels in every
 * packet (CLOCK_MONOTONIC, shared by both processes on one machine), so "capture→decoded" is
 * measured from the frame's deadline on the host to the decoded picture in the client.
 *
 * Goodput is the media bytes the client received per second (parity and sealing included)
 * against the bitrate target. Both processes share this machine's two cores with the encoder,
 * so these are upper bounds for a dedicated host and client.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { packageRoot } from "../services/Config.js"
import type { BenchReport } from "./run.js"
import { tokenFromStartOutput } from "./StartOutput.js"

const mainJs = path.join(packageRoot, "dist", "main.js")
const clientJs = path.join(packageRoot, "dist", "client.js")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const runToExit = (args: ReadonlyArray<string>) =>
  new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [clientJs, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    child.on("exit", () => resolve(out))
  })

const waitMatch = async (read: () => string, re: RegExp, ms: number) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const m = re.exec(read())
    if (m !== null) return m
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${re}:\n${read()}`)
}

interface Summary {
  readonly frames_decoded: number
  readonly frames_complete: number
  readonly frames_dropped: number
  readonly bytes: number
  readonly fec_recovered: number
  readonly packets_lost: number
  readonly latency_p50_us: number
  readonly latency_p99_us: number
}

const session = async (seconds: number, loss: number) => {
  const config = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-e2e-"))
  const host = spawn(process.execPath, [mainJs], {
    env: { ...process.env, PUNKTFUNK_CONFIG_DIR: config, PUNKTFUNK_PORT: "0", PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_SOURCE: "none", PUNKTFUNK_GAMESTREAM: "0", PUNKTFUNK_STREAM_BIND: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  host.stdout.on("data", (c: Buffer) => (out += c.toString()))
  host.stderr.on("data", (c: Buffer) => (out += c.toString()))
  try {
    const url = (await waitMatch(() => out, /listening on (https?:\/\/\S+)/, 20_000))[1] ?? ""
    await waitMatch(() => out, /^token file: [^\n]*\n/m, 20_000)
    const token = tokenFromStartOutput(out) ?? ""
    const port = (await waitMatch(() => out, /punktfunk\/1 control on [^:]+:(\d+)/, 20_000))[1] ?? ""
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-bench-client-"))
    const common = ["--host", "127.0.0.1", "--port", port, "--dir", dir, "--name", "bench"]
    const pairing = runToExit(["pair", ...common, "--pin", "1357"])
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" }
    let id = ""
    while (id === "") {
      const pending = (await (await fetch(`${url}/api/v1/pairing/pending`, { headers })).json()) as Array<{ request_id: string }>
      id = pending[0]?.request_id ?? ""
      if (id === "") await sleep(100)
    }
    await fetch(`${url}/api/v1/pairing/pending/${id}/pin`, { method: "POST", headers, body: JSON.stringify({ pin: "1357" }) })
    await pairing
    const stream = await runToExit(["stream", ...common, "--seconds", String(seconds), "--loss", String(loss), "--bitrate-kbps", "10000"])
    const line = stream.split("\n").find((l) => l.startsWith("summary "))
    if (line === undefined) throw new Error(`no client summary:\n${stream}`)
    return JSON.parse(line.slice(8)) as Summary
  } finally {
    host.kill("SIGTERM")
  }
}

export default async (): Promise<BenchReport> => {
  const seconds = Number(process.env["PUNKTFUNK_BENCH_E2E_S"] ?? "20")
  const rows: Array<string> = []
  for (const loss of [0, 0.05]) {
    const s = await session(seconds, loss)
    const seen = s.frames_complete + s.frames_dropped
    rows.push(
      `| ${(loss * 100).toFixed(0)}% | ${(s.latency_p50_us / 1000).toFixed(1)} ms | ${(s.latency_p99_us / 1000).toFixed(1)} ms | ` +
        `${((s.bytes * 8) / seconds / 1e6).toFixed(1)} Mb/s of 10 | ${s.frames_decoded}/${seen} (${((100 * s.frames_decoded) / Math.max(1, seen)).toFixed(1)}%) | ${s.packets_lost} | ${s.fec_recovered} |`
    )
  }
  return {
    title: "punktfunk/1 end to end on loopback (host and client processes, synthetic 720p60, libx264, 20% parity)",
    lines: [
      `${seconds} s per row; latency from the frame's deadline on the host to the decoded picture in the client.`,
      ``,
      `| loss | capture→decoded p50 | p99 | goodput (media bytes received) | frames decoded | packets lost | shards rebuilt |`,
      `|---|---|---|---|---|---|---|`,
      ...rows
    ]
  }
}
