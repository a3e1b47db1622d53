/**
 * A client steering its stream over the control plane: an IDR request puts a keyframe on the
 * wire long before the encoder's own GOP would (4 s), and a bitrate change moves both what the
 * client receives and the target the host's windows report.
 *
 * A real host process (the addon's pipeline, libx264) and the client library in this process, so the
 * test reads the receiver's own counters.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import { PendingPairing } from "../../src/api/Pairing.js"
import { LiveSnapshot } from "../../src/api/Stats.js"
import { connect, pair } from "../../src/client/ControlClient.js"
import type { ClientIdentity } from "../../src/client/ControlClient.js"
import { media } from "../../src/native/media.js"
import { fingerprintOfPem, generateCertificate } from "../../src/lib/Certificates.js"
import { spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"
import { tempDir, waitFor } from "../support/TestHost.js"

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("steering a punktfunk/1 session", () => {
  it("an IDR request brings a keyframe within a second; a bitrate change lowers the stream and the reported target", async () => {
    const host: HostProcess = await spawnHost({
      PUNKTFUNK_CONFIG_DIR: tempDir(),
      PUNKTFUNK_SOURCE: "none",
      PUNKTFUNK_STREAM_BIND: "127.0.0.1"
    })
    cleanup.push(() => void host.child.kill("SIGKILL"))
    await waitFor(() => /punktfunk\/1 control on [^:]+:\d+/.test(host.output()), 15_000, "the control port")
    const endpoint = { host: "127.0.0.1", port: Number(/punktfunk\/1 control on [^:]+:(\d+)/.exec(host.output())?.[1]) }
    const made = await generateCertificate("steering")
    const identity: ClientIdentity = { ...made, fingerprint: fingerprintOfPem(made.certPem) }
    const headers = { authorization: `Bearer ${host.token}`, "content-type": "application/json" }

    const pairing = Effect.runPromise(pair({ endpoint, identity, name: "steering", pin: "9753" }))
    let requestId = ""
    await waitFor(async () => {
      const pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(
        await (await fetch(`${host.url}/api/v1/pairing/pending`, { headers })).json()
      )
      requestId = pending[0]?.request_id ?? ""
      return requestId !== ""
    }, 15_000, "the pairing request")
    await fetch(`${host.url}/api/v1/pairing/pending/${requestId}/pin`, { method: "POST", headers, body: JSON.stringify({ pin: "9753" }) })
    const hostFingerprint = await pairing

    const receiver = new (media().MediaReceiver)({ codec: "h264" })
    cleanup.push(() => receiver.close())
    const scope = Effect.runSync(Scope.make())
    cleanup.push(() => Effect.runPromise(Scope.close(scope, Exit.void)))
    const session = await Effect.runPromise(
      connect({
        endpoint,
        identity,
        pinnedHost: hostFingerprint,
        name: "steering",
        request: { width: 1280, height: 720, fps: 60, codec: "h264", bitrate_kbps: 8000, udp_port: receiver.port }
      }).pipe(Scope.extend(scope))
    )
    expect(session.welcome.media).toBeDefined()
    receiver.start(session.welcome.media?.key_hex ?? "")
    // Answer pings and take the host's answers in the background.
    Effect.runFork(session.run)
    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)

    await waitFor(() => receiver.counters().frames_decoded >= 30, 15_000, "the first frames")
    await sleep(300)
    const before = receiver.counters().keyframes
    expect(before).toBeGreaterThanOrEqual(1) // the stream starts with one
    await Effect.runPromise(session.requestIdr)
    await waitFor(() => receiver.counters().keyframes > before, 1_500, "a keyframe after the IDR request")

    // Bitrate: bytes per second at 8 Mb/s, then at 1 Mb/s once the host confirmed it.
    const rate = async (ms: number) => {
      const a = receiver.counters().bytes
      await sleep(ms)
      return ((receiver.counters().bytes - a) * 8) / (ms / 1000)
    }
    const high = await rate(2_000)
    await Effect.runPromise(session.setBitrate(1_000))
    await waitFor(() => session.bitrateKbps() === 1_000, 5_000, "the host to confirm 1000 kb/s")
    await sleep(1_000) // rate control settles
    const low = await rate(2_000)
    expect(low).toBeLessThan(high / 2)

    await waitFor(async () => {
      const live = Schema.decodeUnknownSync(LiveSnapshot)(await (await host.fetch("/live")).json())
      return live.samples.at(-1)?.bitrate_kbps === 1_000
    }, 10_000, "a window reporting the new target")
  })
})
