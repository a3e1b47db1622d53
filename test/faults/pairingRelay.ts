/**
 * A man in the middle of `punktfunk/1` pairing, as an attacker on the LAN would run it: a TLS
 * server with its own certificate that our client connects to (as if to the host), and for each
 * such connection a TLS connection of its own, with its own client certificate, to the real host.
 * It terminates both TLS sessions, reads every control message, records it, and forwards it (or
 * what `tamper` makes of it) to the other side.
 *
 * It also keeps what such a relay knows besides the messages: the certificates on both sides and
 * both TLS sessions' exporter values (the pairing sid of each side), so an offline attack on its
 * transcript gets every public input the two ends used.
 *
 * Bound to 127.0.0.2: attackers in tests use 127.0.0.2–127.0.0.254, the victims 127.0.0.1.
 */
import { expect } from "@effect/vitest"
import { Context, Effect, Schema } from "effect"
import { spawn } from "node:child_process"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import type { ClientIdentity } from "../../src/client/ControlClient.js"
import { fingerprintOfDer, fingerprintOfPem, generateCertificate } from "../../src/lib/Certificates.js"
import { sessionIdOf } from "../../src/streams/punktfunk1/PairingPake.js"
import { frame, FrameReader } from "../../src/streams/punktfunk1/Protocol.js"
import { PendingPairing } from "../../src/api/Pairing.js"
import { ControlServer } from "../../src/streams/punktfunk1/ControlServer.js"
import { root } from "../support/HostProcess.js"
import { json, startHost, tempDir, waitFor } from "../support/TestHost.js"
import type { StartedHost } from "../support/TestHost.js"

export const ATTACKER_ADDRESS = "127.0.0.2"

export interface RelayedMessage {
  readonly from: "client" | "host"
  readonly body: string
}

export interface RelayOptions {
  readonly target: { readonly host: string; readonly port: number }
  /** What to send on instead of a message: the same body, another one, or `null` to drop it. */
  readonly tamper?: (
    message: RelayedMessage,
    transcript: ReadonlyArray<RelayedMessage>,
    self: { readonly fingerprint: string }
  ) => string | null
}

export interface Relay {
  readonly port: number
  /** The relay's own certificate (it shows this one to both ends). */
  readonly identity: ClientIdentity
  /** Every message as it arrived at the relay, in order. */
  readonly transcript: Array<RelayedMessage>
  /** What the relay saw of the two TLS sessions of the last relayed connection. */
  readonly seen: {
    clientFingerprint?: string
    hostFingerprint?: string
    /** Pairing sid of the client ↔ relay TLS session (the one the client's CPace run uses). */
    clientSideSid?: Uint8Array
    /** Pairing sid of the relay ↔ host TLS session (the one the host's CPace run uses). */
    hostSideSid?: Uint8Array
  }
  readonly close: () => Promise<void>
}

export const newIdentity = async (name: string): Promise<ClientIdentity> => {
  const made = await generateCertificate(name)
  return { ...made, fingerprint: fingerprintOfPem(made.certPem) }
}

export const startRelay = async (options: RelayOptions): Promise<Relay> => {
  const identity = await newIdentity("definitely the host")
  const transcript: Array<RelayedMessage> = []
  const seen: Relay["seen"] = {}
  const sockets = new Set<tls.TLSSocket>()
  const server = tls.createServer({
    cert: identity.certPem,
    key: identity.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: "TLSv1.3"
  })
  server.on("secureConnection", (down) => {
    sockets.add(down)
    const peer = down.getPeerX509Certificate()
    if (peer !== undefined) seen.clientFingerprint = fingerprintOfDer(peer.raw)
    seen.clientSideSid = sessionIdOf(down)
    const up = tls.connect({
      socket: net.connect({ host: options.target.host, port: options.target.port, localAddress: ATTACKER_ADDRESS }),
      cert: identity.certPem,
      key: identity.keyPem,
      rejectUnauthorized: false,
      minVersion: "TLSv1.3"
    })
    sockets.add(up)
    const early: Array<Buffer> = []
    let upReady = false
    up.once("secureConnect", () => {
      const hostCert = up.getPeerX509Certificate()
      if (hostCert !== undefined) seen.hostFingerprint = fingerprintOfDer(hostCert.raw)
      seen.hostSideSid = sessionIdOf(up)
      upReady = true
      for (const b of early.splice(0)) up.write(b)
    })
    const pipe = (from: RelayedMessage["from"], source: tls.TLSSocket, deliver: (b: Buffer) => void) => {
      const reader = new FrameReader()
      source.on("data", (chunk: Buffer) => {
        const bodies = reader.push(chunk)
        if (!Array.isArray(bodies)) return source.destroy()
        for (const body of bodies) {
          const message = { from, body }
          transcript.push(message)
          const out = options.tamper === undefined ? body : options.tamper(message, transcript, identity)
          if (out !== null) deliver(frame(out))
        }
      })
    }
    pipe("client", down, (b) => (upReady ? up.write(b) : early.push(b)))
    pipe("host", up, (b) => down.write(b))
    down.on("close", () => up.destroy())
    up.on("close", () => down.end())
    down.on("error", () => up.destroy())
    up.on("error", () => down.destroy())
  })
  const port = await new Promise<number>((resolve) =>
    server.listen(0, ATTACKER_ADDRESS, () => resolve((server.address() as AddressInfo).port))
  )
  return {
    port,
    identity,
    transcript,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/** Runs the real `punktfunk-client` (dist/client.js) with `args`; resolves with its exit and output. */
export const runClient = (args: ReadonlyArray<string>, nodeArgs: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(root, "dist", "client.js"), ...args], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString()))
    child.stderr.on("data", (c: Buffer) => (output += c.toString()))
    child.on("exit", (code) => resolve({ code, output }))
  })

/** The messages of one tag, decoded as JSON (the relay reads them as any attacker would). */
export const messagesOf = (transcript: ReadonlyArray<RelayedMessage>, tag: string): Array<Record<string, unknown>> =>
  transcript.map((m) => JSON.parse(m.body) as Record<string, unknown>).filter((m) => m["_tag"] === tag)

/** The PIN our client shows in the relay scenes. */
export const PIN = "2468"

export const pairingApi = (host: StartedHost, route: string, init: RequestInit = {}) =>
  Effect.promise(() => host.fetch(`${host.url}/api/v1/pairing${route}`, init))
export const apiJson = (host: StartedHost, route: string) =>
  pairingApi(host, route).pipe(Effect.flatMap((r) => Effect.promise(() => json(r))))

/**
 * The operator: waits for the one pending request the console lists and enters `pin` for it.
 * Returns what the console showed and what the host answered.
 */
export const operatorEntersPin = (host: StartedHost, pin: string) =>
  Effect.gen(function* () {
    let pending: ReadonlyArray<PendingPairing> = []
    yield* Effect.promise(() =>
      waitFor(
        async () => {
          pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await Effect.runPromise(apiJson(host, "/pending")))
          return pending.length > 0
        },
        20_000,
        "the pairing request"
      )
    )
    const answer = yield* pairingApi(host, `/pending/${pending[0]?.request_id ?? ""}/pin`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pin })
    })
    return { pending, status: answer.status, body: yield* Effect.promise(() => json(answer)) }
  })

/**
 * The scene: host on 127.0.0.1, relay on 127.0.0.2 in front of it, the real client pairing with
 * the relay's address; the operator enters the client's PIN for the request the console lists.
 */
export const relayedPairing = (tamper?: RelayOptions["tamper"]) =>
  Effect.gen(function* () {
    const host = yield* startHost()
    const target = { host: "127.0.0.1", port: Context.get(host.context, ControlServer).port }
    const relay: Relay = yield* Effect.acquireRelease(
      Effect.promise(() => startRelay(tamper === undefined ? { target } : { target, tamper })),
      (r) => Effect.promise(() => r.close())
    )
    const clientDir = tempDir("punktfunk-client-")
    const client = yield* Effect.fork(
      Effect.promise(() =>
        runClient(["pair", "--host", "127.0.0.2", "--port", String(relay.port), "--dir", clientDir, "--name", "living-room", "--pin", PIN])
      )
    )
    const operator = yield* operatorEntersPin(host, PIN)
    // What the operator saw: the client's name; the certificate is the relay's, which an
    // operator pairing a new client for the first time has no way to tell apart.
    expect(operator.pending.map((p) => [p.name, p.fingerprint])).toEqual([["living-room", relay.identity.fingerprint]])
    const clientRun = yield* client.await.pipe(Effect.flatMap((exit) => exit))
    return { host, relay, clientDir, operator, clientRun }
  })
