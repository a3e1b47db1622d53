/**
 * An eavesdropper for whom TLS is no obstacle: a TCP tap that forwards a connection untouched
 * (so the pairing succeeds: both ends see each other's real certificates) and records its bytes,
 * plus the session's secrets from the client's key log (`node --tls-keylog`, NSS format). With
 * them this file opens the TLS 1.3 records (RFC 8446 §5.2, §7.1-7.3) and hands back the control
 * messages in clear and the session's exporter (§7.5): everything a recording of a successful
 * pairing could ever hold. A stand-in for the worst case, not for a real attacker's means.
 *
 * Written from the RFC for this test only; it reads the cipher suite from the ServerHello and
 * knows the three TLS 1.3 suites Node offers by default.
 */
import { createDecipheriv, createHash, createHmac } from "node:crypto"
import * as net from "node:net"
import type { AddressInfo } from "node:net"
import { FrameReader } from "../../src/streams/punktfunk1/Protocol.js"

export interface Tap {
  readonly port: number
  /** Bytes client → host and host → client, as they crossed the tap. */
  readonly fromClient: Array<Buffer>
  readonly fromHost: Array<Buffer>
  readonly close: () => Promise<void>
}

export const startTap = async (target: { readonly host: string; readonly port: number }, bind: string): Promise<Tap> => {
  const fromClient: Array<Buffer> = []
  const fromHost: Array<Buffer> = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((down) => {
    const up = net.connect({ host: target.host, port: target.port, localAddress: bind })
    sockets.add(down).add(up)
    down.on("data", (b: Buffer) => {
      fromClient.push(b)
      up.write(b)
    })
    up.on("data", (b: Buffer) => {
      fromHost.push(b)
      down.write(b)
    })
    down.on("close", () => up.end())
    up.on("close", () => down.end())
    down.on("error", () => up.destroy())
    up.on("error", () => down.destroy())
  })
  const port = await new Promise<number>((resolve) => server.listen(0, bind, () => resolve((server.address() as AddressInfo).port)))
  return {
    port,
    fromClient,
    fromHost,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

interface Suite {
  readonly hash: "sha256" | "sha384"
  readonly cipher: "aes-128-gcm" | "aes-256-gcm" | "chacha20-poly1305"
  readonly keyLength: number
}

const SUITES: Record<number, Suite> = {
  0x1301: { hash: "sha256", cipher: "aes-128-gcm", keyLength: 16 },
  0x1302: { hash: "sha384", cipher: "aes-256-gcm", keyLength: 32 },
  0x1303: { hash: "sha256", cipher: "chacha20-poly1305", keyLength: 32 }
}

const hashLength = (hash: Suite["hash"]) => (hash === "sha256" ? 32 : 48)

/** HKDF-Expand (RFC 5869 §2.3). */
const hkdfExpand = (hash: Suite["hash"], prk: Buffer, info: Buffer, length: number): Buffer => {
  const out: Array<Buffer> = []
  let t = Buffer.alloc(0)
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac(hash, prk).update(Buffer.concat([t, info, Buffer.from([i])])).digest()
    out.push(t)
  }
  return Buffer.concat(out).subarray(0, length)
}

/** HKDF-Expand-Label (RFC 8446 §7.1). */
export const expandLabel = (hash: Suite["hash"], secret: Buffer, label: string, context: Buffer, length: number): Buffer => {
  const full = Buffer.from(`tls13 ${label}`, "latin1")
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([context.length]), context])
  return hkdfExpand(hash, secret, info, length)
}

/** TLS-Exporter (RFC 8446 §7.5) from the session's exporter secret. */
export const tlsExporter = (hash: Suite["hash"], exporterSecret: Buffer, label: string, context: Buffer, length: number): Buffer => {
  const empty = createHash(hash).update(Buffer.alloc(0)).digest()
  const derived = expandLabel(hash, exporterSecret, label, empty, hashLength(hash))
  return expandLabel(hash, derived, "exporter", createHash(hash).update(context).digest(), length)
}

interface TlsRecord {
  readonly type: number
  readonly header: Buffer
  readonly payload: Buffer
}

const recordsOf = (bytes: Buffer): Array<TlsRecord> => {
  const out: Array<TlsRecord> = []
  for (let at = 0; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt16BE(at + 3)
    out.push({ type: bytes[at] ?? 0, header: bytes.subarray(at, at + 5), payload: bytes.subarray(at + 5, at + 5 + length) })
    at += 5 + length
  }
  return out
}

/** The secrets of one session from an NSS key log, by label (for the client random given). */
export const secretsOf = (keylog: string, clientRandom: Buffer): Map<string, Buffer> => {
  const secrets = new Map<string, Buffer>()
  for (const line of keylog.split("\n")) {
    const [label, random, secret] = line.trim().split(" ")
    if (label !== undefined && random === clientRandom.toString("hex") && secret !== undefined) {
      secrets.set(label, Buffer.from(secret, "hex"))
    }
  }
  return secrets
}

/**
 * Opens one direction's encrypted records: handshake keys first, application keys from the
 * first record the handshake keys do not open. Returns the application data in order.
 */
const openDirection = (suite: Suite, records: ReadonlyArray<TlsRecord>, handshakeSecret: Buffer, appSecret: Buffer): Buffer => {
  const keysOf = (secret: Buffer) => ({
    key: expandLabel(suite.hash, secret, "key", Buffer.alloc(0), suite.keyLength),
    iv: expandLabel(suite.hash, secret, "iv", Buffer.alloc(0), 12)
  })
  const phases = [keysOf(handshakeSecret), keysOf(appSecret)]
  let phase = 0
  let seq = 0n
  const data: Array<Buffer> = []
  const open = (keys: { key: Buffer; iv: Buffer }, sequence: bigint, record: TlsRecord): Buffer | undefined => {
    const nonce = Buffer.from(keys.iv)
    const seqBytes = Buffer.alloc(8)
    seqBytes.writeBigUInt64BE(sequence)
    for (let i = 0; i < 8; i++) nonce[4 + i] = (nonce[4 + i] ?? 0) ^ (seqBytes[i] ?? 0)
    try {
      const decipher =
        suite.cipher === "chacha20-poly1305"
          ? createDecipheriv(suite.cipher, keys.key, nonce, { authTagLength: 16 })
          : createDecipheriv(suite.cipher, keys.key, nonce)
      decipher.setAAD(record.header)
      decipher.setAuthTag(record.payload.subarray(record.payload.length - 16))
      return Buffer.concat([decipher.update(record.payload.subarray(0, record.payload.length - 16)), decipher.final()])
    } catch {
      return undefined
    }
  }
  for (const record of records) {
    if (record.type !== 23) continue
    let plain = open(phases[phase] ?? phases[1]!, seq, record)
    if (plain === undefined && phase === 0) {
      phase = 1
      seq = 0n
      plain = open(phases[1]!, seq, record)
    }
    if (plain === undefined) throw new Error("a TLS record the session's keys do not open")
    seq++
    let end = plain.length
    while (end > 0 && plain[end - 1] === 0) end--
    const innerType = plain[end - 1]
    if (phase === 1 && innerType === 23) data.push(plain.subarray(0, end - 1))
  }
  return Buffer.concat(data)
}

export interface OpenedSession {
  readonly suite: Suite
  readonly clientMessages: ReadonlyArray<string>
  readonly hostMessages: ReadonlyArray<string>
  /** The TLS exporter of this session, for any label: what both ends computed their sid from. */
  readonly exporter: (label: string, context: Buffer, length: number) => Buffer
}

/** Opens a recorded TLS 1.3 connection with its key log; the control messages of each side. */
export const openSession = (fromClient: Buffer, fromHost: Buffer, keylog: string): OpenedSession => {
  const clientRecords = recordsOf(fromClient)
  const hostRecords = recordsOf(fromHost)
  const clientHello = clientRecords.find((r) => r.type === 22)
  const serverHello = hostRecords.find((r) => r.type === 22)
  if (clientHello === undefined || serverHello === undefined) throw new Error("no TLS hellos in the recording")
  const clientRandom = clientHello.payload.subarray(6, 38)
  const sessionIdLength = serverHello.payload[38] ?? 0
  const suite = SUITES[serverHello.payload.readUInt16BE(39 + sessionIdLength)]
  if (suite === undefined) throw new Error("a cipher suite this tap does not know")
  const secrets = secretsOf(keylog, clientRandom)
  const need = (label: string) => {
    const s = secrets.get(label)
    if (s === undefined) throw new Error(`the key log has no ${label}`)
    return s
  }
  const bodies = (bytes: Buffer) => {
    const reader = new FrameReader()
    const out = reader.push(bytes)
    if (!Array.isArray(out)) throw new Error("the opened stream is not punktfunk/1 frames")
    return [...out]
  }
  return {
    suite,
    clientMessages: bodies(openDirection(suite, clientRecords, need("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), need("CLIENT_TRAFFIC_SECRET_0"))),
    hostMessages: bodies(openDirection(suite, hostRecords, need("SERVER_HANDSHAKE_TRAFFIC_SECRET"), need("SERVER_TRAFFIC_SECRET_0"))),
    exporter: (label, context, length) => tlsExporter(suite.hash, need("EXPORTER_SECRET"), label, context, length)
  }
}
