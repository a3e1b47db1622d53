/**
 * The bearer token against someone who reads logs or the network: it is printed only on the
 * start that generated it (stdout ends up in journald and CI logs), a token file others can read
 * stops the start, and a management API bound beyond loopback speaks only HTTPS with the
 * certificate whose fingerprint the host printed — plain HTTP, even with the right token, gets
 * no answer, and the CLI sends nothing to a certificate it was not pinned to.
 */
import { describe, expect, it } from "vitest"
import { execFile } from "node:child_process"
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { generateCertificate } from "../../src/lib/Certificates.js"
import { hostsKilledAfterEach, root, runHostToExit } from "../support/HostProcess.js"
import { tempDir } from "../support/TestHost.js"
import { servedFingerprint } from "../support/Tls.js"

const spawn = hostsKilledAfterEach()

const envFor = (dir: string, extra: Record<string, string> = {}) => ({
  PUNKTFUNK_CONFIG_DIR: dir,
  PUNKTFUNK_SOURCE: "none",
  PUNKTFUNK_STREAM_BIND: "127.0.0.1",
  ...extra
})

/** Everything a server sends back to `request` written in plain text, until it closes (or 5 s). */
const plainExchange = (port: number, request: string) =>
  new Promise<string>((resolve) => {
    let got = ""
    const socket = net.connect(port, "127.0.0.1", () => socket.write(request))
    socket.setEncoding("latin1")
    socket.on("data", (c: string) => (got += c))
    socket.on("error", () => undefined)
    socket.on("close", () => resolve(got))
    setTimeout(() => socket.destroy(), 5_000)
  })

/** One HTTPS request; the certificate was compared by fingerprint before, so no CA check here. */
const httpsRequest = (port: number, method: string, route: string, token: string) =>
  new Promise<{ status: number; body: string; fingerprint: string }>((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, method, path: route, headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false },
      (res) => {
        let body = ""
        const fingerprint = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256
        res.setEncoding("utf8")
        res.on("data", (c: string) => (body += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, fingerprint }))
      }
    )
    req.on("error", reject)
    req.end()
  })

const cliJs = path.join(root, "dist", "cli.js")
const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [cliJs, ...args],
      { env: { PATH: process.env["PATH"] ?? "", HOME: tempDir("punktfunk-cli-home-"), ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

describe("the token in the host's output", () => {
  it("is printed only by the start that generated it; later starts name the token file", async () => {
    const dir = tempDir()
    const tokenFile = path.join(dir, "token")
    const first = await spawn(envFor(dir))
    const token = fs.readFileSync(tokenFile, "utf8").trim()
    expect(first.output()).toContain(`/#token=${token}`)
    expect(first.output()).toContain(`token file: ${tokenFile} (generated now`)
    first.child.kill("SIGTERM")
    await first.exited

    const second = await spawn(envFor(dir))
    expect(second.token).toBe(token)
    // The token still opens the API; it is just not in the log.
    expect((await second.fetch("/status")).status).toBe(200)
    second.child.kill("SIGTERM")
    await second.exited
    const out = second.output()
    expect(out).toMatch(/^console: http:\/\/127\.0\.0\.1:\d+\/ /m)
    expect(out).toContain(`token file: ${tokenFile}\n`)
    expect(out).not.toContain("#token=")
    expect(out).not.toContain(token)
    // On loopback the API is plain HTTP: no certificate to speak of.
    expect(out).not.toContain("certificate fingerprint")
  })

  it("a token file open to group or others stops the start, naming the file and the fix", async () => {
    const secret = "a-token-other-users-may-have-read-0123456789"
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const dir = tempDir()
      const tokenFile = path.join(dir, "token")
      fs.writeFileSync(tokenFile, `${secret}\n`)
      fs.chmodSync(tokenFile, mode)
      const run = await runHostToExit(envFor(dir))
      expect(run.output, `mode ${mode.toString(8)}`).not.toContain("listening on")
      expect(run.code, run.output).toBe(1)
      expect(run.output).toContain(`the token file ${tokenFile} is open to group or others (mode 0${mode.toString(8)})`)
      expect(run.output).toContain(`chmod 600 ${tokenFile}`)
      expect(run.output).not.toContain(secret)
      // The fix named in the message is enough.
      if (mode === 0o644) {
        fs.chmodSync(tokenFile, 0o600)
        const fixed = await spawn(envFor(dir))
        expect(fixed.token).toBe(secret)
      }
    }
  })
})

describe("the management API bound beyond loopback", () => {
  it("serves only HTTPS with the certificate whose fingerprint it printed; plain HTTP with the token gets no answer", async () => {
    const dir = tempDir()
    // Every address: beyond loopback. The test still connects over 127.0.0.1.
    const host = await spawn(envFor(dir, { PUNKTFUNK_BIND: "0.0.0.0" }))
    expect(host.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+$/)
    const port = Number(new URL(host.url).port)
    expect(host.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(await servedFingerprint(port)).toBe(host.fingerprint)
    // The host's one identity: the certificate punktfunk/1 clients pin when they pair.
    expect(new X509Certificate(fs.readFileSync(path.join(dir, "host-cert.pem"))).fingerprint256).toBe(host.fingerprint)

    const status = await httpsRequest(port, "GET", "/api/v1/stats/status", host.token)
    expect(status.status).toBe(200)
    expect(status.fingerprint).toBe(host.fingerprint)
    expect(JSON.parse(status.body)).toMatchObject({ armed: false })

    // The attacker's hope: a client that still speaks plain HTTP. The host answers nothing
    // that HTTP understands, whatever the request carries, and nothing is armed.
    for (const request of [
      `POST /api/v1/stats/start HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${host.token}\r\nContent-Length: 0\r\n\r\n`,
      `GET /api/v1/stats/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${host.token}\r\n\r\n`,
      "GET / HTTP/1.0\r\n\r\n"
    ]) {
      const answer = await plainExchange(port, request)
      expect(answer.startsWith("HTTP/"), JSON.stringify(answer.slice(0, 40))).toBe(false)
      expect(answer).not.toContain("armed")
    }
    const after = await httpsRequest(port, "GET", "/api/v1/stats/status", host.token)
    expect(JSON.parse(after.body)).toMatchObject({ armed: false })
  })

  it("the CLI sends no token to a relay with its own certificate, pinned or not", async () => {
    // The host's files as the CLI beside it sees them, and a relay presenting another certificate.
    const hostDir = tempDir()
    const hostCert = await generateCertificate("punktfunk host")
    fs.writeFileSync(path.join(hostDir, "host-cert.pem"), hostCert.certPem)
    const token = "the-operators-token-0123456789abcdef"
    fs.writeFileSync(path.join(hostDir, "token"), `${token}\n`, { mode: 0o600 })
    const relayCert = await generateCertificate("punktfunk host")
    let received = ""
    const relay = tls.createServer({ cert: relayCert.certPem, key: relayCert.keyPem }, (socket) => {
      socket.setEncoding("latin1")
      socket.on("data", (c: string) => (received += c))
      socket.on("error", () => undefined)
    })
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r))
    try {
      const address = relay.address()
      const url = `https://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
      const hostPrint = new X509Certificate(hostCert.certPem).fingerprint256
      const relayPrint = new X509Certificate(relayCert.certPem).fingerprint256
      for (const [what, args, env] of [
        ["pinned by --fingerprint", ["--fingerprint", hostPrint, "--token-file", path.join(hostDir, "token")], {}],
        ["pinned by the host's certificate file", [], { PUNKTFUNK_CONFIG_DIR: hostDir }],
        ["not pinned", ["--token-file", path.join(hostDir, "token")], {}]
      ] as const) {
        const run = await cli(["stats", "arm", "--host", url, ...args], env)
        expect(run.code, `${what}: ${run.stderr}`).toBe(5)
        expect(run.stderr).toContain(relayPrint)
        expect(run.stdout).toBe("")
      }
      // The relay completed TLS handshakes but never got a byte of a request.
      expect(received).toBe("")
    } finally {
      await new Promise<void>((r) => relay.close(() => r()))
    }
  })

  it("the CLI refuses to send the token in plain HTTP beyond loopback, before connecting", async () => {
    const tokenFile = path.join(tempDir(), "token")
    fs.writeFileSync(tokenFile, "the-operators-token-0123456789abcdef\n", { mode: 0o600 })
    // A listener on every address, reached through this machine's own LAN address: anything the
    // CLI sent would arrive here. (Without a LAN interface the address is a documentation one,
    // and only the refusal itself is checked.)
    const own = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address
    let connections = 0
    const listener = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((r) => listener.listen(0, "0.0.0.0", r))
    try {
      const address = listener.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const target = `${own ?? "192.0.2.1"}:${port}`
      for (const host of [`http://${target}`, target]) {
        const run = await cli(["stats", "status", "--host", host, "--token-file", tokenFile], {})
        expect(run.code, run.stderr).toBe(5)
        expect(run.stderr).toContain(`refusing to send the token in clear to http://${target}`)
      }
      expect(connections).toBe(0)
    } finally {
      await new Promise<void>((r) => listener.close(() => r()))
    }
  })
})
