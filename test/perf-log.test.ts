/**
 * `PUNKTFUNK_PERF=1`: one log line per aggregation window, armed or not, carrying exactly the
 * numbers of the sample. An operator greps these lines without arming anything, and when a
 * capture is armed the lines and the saved samples must agree number for number (only `t_ms`
 * differs: the Recorder restamps it from the capture's origin).
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Schema } from "effect"
import { Capture, CaptureMeta } from "../src/api/Stats.js"
import type { StatsSample } from "../src/api/Stats.js"
import { connect, newPin, pair } from "../src/client/ControlClient.js"
import type { ClientIdentity } from "../src/client/ControlClient.js"
import { fingerprintOfPem, generateCertificate } from "../src/lib/Certificates.js"
import { ControlServer } from "../src/streams/punktfunk1/ControlServer.js"
import { ReceiverReport } from "../src/streams/punktfunk1/Protocol.js"
import { spawnHost } from "./support/HostProcess.js"
import type { HostProcess } from "./support/HostProcess.js"
import { perfLines, withLogLines } from "./support/LogLines.js"
import { json, startHost, tempDir, waitFor } from "./support/TestHost.js"
import { typePin } from "./support/PairedClient.js"

const withoutTime = ({ t_ms: _t, ...rest }: StatsSample) => JSON.stringify(rest)

const started: Array<HostProcess> = []
afterEach(() => {
  for (const h of started.splice(0)) h.child.kill("SIGKILL")
})

describe("PUNKTFUNK_PERF", () => {
  it("logs one line per window while idle, and the same numbers as the armed capture", async () => {
    const dir = tempDir()
    const host = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: dir,
      PUNKTFUNK_SOURCE: "fake",
      PUNKTFUNK_FAKE_WINDOW_MS: "100",
      PUNKTFUNK_PERF: "1"
    })
    started.push(host)

    // Idle: lines appear, and they carry stage timings (perf measures without arming).
    await waitFor(() => perfLines(host.output()).length >= 3, 15_000)
    const idle = perfLines(host.output())
    expect(idle.every((s) => s.stages.length === 4)).toBe(true)
    expect((await (await host.fetch("/status")).json()) as { armed: boolean }).toMatchObject({ armed: false })

    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count >= 4, 15_000)
    const stop = await host.fetch("/stop", { method: "POST" })
    expect(stop.status).toBe(200)
    const meta = Schema.decodeUnknownSync(CaptureMeta)(await stop.json())
    const capture = Schema.decodeUnknownSync(Capture)(await (await host.fetch(`/recordings/${meta.id}`)).json())
    expect(capture.samples.length).toBeGreaterThanOrEqual(4)

    // Every saved sample was logged with the same numbers.
    const logged = new Set(perfLines(host.output()).map(withoutTime))
    for (const sample of capture.samples) expect(logged.has(withoutTime(sample))).toBe(true)
  })

  it("logs nothing when off", async () => {
    const dir = tempDir()
    const host = await spawnHost({ PUNKTFUNK_CONFIG_DIR: dir, PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "100" })
    started.push(host)
    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(async () => ((await (await host.fetch("/status")).json()) as { sample_count: number }).sample_count >= 3, 15_000)
    expect(perfLines(host.output())).toEqual([])
  })

  it.scopedLive("a punktfunk/1 client's session logs its lines too, with what the client reported folded in", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        // No session of the host's own (source none): every perf line is the client's session.
        const host = yield* startHost({ env: { PUNKTFUNK_PERF: "1" }, windowMs: 100 })
        const endpoint = { host: "127.0.0.1", port: Context.get(host.context, ControlServer).port }
        const made = yield* Effect.promise(() => generateCertificate("perf-client"))
        const client: ClientIdentity = { ...made, fingerprint: fingerprintOfPem(made.certPem) }
        const pin = newPin()
        const pairing = yield* Effect.fork(pair({ endpoint, identity: client, name: "perf-client", pin }))
        yield* Effect.promise(() =>
          waitFor(async () => ((await json(await host.fetch(`${host.url}/api/v1/pairing/pending`))) as Array<unknown>).length === 1)
        )
        const [request] = (yield* Effect.promise(async () => json(await host.fetch(`${host.url}/api/v1/pairing/pending`)))) as Array<{ request_id: string }>
        const entered = yield* typePin(host, request?.request_id ?? "", pin)
        expect(entered.status).toBe(200)
        const hostFp = yield* Fiber.join(pairing)

        const session = yield* connect({
          endpoint,
          identity: client,
          pinnedHost: hostFp,
          name: "perf-client",
          request: { width: 640, height: 360, fps: 30, codec: "h264", bitrate_kbps: 2000 }
        })
        yield* Effect.forkScoped(session.run)
        const id = session.welcome.session_id
        const mine = (): Array<StatsSample> => perfLines(lines.join("\n")).filter((s) => s.session_id === id)
        yield* Effect.promise(() => waitFor(() => mine().length >= 2, 15_000, "perf lines of the client's session"))
        // The client reports 7 lost packets and 3 frames it could not show: the next lines carry them.
        yield* session.report(
          new ReceiverReport({ packets_received: 100, packets_lost: 7, fec_recovered: 2, frames_decoded: 30, frames_dropped: 3, decode_us: 900 })
        )
        const sum = (f: "packets_dropped" | "fec_recovered" | "client_frames_dropped") => mine().reduce((n, s) => n + s[f], 0)
        yield* Effect.promise(() => waitFor(() => sum("packets_dropped") === 7, 15_000, "the client's report in a perf line"))
        expect([sum("fec_recovered"), sum("client_frames_dropped")]).toEqual([2, 3])
        // RTT is the host's own ping timing of this client (a ping every 500 ms, 100 ms windows).
        yield* Effect.promise(() => waitFor(() => mine().some((s) => s.rtt_us > 0), 15_000, "a window with the client's RTT"))
        expect(mine().every((s) => s.stages.length === 4)).toBe(true)
      })
    )
  )
})
