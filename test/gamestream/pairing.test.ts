/**
 * Pairing a Moonlight-style client through the operator, against a real host (HTTP and HTTPS on
 * loopback, the pairing store on disk): the PIN the client shows is typed through the pairing
 * API, every phase is checked by the client's own arithmetic, and the outcome is what the host
 * pins — a paired certificate after a right PIN, nothing after a wrong one, not even for a moment:
 * the operator's answer waits for the client's proof.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as path from "node:path"
import { X509Certificate } from "node:crypto"
import { json, tempDir, waitFor } from "../support/TestHost.js"
import { GameStreamClient } from "./support/GameStreamClient.js"
import {
  clientFor,
  endpointOf,
  enterPin,
  gameStreamOf,
  newIdentity,
  pairedClients,
  pairViaOperator,
  pendingList,
  startGameStreamHost,
  waitPending
} from "./support/Hosts.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("GameStream pairing through the operator", () => {
  it.scopedLive("pairs with the PIN Moonlight shows; PairStatus 1 over HTTPS; still paired after a restart", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const host = yield* startGameStreamHost({ dir })
      const identity = yield* newIdentity("living-room")
      const client = clientFor(host, identity)

      const before = yield* call(() => client.serverInfo(true))
      expect(before.xml.statusCode).toBe(200)
      expect(before.xml.get("PairStatus")).toBe("0")

      const { request, operatorStatus, operatorBody, outcome } = yield* pairViaOperator(host, client, "4821")
      expect(request.path).toBe("gamestream")
      expect(request.fingerprint).toBe(identity.fingerprint)
      expect(request.name).toBe("roth")
      // The operator's 200 comes with the client proven and pinned.
      expect(operatorStatus).toBe(200)
      expect(operatorBody).toMatchObject({ fingerprint: identity.fingerprint, path: "gamestream", name: "roth" })
      expect(outcome).toMatchObject({ paired: true })
      if (!outcome.paired) return
      // The certificate the host sent is the one it serves HTTPS with, and the one kept on disk.
      const hostCert = new X509Certificate(outcome.hostCertPem)
      expect(gameStreamOf(host).hostFingerprint).toBe(hostCertFingerprint(outcome.hostCertPem))
      expect(hostCert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
      expect(fs.readFileSync(path.join(dir, "gamestream-cert.pem"), "utf8")).toBe(outcome.hostCertPem)
      expect(fs.statSync(path.join(dir, "gamestream-key.pem")).mode & 0o777).toBe(0o600)
      expect(fs.statSync(path.join(dir, "gamestream-cert.pem")).mode & 0o777).toBe(0o600)

      const secure = yield* call(() => client.serverInfo(true))
      expect(secure.xml.get("PairStatus")).toBe("1")
      // Plain HTTP knows nobody: never "paired" there.
      expect((yield* call(() => client.serverInfo(false))).xml.get("PairStatus")).toBe("0")
      expect((yield* pairedClients(host)).map((c) => [c.fingerprint, c.path, c.name])).toEqual([[identity.fingerprint, "gamestream", "roth"]])
      expect(yield* pendingList(host)).toEqual([])

      // A second host on the same directory: same RSA certificate, the client still paired.
      const again = yield* startGameStreamHost({ dir })
      expect(gameStreamOf(again).hostFingerprint).toBe(gameStreamOf(host).hostFingerprint)
      const back = new GameStreamClient(endpointOf(again), identity)
      back.hostCertPem = outcome.hostCertPem
      expect((yield* call(() => back.serverInfo(true))).xml.get("PairStatus")).toBe("1")
      expect((yield* call(() => back.applist())).xml.all("AppTitle")).toContain("Desktop")
    })
  )

  it.scopedLive("between the operator's PIN and the client's proof nothing is paired and the operator waits", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const identity = yield* newIdentity("halfway")
      const client = clientFor(host, identity)
      const first = yield* Effect.fork(
        call(() =>
          client.request(false, "/pair", {
            phrase: "getservercert",
            salt: "5a".repeat(16),
            clientcert: Buffer.from(identity.certPem).toString("hex"),
            devicename: "halfway"
          })
        )
      )
      const [request] = yield* waitPending(host)
      const operator = yield* Effect.fork(
        enterPin(host, request?.request_id ?? "", "1234").pipe(
          Effect.flatMap((r) => call(async () => ({ status: r.status, body: await json(r) })))
        )
      )
      // The long poll is answered as soon as the PIN is in ...
      const answer = yield* Fiber.join(first)
      expect(answer.xml.get("paired")).toBe("1")
      expect(answer.xml.get("plaincert")).toMatch(/^[0-9a-f]+$/)
      expect((yield* call(() => client.request(false, "/pair", { clientchallenge: "00".repeat(16) }))).xml.get("paired")).toBe("1")
      // ... but nothing is pinned, nor listed, and the operator has no answer yet.
      expect(yield* pairedClients(host)).toEqual([])
      expect((yield* call(() => client.applist())).xml.statusCode).toBe(401)
      expect((yield* call(() => client.serverInfo(true))).xml.get("PairStatus")).toBe("0")
      expect((yield* call(() => client.request(true, "/pair", { phrase: "pairchallenge" }))).xml.get("paired")).toBe("0")
      expect(Option.isNone(yield* Fiber.poll(operator))).toBe(true)
      // Moonlight gives up with an unpair over HTTP: the operator is told why.
      expect((yield* call(() => client.unpair(false))).xml.statusCode).toBe(200)
      const told = yield* Fiber.join(operator)
      expect(told.status).toBe(404)
      expect(told.body).toMatchObject({ _tag: "PairingRequestNotFound", message: expect.stringMatching(/gave up before completing pairing/) })
      expect(yield* pairedClients(host)).toEqual([])
      expect(yield* pendingList(host)).toEqual([])
      // And the abandoned attempt's next phase is refused.
      const late = yield* call(() => client.request(false, "/pair", { serverchallengeresp: "00".repeat(32) }))
      expect(late.xml.statusMessage).toMatch(/no pairing in progress/)
    })
  )

  it.scopedLive("two clients pair at once, each with its own PIN; one's wrong PIN does not touch the other", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const a = yield* newIdentity("a")
      const b = yield* newIdentity("b")
      // Moonlight sends its own uniqueid to hosts that are not GFE; attempts are kept apart by it.
      const clientA = new GameStreamClient(endpointOf(host), a, "AAAAAAAAAAAAAAAA")
      const clientB = new GameStreamClient(endpointOf(host), b, "BBBBBBBBBBBBBBBB")
      const pairingA = yield* Effect.fork(call(() => clientA.pair({ pin: "1111", deviceName: "a" })))
      const pairingB = yield* Effect.fork(call(() => clientB.pair({ pin: "2222", deviceName: "b" })))
      yield* call(() => waitFor(async () => (await Effect.runPromise(pendingList(host))).length === 2, 10_000, "two pending requests"))
      const pending = yield* pendingList(host)
      const idOf = (fingerprint: string) => pending.find((p) => p.fingerprint === fingerprint)?.request_id ?? ""
      // Each operator answer waits for its own client's proof: B's wrong PIN is refused, A pairs.
      expect((yield* enterPin(host, idOf(b.fingerprint), "9999")).status).toBe(403)
      expect((yield* enterPin(host, idOf(a.fingerprint), "1111")).status).toBe(200)
      expect(yield* Fiber.join(pairingA)).toMatchObject({ paired: true })
      expect(yield* Fiber.join(pairingB)).toMatchObject({ paired: false, reason: "wrong PIN" })
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([a.fingerprint])
      expect((yield* call(() => clientA.applist())).xml.statusCode).toBe(200)
      expect((yield* call(() => clientB.applist())).xml.statusCode).toBe(401)
    })
  )

  it.scopedLive("a wrong PIN: Moonlight sees it and unpairs; the operator is told WrongPin; never listed as paired", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const identity = yield* newIdentity("guess")
      const client = clientFor(host, identity)
      const watch = yield* watchPaired(host)
      const { operatorStatus, operatorBody, outcome } = yield* pairViaOperator(host, client, "1111", "2222")
      expect(outcome).toEqual({ paired: false, stage: "pairingsecret", reason: "wrong PIN" })
      expect(operatorStatus).toBe(403)
      expect(operatorBody).toMatchObject({ _tag: "WrongPin" })
      const seen = yield* watch.stop
      expect(seen.polls).toBeGreaterThan(0)
      expect(seen.listed).toEqual([])
      expect(yield* pairedClients(host)).toEqual([])
      expect((yield* call(() => client.serverInfo(true))).xml.get("PairStatus")).toBe("0")
      expect((yield* call(() => client.applist())).xml.statusCode).toBe(401)
    })
  )

  it.scopedLive("a wrong PIN from a client that does not check: the host refuses it with paired=0 and pins nothing", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const identity = yield* newIdentity("liar")
      const client = clientFor(host, identity)
      const watch = yield* watchPaired(host)
      const { operatorStatus, outcome } = yield* pairViaOperator(host, client, "1111", "2222", { ignoreWrongPin: true })
      expect(outcome).toMatchObject({ paired: false, stage: "clientpairingsecret" })
      expect(operatorStatus).toBe(403)
      expect((yield* watch.stop).listed).toEqual([])
      expect(yield* pairedClients(host)).toEqual([])
      expect((yield* call(() => client.applist())).xml.statusCode).toBe(401)
      // A fresh attempt with the right PIN works.
      const retry = yield* pairViaOperator(host, client, "3333")
      expect(retry.outcome).toMatchObject({ paired: true })
      expect(retry.operatorStatus).toBe(200)
      expect((yield* pairedClients(host)).map((c) => c.fingerprint)).toEqual([identity.fingerprint])
    })
  )

  it.scopedLive("the operator rejects: the client is told why; a client that hangs up withdraws its request", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const client = clientFor(host, yield* newIdentity("unwanted"))
      const attempt = yield* Effect.fork(call(() => client.pair({ pin: "5555" })))
      const [request] = yield* waitPending(host)
      const rejected = yield* call(() => host.fetch(`${host.url}/api/v1/pairing/pending/${request?.request_id ?? ""}`, { method: "DELETE" }))
      expect(rejected.status).toBe(204)
      expect(yield* Fiber.join(attempt)).toEqual({
        paired: false,
        stage: "getservercert",
        reason: "the operator rejected this pairing request"
      })

      // A getservercert whose client goes away before the PIN: the operator's list empties.
      const identity = yield* newIdentity("gone")
      const req = http.request({
        host: "127.0.0.1",
        port: endpointOf(host).httpPort,
        path: `/pair?uniqueid=0123456789ABCDEF&phrase=getservercert&salt=${"ab".repeat(16)}&clientcert=${Buffer.from(identity.certPem).toString("hex")}`
      })
      req.on("error", () => undefined)
      req.end()
      yield* waitPending(host)
      req.destroy()
      yield* call(() => waitFor(async () => (await Effect.runPromise(pendingList(host))).length === 0, 10_000, "the request withdrawn"))
      expect(yield* pairedClients(host)).toEqual([])
    })
  )

  it.scopedLive("unpaired certificates and none at all get status 401 over HTTPS; the host goes on serving", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const paired = clientFor(host, yield* newIdentity("paired"))
      expect((yield* pairViaOperator(host, paired, "2468")).outcome).toMatchObject({ paired: true })
      const stranger = clientFor(host, yield* newIdentity("stranger"))
      for (const reply of [
        yield* call(() => stranger.applist()),
        yield* call(() => stranger.launch({ appid: "1", mode: "1280x720x60", rikey: "00".repeat(16), rikeyid: "1" })),
        yield* call(() => stranger.cancel()),
        yield* call(() => stranger.appasset(1)),
        yield* call(() => stranger.request(true, "/pair", { phrase: "pairchallenge" }))
      ]) {
        expect(reply.xml.statusCode).toBe(401)
        expect(reply.xml.statusMessage).toMatch(/not authorized|pairchallenge/)
      }
      expect((yield* call(() => stranger.serverInfo(true))).xml.get("PairStatus")).toBe("0")
      // HTTPS without any client certificate.
      const anonymous = yield* call(() => httpsWithoutCertificate(endpointOf(host).httpsPort, "/applist?uniqueid=0123456789ABCDEF"))
      expect(anonymous).toMatch(/status_code="401"/)
      // HTTP has no certificate: app requests are refused there, even for a paired client.
      expect((yield* call(() => paired.request(false, "/applist"))).xml.statusCode).toBe(401)
      // Nobody can unpair someone else: an unpaired certificate's unpair changes nothing.
      yield* call(() => stranger.unpair(true))
      yield* call(() => stranger.unpair(false))
      expect((yield* pairedClients(host)).length).toBe(1)
      expect((yield* call(() => paired.applist())).xml.statusCode).toBe(200)
      expect((yield* gameStreamOf(host).counters).unauthorized).toBeGreaterThanOrEqual(6)
    })
  )
})

/**
 * Reads the operator's list of paired clients over and over until stopped, keeping every
 * fingerprint it ever listed: a wrong PIN must not show up there even for a moment.
 */
const watchPaired = (host: Parameters<typeof pairedClients>[0]) =>
  Effect.gen(function* () {
    const listed = new Set<string>()
    let polls = 0
    const fiber = yield* Effect.fork(
      Effect.forever(
        pairedClients(host).pipe(
          Effect.tap((clients) =>
            Effect.sync(() => {
              polls++
              for (const c of clients) listed.add(c.fingerprint)
            })
          )
        )
      )
    )
    return { stop: Fiber.interrupt(fiber).pipe(Effect.map(() => ({ polls, listed: [...listed] }))) }
  })

const hostCertFingerprint = (pem: string) =>
  // SHA-256 of the DER, as the host reports it.
  Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ""), "hex").toString("hex")

const httpsWithoutCertificate = (port: number, target: string) =>
  new Promise<string>((resolve, reject) => {
    const req = https.get({ host: "127.0.0.1", port, path: target, rejectUnauthorized: false, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (body += c))
      res.on("end", () => resolve(body))
    })
    req.on("error", reject)
  })
