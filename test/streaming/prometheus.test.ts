/**
 * A real Prometheus (Debian's `prometheus` package) scraping a real host with a demo session:
 * the bearer token goes in as `credentials_file`, as an operator would configure it, and the
 * test reads `punktfunk_frames_per_second` back through Prometheus' query API. Skipped where
 * the `prometheus` binary is absent (`scripts/setup.sh` installs it).
 *
 * A second job scrapes the same host with a wrong token: its `up` is 0, so the first job's data
 * came through the token and not around it. The host is disarmed throughout: its sessions time
 * every frame for `/metrics`, so stage and host latency are there without a capture.
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { freePort } from "../support/Sockets.js"
import { tempDir, waitFor } from "../support/TestHost.js"

const hasPrometheus = spawnSync("prometheus", ["--version"], { stdio: "ignore" }).status === 0

interface Series {
  readonly metric: Record<string, string>
  readonly value: readonly [number, string]
}

const cleanup: Array<() => void> = []
afterAll(() => {
  for (const f of cleanup.splice(0)) f()
})

describe("a real Prometheus scraping the host", () => {
  it.skipIf(!hasPrometheus)("reads punktfunk_frames_per_second of a demo session through its query API", async () => {
    const host: HostProcess = await spawnHost({ PUNKTFUNK_CONFIG_DIR: tempDir("punktfunk-prometheus-host-") }, ["--demo"])
    cleanup.push(() => host.child.kill("SIGTERM"))
    const target = new URL(host.url).host

    const dir = tempDir("punktfunk-prometheus-")
    const wrongToken = path.join(dir, "wrong-token")
    fs.writeFileSync(wrongToken, "x".repeat(43), { mode: 0o600 })
    const job = (name: string, credentials: string) => [
      `  - job_name: ${name}`,
      "    metrics_path: /metrics",
      "    authorization:",
      "      type: Bearer",
      `      credentials_file: ${credentials}`,
      "    static_configs:",
      `      - targets: ["${target}"]`
    ]
    const config = path.join(dir, "prometheus.yml")
    fs.writeFileSync(
      config,
      ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "scrape_configs:", ...job("punktfunk", host.tokenFile), ...job("wrong-token", wrongToken), ""].join("\n")
    )
    const port = await freePort()
    const prometheus: ChildProcess = spawn(
      "prometheus",
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let log = ""
    prometheus.stdout?.on("data", (c: Buffer) => (log += c.toString()))
    prometheus.stderr?.on("data", (c: Buffer) => (log += c.toString()))
    cleanup.push(() => prometheus.kill("SIGTERM"))

    const api = `http://127.0.0.1:${port}/api/v1`
    const query = async (q: string): Promise<ReadonlyArray<Series>> => {
      try {
        const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`)
        if (res.status !== 200) return []
        const body = (await res.json()) as { status: string; data: { result: ReadonlyArray<Series> } }
        return body.status === "success" ? body.data.result : []
      } catch {
        return []
      }
    }

    let fps: ReadonlyArray<Series> = []
    await waitFor(
      async () => {
        fps = await query("punktfunk_frames_per_second")
        return fps.some((s) => Number(s.value[1]) > 0)
      },
      90_000,
      `punktfunk_frames_per_second in Prometheus\n${log.slice(-3000)}\n${host.output().slice(-2000)}`
    )
    const series = fps.find((s) => Number(s.value[1]) > 0)
    expect(series?.metric["job"]).toBe("punktfunk")
    expect(series?.metric["path"]).toBe("punktfunk1")
    // The session's requested rate beside it, as the dashboard's "fps vs target" draws them.
    const targetFps = await query(`punktfunk_target_frames_per_second{session="${series?.metric["session"] ?? ""}"}`)
    expect(Number(targetFps[0]?.value[1])).toBeGreaterThan(0)

    expect((await query('up{job="punktfunk"}')).map((s) => s.value[1])).toEqual(["1"])
    await waitFor(async () => (await query('up{job="wrong-token"}')).length === 1, 20_000, "the wrong-token job's first scrape")
    expect((await query('up{job="wrong-token"}')).map((s) => s.value[1])).toEqual(["0"])
    expect(await query('{job="wrong-token", __name__=~"punktfunk_.*"}')).toEqual([])

    // Disarmed, yet latency is there: the host times every frame for /metrics.
    const armed = await query("punktfunk_capture_armed")
    expect(armed.map((s) => s.value[1])).toEqual(["0"])
    await waitFor(async () => (await query('punktfunk_host_latency_seconds{percentile="p50"}')).length > 0, 20_000, "host latency")
    const hostLatency = await query('punktfunk_host_latency_seconds{percentile="p50"}')
    expect(Number(hostLatency[0]?.value[1])).toBeGreaterThan(0)
    const stages = await query('punktfunk_stage_latency_seconds{percentile="p50"}')
    expect(new Set(stages.map((s) => s.metric["stage"]))).toEqual(new Set(["capture", "submit", "encode", "send"]))
    expect(await query('{__name__=~"punktfunk_.*", quantile!=""}')).toEqual([])
  })
})
