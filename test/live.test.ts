import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { LiveSnapshot, StatsSample, StatsStatus } from "../src/api/Stats.js"
import { sseEvents } from "./support/Sse.js"
import type { SseEvent } from "./support/Sse.js"
import { json, startHost, waitFor } from "./support/TestHost.js"

/** Read server-sent events until `count` of type `type` arrived (or the deadline passes). */
const readEvents = async (res: Response, type: string, count: number, timeoutMs = 5000) => {
  const events: Array<SseEvent> = []
  const deadline = Date.now() + timeoutMs
  for await (const e of sseEvents(res.body!)) {
    events.push(e)
    if (events.filter((x) => x.event === type).length >= count || Date.now() >= deadline) break
  }
  return events
}

describe("live view", () => {
  it.scopedLive("server-sent events: the current status first, then one sample event per window", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 40 })
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      const res = yield* Effect.promise(() => host.fetch("/live/events"))
      expect(res.status).toBe(200)
      expect(res.headers.get("content-type")).toContain("text/event-stream")
      const events = yield* Effect.promise(() => readEvents(res, "sample", 4))
      expect(events[0]!.event).toBe("status")
      expect(Schema.decodeUnknownSync(Schema.parseJson(StatsStatus))(events[0]!.data).armed).toBe(true)
      const samples = events.filter((e) => e.event === "sample").map((e) => Schema.decodeUnknownSync(Schema.parseJson(StatsSample))(e.data))
      expect(samples.length).toBeGreaterThanOrEqual(4)
      // Consecutive windows, each once, in order.
      for (let i = 1; i < samples.length; i++) expect(samples[i]!.t_ms).toBeGreaterThan(samples[i - 1]!.t_ms)
    })
  )

  it.scopedLive("GET /live?since_t_ms returns only newer samples", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 30 })
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      yield* Effect.promise(() =>
        waitFor(async () => Schema.decodeUnknownSync(StatsStatus)(await json(await host.fetch("/status"))).sample_count >= 6)
      )
      const all = Schema.decodeUnknownSync(LiveSnapshot)(yield* Effect.promise(async () => json(await host.fetch("/live"))))
      const cut = all.samples[2]!.t_ms
      const newer = Schema.decodeUnknownSync(LiveSnapshot)(
        yield* Effect.promise(async () => json(await host.fetch(`/live?since_t_ms=${cut}`)))
      )
      expect(newer.samples.length).toBeGreaterThan(0)
      expect(newer.samples.every((s) => s.t_ms > cut)).toBe(true)
      expect(newer.samples[0]!.t_ms).toBe(all.samples[3]!.t_ms)
      expect(newer.sessions[0]!.stages).toEqual(["capture", "submit", "encode", "send"])
    })
  )
})
