/** `/api/v1/stats/*`: each handler turns a request into one service call; no logic lives here. */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Option, Schema } from "effect"
import { PunktfunkApi } from "../api/Api.js"
import { captureToCsv } from "../api/Csv.js"
import { Capture } from "../api/Stats.js"
import { CaptureStore } from "../services/CaptureStore.js"
import { ConnectionLimits } from "../services/ConnectionLimits.js"
import { Recorder } from "../services/Recorder.js"
import { liveEventsResponse } from "./LiveEvents.js"

const encodeCapture = Schema.encodeSync(Schema.parseJson(Capture, { space: 2 }))

export const StatsHandlersLive = HttpApiBuilder.group(PunktfunkApi, "stats", (handlers) =>
  Effect.gen(function* () {
    const recorder = yield* Recorder
    const store = yield* CaptureStore
    const limits = yield* ConnectionLimits
    return handlers
      .handle("status", () => recorder.status)
      .handle("start", () => recorder.start())
      .handle("stop", () => recorder.stop.pipe(Effect.map(Option.getOrUndefined)))
      .handle("live", ({ urlParams }) => recorder.live(urlParams.since_t_ms))
      .handle("liveEvents", () => liveEventsResponse(recorder, limits.maxLiveSubscribers))
      .handle("list", () => store.list)
      .handle("get", ({ path }) =>
        store
          .loadWithText(path.id)
          .pipe(Effect.map(({ text }) => HttpServerResponse.text(text, { contentType: "application/json" })))
      )
      .handle("export", ({ path, urlParams }) =>
        store.load(path.id).pipe(
          Effect.map((capture) => {
            const csv = urlParams.format === "csv"
            return HttpServerResponse.text(csv ? captureToCsv(capture) : encodeCapture(capture), {
              contentType: csv ? "text/csv; charset=utf-8" : "application/json",
              headers: {
                "content-disposition": `attachment; filename="${capture.meta.id}.${csv ? "csv" : "json"}"`
              }
            })
          })
        )
      )
      .handle("label", ({ path, payload }) => store.setLabel(path.id, payload.label))
      .handle("remove", ({ path }) => store.remove(path.id))
  })
)
