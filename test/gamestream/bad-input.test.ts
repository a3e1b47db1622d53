/**
 * Bad input on both nvhttp sockets: missing and malformed parameters, phases out of order,
 * oversized headers and bodies, garbage instead of HTTP or TLS. Each gets a clear refusal —
 * XML `status_code` 400 with a `status_message` naming what is wrong — and the host keeps
 * answering everyone else.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { rawRequest } from "../support/TestHost.js"
import { parseXml } from "./support/GameStreamClient.js"
import { clientFor, endpointOf, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Bytes in, everything the host says back until it closes. */
const rawSocket = (port: number, bytes: Buffer | string) =>
  new Promise<string>((resolve) => {
    let got = ""
    const s = net.connect(port, "127.0.0.1", () => s.write(bytes))
    s.setEncoding("latin1")
    s.on("data", (d: string) => (got += d))
    s.on("close", () => resolve(got))
    s.on("error", () => resolve(got))
  })

describe("GameStream nvhttp refuses bad input clearly and goes on", () => {
  it.scopedLive("missing parameters, bad hex, wrong lengths, non-certificates, phases out of order", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const { httpPort } = endpointOf(host)
      const url = `http://127.0.0.1:${httpPort}`
      const refusalOf = (target: string) =>
        call(() => rawRequest(url, "GET", target)).pipe(
          Effect.map((r) => {
            expect(r.status).toBe(200) // GameStream answers in the XML; Moonlight shows status_message
            const xml = parseXml(r.body)
            expect(xml.statusCode).toBe(400)
            return xml.statusMessage ?? ""
          })
        )
      const cert = Buffer.from((yield* newIdentity("x")).certPem).toString("hex")
      const salt = "ab".repeat(16)

      expect(yield* refusalOf("/pair?phrase=getservercert")).toBe("missing parameter 'uniqueid'")
      expect(yield* refusalOf(`/pair?uniqueid=1&phrase=getservercert&clientcert=${cert}`)).toBe("missing parameter 'salt'")
      expect(yield* refusalOf(`/pair?uniqueid=1&phrase=getservercert&salt=zz${salt.slice(2)}&clientcert=${cert}`)).toMatch(/^bad parameter 'salt': must be hex/)
      expect(yield* refusalOf(`/pair?uniqueid=1&phrase=getservercert&salt=abcd&clientcert=${cert}`)).toBe("bad parameter 'salt': must be 16 bytes of hex, got 2")
      expect(yield* refusalOf(`/pair?uniqueid=1&phrase=getservercert&salt=${salt}&clientcert=${Buffer.from("hello, not a certificate at all, but long enough to pass the length check").toString("hex")}`)).toMatch(/^bad parameter 'clientcert': must be a PEM certificate/)
      const fakePem = Buffer.from("-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n").toString("hex")
      expect(yield* refusalOf(`/pair?uniqueid=1&phrase=getservercert&salt=${salt}&clientcert=${fakePem}`)).toBe("clientcert is not a valid X.509 certificate")
      expect(yield* refusalOf(`/pair?uniqueid=1&clientchallenge=${"00".repeat(16)}`)).toMatch(/no pairing in progress for uniqueid '1'/)
      expect(yield* refusalOf(`/pair?uniqueid=1&clientchallenge=${"00".repeat(15)}`)).toBe("bad parameter 'clientchallenge': must be 16 bytes of hex, got 15")
      expect(yield* refusalOf(`/pair?uniqueid=1&serverchallengeresp=${"00".repeat(32)}`)).toMatch(/no pairing in progress/)
      expect(yield* refusalOf(`/pair?uniqueid=1&clientpairingsecret=00`)).toMatch(/^bad parameter 'clientpairingsecret'/)
      expect(yield* refusalOf("/pair?uniqueid=1&phrase=sing")).toBe("unknown pairing phrase 'sing'")
      expect(yield* refusalOf("/pair?uniqueid=1")).toMatch(/^not a pairing request/)
      expect(yield* refusalOf("/unpair")).toBe("missing parameter 'uniqueid'")
      expect(yield* refusalOf(`/serverinfo?uniqueid=${"x".repeat(65)}`)).toMatch(/^bad parameter 'uniqueid'/)

      const unknown = yield* call(() => rawRequest(url, "GET", "/nowhere?uniqueid=1"))
      expect(unknown.status).toBe(404)
      expect(parseXml(unknown.body).statusCode).toBe(404)
      expect((yield* gameStreamOf(host).counters).malformed).toBeGreaterThanOrEqual(14)
    })
  )

  it.scopedLive("a paired client's malformed launch and resume: 400 naming the parameter", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const client = clientFor(host, yield* newIdentity("typo"))
      expect((yield* pairViaOperator(host, client, "9999")).outcome).toMatchObject({ paired: true })
      const base = { appid: "1", mode: "1280x720x60", rikey: "00".repeat(16), rikeyid: "5" }
      const cases: ReadonlyArray<readonly [Record<string, string>, RegExp]> = [
        [{ ...base, mode: "big" }, /^bad parameter 'mode': must be WIDTHxHEIGHTxFPS/],
        [{ ...base, mode: "99999x1x1" }, /^bad parameter 'mode'/],
        [{ appid: "1", mode: "1280x720x60", rikeyid: "5" }, /^missing parameter 'rikey'/],
        [{ ...base, rikey: "xyz" }, /^bad parameter 'rikey': must be hex/],
        [{ ...base, rikeyid: "five" }, /^bad parameter 'rikeyid': must be an integer/],
        [{ ...base, appid: "-1" }, /^bad parameter 'appid'/],
        [{ ...base, localAudioPlayMode: "2" }, /^bad parameter 'localAudioPlayMode'/]
      ]
      for (const [params, message] of cases) {
        const reply = yield* call(() => client.launch(params))
        expect(reply.xml.statusCode).toBe(400)
        expect(reply.xml.statusMessage).toMatch(message)
      }
      expect((yield* call(() => client.launch({ ...base, appid: "42" }))).xml.statusCode).toBe(404)
      expect(yield* gameStreamOf(host).currentLaunch).toBeUndefined()
      const resume = yield* call(() => client.resume({ rikeyid: "1" }))
      expect(resume.xml.statusMessage).toBe("missing parameter 'rikey'")
      expect((yield* call(() => client.appasset(Number.NaN))).xml.statusMessage).toMatch(/^bad parameter 'appid'/)
    })
  )

  it.scopedLive("oversized bodies and headers, garbage on either socket: refused, the host answers the next client", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost()
      const { httpPort, httpsPort } = endpointOf(host)
      const url = `http://127.0.0.1:${httpPort}`

      const big = yield* call(() => rawRequest(url, "POST", "/serverinfo?uniqueid=1", { "content-type": "text/plain" }, "x".repeat(100_000)))
      expect(big.status).toBe(400)
      expect(parseXml(big.body).statusMessage).toMatch(/body larger than 65536 bytes/)

      const longHeaders = yield* call(() => rawSocket(httpPort, `GET /serverinfo?uniqueid=${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`))
      expect(longHeaders).toMatch(/^HTTP\/1\.1 400/)
      expect(parseXml(longHeaders.slice(longHeaders.indexOf("<?xml"))).statusMessage).toMatch(/headers larger than/)

      const garbage = yield* call(() => rawSocket(httpPort, Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])))
      expect(garbage).toMatch(/^HTTP\/1\.1 400/)
      expect(parseXml(garbage.slice(garbage.indexOf("<?xml"))).statusMessage).toMatch(/malformed HTTP request/)

      // Plain HTTP (or noise) on the TLS port: the handshake fails, the connection closes.
      const notTls = yield* call(() => rawSocket(httpsPort, "GET /serverinfo HTTP/1.1\r\n\r\n"))
      expect(notTls).not.toMatch(/status_code="200"/)
      expect((yield* gameStreamOf(host).counters).tls_refused).toBeGreaterThanOrEqual(1)

      // Everyone else is still served, on both ports.
      const client = clientFor(host, yield* newIdentity("after"))
      expect((yield* call(() => client.serverInfo(false))).xml.statusCode).toBe(200)
      expect((yield* call(() => client.serverInfo(true))).xml.statusCode).toBe(200)
    })
  )
})
