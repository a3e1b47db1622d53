/**
 * The host's memory under a slowloris attack on every TCP listener: the compiled host (GameStream
 * on, no capture source) on loopback, then 300 connections per listener (management API, nvhttp
 * HTTP and HTTPS, RTSP, punktfunk/1) from 127.0.0.2–254, each sending a byte of a head that never
 * ends every 2 s and coming back when closed — the attack of `test/faults/slow-sockets.test.ts`.
 * Resident memory (VmRSS from /proc) is read before the attack and every second during it; a
 * client's nvhttp `serverinfo` and an operator's `/status` are asked each second to show the
 * host still answers. Figures are printed, never asserted. `PUNKTFUNK_SLOW_SOCKETS_S` sets the
 * attack's length (default 30 s).
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { httpPrefix, rtspPrefix, startSlowSockets, tlsPrefix } from "./slow-sockets.js"
import { GAMESTREAM_ON_PORT_ZERO, spawnBenchHost } from "./BenchHost.js"
import type { BenchReport } from "./run.js"

const PER_LISTENER = 300

const rssMiB = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? "NaN") / 1024
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** One GET on its own connection; the status, or 0 when the host did not answer. */
const get = (port: number, target: string, headers: Record<string, string> = {}) =>
  new Promise<number>((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, headers, agent: false, timeout: 5_000 }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve(0))
  })

const mib = (n: number) => n.toFixed(1)

export default async (): Promise<BenchReport> => {
  const seconds = Number(process.env["PUNKTFUNK_SLOW_SOCKETS_S"] ?? "30")
  const host = spawnBenchHost({
    prefix: "punktfunk-slow-sockets-",
    env: { ...GAMESTREAM_ON_PORT_ZERO, PUNKTFUNK_AUDIO: "silence", PUNKTFUNK_SOURCE: "none" },
    keepChars: 200_000
  })
  const { child, dir } = host
  try {
    const started = Date.now()
    const ports = { management: 0, nvhttp: 0, nvhttps: 0, rtsp: 0, punktfunk1: 0 }
    while (Object.values(ports).some((p) => p === 0)) {
      if (Date.now() - started > 60_000 || child.exitCode !== null) throw new Error(`host did not start:\n${host.output().slice(-4_000)}`)
      await sleep(100)
      const out = host.output()
      ports.management = Number(/punktfunk host listening on https?:\/\/[^:\s]+:(\d+)/.exec(out)?.[1] ?? 0)
      const nv = /GameStream nvhttp on [^:\s]+:(\d+) \(HTTP\) and :(\d+) \(HTTPS\)/.exec(out)
      ports.nvhttp = Number(nv?.[1] ?? 0)
      ports.nvhttps = Number(nv?.[2] ?? 0)
      ports.rtsp = Number(/GameStream RTSP on [^:\s]+:(\d+)/.exec(out)?.[1] ?? 0)
      ports.punktfunk1 = Number(/punktfunk\/1 control on [^:\s]+:(\d+)/.exec(out)?.[1] ?? 0)
    }
    const token = fs.readFileSync(path.join(dir, "token"), "utf8").trim()
    const pid = child.pid ?? 0
    const probe = async () => ({
      serverinfo: await get(ports.nvhttp, `/serverinfo?uniqueid=${"0".repeat(16)}&uuid=${"1".repeat(32)}`),
      status: await get(ports.management, "/api/v1/stats/status", { authorization: `Bearer ${token}` })
    })

    // Settled host: three readings a second apart, and the probes answered.
    await sleep(2_000)
    const before: Array<number> = []
    for (let i = 0; i < 3; i++) {
      await probe()
      before.push(rssMiB(pid))
      await sleep(1_000)
    }

    const attack = startSlowSockets(
      [
        { name: "management", port: ports.management, prefix: httpPrefix("127.0.0.1") },
        { name: "nvhttp", port: ports.nvhttp, prefix: httpPrefix("127.0.0.1") },
        { name: "nvhttps", port: ports.nvhttps, prefix: tlsPrefix() },
        { name: "rtsp", port: ports.rtsp, prefix: rtspPrefix() },
        { name: "punktfunk1", port: ports.punktfunk1, prefix: tlsPrefix() }
      ],
      { perTarget: PER_LISTENER, byteEveryMs: 2_000, reconnectAfterMs: 2_000, rampMs: 3_000 }
    )
    const during: Array<number> = []
    let asked = 0
    let answered = 0
    try {
      const deadline = Date.now() + seconds * 1000
      while (Date.now() < deadline) {
        await sleep(1_000)
        const p = await probe()
        asked += 2
        answered += (p.serverinfo === 200 ? 1 : 0) + (p.status === 200 ? 1 : 0)
        during.push(rssMiB(pid))
      }
    } finally {
      attack.stop()
    }
    const stats = attack.stats()
    const connects = Object.values(stats).reduce((n, s) => n + s.connects, 0)
    const closed = Object.values(stats).reduce((n, s) => n + s.closed, 0)
    const reports = host.output().split("\n").filter((l) => / connections in the last 10 s: /.test(l)).length
    const every = Math.max(1, Math.floor(during.length / 12))
    const trace = during.filter((_, i) => i % every === 0 || i === during.length - 1).map(mib)
    const beforeMiB = Math.max(...before)
    const maxMiB = Math.max(...during)
    const endMiB = during[during.length - 1] ?? Number.NaN
    return {
      title: `Slow sockets: ${PER_LISTENER} per TCP listener for ${seconds} s (PUNKTFUNK_SLOW_SOCKETS_S=${seconds})`,
      lines: [
        `Compiled host, GameStream on, no source; default limits (128 connections per listener, 16 per address, 10 s header timeout). ` +
          `Attackers on 127.0.0.2–254 send one byte every 2 s and reconnect ~2 s after being closed, on all five TCP listeners.`,
        "",
        "| RSS before | RSS during (max) | RSS during (end) | growth (max − before) | attacker connections | closed by the host | client probes answered | limit log lines |",
        "|---|---|---|---|---|---|---|---|",
        `| ${mib(beforeMiB)} MiB | ${mib(maxMiB)} MiB | ${mib(endMiB)} MiB | +${mib(maxMiB - beforeMiB)} MiB | ${connects} | ${closed} | ${answered}/${asked} | ${reports} |`,
        "",
        `RSS each ${every} s during the attack (MiB): ${trace.join(", ")}`
      ]
    }
  } finally {
    await host.stop(1_000)
  }
}
