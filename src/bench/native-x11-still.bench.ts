/**
 * Damage-driven X11 capture: what a still desktop costs the host next to a moving one. One
 * private Xvfb at 1280×720, one x11 session at 60 fps, and phases of a few seconds each —
 * still, moving, still, moving — so both kinds are measured side by side under the same load.
 * "Moving" is a child process drawing the synthetic pattern over the whole screen at 60 fps
 * (the x11Animate hook; its CPU time and the X server's are not the host's). The host's cost is
 * this process's CPU time (user + system, `process.cpuUsage`) per second of each phase: the
 * frame thread, the media sender's pacer and Node itself.
 *
 * Three clients' worth of rows: none (a measurement session: nothing is kept alive while still);
 * punktfunk/1 over loopback (keepalive every 500 ms; the receiver, in this process and so counted
 * against the host, only reassembles — it does not decode); GameStream (keepalive every 100 ms:
 * the host packetizes and paces to a client in a child process that pings as Moonlight does and
 * drops what arrives, so its cost is not the host's).
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { cpus } from "node:os"
import { media } from "../native/media.js"
import type { MediaReceiver } from "../native/media.js"
import { nativeModule } from "../native/binding.js"
import { nativeTestHooks, nativeTestHooksPath } from "../native/testHooks.js"
import type { GameStreamVideoPort, NativeSession } from "../native/binding.js"
import { fmt, load, openSession, options720, sleep } from "./native-support.js"

const W = 1280
const H = 720
const PHASE_MS = 4_000
const SETTLE_MS = 700

const freeDisplay = (): number => {
  for (let n = 140; n < 240; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n
  }
  throw new Error("no free X display number")
}

const startXvfb = async (): Promise<{ display: string; server: ChildProcess }> => {
  const display = `:${freeDisplay()}`
  const server = spawn("Xvfb", [display, "-screen", "0", `${W}x${H}x24`, "-nolisten", "tcp", "-noreset"], { stdio: "ignore" })
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      nativeTestHooks().x11Grab(display, 16, 16)
      return { display, server }
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Xvfb ${display} did not come up: ${String(e)}`)
      await sleep(100)
    }
  }
}

/** A child that draws the moving pattern for `ms`. */
const animate = (display: string, ms: number): ChildProcess =>
  spawn(process.execPath, ["-e", `require(${JSON.stringify(nativeTestHooksPath)}).x11Animate(${JSON.stringify(display)}, ${W}, ${H}, 60, ${ms})`], {
    stdio: "ignore"
  })

interface Phase {
  readonly cpu_ms_per_s: number
  readonly fps: number
  readonly new_fps: number
  readonly encoded_fps: number
}

/** Measures one phase of `PHASE_MS` after `SETTLE_MS`, with the mover running or not. */
const phase = async (session: NativeSession, display: string, moving: boolean): Promise<Phase> => {
  const mover = moving ? animate(display, SETTLE_MS + PHASE_MS + 500) : undefined
  try {
    await sleep(SETTLE_MS)
    const t0 = session.totals()
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    await sleep(PHASE_MS)
    const cpu = process.cpuUsage(cpu0)
    const seconds = (performance.now() - wall0) / 1000
    const t1 = session.totals()
    return {
      cpu_ms_per_s: (cpu.user + cpu.system) / 1000 / seconds,
      fps: (t1.frames - t0.frames) / seconds,
      new_fps: (t1.frames - t0.frames - (t1.repeats - t0.repeats)) / seconds,
      encoded_fps: (t1.encoded - t0.encoded) / seconds
    }
  } finally {
    mover?.kill("SIGKILL")
  }
}

/** A GameStream client stand-in: pings the host's video port (legacy "PING") and drops the video. */
const pinger = (port: number): ChildProcess =>
  spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:dgram").createSocket("udp4"); s.on("message", () => {}); ` +
        `s.bind(0, "127.0.0.1", () => { const ping = () => s.send("PING", ${port}, "127.0.0.1"); ping(); setInterval(ping, 500) })`
    ],
    { stdio: "ignore" }
  )

const mean = (xs: ReadonlyArray<Phase>, f: (p: Phase) => number) => xs.reduce((s, p) => s + f(p), 0) / xs.length

type Client = "none" | "punktfunk/1" | "GameStream"

const run = async (display: string, client: Client) => {
  let receiver: MediaReceiver | undefined
  let port: GameStreamVideoPort | undefined
  let ponger: ChildProcess | undefined
  const keyHex = randomBytes(20).toString("hex")
  if (client === "punktfunk/1") receiver = new (media().MediaReceiver)({ keyHex, bind: "127.0.0.1", port: 0, codec: "none" })
  if (client === "GameStream") port = new (nativeModule().GameStreamVideoPort)("127.0.0.1", 0)
  const target =
    receiver !== undefined
      ? { media: { host: "127.0.0.1", port: receiver.port, key_hex: keyHex, mtu: 1400, fec_percent: 20 } }
      : port !== undefined
        ? {
            kind: "gamestream" as const,
            gamestream: { videoFd: port.fd, clientHost: "127.0.0.1", pingPayload: "", packetSize: 1392, fecPercent: 20, minRequiredFecPackets: 2 }
          }
        : {}
  const { session } = openSession(options720({ source: "x11", display, window_ms: 2_000, ...target }))
  if (port !== undefined) ponger = pinger(port.port)
  try {
    const still: Array<Phase> = []
    const moving: Array<Phase> = []
    for (let round = 0; round < 2; round++) {
      still.push(await phase(session, display, false))
      moving.push(await phase(session, display, true))
    }
    return { client, still, moving }
  } finally {
    session.close()
    ponger?.kill("SIGKILL")
    receiver?.close()
    port?.close()
  }
}

export default async () => {
  const loadBefore = load()
  const title = "X11 capture with DAMAGE: a still 1280×720@60 desktop against a moving one (host CPU)"
  const { display, server } = await startXvfb().catch((e: unknown) => {
    throw new Error(`this benchmark needs Xvfb (scripts/setup.sh installs it): ${String(e)}`)
  })
  try {
    const results = [await run(display, "none"), await run(display, "punktfunk/1"), await run(display, "GameStream")]
    const lines = [
      `| client | phase | host CPU (ms per s) | fps served | new pictures/s | encoded/s | moving ÷ still |`,
      `|---|---|---|---|---|---|---|`
    ]
    for (const r of results) {
      const still = mean(r.still, (p) => p.cpu_ms_per_s)
      const moving = mean(r.moving, (p) => p.cpu_ms_per_s)
      const ratio = still > 0 ? moving / still : Number.POSITIVE_INFINITY
      for (const [name, ps] of [["still", r.still], ["moving", r.moving]] as const) {
        lines.push(
          `| ${r.client} | ${name} | ${fmt(mean(ps, (p) => p.cpu_ms_per_s))} | ${fmt(mean(ps, (p) => p.fps))} | ${fmt(mean(ps, (p) => p.new_fps))} | ${fmt(mean(ps, (p) => p.encoded_fps))} | ${name === "moving" ? `${fmt(ratio)}× ${ratio >= 5 ? "(≥ 5×: yes)" : "(≥ 5×: NO)"}` : ""} |`
        )
      }
    }
    lines.push(
      ``,
      `Each phase: ${PHASE_MS / 1000} s measured after ${SETTLE_MS} ms to settle, two rounds of still → moving per client, means shown. ` +
        `Host CPU = this process's user + system time per wall second (frame thread, pacer, Node; with punktfunk/1 also the loopback receiver's reassembly; the GameStream client is another process). ` +
        `"Moving" = the pattern redrawn over the whole screen at 60 fps by a child process; its rate against the host's frame clock leaves some ticks without a new picture.`,
      ``,
      `Load average (1 min) before / after: ${loadBefore} / ${load()} on ${cpus().length} cores.`
    )
    return { title, lines }
  } finally {
    server.kill("SIGTERM")
  }
}
