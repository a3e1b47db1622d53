/**
 * The live route's server-sent events, described once: where they are (`LIVE_EVENTS_PATH`), what
 * one is (`LiveEvent`), and how an event becomes an SSE block and back. The host writes them
 * (`http/LiveEvents.ts`), the console reads them (`web/src/api/sse.ts`), tests and benches
 * subscribe at the same path.
 *
 * Why a table of Schemas keyed by event name rather than one tagged union on the wire: the SSE
 * `event:` line already names the kind, so `data:` carries the payload as the API's own Schema
 * encodes it, and a reader that knows fewer kinds (an older console) skips the others by name.
 */
import { Either, Schema } from "effect"
import { Marker } from "./Markers.js"
import { SessionMeta, StatsSample, StatsStatus } from "./Stats.js"

/** The stats group's prefix (`Api.ts` mounts the group here). */
export const STATS_PATH = "/api/v1/stats" as const
/** The events route inside the stats group. */
export const LIVE_EVENTS_ROUTE = "/live/events" as const
/** The whole path a client subscribes at. */
export const LIVE_EVENTS_PATH = `${STATS_PATH}${LIVE_EVENTS_ROUTE}` as const

export type LiveEvent =
  | { readonly type: "sample"; readonly sample: StatsSample }
  | { readonly type: "status"; readonly status: StatsStatus }
  | { readonly type: "session"; readonly session: SessionMeta }
  | { readonly type: "marker"; readonly marker: Marker }

const sample = Schema.parseJson(StatsSample)
const status = Schema.parseJson(StatsStatus)
const session = Schema.parseJson(SessionMeta)
const marker = Schema.parseJson(Marker)

/** One event as its SSE block (`event:` line, `data:` line, blank line). */
export const formatLiveEvent = (event: LiveEvent): string => {
  switch (event.type) {
    case "sample":
      return `event: sample\ndata: ${Schema.encodeSync(sample)(event.sample)}\n\n`
    case "status":
      return `event: status\ndata: ${Schema.encodeSync(status)(event.status)}\n\n`
    case "session":
      return `event: session\ndata: ${Schema.encodeSync(session)(event.session)}\n\n`
    case "marker":
      return `event: marker\ndata: ${Schema.encodeSync(marker)(event.marker)}\n\n`
  }
}

const decoders = {
  sample: Schema.decodeUnknownEither(sample),
  status: Schema.decodeUnknownEither(status),
  session: Schema.decodeUnknownEither(session),
  marker: Schema.decodeUnknownEither(marker)
}

/** An event's name and data → the typed event, or null for an unknown name or data that does not decode. */
export const decodeLiveEvent = (name: string, data: string): LiveEvent | null => {
  switch (name) {
    case "sample": {
      const r = decoders.sample(data)
      return Either.isRight(r) ? { type: "sample", sample: r.right } : null
    }
    case "status": {
      const r = decoders.status(data)
      return Either.isRight(r) ? { type: "status", status: r.right } : null
    }
    case "session": {
      const r = decoders.session(data)
      return Either.isRight(r) ? { type: "session", session: r.right } : null
    }
    case "marker": {
      const r = decoders.marker(data)
      return Either.isRight(r) ? { type: "marker", marker: r.right } : null
    }
    default:
      return null
  }
}
