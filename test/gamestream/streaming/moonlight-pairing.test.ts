/**
 * Moonlight's own nvhttp client code against the host: moonlight-embedded's libgamestream (its
 * serverinfo, pairing, applist, launch/resume, quit and unpair; libcurl, expat, OpenSSL), driven
 * through its public functions by our harness (support/moonlight_embedded_client.c) the way
 * moonlight-embedded's `pair`, `list`, `stream` and `quit` commands call them, with the client's
 * key directory kept between runs as the real client keeps it. The launch is then streamed for a
 * moment with moonlight-common-c, from the server information libgamestream gathered.
 *
 * What is asserted is what an operator would notice: Moonlight's code pairs with the PIN typed
 * into the console and the client shows up as paired; a wrong PIN fails on the client and on the
 * console and pairs nothing; after five wrong PINs the sixth pairing fails at once and Moonlight
 * shows the host's lockout reason; the paired client sees PairStatus 1, lists "Desktop", launches,
 * streams, and its quit leaves the host with no launch; removing it on the host unpairs it.
 *
 * What libgamestream does that the TypeScript client does not: it never checks the host's hash,
 * so a wrong PIN is found only at clientpairingsecret (and it shows the host's reason only for a
 * status_code other than 200); every install sends uniqueid 0123456789ABCDEF and devicename
 * "roth"; it learns the HTTPS port from serverinfo; its `unpair` goes over plain HTTP without a
 * certificate, so the host cannot honour it (only the operator unpairs), though it reports success.
 *
 * Nothing of Moonlight is in this repository: the test builds libgamestream and
 * moonlight-common-c from the bare mirrors in `PUNKTFUNK_MOONLIGHT_MIRRORS` (default
 * /work/.mirror, test/README.md), and is skipped, saying why, when a
 * mirror, gcc, or a library header (libcurl, expat, libuuid, OpenSSL) is missing — as on CI.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import type { Scope } from "effect"
import { execFile, execFileSync } from "node:child_process"
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { nativePipelineLayer } from "../../../src/PipelineChoice.js"
import { fingerprintOfDer } from "../../../src/lib/Certificates.js"
import { enterPin, gameStreamOf, pairedClients, pendingList, startGameStreamHost, waitPending } from "../support/Hosts.js"
import { buildLibGamestream, buildMoonlightCommonC } from "../support/moonlightBuild.js"
import { json, waitFor } from "../../support/TestHost.js"
import type { StartedHost } from "../../support/TestHost.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "moonlight-embedded-"))
afterAll(() => fs.rmSync(buildDir, { recursive: true, force: true }))

/** Builds the harness against libgamestream and moonlight-common-c; undefined (reason logged) when it cannot. */
const buildClient = (): string | undefined => {
  try {
    const commonC = buildMoonlightCommonC(buildDir)
    const gamestream = buildLibGamestream(buildDir, commonC)
    const out = path.join(buildDir, "moonlight_embedded_client")
    execFileSync("gcc", [
      "-O1", "-Wall",
      "-I", path.join(commonC.src, "src"),
      "-I", path.join(buildDir, "moonlight-embedded", "libgamestream"),
      path.join(here, "..", "support", "moonlight_embedded_client.c"),
      ...gamestream,
      ...commonC.objects,
      "-lcurl", "-lexpat", "-luuid", "-lssl", "-lcrypto", "-lpthread", "-lm",
      "-o", out
    ])
    return out
  } catch (e) {
    console.warn(`skipping the moonlight-embedded (libgamestream) test: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
}

const client = buildClient()

/** One step's line from the harness: its GS_* result (0 is GS_OK), gs_error, and what it saw. */
const Step = Schema.Struct({
  step: Schema.String,
  result: Schema.Number,
  error: Schema.NullOr(Schema.String),
  paired: Schema.optional(Schema.Boolean),
  currentGame: Schema.optional(Schema.Number),
  serverMajorVersion: Schema.optional(Schema.Number),
  httpsPort: Schema.optional(Schema.Number),
  codecs: Schema.optional(Schema.Number),
  appVersion: Schema.optional(Schema.NullOr(Schema.String)),
  apps: Schema.optional(Schema.Array(Schema.Struct({ id: Schema.Number, name: Schema.NullOr(Schema.String) }))),
  appId: Schema.optional(Schema.Number),
  resume: Schema.optional(Schema.Boolean),
  sessionUrl: Schema.optional(Schema.NullOr(Schema.String)),
  startResult: Schema.optional(Schema.Number),
  stageFailed: Schema.optional(Schema.Number),
  terminated: Schema.optional(Schema.Boolean),
  videoFormat: Schema.optional(Schema.Number),
  frames: Schema.optional(Schema.Number),
  idrFrames: Schema.optional(Schema.Number),
  audioPackets: Schema.optional(Schema.Number),
  audioChannels: Schema.optional(Schema.Number)
})
type Step = typeof Step.Type

interface Run {
  readonly steps: ReadonlyArray<Step>
  readonly code: number | null
  readonly log: string
  /** The named step's line; fails the test with the whole run when it is missing. */
  readonly step: (name: string, nth?: number) => Step
}

/**
 * Runs the harness once (one moonlight-embedded command) against `host`, with the client's key
 * directory `keydir`. Resolves when it exits; 120 s is only a guard against a hang.
 */
const runClient = (host: StartedHost, keydir: string, steps: ReadonlyArray<string>, extra: Record<string, string | number> = {}) =>
  Effect.async<Run>((resume) => {
    const args = Object.entries({ address: "127.0.0.1", port: gameStreamOf(host).httpPort, keydir, steps: steps.join(","), ...extra }).map(
      ([k, v]) => `${k}=${v}`
    )
    const child = execFile(client ?? "", args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      // libgamestream prints "Generating certificate...done" on stdout when it makes its key.
      const steps = stdout
        .split("\n")
        .filter((l) => l.startsWith("{\"step\""))
        .map((l) => Schema.decodeUnknownSync(Step)(JSON.parse(l)))
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      const log = `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`
      resume(
        Effect.succeed({
          steps,
          code,
          log,
          step: (name, nth = 0) => {
            const found = steps.filter((s) => s.step === name)[nth]
            if (found === undefined) throw new Error(`no "${name}" step from the client\n${log}`)
            return found
          }
        })
      )
    })
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

/**
 * moonlight-embedded's `pair` with `clientPin` on screen while the operator types `operatorPin`
 * in the console: the operator's answer comes back once the client finished (or failed).
 */
const pairWithOperator = (host: StartedHost, keydir: string, clientPin: string, operatorPin: string = clientPin) =>
  Effect.gen(function* () {
    const run = yield* Effect.fork(runClient(host, keydir, ["pair"], { pin: clientPin }))
    const [request] = yield* waitPending(host)
    if (request === undefined) throw new Error("no pending request")
    const entered = yield* enterPin(host, request.request_id, operatorPin)
    const operatorBody: unknown = yield* Effect.promise(() => json(entered))
    return { request, operatorStatus: entered.status, operatorBody, run: yield* run.await.pipe(Effect.flatten) }
  })

const GS_OK = 0

const streamEnded = (gs: ReturnType<typeof gameStreamOf>) =>
  Effect.promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 15_000, "the stream to end"))

describe("GameStream nvhttp with Moonlight's own client code (moonlight-embedded's libgamestream)", () => {
  const test = (name: string, body: () => Effect.Effect<void, unknown, Scope.Scope>) => {
    if (client === undefined) it.skip(name, () => undefined)
    else it.scopedLive(name, body, 180_000)
  }

  test("pairs with the PIN the operator types, lists Desktop, launches and streams, resumes and quits; removed on the host, it must pair again", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer() })
      const gs = gameStreamOf(host)
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))

      // moonlight-embedded `pair`: it shows 4071; the operator types 4071.
      const paired = yield* pairWithOperator(host, keydir, "4071")
      expect(paired.run.step("pair").result, paired.run.log).toBe(GS_OK)
      expect(paired.run.step("pair").paired).toBe(true)
      expect(paired.operatorStatus, JSON.stringify(paired.operatorBody)).toBe(200)
      // gs_init was given only the HTTP port: it learned the HTTPS port from the host's
      // serverinfo (HttpsPort), and SHA-256 pairing from its appversion (7).
      const before = paired.run.step("init")
      expect(before).toMatchObject({ result: GS_OK, paired: false, httpsPort: gs.httpsPort, serverMajorVersion: 7 })
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([paired.request.fingerprint])

      // moonlight-embedded `stream` (a new process: its pairing read back from the key directory).
      const session = yield* runClient(host, keydir, ["applist", "launch", "stream"], { frames: 30 })
      expect(session.code, session.log).toBe(0)
      expect(session.step("init")).toMatchObject({ result: GS_OK, paired: true, currentGame: 0 })
      const desktop = session.step("applist")
      expect(desktop.apps?.map((a) => a.name)).toEqual(["Desktop"])
      expect(session.step("launch")).toMatchObject({ result: GS_OK, resume: false, sessionUrl: `rtsp://127.0.0.1:${gs.rtspPort}` })
      const stream = session.step("stream")
      expect(stream, session.log).toMatchObject({ result: GS_OK, startResult: 0, stageFailed: 0, terminated: false, videoFormat: 0x0001 })
      expect(stream.idrFrames).toBeGreaterThanOrEqual(1)
      expect(stream.audioPackets, session.log).toBeGreaterThan(0)
      // The client left; the app keeps running on the host, as GameStream's do.
      yield* streamEnded(gs)
      expect(yield* gs.currentLaunch).toBeDefined()

      // A second moonlight-embedded install pairs meanwhile. Every install sends the same uniqueid
      // (0123456789ABCDEF: libgamestream never reads back the one it saves), so the host must tell
      // clients apart by certificate alone.
      const otherKeys = fs.mkdtempSync(path.join(buildDir, "keys-"))
      const other = yield* pairWithOperator(host, otherKeys, "5309")
      expect(other.run.step("pair").result, other.run.log).toBe(GS_OK)
      expect(other.request.fingerprint).not.toBe(paired.request.fingerprint)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint).sort()).toEqual(
        [paired.request.fingerprint, other.request.fingerprint].sort()
      )

      // `stream` again while the app runs: serverinfo says busy, so libgamestream resumes; then
      // `quit` (moonlight-embedded's -quitappafter).
      const again = yield* runClient(host, keydir, ["applist", "launch", "stream", "quit"], { frames: 10 })
      expect(again.code, again.log).toBe(0)
      expect(again.step("init")).toMatchObject({ paired: true, currentGame: desktop.appId })
      expect(again.step("launch")).toMatchObject({ result: GS_OK, resume: true })
      expect(again.step("stream").result, again.log).toBe(GS_OK)
      expect(again.step("quit").result).toBe(GS_OK)
      yield* streamEnded(gs)
      expect(yield* gs.currentLaunch).toBeUndefined()
      expect((yield* runClient(host, keydir, [])).step("init")).toMatchObject({ paired: true, currentGame: 0 })

      // The operator removes the first client on the host: it sees PairStatus 0 and is refused;
      // the other stays paired. Pairing again (same certificate) works.
      const removed = yield* Effect.promise(() =>
        host.fetch(`${host.url}/api/v1/pairing/clients/${paired.request.fingerprint}`, { method: "DELETE" })
      )
      expect(removed.status).toBeLessThan(300)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([other.request.fingerprint])
      const after = yield* runClient(host, keydir, ["applist"])
      expect(after.step("init")).toMatchObject({ result: GS_OK, paired: false })
      expect(after.step("applist").result).not.toBe(GS_OK)
      expect((yield* runClient(host, otherKeys, ["applist"])).step("applist").result).toBe(GS_OK)
      const repaired = yield* pairWithOperator(host, keydir, "0042")
      expect(repaired.run.step("pair").result, repaired.run.log).toBe(GS_OK)
      expect(repaired.request.fingerprint).toBe(paired.request.fingerprint)
      expect((yield* runClient(host, keydir, ["applist"])).step("applist").result).toBe(GS_OK)
    })
  )

  test("a launch asking for everything (HDR, 5.1, SOPS, the host's audio kept, a gamepad): accepted, and streamed as the host can", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer() })
      const gs = gameStreamOf(host)
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))
      expect((yield* pairWithOperator(host, keydir, "8080")).run.step("pair").result).toBe(GS_OK)
      // H.264, HEVC Main and Main10 (so gs_start_app adds hdrMode=1 and its display data).
      const run = yield* runClient(host, keydir, ["applist", "launch", "stream", "quit"], {
        formats: 0x0001 | 0x0100 | 0x0200,
        audio: 6,
        sops: 1,
        localaudio: 1,
        gamepads: 1,
        width: 640,
        height: 360,
        fps: 60,
        frames: 30
      })
      expect(run.code, run.log).toBe(0)
      expect(run.step("launch").result).toBe(GS_OK)
      const stream = run.step("stream")
      // HDR is not built: the host offers what its encoder makes (HEVC Main, or H.264).
      const hevc = (run.step("init").codecs ?? 0) & 0x100
      expect(stream, run.log).toMatchObject({ result: GS_OK, stageFailed: 0, videoFormat: hevc !== 0 ? 0x0100 : 0x0001, audioChannels: 6 })
      yield* streamEnded(gs)
      expect(yield* gs.currentLaunch).toBeUndefined()
    })
  )

  test("a wrong PIN fails in Moonlight and on the console, and pairs nothing; the right PIN then pairs", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))
      // Moonlight shows 1111; the operator types 2222. libgamestream does not check the host's
      // challenge hash, so it goes on to clientpairingsecret, where the host finds the PIN wrong.
      const wrong = yield* pairWithOperator(host, keydir, "1111", "2222")
      expect(wrong.run.step("pair").result, wrong.run.log).not.toBe(GS_OK)
      expect(wrong.run.step("pair").paired).toBe(false)
      // What moonlight-embedded prints after "Failed to pair to server: ": the host's reason.
      expect(wrong.run.step("pair").error, wrong.run.log).toMatch(/PIN entered on the host does not match/)
      expect(wrong.operatorStatus).toBe(403)
      expect(wrong.operatorBody).toMatchObject({ _tag: "WrongPin" })
      expect(yield* pairedClients(host)).toEqual([])
      const after = yield* runClient(host, keydir, ["applist", "quit"])
      expect(after.step("init")).toMatchObject({ result: GS_OK, paired: false })
      expect(after.step("applist").result).not.toBe(GS_OK)

      // The same client, the right PIN this time.
      const right = yield* pairWithOperator(host, keydir, "9090")
      expect(right.run.step("pair").result, right.run.log).toBe(GS_OK)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([right.request.fingerprint])
    })
  )

  test("five wrong PINs lock the address out: Moonlight's sixth pairing fails at once and shows the host's reason", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))
      for (let n = 1; n <= 5; n++) {
        const wrong = yield* pairWithOperator(host, keydir, "1111", "2222")
        expect(wrong.operatorStatus).toBe(403)
        expect(wrong.run.step("pair").error, wrong.run.log).toMatch(/PIN entered on the host does not match/)
      }
      // Nothing is listed for the operator: the request is refused before it is made.
      const sixth = yield* runClient(host, keydir, ["pair"], { pin: "1111" })
      expect(sixth.step("pair").result, sixth.log).not.toBe(GS_OK)
      expect(sixth.step("pair").error, sixth.log).toMatch(/5 wrong PINs from 127\.0\.0\.1: the host refuses pairing from this address for another \d+ s/)
      expect(yield* pendingList(host)).toEqual([])
      expect(yield* pairedClients(host)).toEqual([])
    })
  )

  test("two installs asking at once, under the same uniqueid and both named \"roth\": each PIN typed for its request pairs each", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const installs = [
        { pin: "1212", keydir: fs.mkdtempSync(path.join(buildDir, "keys-")) },
        { pin: "3434", keydir: fs.mkdtempSync(path.join(buildDir, "keys-")) }
      ]
      const runs = yield* Effect.forEach(installs, ({ keydir, pin }) => Effect.fork(runClient(host, keydir, ["pair"], { pin })))
      const pending = yield* Effect.promise(() =>
        waitFor(async () => (await Effect.runPromise(pendingList(host))).length === 2, 20_000, "both pairing requests")
      ).pipe(Effect.zipRight(pendingList(host)))
      // The console can tell them apart only by certificate fingerprint: libgamestream names
      // every client "roth". The operator matches the fingerprint (here: read from each client's
      // certificate) and types that client's PIN.
      expect(pending.map((p) => p.name)).toEqual(["roth", "roth"])
      for (const { keydir, pin } of installs) {
        const fingerprint = fingerprintOfDer(new X509Certificate(fs.readFileSync(path.join(keydir, "client.pem"))).raw)
        const request = pending.find((p) => p.fingerprint === fingerprint)
        if (request === undefined) throw new Error(`no pending request for ${fingerprint}`)
        expect((yield* enterPin(host, request.request_id, pin)).status).toBe(200)
      }
      const outcomes = yield* Effect.forEach(runs, (r) => r.await.pipe(Effect.flatten))
      for (const o of outcomes) expect(o.step("pair").result, o.log).toBe(GS_OK)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint).sort()).toEqual(pending.map((p) => p.fingerprint).sort())
    })
  )

  test("the operator rejects the request: Moonlight's pairing fails with the host's reason, and nothing is paired", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))
      const run = yield* Effect.fork(runClient(host, keydir, ["pair"], { pin: "7777" }))
      const [request] = yield* waitPending(host)
      const rejected = yield* Effect.promise(() =>
        host.fetch(`${host.url}/api/v1/pairing/pending/${request?.request_id ?? ""}`, { method: "DELETE" })
      )
      expect(rejected.status).toBe(204)
      const done = yield* run.await.pipe(Effect.flatten)
      expect(done.step("pair").result, done.log).not.toBe(GS_OK)
      expect(done.step("pair").error, done.log).toMatch(/rejected/)
      expect(yield* pairedClients(host)).toEqual([])
    })
  )

  test("moonlight-embedded's `unpair` cannot unpair anyone: it comes over plain HTTP, without a certificate, under the uniqueid every install shares", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const keydir = fs.mkdtempSync(path.join(buildDir, "keys-"))
      const paired = yield* pairWithOperator(host, keydir, "2468")
      expect(paired.run.step("pair").result, paired.run.log).toBe(GS_OK)
      // Another install (unpaired) and the paired client itself send `unpair`. libgamestream only
      // checks that the request went through, so it reports success either way; the host cannot
      // tell who sent it, and keeps the pairing: only the operator removes it.
      const stranger = yield* runClient(host, fs.mkdtempSync(path.join(buildDir, "keys-")), ["unpair"])
      expect(stranger.step("unpair").result).toBe(GS_OK)
      const own = yield* runClient(host, keydir, ["unpair", "init", "applist"])
      expect(own.step("unpair").result).toBe(GS_OK)
      expect(own.step("init", 1)).toMatchObject({ result: GS_OK, paired: true })
      expect(own.step("applist").result).toBe(GS_OK)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([paired.request.fingerprint])
    })
  )
})
