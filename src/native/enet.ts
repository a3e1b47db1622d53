/**
 * The typed face of the ENet module (`src/native/enet`, built by `npm run build:native`): one
 * ENet host (libenet) serviced on a native thread. The GameStream control stream uses it; it
 * knows nothing of GameStream itself.
 *
 * Events arrive in batches on the JavaScript thread (`onEvents`); every `connect` is followed,
 * sooner or later, by exactly one `disconnect` for the same peer id (also after our own
 * `disconnect(peer, false)`), unless the host is closed first. Peer ids are never reused.
 */
import { addonLoader } from "./addonLoader.js"

export interface EnetHostOptions {
  /** IPv4 address to bind (libenet 1.3 is IPv4 only). */
  readonly bind: string
  /** 0 = ephemeral; read the bound port from `port`. */
  readonly port: number
  /** Peers at once, handshakes included (default 32; one more slot is kept free for eviction). */
  readonly peers?: number
  /** Channels a peer may open (default 0x30, what Moonlight asks for). */
  readonly channels?: number
  /** A peer that acknowledges nothing for this long is disconnected (default 10 000 ms). */
  readonly timeoutMs?: number
  /** Largest packet accepted or sent (default 64 KiB). */
  readonly maxPacket?: number
  /** Peers from one IPv4 address, handshakes included (libenet's `duplicatePeers`; default: no cap). */
  readonly duplicatePeers?: number
  /**
   * A handshake not completed, or a connected peer not marked `authenticated`, this old is
   * dropped (default 0: never). When every slot is taken, the oldest such peer is dropped.
   */
  readonly authTimeoutMs?: number
}

/** Why a peer went: it left or timed out, we disconnected it, or a limit for strangers dropped it. */
export type EnetDisconnectReason = "peer" | "host" | "unauthenticated" | "evicted"

export type EnetEvent =
  | { readonly type: "connect"; readonly peer: number; readonly data: number; readonly address: string; readonly port: number }
  | { readonly type: "receive"; readonly peer: number; readonly channel: number; readonly bytes: Uint8Array }
  | { readonly type: "disconnect"; readonly peer: number; readonly data: number; readonly reason: EnetDisconnectReason }

export interface EnetCounters {
  readonly connects: number
  readonly disconnects: number
  readonly packets_received: number
  /** Received packets dropped because JavaScript had not drained the bounded queue. */
  readonly packets_dropped: number
  readonly packets_sent: number
  /** Sends to an unknown peer or a bad channel, or while the command queue was full. */
  readonly sends_refused: number
  readonly service_errors: number
  /** Connected peers dropped for not authenticating within `authTimeoutMs`. */
  readonly unauthenticated_dropped: number
  /** Handshakes (one CONNECT datagram, never completed) dropped after `authTimeoutMs`. */
  readonly handshakes_dropped: number
  /** Unauthenticated peers or handshakes dropped because every slot was taken (oldest first). */
  readonly evicted: number
  /** Connected peers and handshakes in progress at the end of the service thread's last turn. */
  readonly peers_connected: number
  readonly peers_handshaking: number
}

export interface EnetHost {
  readonly port: number
  /** Queues a packet (reliable, or unsequenced); false when it could not be queued. */
  send(peer: number, channel: number, bytes: Uint8Array, reliable: boolean): boolean
  /** `later`: once what is queued for the peer has been acknowledged; else at once. */
  disconnect(peer: number, later: boolean): boolean
  /** The peer proved itself: `authTimeoutMs` and eviction no longer apply to it. */
  authenticated(peer: number): boolean
  counters(): EnetCounters
  /** Joins the service thread and frees the host (peers get a disconnect datagram). Idempotent. */
  close(): void
}

interface EnetModule {
  readonly EnetHost: new (options: EnetHostOptions, onEvents: (batch: ReadonlyArray<EnetEvent>) => void) => EnetHost
}

/** The ENet module; throws with the command to run when it has not been built. */
export const enet: () => EnetModule = addonLoader<EnetModule>("enet", "punktfunk_enet", "the ENet module").load
