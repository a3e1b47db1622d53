/**
 * The markers the host adds itself (issue 14.1): each event is driven the way it happens — our
 * punktfunk/1 client connecting, storming IDR requests, changing its bitrate and coming back;
 * the fake source going away under the host's own session — and the SAVED capture must hold the
 * marker with the right kind and session. The coalescing rule (at most one marker per kind,
 * session and second, with the count) is checked on the clock as well as live. The GameStream
 * client's markers: test/gamestream/host-markers.test.ts; a real X display going away and
 * coming back: test/streaming/host-markers-x11.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, TestClock } from "effect"
import type { MarkerKind } from "../src/api/Markers.js"
import { connect } from "../src/client/ControlClient.js"
import { ArmedFlag } from "../src/services/ArmedFlag.js"
import { COALESCE_MS, makeHostMarkers } from "../src/services/HostMarkers.js"
import { Recorder } from "../src/services/Recorder.js"
import type { RecorderService } from "../src/services/Recorder.js"
import { FakePipeline } from "../src/streams/FakePipeline.js"
import { ControlServer } from "../src/streams/punktfunk1/ControlServer.js"
import { arm, countIn, ofKind, stopAndRead, waitMarker } from "./support/Markers.js"
import { endpointOf, identity, pairThroughApi } from "./support/PairedClient.js"
import { startHost, waitFor } from "./support/TestHost.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

// ── punktfunk/1 ─────────────────────────────────────────────────────────────────────────────
const request = { width: 1280, height: 720, fps: 60, codec: "h264", bitrate_kbps: 8000 } as const

describe("host markers: punktfunk/1", () => {
  it.scopedLive("connect, an IDR storm (coalesced, every request counted), a bitrate change and a reconnect land in the saved capture", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ windowMs: 300 })
      const client = yield* identity("desk")
      const hostFp = yield* pairThroughApi(host, client, "desk")
      expect(yield* arm(host)).toBe(200)
      const control = Context.get(host.context, ControlServer)

      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "desk", request })
          const running = yield* Effect.fork(session.run)
          // A decoder in trouble asks again and again: 40 requests at once.
          for (let i = 0; i < 40; i++) yield* session.requestIdr
          yield* session.setBitrate(4000)
          yield* promise(() => waitFor(() => session.bitrateKbps() === 4000, 10_000, "the host to apply the bitrate"))
          const id = session.welcome.session_id
          // The storm's second is over: its summary marker carries the rest of the count.
          yield* waitMarker(host, "all 40 IDR requests marked", (ms) =>
            ms.filter((m) => m.kind === "idr_request" && m.session_id === id).reduce((n, m) => n + countIn(m), 0) === 40
          )
          yield* session.goodbye("switching networks")
          yield* Fiber.await(running)
          return id
        })
      )
      // The host saw the first session end before the client comes back.
      yield* promise(() => waitFor(async () => (await Effect.runPromise(control.counters)).active_sessions === 0, 10_000, "the session to end"))
      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "desk", request })
          const id = session.welcome.session_id
          yield* waitMarker(host, "the reconnect", (ms) => ms.some((m) => m.kind === "client_reconnect" && m.session_id === id))
          yield* session.goodbye("done")
          return id
        })
      )
      expect(second).not.toBe(first)
      const capture = yield* stopAndRead(host)
      const short = client.fingerprint.slice(0, 16)

      const [connected] = ofKind(capture, "client_connect")
      expect(ofKind(capture, "client_connect")).toHaveLength(1)
      expect(connected).toMatchObject({ session_id: first })
      expect(connected?.label).toBe(`punktfunk/1 client 'desk' (${short}) connected`)

      const [back] = ofKind(capture, "client_reconnect")
      expect(ofKind(capture, "client_reconnect")).toHaveLength(1)
      expect(back?.session_id).toBe(second)
      expect(back?.label).toMatch(new RegExp(`^punktfunk/1 client 'desk' \\(${short}\\) reconnected \\d+\\.\\d s after its previous session ended \\(the client said goodbye: switching networks\\)$`))

      // 40 requests, at most one marker per second: a handful of markers, the count all there.
      const idr = ofKind(capture, "idr_request")
      expect(idr.every((m) => m.session_id === first)).toBe(true)
      expect(idr[0]?.label).toBe("the punktfunk/1 client asked for a key frame")
      expect(idr.reduce((n, m) => n + countIn(m), 0)).toBe(40)
      expect(idr.length).toBeLessThanOrEqual(3)
      for (let i = 1; i < idr.length; i++) expect(idr[i]!.t_ms - idr[i - 1]!.t_ms).toBeGreaterThanOrEqual(COALESCE_MS - 1)

      expect(ofKind(capture, "bitrate_change")).toEqual([expect.objectContaining({ session_id: first, label: "bitrate 8000 → 4000 kb/s (client)" })])
      // The windows after the change report the new target.
      expect(capture.samples.some((s) => s.session_id === first && s.bitrate_kbps === 4000)).toBe(true)
    })
  )
})

// ── the capture source ──────────────────────────────────────────────────────────────────────
describe("host markers: the capture source", () => {
  it.scopedLive("the fake source goes away under the host's own session: source lost, then the reopened session's restart and source back", () =>
    Effect.gen(function* () {
      let armed = false
      let failed: string | undefined
      // The first window after arming fails as a native session whose X display went away.
      const pipeline = FakePipeline({
        windowMs: 150,
        sourceLost: (_i, sessionId) => {
          if (!armed || failed !== undefined) return false
          failed = sessionId
          return true
        }
      }).pipe(Layer.provideMerge(ArmedFlag.memory))
      const host = yield* startHost({ pipeline, env: { PUNKTFUNK_SOURCE: "fake" } })
      expect(yield* arm(host)).toBe(200)
      armed = true
      // The host reopens a failed session after 2 s.
      yield* waitMarker(host, "the source back", (ms) => ms.some((m) => m.kind === "source_back"))
      const capture = yield* stopAndRead(host)

      const [lost] = ofKind(capture, "source_lost")
      expect(ofKind(capture, "source_lost")).toHaveLength(1)
      expect(lost?.session_id).toBe(failed)
      expect(lost?.label).toMatch(/^capture source synthetic lost: .*the fake source went away/)
      const [back] = ofKind(capture, "source_back")
      const [restart] = ofKind(capture, "encoder_restart")
      expect(back?.session_id).toBeDefined()
      expect(back?.session_id).not.toBe(failed)
      expect(back?.label).toMatch(/^capture source synthetic back after \d+\.\d s$/)
      expect(restart?.session_id).toBe(back?.session_id)
      expect(restart?.label).toMatch(/^session reopened \(source and encoder\) after: .*the fake source went away/)
      // In order: lost, the failed session's end, the new one's start, back.
      const order = (capture.markers ?? []).map((m) => `${m.kind}:${m.session_id ?? ""}`)
      const at = (s: string) => order.indexOf(s)
      expect(at(`source_lost:${failed}`)).toBeLessThan(at(`session_end:${failed}`))
      expect(at(`session_end:${failed}`)).toBeLessThan(at(`session_start:${back?.session_id}`))
      expect(at(`session_start:${back?.session_id}`)).toBeLessThan(at(`source_back:${back?.session_id}`))
    })
  )
})

// ── the coalescing rule, on the test clock ──────────────────────────────────────────────────
describe("host markers: coalescing", () => {
  it.scoped("a burst is one marker at once and one per second after it with the count; a quiet second ends it; sessions apart", () =>
    Effect.gen(function* () {
      const notes: Array<{ kind: MarkerKind; label: string; sessionId: string | undefined }> = []
      const recorder = { note: (kind, label, sessionId) => Effect.sync(() => void notes.push({ kind, label, sessionId })) } as Pick<RecorderService, "note">
      const markers = yield* makeHostMarkers.pipe(Effect.provideService(Recorder, recorder as RecorderService))
      for (let i = 0; i < 100; i++) yield* markers.idrRequested("a", "gamestream")
      yield* markers.idrRequested("b", "punktfunk1")
      yield* markers.bitrateChanged("a", 8000, 6000, "client")
      yield* markers.bitrateChanged("a", 6000, 3000, "client")
      expect(notes.map((n) => `${n.kind}/${n.sessionId}`)).toEqual(["idr_request/a", "idr_request/b", "bitrate_change/a"])
      yield* TestClock.adjust(COALESCE_MS)
      // Second two: 99 more IDR requests of a, one more bitrate change; b had none (the two
      // seconds end at the same instant: in either order).
      expect(notes.slice(3).map((n) => n.label).sort()).toEqual([
        `99 more key-frame requests in 1.0 s`,
        `bitrate now 3000 kb/s after 1 more change in 1.0 s (client)`
      ])
      yield* markers.idrRequested("a", "gamestream")
      yield* TestClock.adjust(COALESCE_MS)
      expect(notes.slice(5).map((n) => n.label)).toEqual(["1 more key-frame request in 1.0 s"])
      // A quiet second ends the burst: the next request is marked at once again.
      yield* TestClock.adjust(COALESCE_MS)
      yield* markers.idrRequested("a", "gamestream")
      expect(notes.slice(6).map((n) => n.label)).toEqual(["the GameStream client asked for a key frame"])
      // A lost source is marked once however many sessions lose it, and back once.
      yield* markers.sourceLost("x11 :99", "a", "capture: the X display ':99' went away")
      yield* markers.sourceLost("x11 :99", "b", "capture: the X display ':99' went away")
      yield* markers.sourceOpened("x11 :99", "c")
      yield* markers.sourceOpened("x11 :99", "d")
      expect(notes.slice(7).map((n) => `${n.kind}/${n.sessionId}`)).toEqual(["source_lost/a", "source_back/c"])
    })
  )
})
