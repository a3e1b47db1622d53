/**
 * The GameStream control stream: one ENet host (UDP, default 47999) shared by every session,
 * each session's messages sealed with its launch's `rikey` (ControlCrypto.ts) and decoded by
 * ControlMessages.ts. It turns a client's IDR requests and loss reports into calls on the
 * session's handlers, and sends the host's termination.
 *
 * Which peer is which session: `expect(settings, …)` registers a session before its client
 * connects (RTSP PLAY). A Moonlight client with the session-id feature (`x-ml-general`
 * featureFlags bit 0x02) puts `X-SS-Connect-Data` in its ENet connect; without it, the peer is
 * matched by its address, as Sunshine does. A client connects as soon as RTSP PLAY is answered,
 * possibly before its session is registered: a peer no session expects is held (with up to 16
 * of its messages) for `unmatchedGraceMs` (3 s) and adopted by a matching `expect` in that
 * time; after it, or beyond 16 such peers, it is refused (disconnected) and counted. A session
 * is not waited for forever here: the caller closes its scope when the client never comes.
 *
 * Limits before authentication (enforced on the ENet thread, src/native/enet): at most
 * `maxPeers` peers at once, handshakes included, and `peersPerAddress` from one address; a peer
 * (or a half-done handshake) that has not authenticated within `authTimeoutMs` is dropped, and
 * when every slot is taken the oldest unauthenticated one makes room — a flood of strangers only
 * displaces strangers. Such drops count as `refused`.
 *
 * A peer is "authenticated" once one of its messages opened with the session's key. Until
 * then, anything wrong (wrong key, garbage, an unencrypted message) drops the peer and puts the
 * session back to waiting, and a newer matching peer replaces it, so a stranger who learned the
 * connect data (it travels in clear over RTSP) cannot take the real client's place. After that,
 * a malformed message is counted and ignored; a message that fails authentication drops the peer and ends the session (as Sunshine
 * does). One session's trouble never touches another: each has its own mailbox fiber, so a slow
 * handler delays only its own session.
 *
 * Replays: a message that opens is only acted on if its sequence number passes the session's
 * anti-replay window (ReplayWindow.ts): a number seen before, or too far behind the highest, is
 * dropped and counted in `replayed` — it never reaches input or a handler. Before the peer
 * authenticated, a replay also drops the peer (replaying proves nothing about holding the key).
 * The window, like the host's own message counter, belongs to the session's KEY, not to an ENet
 * peer or an `expect`: a replay wrapped in a fresh ENet connection, or sent to a new `expect` of
 * the same launch (a repeated RTSP PLAY), meets the same window; and the host never seals two
 * messages under one key with one number (a repeated AES-GCM nonce). With the legacy IV the
 * number in the envelope is not authenticated (only its low byte is in the IV), so the window
 * can be sidestepped by rewriting it in steps of 256: one more reason that IV is refused unless
 * the operator allows it (RtspServer.ts).
 *
 * Handlers: `requestIdr` for an IDR request (also the client's first message) or a reference
 * frame invalidation (we answer those with an IDR); `lossReport(n)` with a DELTA — packets lost
 * since the previous report (loss stats) or in one FEC block (a Sunshine-extension FEC status)
 * — called only when n > 0; sum them for a total. `ended(reason)` at most once, when the CLIENT
 * side ends an established session: ENet disconnect (a Moonlight client leaving), ENet timeout
 * (libenet 1.3 reports both the same way), or an authentication failure. The host's own
 * `terminate` and the closing of the session's scope do not call `ended`. `input` (optional)
 * gets the client's input events in order, called directly on the control stream's event fiber
 * (never through the mailbox, which may shed its oldest actions, and a lost key release would
 * leave a key stuck): it must only queue, never wait.
 */
import { Data, Duration, Effect, Either, Queue, Scope } from "effect"
import { enet } from "../../native/enet.js"
import type { EnetCounters, EnetEvent, EnetHost } from "../../native/enet.js"
import { ENCRYPTED_TYPE, controlEncryptionOf, envelopeSeq, openControl, sealControl } from "./ControlCrypto.js"
import type { ControlEncryption } from "./ControlCrypto.js"
import { ControlType, ML_FF_SESSION_ID_V1, decodeControlMessage, encodeTermination } from "./ControlMessages.js"
import type { ControlMessage } from "./ControlMessages.js"
import { ReplayWindow } from "./ReplayWindow.js"
import type { InputEvent } from "./InputMessages.js"
import type { StreamSettings } from "./StreamSettings.js"

export class ControlListenError extends Data.TaggedError("ControlListenError")<{
  readonly bind: string
  readonly port: number
  readonly message: string
}> {}

/** Where a session's input goes; called in order on the control stream's event fiber: must not block. */
export interface InputHandler {
  readonly event: (event: InputEvent) => void
  /** An input message that could not be decoded (also counted in `malformed`). */
  readonly malformed: (reason: string) => void
}

export interface ControlHandlers {
  /** IDR request or reference-frame invalidation. */
  readonly requestIdr: Effect.Effect<void>
  /** Packets lost since the previous report (a delta, > 0). */
  readonly lossReport: (lostPackets: number) => Effect.Effect<void>
  /**
   * Data packets the client rebuilt from parity (from its per-block FEC status: a block it could
   * complete with fewer data packets than it was sent). Optional: only clients that send FEC
   * status (Moonlight's `ML_FF_FEC_STATUS`) report it.
   */
  readonly fecRecovered?: (packets: number) => Effect.Effect<void>
  /**
   * The session's client proved it holds the key (its first message opened): from here on the
   * stream has a client. Lets the caller give up on a client that never comes.
   */
  readonly authenticated?: Effect.Effect<void>
  /** The client's input events (mouse, keyboard, text, gamepad…); without it they are ignored. */
  readonly input?: InputHandler
  /** The client disconnected, timed out, or failed authentication (once per session). */
  readonly ended: (reason: string) => Effect.Effect<void>
}

export interface ControlSession {
  /** Host → client termination (graceful), then an ENet disconnect once it is acknowledged. */
  readonly terminate: (reason: string) => Effect.Effect<void>
}

export interface ControlCounters {
  /** Messages that could not be opened or decoded (each counted once). */
  readonly malformed: number
  /**
   * Peers refused: no session adopted them within the grace (unknown connect data, a duplicate),
   * too many waiting, or dropped before they authenticated (wrong key, junk, superseded).
   */
  readonly refused: number
  /** Peers accepted for a session. */
  readonly connected: number
  /**
   * Authentic messages dropped because their sequence number was accepted before or fell behind
   * the replay window: a replay (or a client reusing its key), never acted on.
   */
  readonly replayed: number
}

export interface ControlStream {
  readonly port: number
  readonly expect: (settings: StreamSettings, handlers: ControlHandlers) => Effect.Effect<ControlSession, never, Scope.Scope>
  readonly counters: Effect.Effect<ControlCounters>
  /** The ENet host's own counters: peers and handshakes now, what the limits dropped. */
  readonly enet: Effect.Effect<EnetCounters>
}

/**
 * Largest envelope we open. A Moonlight client seals at most 256 bytes of plaintext per message
 * (its staging buffer), so 1 KiB leaves room and refuses anything built to make us work.
 */
export const MAX_CONTROL_MESSAGE = 1024
/** ENet channel the host's own messages go on (CTRL_CHANNEL_GENERIC). */
const GENERIC_CHANNEL = 0
/** Actions a session may have waiting for its handlers; past it the oldest go (IDR requests coalesce anyway). */
const MAILBOX = 256

/** What belongs to a key rather than to a peer or a session: see "Replays" above. */
interface KeyState {
  readonly window: ReplayWindow
  /** The number the host seals its next message with. */
  hostSeq: number
  /** Sessions using the key now; a key in use is never forgotten. */
  users: number
}

/**
 * Keys remembered after their sessions ended, so a later session of the same launch meets the
 * same window. Each key comes from a launch, and only the current launch can be played again, so
 * the keys forgotten first (least recently used, not in use) belong to launches long replaced.
 */
const MAX_IDLE_KEYS = 64

interface Entry {
  readonly settings: StreamSettings
  readonly key: Buffer
  readonly mode: ControlEncryption
  readonly mailbox: Queue.Queue<Effect.Effect<void>>
  readonly handlers: ControlHandlers
  readonly keyState: KeyState
  peer: number | undefined
  authenticated: boolean
  /** The first replay of a session is logged; the rest are only counted. */
  replayLogged: boolean
  done: boolean
}

/**
 * Limits for peers that have not authenticated (see the header). 64 peers: one Moonlight client
 * holds one, so this is room for many clients and their reconnects. 4 per address: a client's
 * new connection while its old one is still closing, with room to spare, but not a table's worth
 * from one machine. 5 s to authenticate: Moonlight sends its first sealed message right after
 * the ENet handshake, and a peer waiting for its session (`unmatchedGraceMs`, 3 s) must fit.
 */
export const DEFAULT_CONTROL_PEERS = 64
export const DEFAULT_CONTROL_PEERS_PER_ADDRESS = 4
export const DEFAULT_CONTROL_AUTH_TIMEOUT_MS = 5000

/** At most one warning about refused strangers this often (the rest go to debug and the counter). */
const REFUSAL_LOG_MS = 10_000

/** Peers held for a session not registered yet, and the messages held for each. */
const MAX_UNMATCHED = 16
const MAX_HELD = 16

type ConnectEvent = Extract<EnetEvent, { type: "connect" }>
type ReceiveEvent = Extract<EnetEvent, { type: "receive" }>

const plainAddress = (address: string) => (address.startsWith("::ffff:") ? address.slice(7) : address)

export const makeControlStream = (options: {
  readonly bind: string
  readonly port: number
  /** ENet peer timeout (default 10 s, as Moonlight's own). */
  readonly timeoutMs?: number
  /** How long a peer no session expects yet is held before it is refused (default 3 s). */
  readonly unmatchedGraceMs?: number
  /** Peers at once, handshakes included (default 64). */
  readonly maxPeers?: number
  /** Peers from one IPv4 address (default 4). */
  readonly peersPerAddress?: number
  /** A peer that has not authenticated by then is dropped (default 5 s). */
  readonly authTimeoutMs?: number
}): Effect.Effect<ControlStream, ControlListenError, Scope.Scope> =>
  Effect.gen(function* () {
    const inbox = yield* Queue.unbounded<ReadonlyArray<EnetEvent>>() // bounded on the native side
    const host: EnetHost = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          new (enet().EnetHost)(
            {
              bind: options.bind,
              port: options.port,
              peers: options.maxPeers ?? DEFAULT_CONTROL_PEERS,
              duplicatePeers: options.peersPerAddress ?? DEFAULT_CONTROL_PEERS_PER_ADDRESS,
              authTimeoutMs: options.authTimeoutMs ?? DEFAULT_CONTROL_AUTH_TIMEOUT_MS,
              channels: 0x30,
              timeoutMs: options.timeoutMs ?? 10_000,
              maxPacket: 64 * 1024
            },
            (batch) => {
              Queue.unsafeOffer(inbox, batch)
            }
          ),
        catch: (e) =>
          new ControlListenError({ bind: options.bind, port: options.port, message: e instanceof Error ? e.message : String(e) })
      }),
      (h) => Effect.sync(() => h.close())
    )

    const streamScope = yield* Effect.scope
    const unmatchedGrace = Duration.millis(options.unmatchedGraceMs ?? 3000)
    const waiting: Array<Entry> = []
    const unmatched = new Map<number, { readonly event: ConnectEvent; readonly held: Array<ReceiveEvent> }>()
    const byPeer = new Map<number, Entry>()
    const counts = { malformed: 0, refused: 0, connected: 0, replayed: 0 }
    // Insertion order is recency: a key is deleted and set again when a session takes it.
    const keys = new Map<string, KeyState>()

    const takeKey = (keyHex: string): KeyState => {
      const id = keyHex.toLowerCase()
      const known = keys.get(id)
      const state = known ?? { window: new ReplayWindow(), hostSeq: 0, users: 0 }
      keys.delete(id)
      keys.set(id, state)
      state.users++
      let idle = [...keys.values()].filter((k) => k.users === 0).length
      for (const [other, k] of keys) {
        if (idle <= MAX_IDLE_KEYS) break
        if (k.users === 0) {
          keys.delete(other)
          idle--
        }
      }
      return state
    }

    // Refusals of strangers are worth the operator's eye, but a flood of them must not flood the
    // log: one warning per REFUSAL_LOG_MS, the rest at debug level and in the `refused` counter.
    let refusalLoggedAt = Number.NEGATIVE_INFINITY
    let refusalsQuiet = 0
    const logRefusal = (line: string) =>
      Effect.suspend(() => {
        const now = Date.now()
        if (now - refusalLoggedAt < REFUSAL_LOG_MS) {
          refusalsQuiet++
          return Effect.logDebug(line)
        }
        refusalLoggedAt = now
        const quiet = refusalsQuiet > 0 ? ` (and ${refusalsQuiet} more refusals since the last such line)` : ""
        refusalsQuiet = 0
        return Effect.logWarning(`${line}${quiet}`)
      })

    const deliver = (entry: Entry, action: Effect.Effect<void>) => {
      Queue.unsafeOffer(entry.mailbox, action)
    }

    const sendSealed = (entry: Entry, inner: Uint8Array): boolean => {
      if (entry.peer === undefined) return false
      const packet = sealControl(entry.key, entry.mode, "host", entry.keyState.hostSeq, inner)
      entry.keyState.hostSeq = (entry.keyState.hostSeq + 1) >>> 0
      return host.send(entry.peer, GENERIC_CHANNEL, packet, true)
    }

    /** Drops an entry's peer; before authentication the session goes back to waiting. */
    const dropPeer = (entry: Entry, why: string) =>
      Effect.gen(function* () {
        const peer = entry.peer
        if (peer === undefined) return
        byPeer.delete(peer)
        entry.peer = undefined
        host.disconnect(peer, false)
        if (!entry.authenticated) {
          counts.refused++
          if (!entry.done) waiting.push(entry)
          yield* logRefusal(`GameStream control: dropped peer ${peer} before it authenticated (${why})`)
        } else if (!entry.done) {
          entry.done = true
          deliver(entry, entry.handlers.ended(why))
          yield* Effect.logWarning(`GameStream control: session ended (${why})`)
        }
      })

    const act = (entry: Entry, message: ControlMessage) => {
      switch (message._tag) {
        case "RequestIdr":
        case "InvalidateReferenceFrames":
          deliver(entry, entry.handlers.requestIdr)
          break
        case "LossStats":
          if (message.lostPackets > 0) deliver(entry, entry.handlers.lossReport(message.lostPackets))
          break
        case "FrameFecStatus": {
          if (message.missingPackets > 0) deliver(entry, entry.handlers.lossReport(message.missingPackets))
          // Moonlight reports a block when it had to repair it or gave it up. Repaired: enough
          // packets arrived, and the data packets that did not are what parity won back.
          const arrived = message.receivedData + message.receivedParity
          const repaired = arrived >= message.dataShards ? message.dataShards - message.receivedData : 0
          const onRepaired = entry.handlers.fecRecovered
          if (repaired > 0 && onRepaired !== undefined) deliver(entry, onRepaired(repaired))
          break
        }
        case "Input":
          entry.handlers.input?.event(message.event)
          break
        case "PeriodicPing":
        case "StartB":
        case "Ignored":
        case "Unknown":
          break
      }
    }

    const matcher = (event: ConnectEvent) => (s: StreamSettings) =>
      (s.mlFeatureFlags & ML_FF_SESSION_ID_V1) !== 0
        ? s.connectData >>> 0 === event.data >>> 0
        : plainAddress(s.clientAddress) === plainAddress(event.address)

    const refuse = (event: ConnectEvent, why: string) =>
      Effect.suspend(() => {
        counts.refused++
        host.disconnect(event.peer, false)
        return logRefusal(
          `GameStream control: refused ${event.address}:${event.port} (connect data 0x${(event.data >>> 0).toString(16)}: ${why})`
        )
      })

    const attach = (entry: Entry, event: ConnectEvent) =>
      Effect.suspend(() => {
        const at = waiting.indexOf(entry)
        if (at >= 0) waiting.splice(at, 1)
        entry.peer = event.peer
        entry.authenticated = false
        byPeer.set(event.peer, entry)
        counts.connected++
        return Effect.logInfo(`GameStream control: ${event.address}:${event.port} connected`)
      })

    const onConnect = (event: ConnectEvent) =>
      Effect.gen(function* () {
        const matches = matcher(event)
        // A peer that has not yet authenticated does not keep its session from the next peer
        // that matches: a stranger who connected first and stays silent cannot lock the real
        // client out (Moonlight authenticates with its first message, right after connecting).
        for (const held of [...byPeer.values()]) {
          if (!held.done && !held.authenticated && matches(held.settings)) {
            yield* dropPeer(held, "superseded by a new connection before it authenticated")
          }
        }
        // The newest registration wins when two wait for the same client.
        const entry = [...waiting].reverse().find((e) => matches(e.settings))
        if (entry !== undefined) return yield* attach(entry, event)
        // No session yet: the client may have been quicker than the session's registration
        // (it connects as soon as RTSP PLAY is answered). Hold it, and what it sends, a moment.
        if (unmatched.size >= MAX_UNMATCHED) return yield* refuse(event, "too many peers waiting for a session")
        unmatched.set(event.peer, { event, held: [] })
        yield* Effect.sleep(unmatchedGrace).pipe(
          Effect.zipRight(
            Effect.suspend(() => {
              if (!unmatched.delete(event.peer)) return Effect.void
              return refuse(event, "expected by no session")
            })
          ),
          Effect.forkIn(streamScope)
        )
      })

    /** A session just registered: adopt the newest held peer that matches it, replaying what it sent. */
    const adopt = (entry: Entry) =>
      Effect.gen(function* () {
        while (waiting.includes(entry)) {
          const candidate = [...unmatched.values()].reverse().find((u) => matcher(u.event)(entry.settings))
          if (candidate === undefined) return
          unmatched.delete(candidate.event.peer)
          yield* attach(entry, candidate.event)
          for (const r of candidate.held) yield* onReceive(r)
        }
      })

    /** An authentic-looking message whose number the window refuses: counted, never acted on. */
    const replayed = (entry: Entry, seq: number, verdict: "replayed" | "too-old" | "fresh") =>
      Effect.gen(function* () {
        counts.replayed++
        const what = verdict === "too-old" ? "older than the replay window" : "already accepted"
        if (!entry.authenticated) return yield* dropPeer(entry, `replayed message (sequence number ${seq} ${what})`)
        if (entry.replayLogged) return
        entry.replayLogged = true
        yield* Effect.logWarning(
          `GameStream control: dropped a replayed message (sequence number ${seq} ${what}); further ones this session are only counted`
        )
      })

    const onReceive = (event: ReceiveEvent): Effect.Effect<void> =>
      Effect.gen(function* () {
        const entry = byPeer.get(event.peer)
        const waitingPeer = unmatched.get(event.peer)
        if (waitingPeer !== undefined) {
          if (waitingPeer.held.length < MAX_HELD) return void waitingPeer.held.push(event)
          unmatched.delete(event.peer)
          return yield* refuse(waitingPeer.event, "sent too much before any session expected it")
        }
        if (entry === undefined || entry.done) return
        const bytes = event.bytes
        const problem =
          bytes.length > MAX_CONTROL_MESSAGE
            ? `oversized message (${bytes.length} bytes)`
            : bytes.length < 2 || (bytes[0]! | (bytes[1]! << 8)) !== ENCRYPTED_TYPE
              ? "unencrypted message on an encrypted control stream"
              : undefined
        if (problem !== undefined) {
          counts.malformed++
          if (!entry.authenticated) yield* dropPeer(entry, problem)
          return
        }
        // Checked before the AES work (a flood of replays costs a bitmap lookup each), and the
        // window moves only after the message authenticated (see ReplayWindow.ts).
        const framed = envelopeSeq(bytes)
        if (Either.isRight(framed)) {
          const verdict = entry.keyState.window.check(framed.right)
          if (verdict !== "fresh") return yield* replayed(entry, framed.right, verdict)
        }
        const opened = openControl(entry.key, entry.mode, "client", bytes)
        if (Either.isLeft(opened)) {
          counts.malformed++
          const error = opened.left
          if (error._tag === "ControlAuthFailed") {
            yield* dropPeer(entry, "control message failed authentication")
          } else if (!entry.authenticated) {
            yield* dropPeer(entry, error.reason)
          }
          return
        }
        const seq = opened.right.seq
        if (!entry.keyState.window.accept(seq)) return yield* replayed(entry, seq, entry.keyState.window.check(seq))
        if (!entry.authenticated) {
          entry.authenticated = true
          if (entry.peer !== undefined) host.authenticated(entry.peer)
          const onAuthenticated = entry.handlers.authenticated
          if (onAuthenticated !== undefined) deliver(entry, onAuthenticated)
        }
        const decoded = decodeControlMessage(opened.right.inner)
        if (Either.isLeft(decoded)) {
          counts.malformed++
          if (decoded.left.type === ControlType.inputData) entry.handlers.input?.malformed(decoded.left.reason)
          yield* Effect.logDebug(`GameStream control: malformed message 0x${decoded.left.type.toString(16)}: ${decoded.left.reason}`)
          return
        }
        act(entry, decoded.right)
      })

    const onDisconnect = (event: Extract<EnetEvent, { type: "disconnect" }>) =>
      Effect.gen(function* () {
        // A limit for strangers dropped it (never one that authenticated): a refusal.
        const limited = event.reason === "unauthenticated" || event.reason === "evicted"
        if (limited) {
          counts.refused++
          yield* Effect.logDebug(`GameStream control: dropped peer ${event.peer} (${event.reason === "evicted" ? "every slot taken: the oldest stranger goes" : "did not authenticate in time"})`)
        }
        unmatched.delete(event.peer)
        const entry = byPeer.get(event.peer)
        if (entry === undefined) return
        byPeer.delete(event.peer)
        entry.peer = undefined
        if (entry.done) return
        if (!entry.authenticated) {
          waiting.push(entry) // never proved itself: the real client may still come
          return
        }
        entry.done = true
        deliver(entry, entry.handlers.ended("client disconnected or timed out"))
        yield* Effect.logInfo("GameStream control: client disconnected")
      })

    const handle = (event: EnetEvent) =>
      event.type === "connect" ? onConnect(event) : event.type === "receive" ? onReceive(event) : onDisconnect(event)

    yield* Queue.take(inbox).pipe(
      Effect.flatMap((batch) => Effect.forEach(batch, handle, { discard: true })),
      Effect.catchAllCause((cause) => Effect.logError("GameStream control: event handling failed", cause)),
      Effect.forever,
      Effect.forkScoped
    )

    const terminateEntry = (entry: Entry, reason: string) =>
      Effect.gen(function* () {
        if (entry.done) return
        entry.done = true
        const at = waiting.indexOf(entry)
        if (at >= 0) waiting.splice(at, 1)
        if (entry.peer !== undefined) {
          sendSealed(entry, encodeTermination())
          host.disconnect(entry.peer, true)
          yield* Effect.logInfo(`GameStream control: terminating the session (${reason})`)
        }
      })

    const expect = (settings: StreamSettings, handlers: ControlHandlers) =>
      Effect.gen(function* () {
        const key = Buffer.from(settings.rikey, "hex")
        if (key.length !== 16) return yield* Effect.die(new Error("StreamSettings.rikey must be 32 hex digits (AES-128)"))
        const mailbox = yield* Queue.sliding<Effect.Effect<void>>(MAILBOX)
        const keyState = yield* Effect.acquireRelease(
          Effect.sync(() => takeKey(settings.rikey)),
          (k) => Effect.sync(() => void k.users--)
        )
        const entry: Entry = {
          settings,
          key,
          mode: controlEncryptionOf(settings.encryptionFlags),
          mailbox,
          handlers,
          keyState,
          peer: undefined,
          authenticated: false,
          replayLogged: false,
          done: false
        }
        yield* Queue.take(mailbox).pipe(
          Effect.flatMap((action) =>
            action.pipe(Effect.catchAllCause((cause) => Effect.logError("GameStream control: a session handler failed", cause)))
          ),
          Effect.forever,
          Effect.forkScoped
        )
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            waiting.push(entry)
          }).pipe(Effect.zipRight(adopt(entry))),
          () =>
            terminateEntry(entry, "session closed").pipe(
              Effect.zipRight(
                Effect.sync(() => {
                  if (entry.peer !== undefined) byPeer.delete(entry.peer)
                })
              )
            )
        )
        return { terminate: (reason: string) => terminateEntry(entry, reason) } satisfies ControlSession
      })

    return {
      port: host.port,
      expect,
      counters: Effect.sync(() => ({ ...counts })),
      enet: Effect.sync(() => host.counters())
    } satisfies ControlStream
  })
