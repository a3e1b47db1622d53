/**
 * The host's own markers on the GameStream path (issue 14.1), driven by the TS test client: its
 * control stream connecting (whose first message is an IDR request), more key-frame requests,
 * leaving and resuming with a new key as Moonlight does — and the saved capture holding the
 * connect, IDR and reconnect markers under the right sessions. The fake frame producer stands in
 * for the encoder: what is tested is the marking, not libx264.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { fakePipelineLayer } from "../../src/PipelineChoice.js"
import { arm, countIn, ofKind, stopAndRead, waitMarker } from "../support/Markers.js"
import { waitFor } from "../support/TestHost.js"
import { ControlClient } from "./support/ControlClient.js"
import { launchParams } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

// ── GameStream ──────────────────────────────────────────────────────────────────────────────
const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 180, fps: 30, bitrateKbps: 1_000 }
const RESUME_KEY = "ffeeddccbbaa99887766554433221100"

describe("host markers: GameStream", () => {
  it.scopedLive("the test client's control stream connects, asks for key frames, leaves and resumes: connect, IDR and reconnect markers", () =>
    Effect.gen(function* () {
      const host = yield* startGameStreamHost({ pipeline: fakePipelineLayer(200), env: { PUNKTFUNK_AUDIO: "silence" } })
      const gs = gameStreamOf(host)
      const client = clientFor(host, yield* newIdentity("markers-moonlight"))
      expect((yield* pairViaOperator(host, client, "1357")).outcome.paired).toBe(true)
      expect(yield* arm(host)).toBe(200)
      const appId = Number((yield* promise(() => client.applist())).xml.all("ID")[0])

      /** RTSP, then the control stream (whose first message is Moonlight's IDR request); the session id. */
      const play = (key: string) =>
        Effect.gen(function* () {
          const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(STREAM)))
          expect(hs.play.status).toBe(200)
          const id = (yield* gs.stream)?.session_id ?? "none"
          const control = yield* promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: key }))
          return { id, control }
        })

      yield* promise(() => client.launch(launchParams(appId)))
      const first = yield* play(launchParams(appId).rikey ?? "")
      yield* promise(() => first.control.requestIdr())
      yield* promise(() => first.control.requestIdr())
      yield* waitMarker(host, "three key-frame requests", (ms) =>
        ms.filter((m) => m.kind === "idr_request" && m.session_id === first.id).reduce((n, m) => n + countIn(m), 0) === 3
      )
      // The client goes (ENet disconnect) and comes back with `resume` and a new key, as Moonlight does.
      yield* promise(() => first.control.disconnect())
      yield* promise(() => waitFor(async () => (await Effect.runPromise(gs.stream)) === undefined, 10_000, "the stream to end"))
      const resumed = yield* promise(() => client.resume({ ...launchParams(appId), rikey: RESUME_KEY, rikeyid: "7" }))
      expect(resumed.xml.get("resume")).toBe("1")
      const second = yield* play(RESUME_KEY)
      yield* waitMarker(host, "the reconnect", (ms) => ms.some((m) => m.kind === "client_reconnect" && m.session_id === second.id))
      yield* promise(() => second.control.disconnect())
      const capture = yield* stopAndRead(host)
      const short = client.identity.fingerprint.slice(0, 16)

      expect(ofKind(capture, "client_connect")).toEqual([
        expect.objectContaining({ session_id: first.id, label: `GameStream client (${short}) connected` })
      ])
      const [back] = ofKind(capture, "client_reconnect")
      expect(back?.session_id).toBe(second.id)
      expect(back?.label).toMatch(/^GameStream client \([0-9a-f]{16}\) reconnected \d+\.\d s after its previous session ended \(control stream: /)
      const idr = ofKind(capture, "idr_request").filter((m) => m.session_id === first.id)
      expect(idr[0]?.label).toBe("the GameStream client asked for a key frame")
      expect(idr.reduce((n, m) => n + countIn(m), 0)).toBe(3)
      // The resumed stream's own first message is an IDR request too: marked under its session.
      expect(ofKind(capture, "idr_request").some((m) => m.session_id === second.id)).toBe(true)
    })
  )
})

