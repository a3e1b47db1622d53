/**
 * A paired punktfunk/1 client floods its session with IDR requests and bitrate changes while a
 * capture is armed (issue 14.1), as fast as the host reads them: the capture must not fill with markers — at most one per kind
 * and second for the session (HostMarkers.ts coalesces them) — yet every request is counted in
 * the markers it gets, and the capture still saves and loads.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { Marker, MarkerKind } from "../../src/api/Markers.js"
import { connect } from "../../src/client/ControlClient.js"
import { arm, countIn, ofKind, stopAndRead, waitMarker } from "../support/Markers.js"
import { endpointOf, identity, pairThroughApi } from "../support/PairedClient.js"
import { startHost, waitFor } from "../support/TestHost.js"

const FLOOD = 2_000

describe("marker flood from a paired client", () => {
  it.scopedLive(`${FLOOD} IDR requests and ${FLOOD} bitrate changes: a few markers each, every request counted`, () =>
    Effect.gen(function* () {
      const host = yield* startHost({ windowMs: 300 })
      const client = yield* identity("flooder")
      const hostFp = yield* pairThroughApi(host, client, "flooder")
      expect(yield* arm(host)).toBe(200)
      const request = { width: 640, height: 360, fps: 30, codec: "h264", bitrate_kbps: 2000 } as const
      const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "flooder", request })
      const running = yield* Effect.fork(session.run)
      const id = session.welcome.session_id
      const started = performance.now()
      // In bursts of 100 each: the host reads at most 256 unread control messages before it ends
      // a session as a flood (Framed.ts); each burst ends on a target of its own whose answer
      // says the host has read the burst. Alternating targets: every change is a real move.
      for (let burst = 0; burst < FLOOD / 100; burst++) {
        for (let i = 0; i < 100; i++) yield* session.requestIdr
        for (let i = 0; i < 99; i++) yield* session.setBitrate(i % 2 === 0 ? 3000 : 4000)
        const target = 5000 + burst
        yield* session.setBitrate(target)
        yield* Effect.promise(() => waitFor(() => session.bitrateKbps() === target, 20_000, `the host to read burst ${burst}`))
      }
      const counted = (kind: MarkerKind) => (ms: ReadonlyArray<Marker>) =>
        ms.filter((m) => m.kind === kind && m.session_id === id).reduce((n, m) => n + countIn(m), 0) === FLOOD
      yield* waitMarker(host, "every IDR request counted", counted("idr_request"))
      yield* waitMarker(host, "every bitrate change counted", counted("bitrate_change"))
      const elapsedS = (performance.now() - started) / 1000
      yield* session.goodbye("done")
      yield* Fiber.interrupt(running)
      const capture = yield* stopAndRead(host)

      for (const kind of ["idr_request", "bitrate_change"] as const) {
        const markers = ofKind(capture, kind)
        expect(markers.reduce((n, m) => n + countIn(m), 0)).toBe(FLOOD)
        // One at the first request, then at most one per second that had any.
        expect(markers.length).toBeLessThanOrEqual(2 + Math.ceil(elapsedS))
      }
      // The last marker says where the bitrate ended up.
      expect(ofKind(capture, "bitrate_change").at(-1)?.label).toContain(`${5000 + FLOOD / 100 - 1} kb/s`)
    })
  )
})
