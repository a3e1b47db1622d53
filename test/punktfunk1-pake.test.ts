/**
 * The CPace pairing exchange against bad peers (the draft's "implementation verification": a
 * party that receives an encoding of the neutral element, or a string that is no group element,
 * aborts), and messages out of order. Each side is the real code: the host's control server,
 * or our client's `pair` against a scripted host.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Option, Schema } from "effect"
import type { AddressInfo } from "node:net"
import * as tls from "node:tls"
import { PendingPairing } from "../src/api/Pairing.js"
import { pair } from "../src/client/ControlClient.js"
import type { ClientIdentity } from "../src/client/ControlClient.js"
import { ControlServer } from "../src/streams/punktfunk1/ControlServer.js"
import { framed } from "../src/streams/punktfunk1/Framed.js"
import { clientStart, sessionIdOf } from "../src/streams/punktfunk1/PairingPake.js"
import { frame } from "../src/streams/punktfunk1/Protocol.js"
import { json, startHost, waitFor } from "./support/TestHost.js"
import type { StartedHost } from "./support/TestHost.js"
import { identity, typePin } from "./support/PairedClient.js"

const NOT_AN_ELEMENT = "2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c" // the draft's Y_i1
const IDENTITY = "00".repeat(32)

const pending = (host: StartedHost) =>
  Effect.promise(async () =>
    Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await json(await host.fetch(`${host.url}/api/v1/pairing/pending`)))
  )

/** A raw TLS client with `who`'s certificate: says what the test scripts, hears what the host says. */
const rawClient = (host: StartedHost, who: ClientIdentity) =>
  Effect.gen(function* () {
    const port = Context.get(host.context, ControlServer).port
    const socket = yield* Effect.acquireRelease(
      Effect.async<tls.TLSSocket>((resume) => {
        const s = tls.connect({ host: "127.0.0.1", port, cert: who.certPem, key: who.keyPem, rejectUnauthorized: false, minVersion: "TLSv1.3" })
        s.once("secureConnect", () => resume(Effect.succeed(s)))
      }),
      (s) => Effect.sync(() => s.destroy())
    )
    const conn = yield* framed(socket)
    const hear = conn.next.pipe(
      Effect.map(Option.map((b) => JSON.parse(b) as Record<string, unknown>)),
      Effect.map(Option.getOrElse(() => ({ _tag: "closed" }) as Record<string, unknown>))
    )
    return { socket, say: (m: unknown) => conn.send(frame(JSON.stringify(m))), hear }
  })

describe("punktfunk/1 CPace pairing against bad peers", () => {
  it.scopedLive("the host refuses a share that is the identity or no group element at once; nothing reaches the console", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const who = yield* identity("bad share")
      for (const ya of [IDENTITY, NOT_AN_ELEMENT]) {
        const client = yield* rawClient(host, who)
        yield* client.say({ _tag: "Pair", name: "bad share", ya })
        const answer = yield* client.hear
        expect(answer).toMatchObject({ _tag: "Refused", reason: "the pairing share is not a valid ristretto255 element" })
        expect(yield* pending(host)).toEqual([])
      }
      expect((yield* Context.get(host.context, ControlServer).counters).malformed).toBe(2)
    })
  )

  it.scopedLive("a tag before the host's share, or a wrong tag after it: refused, and the wrong one is a wrong PIN for the operator", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const who = yield* identity("eager")
      const start = (client: Effect.Effect.Success<ReturnType<typeof rawClient>>) =>
        clientStart({ pin: "1234", clientFingerprint: who.fingerprint, hostFingerprint: "00".repeat(32), sid: sessionIdOf(client.socket), clientName: "eager" })

      // A tag before there is anything to confirm ends the request.
      const early = yield* rawClient(host, who)
      yield* early.say({ _tag: "Pair", name: "eager", ya: start(early).yaHex })
      expect(yield* early.hear).toMatchObject({ _tag: "PairingPending" })
      yield* early.say({ _tag: "PairConfirm", ta: "ab".repeat(64) })
      expect(yield* early.hear).toMatchObject({ _tag: "Refused", reason: "unexpected PairConfirm while pairing" })
      yield* Effect.promise(() => waitFor(async () => (await Effect.runPromise(pending(host))).length === 0, 10_000, "the request withdrawn"))

      // A tag that is not the one the PIN gives: the operator is told the PIN was wrong.
      const wrong = yield* rawClient(host, who)
      yield* wrong.say({ _tag: "Pair", name: "eager", ya: start(wrong).yaHex })
      expect(yield* wrong.hear).toMatchObject({ _tag: "PairingPending" })
      const [request] = yield* pending(host)
      const answering = yield* Effect.fork(
        typePin(host, request?.request_id ?? "", "1234")
      )
      expect(yield* wrong.hear).toMatchObject({ _tag: "PairResponse" })
      yield* wrong.say({ _tag: "PairConfirm", ta: "ab".repeat(64) })
      const res = yield* answering.await.pipe(Effect.flatMap((exit) => exit))
      expect(res.status).toBe(403)
      expect(yield* Effect.promise(() => json(res))).toMatchObject({ _tag: "WrongPin" })
      expect(yield* wrong.hear).toMatchObject({ _tag: "Refused" })
      expect(yield* Effect.promise(async () => json(await host.fetch(`${host.url}/api/v1/pairing/clients`)))).toEqual([])
    })
  )

  it.scopedLive("our client aborts on a host share that is the identity or no group element, and sends no tag", () =>
    Effect.gen(function* () {
      const hostCert = yield* identity("scripted host")
      const client = yield* identity("client")
      for (const yb of [IDENTITY, NOT_AN_ELEMENT]) {
        const heard: Array<string> = []
        const server = tls.createServer(
          { cert: hostCert.certPem, key: hostCert.keyPem, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3" },
          (s) => {
            s.on("data", (d: Buffer) => heard.push(d.subarray(4).toString()))
            s.write(frame(JSON.stringify({ _tag: "PairingPending", request_id: "r1" })))
            s.write(frame(JSON.stringify({ _tag: "PairResponse", yb })))
          }
        )
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () => Effect.sync(() => server.close())
        )
        const port = (server.address() as AddressInfo).port
        const failed = yield* pair({ endpoint: { host: "127.0.0.1", port }, identity: client, name: "client", pin: "1234" }).pipe(Effect.flip)
        expect(failed.message).toMatch(/pairing failed: the responder's share is not a valid ristretto255 element/)
        expect(heard.some((m) => m.includes("PairConfirm"))).toBe(false)
      }
    })
  )
})
