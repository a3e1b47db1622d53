/**
 * Limits on one TCP listener (management HTTP, nvhttp HTTP and HTTPS, RTSP, punktfunk/1 control):
 * a total cap, a per-address cap, a header timeout and an idle timeout. A plain helper driven by
 * socket events; every listener hooks its server with `guard` and tells the limiter when a
 * connection has sent its head and when it has proven who it is.
 *
 * Why the oldest UNAUTHENTICATED connection goes when the listener is full, rather than refusing
 * the newcomer (what `server.maxConnections` does): an attacker who opens connections and sends
 * nothing would otherwise keep every real client out for as long as it likes. Evicting the oldest
 * connection that has not proven anything means a real client's connection — which sends its head
 * at once and is then authenticated (or, where a listener says so, "a request in progress") —
 * only has to outlive a burst of newer attacker connections, never wait for the attacker to
 * stop. What "authenticated" means is each listener's call (`authenticate()`); when every
 * connection is authenticated, the newcomer is refused.
 *
 * Why the per-address cap uses the socket's address and nothing else: a forwarded header is
 * whatever the client writes; one attacker could claim a fresh address per connection.
 *
 * Why timers are one sweep per listener instead of one per connection: under attack there are
 * hundreds of connections; one interval that runs while connections exist (and is unref'd, so it
 * never keeps the process alive) checks the head deadline and the idle time of each. Activity is
 * the socket's byte counters (read + written), which Node keeps on the TCP socket even when TLS
 * or the HTTP parser consumes its data, so the same check works for every listener.
 *
 * Long-lived streams (live events, a pairing's wait for the operator's PIN) call `holdOpen()`:
 * they are exempt from the idle timeout and from eviction, and their number is capped per
 * listener (`maxStreams`), so they cannot be used to fill the host either.
 */
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as tls from "node:tls"

export interface ListenerLimits {
  /** Open connections on this listener at once. */
  readonly maxConnections: number
  /** Open connections from one address on this listener at once. */
  readonly maxPerAddress: number
  /** From accept until the head is in: the TLS handshake (if any) and the first request or message. */
  readonly headerTimeoutMs: number
  /** A connection with no byte in either direction for this long is closed (streams are exempt). */
  readonly idleTimeoutMs: number
  /** Long-lived streams at once; undefined: only the connection caps bound them. */
  readonly maxStreams?: number
}

export const DEFAULT_LIMITS: ListenerLimits = {
  maxConnections: 128,
  maxPerAddress: 16,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 30_000
}

export interface ConnectionCounters {
  /** Connections open right now. */
  readonly open: number
  /** Of those, authenticated (never evicted). */
  readonly authenticated: number
  /** Of those, long-lived streams (no idle timeout). */
  readonly streams: number
  /** Of those, still sending their head (what an attacker can hold). */
  readonly in_head: number
  /** Bytes received so far by the connections still in their head: what they make the host hold. */
  readonly in_head_bytes: number
  /** Totals since the listener started. */
  readonly accepted: number
  readonly refused_per_address: number
  readonly refused_full: number
  readonly evicted: number
  readonly header_timeouts: number
  readonly idle_timeouts: number
  readonly streams_refused: number
}

/** What a listener tells the limiter about one of its connections. */
export interface TrackedConnection {
  /** The socket's address (IPv4-mapped IPv6 unwrapped): what the per-address cap counts. */
  readonly address: string
  readonly authenticated: boolean
  /** The head (handshake and first request or message) is in: the header timeout stops. */
  readonly headerDone: () => void
  /** The connection proved itself (the listener's definition): never evicted for a newcomer. */
  readonly authenticate: () => void
  /**
   * A long-lived stream begins on this connection (authenticates it too): no idle timeout until
   * it closes. False when the listener already holds `maxStreams` of them: refuse the stream.
   */
  readonly holdOpen: () => boolean
}

export interface LimiterOptions {
  /** What a connection that missed the header timeout gets before it is closed; default: closed. */
  readonly onHeaderTimeout?: (socket: net.Socket) => void
  /** A summary line when connections were refused, evicted or timed out (at most one per 10 s). */
  readonly onReport?: (line: string) => void
}

export interface ConnectionLimiter {
  readonly name: string
  readonly limits: ListenerLimits
  /** Hooks the server's `connection` (and `secureConnection`) events; returns the server. */
  readonly guard: <S extends net.Server>(server: S) => S
  /** The tracked connection of a socket accepted by this listener (TCP or its TLS socket). */
  readonly connectionOf: (socket: net.Socket) => TrackedConnection | undefined
  readonly counters: () => ConnectionCounters
}

const REPORT_EVERY_MS = 10_000

export const unmappedAddress = (address: string | undefined): string => (address ?? "").replace(/^::ffff:/, "")

/**
 * Any guarded socket (TCP or TLS) → its tracked connection, for code that has a request's socket
 * but not the listener (the management API's bearer check and its live events). A WeakMap keyed
 * by the socket object: entries go with their sockets.
 */
const trackedSockets = new WeakMap<net.Socket, TrackedConnection>()

export const trackedConnection = (socket: net.Socket | undefined): TrackedConnection | undefined =>
  socket === undefined ? undefined : trackedSockets.get(socket)

interface Entry extends TrackedConnection {
  readonly socket: net.Socket
  readonly since: number
  inHead: boolean
  isAuthenticated: boolean
  stream: boolean
  lastBytes: number
  lastActive: number
  secure: net.Socket | undefined
}

export const makeConnectionLimiter = (name: string, limits: ListenerLimits, options: LimiterOptions = {}): ConnectionLimiter => {
  // Insertion order is age: the first unauthenticated entry found is the oldest.
  const entries = new Map<net.Socket, Entry>()
  const byPeer = new Map<string, Entry>()
  const perAddress = new Map<string, number>()
  const totals = {
    accepted: 0,
    refused_per_address: 0,
    refused_full: 0,
    evicted: 0,
    header_timeouts: 0,
    idle_timeouts: 0,
    streams_refused: 0
  }
  let streams = 0
  const unreported = { refused: 0, evicted: 0, header_timeouts: 0, idle_timeouts: 0, streams_refused: 0 }
  let reportTimer: ReturnType<typeof setTimeout> | undefined
  let sweepTimer: ReturnType<typeof setInterval> | undefined
  const sweepEveryMs = Math.max(25, Math.min(1_000, Math.floor(Math.min(limits.headerTimeoutMs, limits.idleTimeoutMs) / 4)))

  const noteForReport = (what: keyof typeof unreported) => {
    unreported[what]++
    if (options.onReport === undefined || reportTimer !== undefined) return
    reportTimer = setTimeout(() => {
      reportTimer = undefined
      const parts = [
        unreported.refused > 0 ? `${unreported.refused} refused (listener or address full)` : "",
        unreported.evicted > 0 ? `${unreported.evicted} evicted (oldest unauthenticated)` : "",
        unreported.header_timeouts > 0 ? `${unreported.header_timeouts} cut by the header timeout` : "",
        unreported.idle_timeouts > 0 ? `${unreported.idle_timeouts} cut by the idle timeout` : "",
        unreported.streams_refused > 0 ? `${unreported.streams_refused} streams refused (cap ${limits.maxStreams ?? "-"})` : ""
      ].filter((p) => p !== "")
      for (const k of Object.keys(unreported) as Array<keyof typeof unreported>) unreported[k] = 0
      options.onReport?.(`${name} connections in the last ${REPORT_EVERY_MS / 1000} s: ${parts.join(", ")}`)
    }, REPORT_EVERY_MS)
    reportTimer.unref()
  }

  const bytesOf = (socket: net.Socket) => socket.bytesRead + socket.bytesWritten

  const close = (entry: Entry) => {
    entry.secure?.destroy()
    entry.socket.destroy()
  }

  const sweep = () => {
    const now = Date.now()
    for (const entry of entries.values()) {
      const bytes = bytesOf(entry.socket)
      if (bytes !== entry.lastBytes) {
        entry.lastBytes = bytes
        entry.lastActive = now
      }
      if (entry.inHead && now - entry.since >= limits.headerTimeoutMs) {
        entry.inHead = false
        totals.header_timeouts++
        noteForReport("header_timeouts")
        if (options.onHeaderTimeout === undefined) close(entry)
        else options.onHeaderTimeout(entry.secure ?? entry.socket)
      } else if (!entry.stream && now - entry.lastActive >= limits.idleTimeoutMs) {
        totals.idle_timeouts++
        noteForReport("idle_timeouts")
        close(entry)
      }
    }
  }

  const forget = (entry: Entry) => {
    if (entries.get(entry.socket) !== entry) return
    entries.delete(entry.socket)
    byPeer.delete(peerKey(entry.socket))
    if (entry.stream) streams--
    const n = (perAddress.get(entry.address) ?? 1) - 1
    if (n <= 0) perAddress.delete(entry.address)
    else perAddress.set(entry.address, n)
    if (entries.size === 0 && sweepTimer !== undefined) {
      clearInterval(sweepTimer)
      sweepTimer = undefined
    }
  }

  const peerKey = (socket: net.Socket) => `${socket.remoteAddress ?? ""}|${socket.remotePort ?? 0}`

  const oldestUnauthenticated = (): Entry | undefined => {
    for (const entry of entries.values()) if (!entry.isAuthenticated) return entry
    return undefined
  }

  const admit = (socket: net.Socket) => {
    // A reset before we look is the peer's business; it must never reach the process.
    socket.on("error", () => socket.destroy())
    const address = unmappedAddress(socket.remoteAddress)
    if ((perAddress.get(address) ?? 0) >= limits.maxPerAddress) {
      totals.refused_per_address++
      noteForReport("refused")
      return void socket.destroy()
    }
    if (entries.size >= limits.maxConnections) {
      const victim = oldestUnauthenticated()
      if (victim === undefined) {
        totals.refused_full++
        noteForReport("refused")
        return void socket.destroy()
      }
      totals.evicted++
      noteForReport("evicted")
      forget(victim)
      close(victim)
    }
    const now = Date.now()
    const entry: Entry = {
      socket,
      address,
      since: now,
      inHead: true,
      isAuthenticated: false,
      stream: false,
      lastBytes: bytesOf(socket),
      lastActive: now,
      secure: undefined,
      get authenticated() {
        return entry.isAuthenticated
      },
      headerDone: () => void (entry.inHead = false),
      authenticate: () => {
        entry.inHead = false
        entry.isAuthenticated = true
      },
      holdOpen: () => {
        if (entry.stream) return true
        if (limits.maxStreams !== undefined && streams >= limits.maxStreams) {
          totals.streams_refused++
          noteForReport("streams_refused")
          return false
        }
        entry.authenticate()
        entry.stream = true
        streams++
        return true
      }
    }
    totals.accepted++
    entries.set(socket, entry)
    byPeer.set(peerKey(socket), entry)
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1)
    trackedSockets.set(socket, entry)
    socket.once("close", () => forget(entry))
    if (sweepTimer === undefined) {
      sweepTimer = setInterval(sweep, sweepEveryMs)
      sweepTimer.unref()
    }
  }

  /** A TLS socket is a second object over the same TCP connection: link it to the entry. */
  const link = (secure: net.Socket) => {
    const entry = byPeer.get(peerKey(secure))
    if (entry === undefined) return void secure.destroy()
    entry.secure = secure
    trackedSockets.set(secure, entry)
  }

  return {
    name,
    limits,
    guard: (server) => {
      // The head of later requests on a kept-alive HTTP connection: Node's own timers (checked on
      // its `connectionsCheckingInterval`); the first request's head is ours, above.
      if (server instanceof http.Server || server instanceof https.Server) {
        server.headersTimeout = limits.headerTimeoutMs
        server.requestTimeout = limits.headerTimeoutMs
        // An HTTP request's head is in when Node hands the request over.
        server.on("request", (req: http.IncomingMessage) => trackedSockets.get(req.socket)?.headerDone())
      }
      server.on("connection", admit)
      if (server instanceof tls.Server) server.on("secureConnection", link)
      return server
    },
    connectionOf: (socket) => trackedSockets.get(socket) ?? byPeer.get(peerKey(socket)),
    counters: () => {
      let authenticated = 0
      let inHead = 0
      let inHeadBytes = 0
      for (const entry of entries.values()) {
        if (entry.isAuthenticated) authenticated++
        if (entry.inHead) {
          inHead++
          inHeadBytes += entry.socket.bytesRead
        }
      }
      return { ...totals, open: entries.size, authenticated, streams, in_head: inHead, in_head_bytes: inHeadBytes }
    }
  }
}
