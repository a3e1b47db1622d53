/**
 * GameStream audio with a real sound source: the desktop's sound recorded from PulseAudio.
 *
 * The test starts a private PulseAudio daemon of its own (a null sink "pf" — no audio hardware
 * needed — and a native-protocol socket in a temporary directory, found through PULSE_SERVER),
 * plays a tone into the sink with `pacat` (440 Hz on the left, 1000 Hz on the right), streams the
 * sink's monitor through the GameStream audio path to the test client (AudioReceiver), decodes
 * what arrived with libopus as a client plays it (one decoder over consecutive packets) and checks
 * that it is not silence, that each channel's strongest frequency is its tone (Goertzel power at
 * both frequencies), and so that left and right are not swapped.
 *
 * The same through a whole host session (pair, launch, RTSP, control, encrypted audio) with
 * PUNKTFUNK_AUDIO=pulse: the running stream says what it records, and its log says so once.
 *
 * A server that goes away mid-stream is tried again every second (silence meanwhile) and the
 * sound comes back with it. Without a server the capture fails at once and the stream goes on with silence, saying why;
 * stop() returns promptly whatever the capture is doing. Skipped, saying so, where `pulseaudio`
 * or `pacat` is not installed (scripts/setup.sh installs both).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either } from "effect"
import { audio, type GameStreamAudio } from "../../../src/native/audio.js"
import { nativeTestHooks } from "../../../src/native/testHooks.js"
import { describeAudioSource, startGameStreamAudio } from "../../../src/streams/gamestream/GameStreamAudio.js"
import { HostConfig, HostConfigFrom } from "../../../src/services/Config.js"
import { AudioReceiver, type AudioReceiverOptions, decryptAudio } from "../support/AudioReceiver.js"
import { ControlClient } from "../support/ControlClient.js"
import { launchParams } from "../support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "../support/RtspClient.js"
import { waitFor } from "../../support/TestHost.js"
import { withLogLines } from "../../support/LogLines.js"
import { makeAudioEnds } from "../support/AudioEnds.js"

const PAYLOAD = "A1B2C3D4E5F6G7H8"
const LEFT_HZ = 440
const RIGHT_HZ = 1000

const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0
const pulseMissing = !have("pulseaudio") ? "pulseaudio is not installed" : !have("pacat") ? "pacat (pulseaudio-utils) is not installed" : undefined
if (pulseMissing !== undefined) console.warn(`gamestream-audio-source: PulseAudio tests skipped: ${pulseMissing} (scripts/setup.sh installs it)`)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const ends = makeAudioEnds()
afterEach(ends.closeAll)
const { openHost } = ends
/** Receivers here ping at once, as a Moonlight client does. */
const openClient = (options: AudioReceiverOptions) => ends.openClient(options, 100)

/** Goertzel power of `freq` in one channel of interleaved PCM. */
const goertzel = (pcm: Float32Array, channels: number, channel: number, freq: number): number => {
  const k = 2 * Math.cos((2 * Math.PI * freq) / 48_000)
  let s1 = 0
  let s2 = 0
  for (let i = channel; i < pcm.length; i += channels) {
    const s0 = pcm[i]! + k * s1 - s2
    s2 = s1
    s1 = s0
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2
}
const rms = (pcm: Float32Array, channels: number, channel: number): number => {
  let sum = 0
  let n = 0
  for (let i = channel; i < pcm.length; i += channels, n++) sum += pcm[i]! * pcm[i]!
  return Math.sqrt(sum / Math.max(1, n))
}

/** Decodes the data packets the client kept, in sequence order, through one decoder. */
const decoded = (client: AudioReceiver, channels: number): Float32Array => {
  const seqs = [...client.payloads.keys()].sort((a, b) => a - b)
  return nativeTestHooks().decodeOpusSequence(seqs.map((s) => client.payloads.get(s)!), channels)
}

/** The private PulseAudio daemon: a null sink and a socket in a temporary directory. */
interface Daemon {
  readonly server: string
  readonly dir: string
  readonly proc: ChildProcess
}
const startDaemon = async (reuse?: string): Promise<Daemon> => {
  const dir = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), "pf-pulse-"))
  const socket = path.join(dir, "pulse.sock")
  // -n: no default.pa (nothing probes hardware). As root PulseAudio warns but runs a per-user
  // daemon; its HOME/XDG_RUNTIME_DIR are the temporary directory so nothing of the machine's is used.
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, PULSE_RUNTIME_PATH: dir }
  const proc = spawn(
    "pulseaudio",
    [
      "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no", "--system=false",
      "--log-target=stderr",
      "-L", "module-null-sink sink_name=pf rate=48000 channels=2",
      "-L", `module-native-protocol-unix socket=${socket} auth-anonymous=1`
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] }
  )
  let log = ""
  proc.stderr?.on("data", (d: Buffer) => void (log += d.toString()))
  const server = `unix:${socket}`
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`pulseaudio exited: ${log}`)
    if (fs.existsSync(socket) && spawnSync("pactl", ["--server", server, "info"], { env, timeout: 2000 }).status === 0) {
      return { server, dir, proc }
    }
    await sleep(50)
  }
  proc.kill("SIGKILL")
  throw new Error(`pulseaudio did not come up: ${log}`)
}

/** pacat playing `seconds` of float stereo: LEFT_HZ on the left, RIGHT_HZ on the right. */
const playTone = (daemon: Daemon, seconds: number): ChildProcess => {
  const frames = 48_000 * seconds
  const pcm = new Float32Array(frames * 2)
  for (let i = 0; i < frames; i++) {
    pcm[2 * i] = 0.5 * Math.sin((2 * Math.PI * LEFT_HZ * i) / 48_000)
    pcm[2 * i + 1] = 0.5 * Math.sin((2 * Math.PI * RIGHT_HZ * i) / 48_000)
  }
  const file = path.join(daemon.dir, "tone.raw")
  fs.writeFileSync(file, Buffer.from(pcm.buffer))
  const p = spawn(
    "pacat",
    // 20 ms, as a game or a desktop would ask: a null sink renders in blocks of the lowest latency
    // any of its streams asked for, and sleeps out its current block before it hears of a lower
    // one — with pacat's default (2 s) a new capture could wait that long for its first sound.
    ["--server", daemon.server, "--playback", "--device=pf", "--raw", "--format=float32le", "--rate=48000", "--channels=2", "--latency-msec=20",
      "--channel-map=front-left,front-right", file],
    { stdio: "ignore", env: { ...process.env, HOME: daemon.dir } }
  )
  return p
}

describe.skipIf(pulseMissing !== undefined)("GameStream audio from PulseAudio", () => {
  let daemon: Daemon | undefined
  const savedServer = process.env["PULSE_SERVER"]
  beforeAll(async () => {
    daemon = await startDaemon()
    // The addon's libpulse reads PULSE_SERVER from this process's environment.
    process.env["PULSE_SERVER"] = daemon.server
  }, 20_000)
  afterAll(() => {
    if (savedServer === undefined) delete process.env["PULSE_SERVER"]
    else process.env["PULSE_SERVER"] = savedServer
    daemon?.proc.kill("SIGTERM")
    if (daemon !== undefined) fs.rmSync(daemon.dir, { recursive: true, force: true })
  })

  const streamTone = async (channels: 2 | 6 | 8, packetDurationMs: 5 | 10) => {
    const host = openHost()
    const started = await Effect.runPromise(
      startGameStreamAudio(host, { clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs, channels, source: "pulse" })
    )
    const report = await Effect.runPromise(started.settled)
    expect(report.status.state).toBe("capturing")
    expect(report.level).toBe("info")
    expect(report.message).toContain("the desktop's sound")
    expect(report.status.device).toBe("pf.monitor") // the default sink's monitor
    const player = playTone(daemon!, 6)
    try {
      const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels, packetDurationMs, keepPayloads: true })
      // (The tone starts after the capture: the first packets are silence.) 1.5 s of sound:
      await waitFor(() => host.counters().captured_packets >= 1500 / packetDurationMs, 10_000, "1.5 s of captured sound")
      host.stop()
      expect(client.stats.decodeErrors).toBe(0)
      expect(client.stats.payloadBytes.size).toBe(1) // CBR + padding: FEC needs equal shards, captured or not
      const counters = host.counters()
      expect(counters.captured_packets + counters.silence_packets).toBe(counters.packets_sent)
      expect(counters.send_errors).toBe(0)
      // The last second: captured sound (the silence before the sink rendered is earlier).
      const pcm = decoded(client, channels)
      const tail = pcm.subarray(pcm.length - 48_000 * channels)
      const l440 = goertzel(tail, channels, 0, LEFT_HZ)
      const l1k = goertzel(tail, channels, 0, RIGHT_HZ)
      const r440 = goertzel(tail, channels, 1, LEFT_HZ)
      const r1k = goertzel(tail, channels, 1, RIGHT_HZ)
      expect(rms(tail, channels, 0)).toBeGreaterThan(0.05)
      expect(rms(tail, channels, 1)).toBeGreaterThan(0.05)
      expect(l440).toBeGreaterThan(20 * l1k)
      expect(r1k).toBeGreaterThan(20 * r440)
      // …and each tone dominates its neighbours too (not a broadband noise that happens to contain it).
      expect(l440).toBeGreaterThan(20 * goertzel(tail, channels, 0, 620))
      expect(r1k).toBeGreaterThan(20 * goertzel(tail, channels, 1, 1400))
      return { host, client, counters }
    } finally {
      player.kill("SIGTERM")
    }
  }

  it("stereo: the desktop's tone arrives, 440 Hz left and 1000 Hz right (not swapped), at 5 ms packets", async () => {
    await streamTone(2, 5)
  }, 30_000)

  it("5.1 at 10 ms packets: the stereo tone lands on front left and front right", async () => {
    await streamTone(6, 10)
  }, 30_000)

  it("a source that does not exist: silence, and the failure says which source", async () => {
    const host = openHost()
    const started = await Effect.runPromise(
      startGameStreamAudio(host, { clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "pulse", device: "no-such-source" })
    )
    const report = await Effect.runPromise(started.settled)
    expect(report.status.state).toBe("failed")
    expect(report.status.detail).toContain("no-such-source")
    expect(report.level).toBe("warning")
    const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
    await waitFor(() => client.stats.dataPackets >= 40, 5_000, "audio packets")
    host.stop()
    expect(client.stats.maxPeak).toBeLessThan(1e-3)
    expect(host.counters().captured_packets).toBe(0)
  }, 20_000)

  it("a suspended (silent) sink never stalls the send clock, and stop() returns at once", async () => {
    spawnSync("pactl", ["--server", daemon!.server, "suspend-sink", "pf", "1"], { env: { ...process.env, HOME: daemon!.dir } })
    try {
      const host = openHost()
      host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "pulse" })
      const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
      await waitFor(() => client.stats.dataPackets >= 100, 5_000, "audio packets from a silent capture")
      const t0 = performance.now()
      host.stop()
      expect(performance.now() - t0).toBeLessThan(1000)
      expect(host.counters().send_errors).toBe(0)
    } finally {
      spawnSync("pactl", ["--server", daemon!.server, "suspend-sink", "pf", "0"], { env: { ...process.env, HOME: daemon!.dir } })
    }
  }, 20_000)

  it.scopedLive("a host session with PUNKTFUNK_AUDIO=pulse streams the desktop's tone, encrypted; the stream and its log say what it records", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        const { receiver, audioStatus } = yield* hostSession({ PUNKTFUNK_AUDIO: "pulse" }, "audio-pulse")
        yield* Effect.promise(() => waitFor(() => audioStatus().state === "capturing", 5_000, "the capture to run"))
        expect(audioStatus().device).toBe("pf.monitor")
        const player = playTone(daemon!, 8)
        yield* Effect.addFinalizer(() => Effect.sync(() => player.kill("SIGTERM")))
        // Captured packets are counted by the host; here the client waits for tone it can hear.
        yield* Effect.promise(() =>
          waitFor(() => {
            if (receiver.stats.dataPackets < 400) return false
            const pcm = decodedEncrypted(receiver)
            return rms(pcm.subarray(pcm.length - 2 * 24_000), 2, 0) > 0.05
          }, 12_000, "the tone at the client")
        )
        yield* Effect.sleep("1 second")
        const pcm = decodedEncrypted(receiver)
        const tail = pcm.subarray(pcm.length - 2 * 48_000)
        expect([receiver.stats.decodeErrors, receiver.stats.decryptErrors]).toEqual([0, 0])
        expect(goertzel(tail, 2, 0, LEFT_HZ)).toBeGreaterThan(20 * goertzel(tail, 2, 0, RIGHT_HZ))
        expect(goertzel(tail, 2, 1, RIGHT_HZ)).toBeGreaterThan(20 * goertzel(tail, 2, 1, LEFT_HZ))
        const said = lines.filter((l) => l.includes("GameStream audio:"))
        expect(said).toHaveLength(1)
        expect(said[0]).toContain("the desktop's sound")
        expect(said[0]).toContain("pf.monitor")
        expect(said[0]).toContain("PUNKTFUNK_AUDIO=pulse") // the host's setting reached the stream
      })
    ), 60_000)


  it("the server restarts mid-stream: silence meanwhile, the capture tries again and the tone comes back", async () => {
    const host = openHost()
    host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "pulse" })
    await waitFor(() => host.source().state === "capturing", 5_000, "the capture to run")
    const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5, keepPayloads: true })
    await waitFor(() => client.stats.dataPackets >= 20, 5_000, "audio packets")

    const old = daemon!
    old.proc.kill("SIGTERM")
    await new Promise((r) => (old.proc.exitCode !== null ? r(undefined) : old.proc.once("exit", r)))
    await waitFor(() => host.source().state === "failed", 5_000, "the capture to notice")
    expect(host.source().detail).toContain("trying again every second")
    const before = client.stats.dataPackets
    await waitFor(() => client.stats.dataPackets >= before + 100, 5_000, "packets while the server is gone")

    daemon = await startDaemon(old.dir)
    await waitFor(() => host.source().state === "capturing", 8_000, "the capture to come back")
    expect(host.counters().capture_reconnects).toBeGreaterThanOrEqual(1)
    const player = playTone(daemon, 6)
    try {
      const captured = host.counters().captured_packets
      await waitFor(() => host.counters().captured_packets >= captured + 300, 10_000, "captured sound after the restart")
      host.stop()
      const pcm = decoded(client, 2)
      const tail = pcm.subarray(pcm.length - 2 * 48_000)
      expect(goertzel(tail, 2, 0, LEFT_HZ)).toBeGreaterThan(20 * goertzel(tail, 2, 0, RIGHT_HZ))
      expect(goertzel(tail, 2, 1, RIGHT_HZ)).toBeGreaterThan(20 * goertzel(tail, 2, 1, LEFT_HZ))
      expect(client.stats.sequenceGaps).toBe(0) // the send clock never stopped
      expect(host.counters().send_errors).toBe(0)
    } finally {
      player.kill("SIGTERM")
    }
  }, 40_000)

})


const RIKEY = launchParams(1).rikey ?? ""
const RIKEYID = Number(launchParams(1).rikeyid)

/** A host session as Moonlight drives it, up to the audio; returns the host's view and the client's audio. */
const hostSession = (env: Record<string, string>, name: string) =>
  Effect.gen(function* () {
    const host = yield* startGameStreamHost({ env })
    const gs = gameStreamOf(host)
    const client = clientFor(host, yield* newIdentity(name))
    expect((yield* pairViaOperator(host, client, "1357")).outcome.paired).toBe(true)
    const appId = Number((yield* Effect.promise(() => client.applist())).xml.all("ID")[0])
    yield* Effect.promise(() => client.launch(launchParams(appId)))
    const hs = yield* Effect.promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce({ ...DEFAULT_CLIENT_CONFIG, encryptAudio: true })))
    expect(hs.play.status).toBe(200)
    yield* Effect.acquireRelease(
      Effect.promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
      (c) => Effect.promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
    )
    const receiver = yield* Effect.acquireRelease(
      Effect.promise(() =>
        AudioReceiver.open({
          hostPort: gs.audioPort,
          pingPayload: hs.audioPingPayload ?? "",
          channels: 2,
          packetDurationMs: 5,
          encryption: { keyHex: RIKEY, keyId: RIKEYID },
          keepPayloads: true
        })
      ),
      (a) => Effect.sync(() => a.close())
    )
    receiver.startPinging()
    const stream = yield* gs.stream
    expect(stream?.audio).toBeDefined()
    return { gs, receiver, audioStatus: () => stream!.audio!() }
  })

/** Decrypts and decodes what an encrypted-audio client kept, in sequence order. */
const decodedEncrypted = (client: AudioReceiver): Float32Array => {
  const seqs = [...client.payloads.keys()].sort((a, b) => a - b)
  return nativeTestHooks().decodeOpusSequence(seqs.map((s) => decryptAudio(RIKEY, RIKEYID, s, client.payloads.get(s)!)), 2)
}

describe("GameStream audio without a PulseAudio server", () => {
  const savedServer = process.env["PULSE_SERVER"]
  afterEach(() => {
    if (savedServer === undefined) delete process.env["PULSE_SERVER"]
    else process.env["PULSE_SERVER"] = savedServer
  })

  it("auto falls back to silence at once, says so, and the stream goes on", async () => {
    process.env["PULSE_SERVER"] = `unix:${path.join(os.tmpdir(), `pf-no-pulse-${process.pid}`, "pulse.sock")}`
    const host = openHost()
    const t0 = performance.now()
    const started = await Effect.runPromise(
      startGameStreamAudio(host, { clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "auto" })
    )
    const report = await Effect.runPromise(started.settled)
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(report.status.source).toBe("pulse")
    expect(report.status.state).toBe("failed")
    expect(report.level).toBe("info")
    expect(report.message).toMatch(/^GameStream audio: silence \(PUNKTFUNK_AUDIO=auto found no sound source: no PulseAudio server reachable/)
    const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
    await waitFor(() => client.stats.dataPackets >= 40, 5_000, "audio packets")
    host.stop()
    expect(client.stats.decodeErrors).toBe(0)
    expect(client.stats.maxPeak).toBeLessThan(1e-3)
    const c = host.counters()
    expect(c.captured_packets).toBe(0)
    expect(c.silence_packets).toBe(c.packets_sent)
  })

  it.scopedLive("a host session with the default (auto) and no server sends silence, and the stream and its log say why", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        process.env["PULSE_SERVER"] = `unix:${path.join(os.tmpdir(), `pf-no-pulse-${process.pid}`, "pulse.sock")}`
        const { receiver, audioStatus } = yield* hostSession({}, "audio-auto")
        yield* Effect.promise(() => waitFor(() => receiver.stats.dataPackets >= 100, 10_000, "audio packets"))
        expect(audioStatus().state).toBe("failed")
        expect(audioStatus().detail).toContain("no PulseAudio server reachable")
        expect(receiver.stats.decodeErrors).toBe(0)
        expect(receiver.stats.maxPeak).toBeLessThan(1e-3)
        yield* Effect.promise(() => waitFor(() => lines.some((l) => l.includes("GameStream audio:")), 5_000, "the audio log line"))
        const said = lines.filter((l) => l.includes("GameStream audio:"))
        expect(said).toHaveLength(1)
        expect(said[0]).toContain("silence (PUNKTFUNK_AUDIO=auto found no sound source: no PulseAudio server reachable")
      })
    ), 60_000)

  it("a server that accepts but never answers: the capture gives up after its time limit, packets flow meanwhile, stop() is prompt", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-mute-pulse-"))
    const sock = path.join(dir, "pulse.sock")
    const held: Array<net.Socket> = []
    const mute = net.createServer((c) => void held.push(c)) // reads nothing, says nothing
    await new Promise<void>((r) => mute.listen(sock, r))
    try {
      process.env["PULSE_SERVER"] = `unix:${sock}`
      const host = openHost()
      const started = await Effect.runPromise(
        startGameStreamAudio(host, { clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "pulse" })
      )
      expect(host.source().state).toBe("connecting")
      const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
      await waitFor(() => client.stats.dataPackets >= 40, 2_000, "audio packets while the capture connects")
      const report = await Effect.runPromise(started.settled)
      expect(report.status.state).toBe("failed")
      expect(report.status.detail).toContain("did not answer within 3000 ms")
      expect(report.level).toBe("warning")

      // stop() while connecting to the mute server returns at once, too.
      const again = openHost()
      again.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "pulse" })
      await sleep(100)
      expect(again.source().state).toBe("connecting")
      const t0 = performance.now()
      again.stop()
      expect(performance.now() - t0).toBeLessThan(500)
    } finally {
      for (const c of held) c.destroy()
      mute.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 20_000)

  it("pulse without a server: silence with a warning naming the setting", () => {
    const r = describeAudioSource("pulse", { source: "pulse", state: "failed", detail: "no PulseAudio server reachable: Connection refused", device: "" })
    expect(r.level).toBe("warning")
    expect(r.message).toContain("PUNKTFUNK_AUDIO=pulse")
    expect(r.message).toContain("Connection refused")
    expect(r.message).toContain("the stream goes on")
  })

  it("silence: no capture, and the log says it was chosen", async () => {
    const host = openHost()
    const started = await Effect.runPromise(
      startGameStreamAudio(host, { clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2, source: "silence" })
    )
    const report = await Effect.runPromise(started.settled)
    expect(report.status).toEqual({ source: "silence", state: "off", detail: "", device: "" })
    expect(report.message).toBe("GameStream audio: silence (PUNKTFUNK_AUDIO=silence)")
  })
})

describe("PUNKTFUNK_AUDIO", () => {
  const load = (env: Record<string, string>) =>
    Effect.runPromise(Effect.either(HostConfig.pipe(Effect.provide(HostConfigFrom(env)))))

  it("defaults to auto with no device, and takes pulse / silence / a device", async () => {
    const d = await load({})
    expect(Either.isRight(d) && d.right.audio).toBe("auto")
    expect(Either.isRight(d) && d.right.audioDevice).toBe(undefined)
    const p = await load({ PUNKTFUNK_AUDIO: "pulse", PUNKTFUNK_AUDIO_DEVICE: "alsa_output.pci.monitor" })
    expect(Either.isRight(p) && p.right.audio).toBe("pulse")
    expect(Either.isRight(p) && p.right.audioDevice).toBe("alsa_output.pci.monitor")
    const s = await load({ PUNKTFUNK_AUDIO: "silence" })
    expect(Either.isRight(s) && s.right.audio).toBe("silence")
  })

  it("refuses other values, naming the variable", async () => {
    for (const bad of ["loud", "PULSE", "", "alsa"]) {
      const r = await load({ PUNKTFUNK_AUDIO: bad })
      expect(Either.isLeft(r)).toBe(true)
      if (Either.isLeft(r)) expect(String(r.left)).toContain("PUNKTFUNK_AUDIO must be one of: auto, pulse, silence")
    }
  })
})
