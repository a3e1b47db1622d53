/**
 * `GET /metrics`: reads the metrics snapshot and the Recorder's status and renders them; the
 * numbers are kept by `services/Metrics`, the format lives in `MetricsExposition`.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { PunktfunkApi } from "../api/Api.js"
import { ConnectionLimits } from "../services/ConnectionLimits.js"
import { Metrics } from "../services/Metrics.js"
import { Recorder } from "../services/Recorder.js"
import { renderMetrics } from "./MetricsExposition.js"

export const MetricsHandlersLive = HttpApiBuilder.group(PunktfunkApi, "metrics", (handlers) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const recorder = yield* Recorder
    const limits = yield* ConnectionLimits
    return handlers.handle("metrics", () =>
      Effect.map(Effect.all([metrics.snapshot, recorder.status, limits.counters]), ([snapshot, status, connections]) =>
        renderMetrics(snapshot, status, connections)
      )
    )
  })
)
