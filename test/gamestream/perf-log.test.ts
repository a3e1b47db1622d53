/**
 * `PUNKTFUNK_PERF=1` on the GameStream path: a Moonlight client's session logs one perf line per
 * window, like every other session (one session runner writes them), and the counters the client
 * reports over its control stream are in the lines, folded into the window that was current.
 * The fake frame producer stands in for the encoder: what is tested is the runner, not libx264.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { fakePipelineLayer } from "../../src/PipelineChoice.js"
import type { StatsSample } from "../../src/api/Stats.js"
import { perfLines, withLogLines } from "../support/LogLines.js"
import { waitFor } from "../support/TestHost.js"
import { ControlClient } from "./support/ControlClient.js"
import { launchParams } from "./support/GameStreamClient.js"
import { clientFor, gameStreamOf, newIdentity, pairViaOperator, startGameStreamHost } from "./support/Hosts.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce, RtspClient } from "./support/RtspClient.js"

const STREAM = { ...DEFAULT_CLIENT_CONFIG, width: 320, height: 180, fps: 30, bitrateKbps: 1_000 }
const RIKEY = launchParams(1).rikey ?? ""

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("PUNKTFUNK_PERF on the GameStream path", () => {
  it.scopedLive("a Moonlight client's session logs its perf lines, with the client's loss reports in them", () =>
    withLogLines((lines) =>
      Effect.gen(function* () {
        // No session of the host's own (source none): the only session is the client's.
        const host = yield* startGameStreamHost({
          pipeline: fakePipelineLayer(100),
          env: { PUNKTFUNK_PERF: "1", PUNKTFUNK_AUDIO: "silence" }
        })
        const gs = gameStreamOf(host)
        const client = clientFor(host, yield* newIdentity("perf-moonlight"))
        expect((yield* pairViaOperator(host, client, "2580")).outcome.paired).toBe(true)
        const apps = yield* promise(() => client.applist())
        yield* promise(() => client.launch(launchParams(Number(apps.xml.all("ID")[0]))))
        const hs = yield* promise(() => new RtspClient(gs.rtspPort).handshake(moonlightAnnounce(STREAM)))
        expect(hs.play.status).toBe(200)
        const running = yield* gs.stream
        const id = running?.session_id ?? "none"
        expect(running?.client).toBe(client.identity.fingerprint.slice(0, 16))

        const control = yield* Effect.acquireRelease(
          promise(() => ControlClient.start({ host: "127.0.0.1", port: gs.controlPort, connectData: hs.connectData, keyHex: RIKEY })),
          (c) => promise(() => c.disconnect()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
        )
        const mine = (): Array<StatsSample> => perfLines(lines.join("\n")).filter((s) => s.session_id === id)
        yield* promise(() => waitFor(() => mine().length >= 2, 15_000, "perf lines of the GameStream session"))
        expect(mine().every((s) => s.stages.map((st) => st.name).join() === "capture,encode,packetize,send")).toBe(true)

        // Moonlight's periodic loss report: 9 packets lost. The next line carries them.
        yield* promise(() => control.lossStats(9, 1))
        yield* promise(() =>
          waitFor(() => mine().reduce((n, s) => n + s.packets_dropped, 0) === 9, 15_000, "the client's loss report in a perf line")
        )
      })
    )
  )
})
