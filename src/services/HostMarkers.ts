/**
 * The markers the host adds itself (issue 14.1), beyond session start and end and truncation
 * (those the Recorder adds on its own): a client connecting or coming back, a key frame asked
 * for, the bitrate moved, the session reopened after a failure, the capture source lost and back.
 * The code that notices an event calls one method here; whether anything is recorded is the
 * Recorder's business (`note` is a no-op while no capture is armed), so a caller never asks.
 *
 * Why this is a service of its own and not part of each path: two of the markers need memory
 * that spans sessions and paths — a reconnect is told from a first connect by the client's
 * earlier session, and a source comes back in a session other than the one that lost it (maybe
 * on the other path) — and every session runner (punktfunk/1, GameStream, the host's own
 * session) must see the same memory.
 *
 * Never per frame, and bounded: every event here is a control-plane event (a message from a
 * client, a session opening or failing), never a frame. Events a client can repeat at will — IDR
 * requests and bitrate changes — are coalesced per kind and session: the first of a burst is
 * marked at once, later ones within `COALESCE_MS` are only counted, and when that second is over
 * one more marker says how many came (and the last value), then the next second starts; a quiet
 * second ends the burst. So an IDR storm costs at most one marker per second per session, and
 * no request goes uncounted. Connects need no such limit: each is a full TLS handshake or RTSP
 * launch behind the connection limits, and already adds a `session_start` marker of its own.
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { makeCoalesced } from "../lib/Coalesced.js"
import { Recorder } from "./Recorder.js"
import type { MarkerKind } from "../api/Markers.js"

/** A client whose previous session ended less than this long ago (or still runs) is reconnecting. */
export const RECONNECT_WINDOW_MS = 120_000

/** At most one marker per coalesced kind and session in this span (see the module comment). */
export const COALESCE_MS = 1_000

/** Clients remembered for reconnects; paired clients only, so far above any real count. */
const MAX_REMEMBERED_CLIENTS = 1_024

export type ClientPath = "punktfunk1" | "gamestream"

const PATH_NAME: Record<ClientPath, string> = { punktfunk1: "punktfunk/1", gamestream: "GameStream" }

export interface ClientIdentity {
  readonly path: ClientPath
  /** The paired certificate's fingerprint (hex): what makes two connections the same client. */
  readonly fingerprint: string
  /** What the client calls itself, when its path says (punktfunk/1 `Hello.name`). */
  readonly name?: string
}

export interface HostMarkersService {
  /** A client's session is up: `client_connect`, or `client_reconnect` (see `RECONNECT_WINDOW_MS`). */
  readonly clientConnected: (client: ClientIdentity, sessionId: string) => Effect.Effect<void>
  /** That client's session ended (why, in a few words): remembered for its next connect. */
  readonly clientLeft: (client: ClientIdentity, reason: string) => Effect.Effect<void>
  /** A client asked for a key frame (IDR request, or a reference-frame invalidation on GameStream). */
  readonly idrRequested: (sessionId: string, path: ClientPath) => Effect.Effect<void>
  /** The session's target bitrate moved from `fromKbps` to `toKbps`, at whose request. */
  readonly bitrateChanged: (sessionId: string, fromKbps: number, toKbps: number, by: "client" | "operator") => Effect.Effect<void>
  /** The host reopened a session (source and encoder) after the previous one failed with `why`. */
  readonly sessionReopened: (sessionId: string, why: string) => Effect.Effect<void>
  /** The capture source `source` (e.g. "x11 :99") failed under a running session. */
  readonly sourceLost: (source: string, sessionId: string, why: string) => Effect.Effect<void>
  /** A session opened on `source`: `source_back` if it was lost, nothing otherwise. */
  readonly sourceOpened: (source: string, sessionId: string) => Effect.Effect<void>
}

export class HostMarkers extends Context.Tag("punktfunk/HostMarkers")<HostMarkers, HostMarkersService>() {}

interface ClientMemory {
  live: number
  endedAtMs: number
  reason: string
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const short = (fingerprint: string) => fingerprint.slice(0, 16)

export const makeHostMarkers: Effect.Effect<HostMarkersService, never, Recorder | Scope.Scope> = Effect.gen(function* () {
  const recorder = yield* Recorder
  const now = () => performance.now()

  // Bursts of IDR requests and bitrate changes (see the module comment), one per kind and session.
  const coalesce = yield* makeCoalesced(COALESCE_MS)
  const coalesced = (kind: MarkerKind, sessionId: string, first: string, summary: (more: number) => string) =>
    coalesce(`${kind}\u0000${sessionId}`, recorder.note(kind, first, sessionId), (more) => recorder.note(kind, summary(more), sessionId))

  const clients = new Map<string, ClientMemory>()
  const clientKey = (c: ClientIdentity) => `${c.path}:${c.fingerprint}`
  const forgetOld = (t: number) => {
    for (const [key, memory] of clients) {
      if (memory.live === 0 && t - memory.endedAtMs > RECONNECT_WINDOW_MS) clients.delete(key)
    }
    // Map order is insertion order: past the bound the longest-known go first.
    for (const key of clients.keys()) {
      if (clients.size <= MAX_REMEMBERED_CLIENTS) break
      clients.delete(key)
    }
  }
  const who = (c: ClientIdentity) =>
    `${PATH_NAME[c.path]} client ${c.name === undefined || c.name === "" ? "" : `'${c.name}' `}(${short(c.fingerprint)})`

  // Sources lost and not yet back, with when they went.
  const lostSources = new Map<string, number>()

  const service: HostMarkersService = {
    clientConnected: (client, sessionId) =>
      Effect.suspend(() => {
        const t = now()
        forgetOld(t)
        const key = clientKey(client)
        const memory = clients.get(key)
        const label =
          memory === undefined
            ? `${who(client)} connected`
            : memory.live > 0
              ? `${who(client)} reconnected while its previous session was still open`
              : `${who(client)} reconnected ${seconds(t - memory.endedAtMs)} after its previous session ended (${memory.reason})`
        clients.delete(key)
        clients.set(key, { live: (memory?.live ?? 0) + 1, endedAtMs: memory?.endedAtMs ?? t, reason: memory?.reason ?? "" })
        return recorder.note(memory === undefined ? "client_connect" : "client_reconnect", label, sessionId)
      }),
    clientLeft: (client, reason) =>
      Effect.sync(() => {
        const key = clientKey(client)
        const memory = clients.get(key)
        clients.delete(key)
        clients.set(key, { live: Math.max(0, (memory?.live ?? 1) - 1), endedAtMs: now(), reason: reason.slice(0, 80) })
        forgetOld(now())
      }),
    idrRequested: (sessionId, path) =>
      coalesced(
        "idr_request",
        sessionId,
        `the ${PATH_NAME[path]} client asked for a key frame`,
        (more) => `${more} more key-frame request${more === 1 ? "" : "s"} in ${seconds(COALESCE_MS)}`
      ),
    bitrateChanged: (sessionId, fromKbps, toKbps, by) =>
      coalesced(
        "bitrate_change",
        sessionId,
        `bitrate ${fromKbps} → ${toKbps} kb/s (${by})`,
        (more) => `bitrate now ${toKbps} kb/s after ${more} more change${more === 1 ? "" : "s"} in ${seconds(COALESCE_MS)} (${by})`
      ),
    sessionReopened: (sessionId, why) => recorder.note("encoder_restart", `session reopened (source and encoder) after: ${why}`, sessionId),
    sourceLost: (source, sessionId, why) =>
      Effect.suspend(() => {
        // The first session to lose it says so; others on the same source add nothing new.
        if (lostSources.has(source)) return Effect.void
        lostSources.set(source, now())
        return recorder.note("source_lost", `capture source ${source} lost: ${why}`, sessionId)
      }),
    sourceOpened: (source, sessionId) =>
      Effect.suspend(() => {
        const since = lostSources.get(source)
        if (since === undefined) return Effect.void
        lostSources.delete(source)
        return recorder.note("source_back", `capture source ${source} back after ${seconds(now() - since)}`, sessionId)
      })
  }
  return service
})

export const HostMarkersLive: Layer.Layer<HostMarkers, never, Recorder> = Layer.scoped(HostMarkers, makeHostMarkers)
