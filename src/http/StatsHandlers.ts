/**
 * `/api/v1/stats/*`: each route asks the Recorder or the capture store and shapes the answer —
 * the stored bytes served as they are (`get`, the JSON export), the CSV streamed in chunks, the
 * trace built from the kept frames with its range checked (`BadQuery` naming a bad one), the
 * live events through `LiveEvents.ts` under the subscriber cap.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Either, Option, Stream } from "effect"
import { BadQuery } from "../api/Errors.js"
import { framesToTrace, parseTraceRange } from "../api/Trace.js"
import { PunktfunkApi } from "../api/Api.js"
import { captureCsvChunks } from "../api/Csv.js"
import { decodeImport } from "../lib/captures/CaptureImport.js"
import { CaptureStore } from "../services/CaptureStore.js"
import { HostConfig } from "../services/Config.js"
import { ConnectionLimits } from "../services/ConnectionLimits.js"
import { Recorder } from "../services/Recorder.js"
import { readImportBody } from "./ImportBody.js"
import { liveEventsResponse } from "./LiveEvents.js"

const JSON_TYPE = "application/json"
const attachment = (id: string, ext: string) => ({ "content-disposition": `attachment; filename="${id}.${ext}"` })

/**
 * Whether an `If-None-Match` header names this entity tag (a list of tags, `W/` weak forms and
 * `*` allowed, as RFC 9110 says a GET compares them: weakly).
 */
export const ifNoneMatch = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false
  return header.split(",").some((tag) => {
    const t = tag.trim()
    return t === "*" || (t.startsWith("W/") ? t.slice(2) : t) === etag
  })
}

// Why raw responses for list, get and export: the bytes are already the Schema's encoding (the
// listing encoded once per change, a capture as stored and checked), so the API's schemas still
// describe these bodies — clients decode them as before — while the host spares the re-encode.
export const StatsHandlersLive = HttpApiBuilder.group(PunktfunkApi, "stats", (handlers) =>
  Effect.gen(function* () {
    const recorder = yield* Recorder
    const store = yield* CaptureStore
    const limits = yield* ConnectionLimits
    const config = yield* HostConfig
    return handlers
      .handle("status", () => recorder.status)
      .handle("start", () => recorder.start())
      .handle("stop", () => recorder.stop.pipe(Effect.map(Option.getOrUndefined)))
      .handle("live", ({ urlParams }) => recorder.live(urlParams.since_t_ms))
      .handle("mark", ({ payload }) => recorder.mark(payload.label))
      .handle("liveEvents", () => liveEventsResponse(recorder, limits.maxLiveSubscribers))
      // Raw: the body is read here within the import's own bound, not parsed by the platform first.
      .handleRaw("import", ({ request }) =>
        readImportBody(request, config.importMaxBytes).pipe(Effect.flatMap(decodeImport), Effect.flatMap(store.importCapture))
      )
      .handle("list", ({ request }) =>
        store.listJson.pipe(
          Effect.map(({ bytes, etag }) =>
            // `no-cache`: a browser may keep the copy but asks each time (with `If-None-Match`).
            ifNoneMatch(request.headers["if-none-match"], etag)
              ? HttpServerResponse.empty({ status: 304, headers: { etag, "cache-control": "no-cache" } })
              : HttpServerResponse.uint8Array(bytes, { contentType: JSON_TYPE, headers: { etag, "cache-control": "no-cache" } })
          )
        )
      )
      .handle("get", ({ path }) =>
        store.open(path.id).pipe(Effect.map((bytes) => HttpServerResponse.uint8Array(bytes, { contentType: JSON_TYPE })))
      )
      .handle("export", ({ path, urlParams }) =>
        urlParams.format === "csv"
          ? store.load(path.id).pipe(
              Effect.map((capture) =>
                // Streamed a few hundred rows at a time: the first rows leave before the last
                // are formatted, and the whole CSV is never one string in memory.
                HttpServerResponse.stream(Stream.fromIterable(captureCsvChunks(capture)).pipe(Stream.encodeText), {
                  contentType: "text/csv; charset=utf-8",
                  headers: attachment(capture.meta.id, "csv")
                })
              )
            )
          : store.open(path.id).pipe(
              // The JSON export is the stored bytes themselves, the same as `get`.
              Effect.map((bytes) => HttpServerResponse.uint8Array(bytes, { contentType: JSON_TYPE, headers: attachment(path.id, "json") }))
            )
      )
      .handle("frames", ({ path }) => store.loadFrames(path.id))
      .handle("trace", ({ path, urlParams }) =>
        store.loadFrames(path.id).pipe(
          Effect.flatMap((file) =>
            Either.match(parseTraceRange(urlParams), {
              onLeft: (message) => Effect.fail(new BadQuery({ message })),
              onRight: (range) => Effect.succeed(framesToTrace(file, range))
            })
          )
        )
      )
      .handle("label", ({ path, payload }) => store.setLabel(path.id, payload.label))
      .handle("remove", ({ path }) => store.remove(path.id))
  })
)
