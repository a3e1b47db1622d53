/**
 * Reading the host's markers in tests: the armed capture's so far (the live snapshot), waiting
 * for one, and the saved capture file (what an export holds).
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Marker, MarkerKind } from "../../src/api/Markers.js"
import { Capture, LiveSnapshot } from "../../src/api/Stats.js"
import { json, waitFor } from "./TestHost.js"
import type { StartedHost } from "./TestHost.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** The markers of the armed capture so far (the live snapshot). */
export const liveMarkers = async (host: StartedHost): Promise<ReadonlyArray<Marker>> => {
  const res = await host.fetch("/live")
  return res.status === 200 ? (Schema.decodeUnknownSync(LiveSnapshot)(await res.json()).markers ?? []) : []
}

export const waitMarker = (host: StartedHost, what: string, holds: (ms: ReadonlyArray<Marker>) => boolean) =>
  promise(() => waitFor(async () => holds(await liveMarkers(host)), 20_000, what))

/** Stops the capture and reads the file the host saved (what an exported capture holds). */
export const stopAndRead = (host: StartedHost) =>
  Effect.gen(function* () {
    const stopped = (yield* promise(() => host.fetch("/stop", { method: "POST" }).then(json))) as { id: string }
    return Schema.decodeUnknownSync(Capture)(JSON.parse(fs.readFileSync(path.join(host.capturesDir, `${stopped.id}.json`), "utf8")))
  })

export const ofKind = (capture: Capture, kind: MarkerKind) => (capture.markers ?? []).filter((m) => m.kind === kind)

/**
 * How many events a coalesced marker stands for: 1 for the first of a burst, N for a summary
 * ("N more key-frame requests in 1.0 s", "bitrate now … after N more changes in 1.0 s").
 */
export const countIn = (m: Marker) => Number(/\b(\d+) more (?:key-frame request|change)/.exec(m.label)?.[1] ?? "1")

export const arm = (host: StartedHost) => promise(() => host.fetch("/start", { method: "POST" })).pipe(Effect.map((r) => r.status))

