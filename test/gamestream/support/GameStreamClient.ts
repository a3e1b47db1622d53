/**
 * A GameStream client for the tests, written from the public description of the protocol (what
 * a Moonlight client sends and checks), not from the host's code: it does its own hashing, AES
 * and RSA with node:crypto, so a host that computed a phase wrong fails here the way it would
 * fail in Moonlight.
 *
 * Pairing, as a Moonlight client runs it: it makes a salt, derives AES-128 from
 * SHA-256(salt ‖ PIN), and then
 *  1. `getservercert` (HTTP) with salt and its certificate — the host holds this until its
 *     operator typed the PIN — and receives the host's certificate;
 *  2. `clientchallenge`: a random challenge, encrypted; receives the host's hash over
 *     (challenge ‖ host certificate signature ‖ host secret) and the host's own challenge;
 *  3. `serverchallengeresp`: its hash over (host challenge ‖ own certificate signature ‖ own
 *     secret); receives the host's secret and its RSA signature;
 *  4. checks that signature against the host certificate (else: someone in the middle) and the
 *     host's hash now that the secret is known (else: the PIN was wrong — it sends `unpair` and
 *     stops, as Moonlight does);
 *  5. `clientpairingsecret`: its secret and its RSA signature; the host answers `paired`;
 *  6. `pairchallenge` over HTTPS with its certificate.
 * After that it pins the host certificate and talks HTTPS only to a host that presents it.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"
import { createCipheriv, createDecipheriv, createHash, randomBytes, sign, verify, X509Certificate } from "node:crypto"
import * as http from "node:http"
import * as https from "node:https"
import type { TLSSocket } from "node:tls"
import { generateRsaCertificate } from "../../../src/lib/Certificates.js"

/** Moonlight clients all send this uniqueid nowadays. */
export const MOONLIGHT_UNIQUE_ID = "0123456789ABCDEF"

export interface ClientIdentity {
  readonly certPem: string
  readonly keyPem: string
  readonly fingerprint: string
}

export const makeClientIdentity = async (name = "moonlight-test"): Promise<ClientIdentity> => {
  const made = await generateRsaCertificate(name)
  return { ...made, fingerprint: createHash("sha256").update(new X509Certificate(made.certPem).raw).digest("hex") }
}

// ---- the little XML the host speaks ----------------------------------------------------------

export interface XmlDoc {
  readonly text: string
  readonly statusCode: number | undefined
  readonly statusMessage: string | undefined
  /** Text of the first element `name` (unescaped), or undefined. */
  readonly get: (name: string) => string | undefined
  /** Text of every element `name`. */
  readonly all: (name: string) => ReadonlyArray<string>
}

const unescape = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&")

export const parseXml = (text: string): XmlDoc => {
  const root = /<root\b([^>]*)>/.exec(text)?.[1] ?? ""
  const attr = (name: string) => {
    const m = new RegExp(`\\b${name}="([^"]*)"`).exec(root)
    return m?.[1] === undefined ? undefined : unescape(m[1])
  }
  const all = (name: string) => [...text.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, "g"))].map((m) => unescape(m[1] ?? ""))
  const code = attr("status_code")
  return { text, statusCode: code === undefined ? undefined : Number(code), statusMessage: attr("status_message"), get: (n) => all(n)[0], all }
}

// ---- crypto, from the description ------------------------------------------------------------

const aes = (encrypt: boolean, key: Buffer, data: Buffer): Buffer => {
  const c = encrypt ? createCipheriv("aes-128-ecb", key, null) : createDecipheriv("aes-128-ecb", key, null)
  c.setAutoPadding(false)
  return Buffer.concat([c.update(data), c.final()])
}
const sha256 = (...parts: ReadonlyArray<Buffer>) => createHash("sha256").update(Buffer.concat(parts)).digest()
const signatureOf = (certPem: string) => Buffer.from(new x509.X509Certificate(certPem).signature)

// ---- the client --------------------------------------------------------------------------------

export interface Endpoint {
  readonly host: string
  readonly httpPort: number
  readonly httpsPort: number
  /** The address to connect from (an attacker in a test binds 127.0.0.2 and up). */
  readonly localAddress?: string
}

export interface Reply {
  readonly status: number
  readonly contentType: string
  readonly body: Buffer
  readonly xml: XmlDoc
}

export type PairOutcome =
  | { readonly paired: true; readonly hostCertPem: string }
  | { readonly paired: false; readonly stage: string; readonly reason: string }

export interface PairOptions {
  readonly pin: string
  readonly deviceName?: string
  /** Go on to `clientpairingsecret` even when the host's hash says the PIN differs (a client
   * that does not check, or lies): the host must refuse it on its own. */
  readonly ignoreWrongPin?: boolean
  /** Called after each phase the host answered (a test acts in between, as an attacker would). */
  readonly after?: (phase: "getservercert" | "clientchallenge" | "serverchallengeresp") => Promise<void>
}

export class GameStreamClient {
  hostCertPem: string | undefined

  constructor(
    readonly endpoint: Endpoint,
    readonly identity: ClientIdentity,
    readonly uniqueId: string = MOONLIGHT_UNIQUE_ID
  ) {}

  /** One request; `secure` goes over HTTPS with the client certificate. */
  request(secure: boolean, path: string, params: Record<string, string> = {}): Promise<Reply> {
    const query = new URLSearchParams({ uniqueid: this.uniqueId, uuid: randomBytes(16).toString("hex"), ...params })
    const target = `${path}?${query.toString()}`
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const body = Buffer.concat(chunks)
          const contentType = String(res.headers["content-type"] ?? "")
          resolve({ status: res.statusCode ?? 0, contentType, body, xml: parseXml(contentType.includes("xml") ? body.toString("utf8") : "") })
        })
        res.on("error", reject)
      }
      const req = secure
        ? https.request(
            {
              host: this.endpoint.host,
              port: this.endpoint.httpsPort,
              path: target,
              cert: this.identity.certPem,
              key: this.identity.keyPem,
              // Self-signed: trust is the pinned host certificate, checked below.
              rejectUnauthorized: false,
              agent: false,
              ...(this.endpoint.localAddress === undefined ? {} : { localAddress: this.endpoint.localAddress })
            },
            onResponse
          )
        : http.request(
            {
              host: this.endpoint.host,
              port: this.endpoint.httpPort,
              path: target,
              agent: false,
              ...(this.endpoint.localAddress === undefined ? {} : { localAddress: this.endpoint.localAddress })
            },
            onResponse
          )
      if (secure) {
        req.on("socket", (socket) =>
          socket.on("secureConnect", () => {
            const presented = (socket as TLSSocket).getPeerX509Certificate()
            const pinned = this.hostCertPem === undefined ? undefined : new X509Certificate(this.hostCertPem)
            if (pinned !== undefined && (presented === undefined || !presented.raw.equals(pinned.raw))) {
              req.destroy(new Error("the host presented a certificate other than the one paired"))
            }
          })
        )
      }
      req.on("error", reject)
      req.end()
    })
  }

  async pair(options: PairOptions): Promise<PairOutcome> {
    const fail = (stage: string, reason: string): PairOutcome => ({ paired: false, stage, reason })
    const salt = randomBytes(16)
    const key = sha256(salt, Buffer.from(options.pin, "utf8")).subarray(0, 16)

    const first = await this.request(false, "/pair", {
      devicename: options.deviceName ?? "roth",
      updateState: "1",
      phrase: "getservercert",
      salt: salt.toString("hex"),
      clientcert: Buffer.from(this.identity.certPem, "latin1").toString("hex")
    })
    if (first.xml.statusCode !== 200 || first.xml.get("paired") !== "1") {
      return fail("getservercert", first.xml.statusMessage ?? "not paired")
    }
    const hostCertPem = Buffer.from(first.xml.get("plaincert") ?? "", "hex").toString("latin1")
    const hostCertSignature = signatureOf(hostCertPem)
    await options.after?.("getservercert")

    const challenge = randomBytes(16)
    const second = await this.request(false, "/pair", { clientchallenge: aes(true, key, challenge).toString("hex") })
    if (second.xml.statusCode !== 200 || second.xml.get("paired") !== "1") return fail("clientchallenge", second.xml.statusMessage ?? "")
    const decrypted = aes(false, key, Buffer.from(second.xml.get("challengeresponse") ?? "", "hex"))
    const hostHash = decrypted.subarray(0, 32)
    const hostChallenge = decrypted.subarray(32, 48)
    await options.after?.("clientchallenge")

    const clientSecret = randomBytes(16)
    const clientHash = sha256(hostChallenge, signatureOf(this.identity.certPem), clientSecret)
    const third = await this.request(false, "/pair", { serverchallengeresp: aes(true, key, clientHash).toString("hex") })
    if (third.xml.statusCode !== 200 || third.xml.get("paired") !== "1") return fail("serverchallengeresp", third.xml.statusMessage ?? "")
    const pairingSecret = Buffer.from(third.xml.get("pairingsecret") ?? "", "hex")
    const hostSecret = pairingSecret.subarray(0, 16)
    const hostSignature = pairingSecret.subarray(16)
    await options.after?.("serverchallengeresp")

    if (!verify("sha256", hostSecret, new X509Certificate(hostCertPem).publicKey, hostSignature)) {
      await this.request(false, "/unpair")
      return fail("pairingsecret", "the host's signature does not match its certificate")
    }
    const pinMatches = sha256(challenge, hostCertSignature, hostSecret).equals(hostHash)
    if (!pinMatches && options.ignoreWrongPin !== true) {
      await this.request(false, "/unpair")
      return fail("pairingsecret", "wrong PIN")
    }

    const fourth = await this.request(false, "/pair", {
      clientpairingsecret: Buffer.concat([clientSecret, sign("sha256", clientSecret, this.identity.keyPem)]).toString("hex")
    })
    if (fourth.xml.statusCode !== 200 || fourth.xml.get("paired") !== "1") {
      return fail("clientpairingsecret", fourth.xml.statusMessage ?? "not paired")
    }
    this.hostCertPem = hostCertPem
    const fifth = await this.request(true, "/pair", { phrase: "pairchallenge" })
    if (fifth.xml.statusCode !== 200 || fifth.xml.get("paired") !== "1") return fail("pairchallenge", fifth.xml.statusMessage ?? "")
    return { paired: true, hostCertPem }
  }

  serverInfo(secure: boolean) {
    return this.request(secure, "/serverinfo")
  }
  applist() {
    return this.request(true, "/applist")
  }
  appasset(appid: number) {
    return this.request(true, "/appasset", { appid: String(appid), AssetType: "2", AssetIdx: "0" })
  }
  launch(params: Record<string, string>) {
    return this.request(true, "/launch", params)
  }
  resume(params: Record<string, string>) {
    return this.request(true, "/resume", params)
  }
  cancel() {
    return this.request(true, "/cancel")
  }
  unpair(secure: boolean) {
    return this.request(secure, "/unpair")
  }
}

/** What Moonlight sends to launch the desktop at 1280x720@60 (a fixed key, so tests can check it). */
export const launchParams = (appid: number): Record<string, string> => ({
  appid: String(appid),
  mode: "1280x720x60",
  additionalStates: "1",
  sops: "0",
  rikey: "00112233445566778899aabbccddeeff",
  rikeyid: "-1652287337",
  localAudioPlayMode: "0",
  surroundAudioInfo: "196610",
  remoteControllersBitmap: "1",
  gcmap: "1"
})
