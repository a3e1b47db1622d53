/**
 * An ENet client on node:dgram, written from the ENet protocol description (the packet and
 * command layouts of ENet 1.3, which Moonlight's fork keeps), not from libenet's code. It is
 * how the tests reach the host's control stream, and because the host side is the real libenet,
 * every test that passes also checks our reading of the wire format.
 *
 * What it speaks:
 *  - datagram header: u16 BE peer id (low 12 bits) | session id << 12 | 0x8000 "sent time
 *    follows", then u16 BE sent time (we always send it: a peer acknowledges reliable commands
 *    only from datagrams that carry it);
 *  - command header: u8 command (low 4 bits; 0x80 = acknowledge me, 0x40 = unsequenced),
 *    u8 channel, u16 BE reliable sequence number; all fields big endian;
 *  - connect (channel 0xFF, sequence 1 of the peer-level counter): our peer id, session ids
 *    0xFF (let the host choose), MTU, window, channel count, bandwidths, throttle parameters,
 *    a random connect id, and the 32-bit connect data the host's application sees;
 *  - verify connect: the host's peer id for us and the session ids for each direction; we check
 *    it echoes our connect id and throttle parameters, take the ids, and acknowledge it (only
 *    then does the host report the connection);
 *  - reliable sends: per-channel sequence numbers from 1, retransmitted with a doubling timeout
 *    until acknowledged; unsequenced sends with a per-peer group counter;
 *  - acknowledgements of everything the host sends reliably (its sends, pings, bandwidth
 *    limits, disconnect), echoing the sequence number and the datagram's sent time; reliable
 *    sends are delivered once and in order per channel;
 *  - ping; disconnect (acknowledged, or unsequenced from a host that drops us at once).
 * Not spoken: fragments (control messages are far below an MTU; they are counted, not
 * reassembled), compression, checksums (Moonlight uses neither).
 */
import { randomInt } from "node:crypto"
import * as dgram from "node:dgram"

const CMD = {
  acknowledge: 1,
  connect: 2,
  verifyConnect: 3,
  disconnect: 4,
  ping: 5,
  sendReliable: 6,
  sendUnreliable: 7,
  sendFragment: 8,
  sendUnsequenced: 9,
  bandwidthLimit: 10,
  throttleConfigure: 11,
  sendUnreliableFragment: 12
} as const
const FLAG_ACKNOWLEDGE = 0x80
const FLAG_UNSEQUENCED = 0x40
const HEADER_SENT_TIME = 0x8000
const MAX_PEER_ID = 0xfff
/** Command sizes without their data, by command number. */
const COMMAND_SIZE = [0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24] as const

const THROTTLE_INTERVAL = 5000
const THROTTLE_ACCELERATION = 2
const THROTTLE_DECELERATION = 2

export interface EnetMessage {
  readonly channel: number
  readonly bytes: Buffer
  readonly reliable: boolean
}

export interface EnetClientOptions {
  readonly host: string
  readonly port: number
  readonly connectData: number
  /** Channels asked for (Moonlight: 0x30). */
  readonly channels?: number
  /** Give up connecting (and retransmitting) after this long. */
  readonly timeoutMs?: number
  /** Local address to send from (default 127.0.0.1; fault tests spread attackers over 127.0.0.2–254). */
  readonly bindAddress?: string
}

/** The body of a CONNECT command (44 bytes, big endian), as a client sends it first. */
const connectBody = (localPeerId: number, connectId: number, channels: number, connectData: number): Buffer => {
  const body = Buffer.alloc(44)
  body.writeUInt16BE(localPeerId, 0)
  body.writeUInt8(0xff, 2) // incoming session: host's choice
  body.writeUInt8(0xff, 3) // outgoing session: host's choice
  body.writeUInt32BE(1392, 4) // MTU (Moonlight's ENet default)
  body.writeUInt32BE(65536, 8) // window
  body.writeUInt32BE(channels, 12)
  body.writeUInt32BE(0, 16) // incoming bandwidth: unlimited
  body.writeUInt32BE(0, 20) // outgoing bandwidth: unlimited
  body.writeUInt32BE(THROTTLE_INTERVAL, 24)
  body.writeUInt32BE(THROTTLE_ACCELERATION, 28)
  body.writeUInt32BE(THROTTLE_DECELERATION, 32)
  body.writeUInt32BE(connectId >>> 0, 36)
  body.writeUInt32BE(connectData >>> 0, 40)
  return body
}

/**
 * A whole datagram holding one CONNECT, as a client's first: what a handshake flood sends (the
 * host answers with VERIFY_CONNECT and holds a slot; the sender never acknowledges it).
 */
export const connectDatagram = (connectData: number, connectId: number = randomInt(0, 2 ** 32), channels = 0x30): Buffer => {
  const header = Buffer.alloc(8)
  header.writeUInt16BE(MAX_PEER_ID | HEADER_SENT_TIME, 0)
  header.writeUInt16BE(Date.now() & 0xffff, 2)
  header.writeUInt8(CMD.connect | FLAG_ACKNOWLEDGE, 4)
  header.writeUInt8(0xff, 5)
  header.writeUInt16BE(1, 6)
  return Buffer.concat([header, connectBody(0, connectId, channels, connectData)])
}

interface Pending {
  readonly packet: Buffer
  readonly resolve: () => void
  readonly reject: (e: Error) => void
  timer: NodeJS.Timeout | undefined
  rto: number
  tries: number
}

export class EnetClient {
  /** Counted for the tests: what this client saw and did. */
  readonly stats = { acksSent: 0, retransmits: 0, hostPings: 0, fragmentsIgnored: 0, datagramsIgnored: 0 }
  readonly disconnected: Promise<{ readonly data: number; readonly acknowledged: boolean }>

  private readonly socket = dgram.createSocket("udp4")
  private readonly localPeerId = 0
  private readonly connectId = randomInt(0, 2 ** 32)
  private outgoingPeerId = MAX_PEER_ID
  private outgoingSession = 0
  private incomingSession = 0
  private peerSequence = 0 // channel 0xFF
  private unsequencedGroup = 0
  private readonly channelSequence = new Map<number, number>()
  private readonly pending = new Map<string, Pending>()
  private readonly nextIncoming = new Map<number, number>()
  private readonly heldIncoming = new Map<number, Map<number, Buffer>>()
  private readonly inbox: Array<EnetMessage> = []
  private readonly waiters: Array<(m: EnetMessage | undefined) => void> = []
  private state: "connecting" | "connected" | "closed" = "connecting"
  private onVerified: (() => void) | undefined
  private markDisconnected!: (v: { data: number; acknowledged: boolean }) => void

  private constructor(private readonly options: EnetClientOptions) {
    this.disconnected = new Promise((resolve) => {
      this.markDisconnected = resolve
    })
    this.socket.on("message", (msg) => this.onDatagram(msg))
  }

  static async connect(options: EnetClientOptions): Promise<EnetClient> {
    const client = new EnetClient(options)
    await new Promise<void>((resolve, reject) => {
      client.socket.once("error", reject)
      client.socket.bind(0, options.bindAddress ?? "127.0.0.1", () => resolve())
    })
    const verified = new Promise<void>((resolve) => {
      client.onVerified = resolve
    })
    const body = connectBody(client.localPeerId, client.connectId, options.channels ?? 0x30, options.connectData)
    const acked = client.sendReliableCommand(CMD.connect, 0xff, body)
    acked.catch(() => undefined) // the verify connect answers it; its ack never comes
    const timeout = options.timeoutMs ?? 5000
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        verified,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`ENet connect to ${options.host}:${options.port} timed out`)), timeout)
        })
      ])
    } catch (e) {
      client.close()
      throw e
    } finally {
      clearTimeout(timer)
    }
    return client
  }

  /** Reliable: resolves when the host acknowledged it. Unsequenced: once sent. */
  send(channel: number, bytes: Uint8Array, mode: "reliable" | "unsequenced" = "reliable"): Promise<void> {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (mode === "reliable") {
      const length = Buffer.alloc(2)
      length.writeUInt16BE(data.length, 0)
      return this.sendReliableCommand(CMD.sendReliable, channel, Buffer.concat([length, data]))
    }
    this.unsequencedGroup = (this.unsequencedGroup + 1) & 0xffff
    const body = Buffer.alloc(4)
    body.writeUInt16BE(this.unsequencedGroup, 0)
    body.writeUInt16BE(data.length, 2)
    this.transmit(this.command(CMD.sendUnsequenced | FLAG_UNSEQUENCED, channel, 0, Buffer.concat([body, data])))
    return Promise.resolve()
  }

  /** An ENet ping; resolves when acknowledged. */
  ping(): Promise<void> {
    return this.sendReliableCommand(CMD.ping, 0xff, Buffer.alloc(0))
  }

  /** The next message from the host; rejects after `timeoutMs` or when disconnected. */
  receive(timeoutMs = 5000): Promise<EnetMessage> {
    const ready = this.inbox.shift()
    if (ready !== undefined) return Promise.resolve(ready)
    if (this.state === "closed") return Promise.reject(new Error("ENet client is disconnected"))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Error("no ENet message within the time given"))
      }, timeoutMs)
      const waiter = (m: EnetMessage | undefined) => {
        clearTimeout(timer)
        if (m === undefined) reject(new Error("ENet client is disconnected"))
        else resolve(m)
      }
      this.waiters.push(waiter)
    })
  }

  /** A graceful disconnect: waits for the host's acknowledgement (or gives up), then closes. */
  async disconnect(data = 0): Promise<void> {
    if (this.state !== "connected") return this.close()
    const body = Buffer.alloc(4)
    body.writeUInt32BE(data >>> 0, 0)
    try {
      await this.sendReliableCommand(CMD.disconnect, 0xff, body)
    } finally {
      this.finish(0, true)
      this.close()
    }
  }

  /** Raw bytes to the host's port, bypassing the protocol (for garbage tests). */
  sendRaw(bytes: Uint8Array): void {
    this.socket.send(bytes, this.options.port, this.options.host)
  }

  /** Closes the socket without telling the host (a vanished client). */
  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(new Error("ENet client closed"))
    }
    this.pending.clear()
    if (this.state !== "closed") this.finish(0, false)
    try {
      this.socket.close()
    } catch {
      // already closed
    }
  }

  get isConnected(): boolean {
    return this.state === "connected"
  }

  // ---- sending --------------------------------------------------------------------------------

  private command(command: number, channel: number, sequence: number, body: Buffer): Buffer {
    const header = Buffer.alloc(4)
    header.writeUInt8(command, 0)
    header.writeUInt8(channel, 1)
    header.writeUInt16BE(sequence & 0xffff, 2)
    return Buffer.concat([header, body])
  }

  private transmit(commands: Buffer): void {
    const header = Buffer.alloc(4)
    const session = this.outgoingPeerId < MAX_PEER_ID ? this.outgoingSession << 12 : 0
    header.writeUInt16BE(this.outgoingPeerId | session | HEADER_SENT_TIME, 0)
    header.writeUInt16BE(Date.now() & 0xffff, 2)
    if (this.state === "closed") return
    this.socket.send(Buffer.concat([header, commands]), this.options.port, this.options.host)
  }

  private sendReliableCommand(command: number, channel: number, body: Buffer): Promise<void> {
    let sequence: number
    if (channel === 0xff) {
      this.peerSequence = (this.peerSequence + 1) & 0xffff
      sequence = this.peerSequence
    } else {
      sequence = ((this.channelSequence.get(channel) ?? 0) + 1) & 0xffff
      this.channelSequence.set(channel, sequence)
    }
    const packet = this.command(command | FLAG_ACKNOWLEDGE, channel, sequence, body)
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = { packet, resolve, reject, timer: undefined, rto: 100, tries: 0 }
      this.pending.set(`${channel}:${sequence}`, entry)
      const attempt = () => {
        if (entry.tries > 0) this.stats.retransmits++
        entry.tries++
        if (entry.tries > 8) {
          this.pending.delete(`${channel}:${sequence}`)
          reject(new Error(`ENet command ${command} on channel ${channel} was never acknowledged`))
          return
        }
        this.transmit(packet)
        entry.timer = setTimeout(attempt, entry.rto)
        entry.rto = Math.min(entry.rto * 2, 1000)
      }
      attempt()
    })
  }

  private acknowledge(channel: number, sequence: number, sentTime: number): void {
    const body = Buffer.alloc(4)
    body.writeUInt16BE(sequence, 0)
    body.writeUInt16BE(sentTime, 2)
    this.transmit(this.command(CMD.acknowledge, channel, sequence, body))
    this.stats.acksSent++
  }

  // ---- receiving ------------------------------------------------------------------------------

  private onDatagram(msg: Buffer): void {
    if (msg.length < 2) return void this.stats.datagramsIgnored++
    const raw = msg.readUInt16BE(0)
    const hasSentTime = (raw & HEADER_SENT_TIME) !== 0
    if ((raw & 0x4000) !== 0) return void this.stats.datagramsIgnored++ // compressed: never negotiated
    const peerId = raw & MAX_PEER_ID
    const session = (raw >> 12) & 3
    if (peerId !== this.localPeerId) return void this.stats.datagramsIgnored++
    if (this.state === "connected" && session !== this.incomingSession) return void this.stats.datagramsIgnored++
    const headerSize = hasSentTime ? 4 : 2
    if (msg.length < headerSize) return void this.stats.datagramsIgnored++
    const sentTime = hasSentTime ? msg.readUInt16BE(2) : 0
    let at = headerSize
    while (at + 4 <= msg.length) {
      const commandByte = msg.readUInt8(at)
      const number = commandByte & 0x0f
      const channel = msg.readUInt8(at + 1)
      const sequence = msg.readUInt16BE(at + 2)
      const size = COMMAND_SIZE[number]
      if (size === undefined || size === 0 || at + size > msg.length) return
      const body = msg.subarray(at + 4, at + size)
      at += size
      let data: Buffer | undefined
      if (number === CMD.sendReliable || number === CMD.sendUnreliable || number === CMD.sendUnsequenced ||
          number === CMD.sendFragment || number === CMD.sendUnreliableFragment) {
        const length = number === CMD.sendReliable ? body.readUInt16BE(0) : body.readUInt16BE(2)
        if (at + length > msg.length) return
        data = msg.subarray(at, at + length)
        at += length
      }
      const wantsAck = (commandByte & FLAG_ACKNOWLEDGE) !== 0
      if (wantsAck && hasSentTime && number !== CMD.verifyConnect) this.acknowledge(channel, sequence, sentTime)
      switch (number) {
        case CMD.verifyConnect:
          this.onVerifyConnect(body)
          if (this.state === "connected" && hasSentTime) this.acknowledge(channel, sequence, sentTime)
          break
        case CMD.acknowledge: {
          const key = `${channel}:${body.readUInt16BE(0)}`
          const p = this.pending.get(key)
          if (p !== undefined) {
            clearTimeout(p.timer)
            this.pending.delete(key)
            p.resolve()
          }
          break
        }
        case CMD.ping:
          this.stats.hostPings++
          break
        case CMD.disconnect:
          this.finish(body.readUInt32BE(0), wantsAck)
          break
        case CMD.sendReliable:
          if (data !== undefined) this.deliverReliable(channel, sequence, data)
          break
        case CMD.sendUnreliable:
        case CMD.sendUnsequenced:
          if (data !== undefined) this.deliver({ channel, bytes: Buffer.from(data), reliable: false })
          break
        case CMD.sendFragment:
        case CMD.sendUnreliableFragment:
          this.stats.fragmentsIgnored++
          break
        default:
          break // bandwidth limit, throttle configure: acknowledged above, nothing to do
      }
    }
  }

  private onVerifyConnect(body: Buffer): void {
    if (this.state !== "connecting") return
    const echoes =
      body.readUInt32BE(24) === THROTTLE_INTERVAL &&
      body.readUInt32BE(28) === THROTTLE_ACCELERATION &&
      body.readUInt32BE(32) === THROTTLE_DECELERATION &&
      body.readUInt32BE(36) === this.connectId
    if (!echoes) return
    this.outgoingPeerId = body.readUInt16BE(0)
    this.incomingSession = body.readUInt8(2)
    this.outgoingSession = body.readUInt8(3)
    const connect = this.pending.get("255:1")
    if (connect !== undefined) {
      clearTimeout(connect.timer)
      this.pending.delete("255:1")
      connect.resolve()
    }
    this.state = "connected"
    this.onVerified?.()
  }

  private deliverReliable(channel: number, sequence: number, data: Buffer): void {
    const expected = this.nextIncoming.get(channel) ?? 1
    const ahead = (sequence - expected) & 0xffff
    if (ahead >= 0x8000) return // a retransmission of something delivered (acknowledged again above)
    const held = this.heldIncoming.get(channel) ?? new Map<number, Buffer>()
    this.heldIncoming.set(channel, held)
    held.set(sequence, Buffer.from(data))
    let next = expected
    for (let bytes = held.get(next); bytes !== undefined; bytes = held.get(next)) {
      held.delete(next)
      this.deliver({ channel, bytes, reliable: true })
      next = (next + 1) & 0xffff
    }
    this.nextIncoming.set(channel, next)
  }

  private deliver(message: EnetMessage): void {
    const waiter = this.waiters.shift()
    if (waiter !== undefined) waiter(message)
    else this.inbox.push(message)
  }

  private finish(data: number, acknowledged: boolean): void {
    if (this.state === "closed") return
    this.state = "closed"
    this.markDisconnected({ data, acknowledged })
    for (const w of this.waiters.splice(0)) w(undefined)
  }
}
