/**
 * The typed face of the ENet module (`src/native/enet`, built by `npm run build:native`): one
 * ENet host (libenet) serviced on a native thread. The GameStream control stream uses it; it
 * knows nothing of GameStream itself.
 *
 * Events arrive in batches on the JavaScript thread (`onEvents`); every `connect` is followed,
 * sooner or later, by exactly one `disconnect` for the same peer id (also after our own
 * `disconnect(peer, false)`), unless the host is closed first. Peer ids are never reused.
 */
import { createRequire } from "node:module"
import { addonPath } from "./addonPath.js"

export interface EnetHostOptions {
  /** IPv4 address to bind (libenet 1.3 is IPv4 only). */
  readonly bind: string
  /** 0 = ephemeral; read the bound port from `port`. */
  readonly port: number
  /** Peer slots (default 32). */
  readonly peers?: number
  /** Channels a peer may open (default 0x30, what Moonlight asks for). */
  readonly channels?: number
  /** A peer that acknowledges nothing for this long is disconnected (default 10 000 ms). */
  readonly timeoutMs?: number
  /** Largest packet accepted or sent (default 64 KiB). */
  readonly maxPacket?: number
}

export type EnetEvent =
  | { readonly type: "connect"; readonly peer: number; readonly data: number; readonly address: string; readonly port: number }
  | { readonly type: "receive"; readonly peer: number; readonly channel: number; readonly bytes: Uint8Array }
  | { readonly type: "disconnect"; readonly peer: number; readonly data: number }

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
}

export interface EnetHost {
  readonly port: number
  /** Queues a packet (reliable, or unsequenced); false when it could not be queued. */
  send(peer: number, channel: number, bytes: Uint8Array, reliable: boolean): boolean
  /** `later`: once what is queued for the peer has been acknowledged; else at once. */
  disconnect(peer: number, later: boolean): boolean
  counters(): EnetCounters
  /** Joins the service thread and frees the host (peers get a disconnect datagram). Idempotent. */
  close(): void
}

interface EnetModule {
  readonly EnetHost: new (options: EnetHostOptions, onEvents: (batch: ReadonlyArray<EnetEvent>) => void) => EnetHost
}

const modulePath = addonPath("enet", "punktfunk_enet")

let loaded: EnetModule | undefined

/** The ENet module; throws with the command to run when it has not been built. */
export const enet = (): EnetModule => {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)(modulePath) as EnetModule
    } catch (e) {
      throw new Error(`the ENet module is not built (${modulePath}): run 'npm run build:native' (${e instanceof Error ? e.message : String(e)})`)
    }
  }
  return loaded
}
