/**
 * Slowloris on every TCP listener at once: 300 connections on each of the management API,
 * nvhttp (HTTP and HTTPS), RTSP and punktfunk/1, from 127.0.0.2–127.0.0.254, each sending a byte
 * of a head that never ends every two seconds and coming back when the host closes it. Meanwhile
 * a Moonlight client on 127.0.0.1 does a full launch — pairs (the operator types the PIN through
 * the management API), launches, runs the RTSP handshake, opens the ENet control stream and
 * receives video that decodes — and a punktfunk/1 client pairs.
 *
 * With the default limits (128 connections per listener, 16 per address, 10 s header timeout)
 * the attack is bigger than every listener, so the host must evict. What is asserted is what an
 * operator would notice, and the connection and buffer counts of each listener: the client's
 * launch works, no listener ever holds more than its cap, the attackers' connections were evicted
 * and cut by the header timeout, and the bytes the host holds for heads in progress stay bounded
 * by the cap. The host's memory under this attack is a benchmark figure
 * (`src/bench/slow-sockets.bench.ts`), not asserted here.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Schema, Stream } from "effect"
import { PendingPairing } from "../../src/api/Pairing.js"
import { httpPrefix, rtspPrefix, startSlowSockets, tlsPrefix } from "../../src/bench/slow-sockets.js"
import { newPin, pair } from "../../src/client/ControlClient.js"
import type { ClientIdentity } from "../../src/client/ControlClient.js"
import { nativePipelineLayer } from "../../src/PipelineChoice.js"
import { fingerprintOfPem, generateCertificate } from "../../src/lib/Certificates.js"
import { DEFAULT_LIMITS } from "../../src/lib/ConnectionLimiter.js"
import { ConnectionLimits } from "../../src/services/ConnectionLimits.js"
import type { ListenerName } from "../../src/services/ConnectionLimits.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { MAX_HEADER_BYTES } from "../../src/streams/gamestream/GameStreamServer.js"
import { ControlClient } from "../gamestream/support/ControlClient.js"
import { launchParams } from "../gamestream/support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "../gamestream/support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "../gamestream/support/RtspClient.js"
import { makeVideoReceiver } from "../gamestream/support/VideoReceiver.js"
import { json, waitFor } from "../support/TestHost.js"
import { typePin } from "../support/PairedClient.js"

const PER_LISTENER = 300
const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 180, fps: 30, bitrateKbps: 2_000, encryptAudio: false }
const RIKEY = launchParams(1).rikey ?? ""
const LISTENERS: ReadonlyArray<ListenerName> = ["management", "nvhttp", "nvhttps", "rtsp", "punktfunk1"]

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("slow sockets on every TCP listener", () => {
  it.scopedLive(
    `${PER_LISTENER} slow sockets per listener do not stop a full launch (pair, RTSP, control, video) nor a punktfunk/1 pairing`,
    () =>
      Effect.gen(function* () {
        const host = yield* startGameStreamHost({ pipeline: nativePipelineLayer(), env: { PUNKTFUNK_AUDIO: "silence" } })
        const gs = gameStreamOf(host)
        const punktfunk1Port = Context.get(host.context, ControlServer).port
        const limits = Context.get(host.context, ConnectionLimits)
        const counters = limits.counters

        const attack = yield* Effect.acquireRelease(
          Effect.sync(() =>
            startSlowSockets(
              [
                { name: "management", port: Number(new URL(host.url).port), prefix: httpPrefix("127.0.0.1") },
                { name: "nvhttp", port: gs.httpPort, prefix: httpPrefix("127.0.0.1") },
                { name: "nvhttps", port: gs.httpsPort, prefix: tlsPrefix() },
                { name: "rtsp", port: gs.rtspPort, prefix: rtspPrefix() },
                { name: "punktfunk1", port: punktfunk1Port, prefix: tlsPrefix() }
              ],
              { perTarget: PER_LISTENER, byteEveryMs: 2_000, reconnectAfterMs: 2_000, rampMs: 3_000 }
            )
          ),
          (a) => Effect.sync(() => a.stop())
        )
        // The attack is on: every listener has been offered more connections than its cap.
        yield* promise(() =>
          waitFor(
            async () => {
              const now = await Effect.runPromise(counters)
              return LISTENERS.every((l) => (now[l]?.accepted ?? 0) >= PER_LISTENER && (now[l]?.evicted ?? 0) > 0)
            },
            60_000,
            "every listener to see the whole attack"
          )
        )

        // A Moonlight client's whole launch, while the attack goes on.
        const client = clientFor(host, yield* newIdentity("flooded-moonlight"))
        const paired = yield* pairViaOperator(host, client, "8642")
        expect(paired.outcome.paired).toBe(true)
        const appId = Number((yield* promise(() => client.applist())).xml.all("ID")[0])
        const launched = yield* promise(() => client.launch(launchParams(appId)))
        expect(launched.xml.get("sessionUrl0")).toBe(`rtsp://127.0.0.1:${gs.rtspPort}`)
        const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(STREAM)))
        expect(hs.play.status).toBe(200)
        const control = yield* Effect.acquireRelease(
          promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
          (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
        )
        expect(control).toBeDefined()
        const video = yield* makeVideoReceiver({ hostPort: gs.videoPort, pingPayload: hs.videoPingPayload ?? "", packetSize: STREAM.packetSize })
        const frames = [...(yield* video.frames.pipe(Stream.take(30), Stream.runCollect))]
        expect(frames.length).toBe(30)
        expect(frames[0]?.frameType).toBe(2)
        expect(frames.every((f) => f.decoded)).toBe(true)

        // A punktfunk/1 client pairs too (its wait for the PIN is held open among the attackers).
        const made = yield* promise(() => generateCertificate("flooded-punktfunk1"))
        const punktfunk1Client: ClientIdentity = { ...made, fingerprint: fingerprintOfPem(made.certPem) }
        const pin = newPin()
        const punktfunk1Pairing = yield* Effect.fork(
          pair({ endpoint: { host: "127.0.0.1", port: punktfunk1Port }, identity: punktfunk1Client, name: "flooded-punktfunk1", pin })
        )
        const pending = yield* promise(() =>
          waitFor(
            async () =>
              Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await json(await host.fetch(`${host.url}/api/v1/pairing/pending`))).some(
                (p) => p.name === "flooded-punktfunk1"
              ),
            30_000,
            "the punktfunk/1 pairing request"
          )
        ).pipe(
          Effect.zipRight(promise(() => host.fetch(`${host.url}/api/v1/pairing/pending`).then(json))),
          Effect.map((body) => Schema.decodeUnknownSync(Schema.Array(PendingPairing))(body).find((p) => p.name === "flooded-punktfunk1"))
        )
        const entered = yield* typePin(host, pending?.request_id ?? "", pin)
        expect(entered.status).toBe(200)
        yield* Fiber.join(punktfunk1Pairing)

        // The counts, still under attack.
        const seen = yield* counters
        const attackers = attack.stats()
        for (const listener of LISTENERS) {
          const c = seen[listener]
          expect(c, listener).toBeDefined()
          if (c === undefined) continue
          // Never more than the cap, however many came.
          expect(c.open, listener).toBeLessThanOrEqual(DEFAULT_LIMITS.maxConnections)
          // The host fought back: attackers were evicted for newcomers (and cut by the header
          // timeout, when one lived that long).
          expect(c.evicted, listener).toBeGreaterThan(0)
          expect(c.accepted, listener).toBeGreaterThanOrEqual(PER_LISTENER)
          // What the attackers make the host hold is bounded by the cap and a head's size.
          expect(c.in_head, listener).toBeLessThanOrEqual(DEFAULT_LIMITS.maxConnections)
          expect(c.in_head_bytes, listener).toBeLessThanOrEqual(DEFAULT_LIMITS.maxConnections * MAX_HEADER_BYTES)
          // The attackers saw it too: their connections were closed and they came back.
          expect(attackers[listener]?.closed ?? 0, listener).toBeGreaterThan(0)
          expect(attackers[listener]?.connects ?? 0, listener).toBeGreaterThanOrEqual(PER_LISTENER)
        }
        yield* Effect.logInfo(`slow-socket attack: ${JSON.stringify(seen)} / attackers ${JSON.stringify(attackers)}`)
      }),
    300_000
  )
})
