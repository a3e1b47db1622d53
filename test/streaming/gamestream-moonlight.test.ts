/**
 * The real Moonlight client library against the host: moonlight-common-c (the code every
 * Moonlight client streams with) runs a whole stream through its public API from a small
 * harness of ours (support/moonlight_session.c): the RTSP handshake, the encrypted ENet control
 * stream, RTP video with its FEC and depacketizer, RTP audio with its FEC and AES, an IDR it
 * asks for, and the end the host announces when the operator quits. Pairing and launch are done
 * by the TypeScript client, as Moonlight's UI would before it calls LiStartConnection.
 *
 * What is asserted is what a Moonlight user would notice: the connection starts (no stage
 * fails), the picture arrives and decodes, sound arrives, the IDR it asks for arrives, and
 * quitting on the host ends the stream gracefully (termination code 0), not as an error.
 *
 * The library is not part of this repository: the test builds it from the bare mirrors at
 * /work/.mirror (moonlight-common-c with its enet and nanors submodules) or from the checkout
 * `PUNKTFUNK_MOONLIGHT_COMMON_C_DIR` names, and is skipped, saying so, when neither exists or gcc
 * (or ffmpeg, which judges the picture) is missing.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Capture, CaptureMeta } from "../../src/api/Stats.js"
import { nativePipelineLayer } from "../../src/PipelineChoice.js"
import { launchParams } from "../gamestream/support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../gamestream/support/Hosts.js"
import { json, waitFor } from "../support/TestHost.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const MIRRORS = "/work/.mirror"
const COMMON_C = path.join(MIRRORS, "moonlight-stream+moonlight-common-c", "repo")
const ENET = path.join(MIRRORS, "cgutman+enet", "repo")
const NANORS = path.join(MIRRORS, "sleepybishop+nanors", "repo")

const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "moonlight-common-c-"))
afterAll(() => fs.rmSync(buildDir, { recursive: true, force: true }))

/** Extracts `repo` at the commit the superproject pins (or HEAD, when the mirror lacks it). */
const extract = (repo: string, commit: string | undefined, into: string) => {
  let rev = "HEAD"
  if (commit !== undefined) {
    try {
      execFileSync("git", ["-C", repo, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" })
      rev = commit
    } catch {
      console.warn(`${repo} lacks the pinned ${commit}; building its HEAD`)
    }
  }
  fs.mkdirSync(into, { recursive: true })
  const tar = execFileSync("git", ["-C", repo, "archive", rev], { maxBuffer: 256 * 1024 * 1024 })
  execFileSync("tar", ["-x", "-C", into], { input: tar })
}

/** The submodule commit `path` of moonlight-common-c's HEAD pins. */
const pinned = (sub: string): string | undefined =>
  execFileSync("git", ["-C", COMMON_C, "ls-tree", "HEAD", sub]).toString().trim().split(/\s+/)[2]

/** Builds the harness against the library; undefined (with the reason logged) when it cannot. */
const buildHarness = (): string | undefined => {
  try {
    execFileSync("gcc", ["--version"], { stdio: "ignore" })
    let src = process.env["PUNKTFUNK_MOONLIGHT_COMMON_C_DIR"]
    if (src === undefined) {
      for (const m of [COMMON_C, ENET, NANORS]) {
        if (!fs.existsSync(m)) throw new Error(`no mirror at ${m} (or set PUNKTFUNK_MOONLIGHT_COMMON_C_DIR to a checkout with its submodules)`)
      }
      src = path.join(buildDir, "moonlight-common-c")
      extract(COMMON_C, undefined, src)
      extract(ENET, pinned("enet"), path.join(src, "enet"))
      extract(NANORS, pinned("nanors"), path.join(src, "nanors"))
    }
    const enetDefines = ["FCNTL", "IOCTL", "POLL", "GETADDRINFO", "GETNAMEINFO", "INET_PTON", "INET_NTOP", "MSGHDR_FLAGS", "SOCKLEN_T"]
    const library = [
      ...fs.readdirSync(path.join(src, "src")).filter((f) => f.endsWith(".c")).map((f) => path.join("src", f)),
      ...["callbacks.c", "compress.c", "host.c", "list.c", "packet.c", "peer.c", "protocol.c", "unix.c"].map((f) => path.join("enet", f)),
      "nanors/rs.c",
      "nanors/deps/obl/oblas_common.c",
      "nanors/deps/obl/oblas_lite.c"
    ]
    const objects = path.join(buildDir, "obj")
    fs.mkdirSync(objects)
    for (const file of library) {
      execFileSync("gcc", [
        "-O2", "-w", "-c", "-std=gnu11",
        ...enetDefines.map((d) => `-DHAS_${d}=1`),
        // LC_DEBUG: the library's debug build, whose assertions on what the host sends
        // (LC_ASSERT_VT) "indicate an error in Moonlight or on the host" — a host bug aborts the
        // client here instead of passing unnoticed.
        "-DHAVE_CLOCK_GETTIME", "-DLC_DEBUG",
        "-I", path.join(src, "src"),
        "-I", path.join(src, "enet", "include"),
        "-I", path.join(src, "nanors"),
        "-I", path.join(src, "nanors", "deps"),
        "-I", path.join(src, "nanors", "deps", "obl"),
        path.join(src, file),
        "-o", path.join(objects, `${file.replace(/[/.]/g, "_")}.o`)
      ])
    }
    const out = path.join(buildDir, "moonlight_session")
    execFileSync("gcc", [
      "-O1", "-Wall",
      "-I", path.join(src, "src"),
      path.join(here, "..", "gamestream", "support", "moonlight_session.c"),
      ...fs.readdirSync(objects).map((f) => path.join(objects, f)),
      "-lopus", "-lcrypto", "-lpthread", "-lm",
      "-o", out
    ])
    return out
  } catch (e) {
    console.warn(`skipping the moonlight-common-c session test: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
}

const harness = buildHarness()

const Summary = Schema.Struct({
  startResult: Schema.Number,
  stageFailed: Schema.Number,
  stageError: Schema.Number,
  terminated: Schema.Boolean,
  terminationCode: Schema.Number,
  timedOut: Schema.Boolean,
  videoFormat: Schema.Number,
  width: Schema.Number,
  height: Schema.Number,
  frames: Schema.Number,
  idrFrames: Schema.Number,
  idrAfterRequest: Schema.Number,
  bytes: Schema.Number,
  audioChannels: Schema.Number,
  audioPackets: Schema.Number,
  audioLost: Schema.Number,
  audioDecodeErrors: Schema.Number,
  audioSamples: Schema.Number,
  audioPeak: Schema.Number,
  videoPackets: Schema.Number,
  videoFecRecovered: Schema.Number,
  videoFecFailed: Schema.Number,
  audioRtpPackets: Schema.Number,
  audioInvalid: Schema.Number
})
type Summary = typeof Summary.Type

/** The harness as a child: its events as they come, its summary and log when it exits. */
const runHarness = (binary: string, args: Record<string, string | number>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(binary, Object.entries(args).map(([k, v]) => `${k}=${v}`))
      const events: Array<string> = []
      let summary: Summary | undefined
      let log = ""
      let buffered = ""
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split("\n")
        buffered = lines.pop() ?? ""
        for (const line of lines) {
          const parsed: unknown = JSON.parse(line)
          if (typeof parsed === "object" && parsed !== null && "summary" in parsed) {
            summary = Schema.decodeUnknownSync(Summary)(parsed.summary)
          } else if (typeof parsed === "object" && parsed !== null && "event" in parsed && typeof parsed.event === "string") {
            events.push(parsed.event)
          }
        }
      })
      child.stderr.on("data", (chunk: Buffer) => void (log += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      return {
        child,
        events,
        exited,
        log: () => log,
        summary: () => summary,
        /** Waits for `event`; the client's log is in the failure message when it never comes. */
        waitEvent: (event: string, timeoutMs: number) =>
          Effect.promise(() =>
            waitFor(async () => events.includes(event) || child.exitCode !== null, timeoutMs, `the client's "${event}"`)
          ).pipe(
            Effect.flatMap(() =>
              events.includes(event)
                ? Effect.void
                : Effect.die(new Error(`the client exited before "${event}": ${JSON.stringify(summary)}\n${log}`))
            )
          )
      }
    }),
    (h) => Effect.sync(() => void (h.child.exitCode === null && h.child.kill("SIGKILL")))
  )

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** ffmpeg's verdict on the bitstream the client's decoder was handed: frames decoded, errors. */
const decodeWithFfmpeg = (file: string, format: "h264" | "hevc") => {
  const frames = execFileSync("ffprobe", [
    "-v", "error", "-f", format, "-count_frames", "-select_streams", "v:0",
    "-show_entries", "stream=nb_read_frames,width,height", "-of", "json", file
  ]).toString()
  const probe = Schema.decodeUnknownSync(
    Schema.Struct({ streams: Schema.Array(Schema.Struct({ nb_read_frames: Schema.String, width: Schema.Number, height: Schema.Number })) })
  )(JSON.parse(frames))
  let errors = ""
  try {
    execFileSync("ffmpeg", ["-v", "error", "-f", format, "-i", file, "-f", "null", "-"], { stdio: ["ignore", "ignore", "pipe"] })
  } catch (e) {
    errors = e instanceof Error ? e.message : String(e)
  }
  return { stream: probe.streams[0], errors }
}

const ffmpegPresent = (() => {
  try {
    execFileSync("ffmpeg", ["-version"], { stdio: "ignore" })
    execFileSync("ffprobe", ["-version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe("GameStream with Moonlight's own client library (moonlight-common-c)", () => {
  const cases = [
    { codec: "h264", formats: 0x0001, name: "H.264: start, picture, sound, an IDR on request, and the host's quit ends it gracefully" },
    { codec: "hevc", formats: 0x0101, name: "HEVC when the client offers it: the picture decodes" }
  ] as const
  for (const c of cases) {
    if (harness === undefined || !ffmpegPresent) {
      if (harness !== undefined) console.warn("skipping the moonlight-common-c session test: no ffmpeg/ffprobe to check the picture")
      it.skip(c.name, () => undefined)
      continue
    }
    it.scopedLive(
      c.name,
      () =>
        Effect.gen(function* () {
          const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer() })
          const gs = gameStreamOf(host)
          const client = clientFor(host, yield* newIdentity(`moonlight-common-c-${c.codec}`))
          expect((yield* pairViaOperator(host, client, "1357")).outcome.paired).toBe(true)
          if (c.codec === "h264") expect((yield* promise(() => host.fetch("/start", { method: "POST" }))).status).toBe(200)

          // What Moonlight reads from serverinfo before it starts a stream.
          const info = (yield* promise(() => client.request(true, "/serverinfo"))).xml
          const codecs = Number(info.get("ServerCodecModeSupport"))
          if (c.codec === "hevc" && (codecs & 0x100) === 0) {
            console.warn("the host's encoder offers no HEVC here; the HEVC case checks nothing")
            return
          }
          const params: Record<string, string> = { ...launchParams(Number((yield* promise(() => client.applist())).xml.all("ID")[0])), mode: "320x180x30" }
          const launched = yield* promise(() => client.launch(params))
          const sessionUrl = launched.xml.get("sessionUrl0") ?? ""
          expect(sessionUrl).toBe(`rtsp://127.0.0.1:${gs.rtspPort}`)

          const bitstream = path.join(buildDir, `received-${c.codec}.${c.codec}`)
          const run = yield* runHarness(harness, {
            address: "127.0.0.1",
            url: sessionUrl,
            appversion: info.get("appversion") ?? "",
            gfeversion: info.get("GfeVersion") ?? "",
            codecs,
            width: 320,
            height: 180,
            fps: 30,
            bitrate: 2000,
            packetsize: 1392,
            formats: c.formats,
            rikey: params.rikey ?? "",
            rikeyid: params.rikeyid ?? "",
            out: bitstream,
            seconds: 60,
            ready: 60,
            idrat: c.codec === "h264" ? 20 : 0,
            stopat: c.codec === "h264" ? 0 : 40
          })
          yield* run.waitEvent("started", 30_000)
          const failure = () => `${JSON.stringify(run.summary())}\n${run.log()}`
          if (c.codec === "h264") {
            yield* run.waitEvent("ready", 30_000)
            // The operator (or Moonlight's "quit app") ends the launch on the host.
            expect((yield* promise(() => client.cancel())).xml.get("cancel")).toBe("1")
          }
          yield* promise(() => run.exited)
          const summary = run.summary()
          expect(summary, failure()).toBeDefined()
          if (summary === undefined) return
          expect([summary.startResult, summary.stageFailed, summary.timedOut], failure()).toEqual([0, 0, false])
          expect(summary.videoFormat, failure()).toBe(c.formats & (c.codec === "h264" ? 0x000f : 0x0f00))
          expect([summary.width, summary.height]).toEqual([320, 180])
          expect(summary.frames, failure()).toBeGreaterThanOrEqual(40)
          expect(summary.idrFrames).toBeGreaterThanOrEqual(1)
          expect(summary.audioChannels).toBe(2)
          expect(summary.audioPackets, failure()).toBeGreaterThan(20)
          expect(summary.audioInvalid).toBe(0)
          // Decrypted with the launch's key and decoded with the layout the host described.
          expect([summary.audioDecodeErrors, summary.audioLost], failure()).toEqual([0, 0])
          expect(summary.audioSamples).toBe(summary.audioPackets * 240) // 5 ms at 48 kHz each
          expect(summary.audioPeak).toBeLessThan(1e-3) // silence: there is no sound source yet

          // The picture the client's decoder was handed decodes, every frame of it.
          const decoded = decodeWithFfmpeg(bitstream, c.codec)
          expect(decoded.errors, failure()).toBe("")
          expect([decoded.stream?.width, decoded.stream?.height]).toEqual([320, 180])
          expect(Number(decoded.stream?.nb_read_frames)).toBe(summary.frames)

          if (c.codec === "h264") {
            // The IDR the client asked for (as Moonlight does on a decoder error) arrived.
            expect(summary.idrAfterRequest, failure()).toBeGreaterThanOrEqual(1)
            // Quitting on the host ended the client's stream, and as a graceful end.
            expect([summary.terminated, summary.terminationCode], failure()).toEqual([true, 0])
            yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 10_000, "the stream to end"))
            const stopped = yield* promise(() => host.fetch("/stop", { method: "POST" }))
            expect(stopped.status).toBe(200)
            const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* promise(() => json(stopped)))
            const saved = Schema.decodeUnknownSync(Capture)(
              yield* promise(() => host.fetch(`/recordings/${meta.id}`).then((r) => json(r)))
            )
            expect(saved.meta.kind).toBe("gamestream")
            expect([saved.meta.width, saved.meta.height, saved.meta.fps]).toEqual([320, 180, 30])
          } else {
            expect((yield* promise(() => client.cancel())).xml.get("cancel")).toBe("1")
          }
        }),
      180_000
    )
  }
})
