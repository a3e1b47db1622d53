/**
 * `GET /api/v1/stats/live/events`: server-sent events, one `sample` event per window, plus
 * `status` on arm/stop, `session` when a session starts and `marker` when a marker is added.
 *
 * Why a comment line every 15 s: proxies and browsers close an idle event stream; a comment keeps
 * it open without the client having to ignore fake events. The first event is the current status,
 * so a console that connects mid-capture knows where it stands without a second request.
 *
 * Why a cap on subscribers: a stream is held open with no idle timeout (the connection limits
 * exempt it), so without a cap a token holder's runaway script could pin any number of
 * connections and fibers; the one past `maxSubscribers` gets `503 TooManySubscribers` at once.
 */
import { HttpServerResponse } from "@effect/platform"
import { Effect, Stream } from "effect"
import { TooManySubscribers } from "../api/Errors.js"
import { formatLiveEvent } from "../api/LiveEvents.js"
import type { RecorderService } from "../services/Recorder.js"
import { requestConnection } from "./RequestConnection.js"

export const liveEventsResponse = (recorder: RecorderService, maxSubscribers: number) =>
  Effect.gen(function* () {
    const connection = yield* requestConnection
    if (connection !== undefined && !connection.holdOpen()) {
      return yield* Effect.fail(
        new TooManySubscribers({
          max: maxSubscribers,
          message: `${maxSubscribers} live event streams are open already (PUNKTFUNK_MAX_LIVE_SUBSCRIBERS): close one (another console tab or script) and try again`
        })
      )
    }
    const status = yield* recorder.status
    const encoder = new TextEncoder()
    const first = Stream.make(`retry: 2000\n\n${formatLiveEvent({ type: "status", status })}`)
    const keepalive = Stream.tick("15 seconds").pipe(
      Stream.drop(1),
      Stream.map(() => ": keepalive\n\n")
    )
    const body = first.pipe(
      Stream.concat(Stream.merge(recorder.events.pipe(Stream.map(formatLiveEvent)), keepalive)),
      Stream.map((text) => encoder.encode(text))
    )
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })
