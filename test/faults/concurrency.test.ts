/**
 * Concurrency, harder than `test/concurrency.test.ts`: two sessions push numbered windows at full
 * speed while ten waves of 100 concurrent arm/stop requests (mixed with status, live and list reads)
 * race them, and concurrent label/delete requests hit one stored capture.
 *
 * The oracle for "no sample lost" is independent of the files: every sample the Recorder
 * accepted is published once on its live event stream (read here in-process, with fewer samples
 * in flight than its buffer holds). The saved captures must hold exactly those samples, each
 * once; every `200` stop names a capture on disk with the samples it claims; a `204` saved
 * nothing; and at the end the state is one: disarmed, nothing unsaved, no temp file.
 */
import { sampleFixture, sessionFixture } from "../../src/api/SampleFixture.js"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Schema, Stream } from "effect"
import type { SessionMeta, StatsSample } from "../../src/api/Stats.js"
import { CaptureListing } from "../../src/api/CaptureListing.js"
import { CaptureMeta, StatsStatus } from "../../src/api/Stats.js"
import { Recorder } from "../../src/services/Recorder.js"
import { startHost } from "../support/TestHost.js"
import { checkCapturesDir } from "./support.js"

const session = (id: string): SessionMeta =>
  sessionFixture({ session_id: id, width: 640, height: 360, encoder_backend: "test", measured: ["fps"] })

const numbered = (sessionId: string, i: number): StatsSample => sampleFixture({
  t_ms: 0,
  session_id: sessionId,
  stages: [{ name: "capture", p50_us: i, p99_us: i, max_us: i, mean_us: i }],
  fps: 60,
  repeat_fps: 0,
  mbps: 1,
  bitrate_kbps: 1000,
  host_p50_us: i,
  host_p99_us: i
})

/** A wave's requests in random order, so a wave may end armed or disarmed. */
const shuffled = <A>(xs: Array<A>): Array<A> => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = xs[i]!
    xs[i] = xs[j]!
    xs[j] = t
  }
  return xs
}

const keyOf = (s: StatsSample) => `${s.session_id}#${s.host_p50_us}`

const ONE_SCRIPT = { PUNKTFUNK_MAX_CONNECTIONS_PER_ADDRESS: "256", PUNKTFUNK_MAX_CONNECTIONS: "512" }

describe("concurrent operators, harder", () => {
  it.scopedLive(
    "ten waves of 100 concurrent arm/stop requests against two full-speed sessions: every accepted sample saved exactly once",
    () =>
      Effect.gen(function* () {
        // One script on 127.0.0.1 opens up to 100 connections at once: the per-address connection
        // cap (a defence against LAN strangers, tested in test/connection-limits) is raised so
        // this stays about the Recorder.
        const host = yield* startHost({ env: ONE_SCRIPT })
        const recorder = Context.get(host.context, Recorder)
        // The oracle: every accepted sample, from the Recorder's own event stream. Subscribed
        // before anything is pushed: registering a session publishes an event, wait to see it.
        const accepted: Array<StatsSample> = []
        let events = 0
        yield* recorder.events.pipe(
          Stream.runForEach((e) =>
            Effect.sync(() => {
              events++
              if (e.type === "sample") accepted.push(e.sample)
            })
          ),
          Effect.forkScoped
        )
        while (events === 0) {
          yield* recorder.registerSession(session("a"))
          yield* Effect.sleep("5 millis")
        }
        yield* recorder.registerSession(session("b"))

        const PER_SESSION = 450
        const producer = (id: string) =>
          Effect.gen(function* () {
            // Windows keep coming for as long as the requests race (up to the oracle's buffer).
            for (let i = 0; i < PER_SESSION && !wavesDone; i++) {
              yield* recorder.pushSample(numbered(id, i))
              yield* Effect.sleep("20 millis")
            }
          })
        const stops: Array<CaptureMeta> = []
        const statuses: Array<number> = []
        const request = (i: number) =>
          Effect.promise(async () => {
            const kind = i % 10
            const route = kind < 5 ? "/start" : kind < 8 ? "/stop" : kind === 8 ? "/status" : i % 20 === 9 ? "/live" : "/recordings"
            const res = await host.fetch(route, { method: kind < 8 ? "POST" : "GET" })
            statuses.push(res.status)
            if (route === "/stop" && res.status === 200) stops.push(Schema.decodeUnknownSync(CaptureMeta)(await res.json()))
            else await res.arrayBuffer()
          })
        let wavesDone = false
        const waves = Effect.forEach(
          Array.from({ length: 10 }, (_, w) => w),
          () => Effect.all(shuffled(Array.from({ length: 100 }, (_, i) => i)).map(request), { concurrency: "unbounded" }).pipe(Effect.zipRight(Effect.sleep("30 millis"))),
          { discard: true }
        ).pipe(Effect.ensuring(Effect.sync(() => (wavesDone = true))))
        yield* Effect.all([producer("a"), producer("b"), waves], { concurrency: "unbounded" })
        // Whatever is armed now is stopped and saved too.
        const last = yield* Effect.promise(() => host.fetch("/stop", { method: "POST" }))
        if (last.status === 200) stops.push(Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(() => last.json())))
        for (const s of statuses) expect([200, 204, 404]).toContain(s)

        // One state: disarmed, nothing waiting, nothing half-written.
        const status = Schema.decodeUnknownSync(StatsStatus)(yield* Effect.promise(async () => (await host.fetch("/status")).json()))
        expect(status.armed).toBe(false)
        expect(status.unsaved_id).toBeNull()
        const captures = checkCapturesDir(host.capturesDir)
        // Every 200 stop is one capture on disk with what it claimed; nothing else was saved.
        expect(captures.map((c) => c.meta.id).sort()).toEqual(stops.map((m) => m.id).sort())
        for (const meta of stops) {
          const onDisk = captures.find((c) => c.meta.id === meta.id)!
          expect(onDisk.meta).toEqual(meta)
          for (let i = 1; i < onDisk.samples.length; i++) expect(onDisk.samples[i]!.t_ms).toBeGreaterThanOrEqual(onDisk.samples[i - 1]!.t_ms)
        }

        // No sample lost, none duplicated: the saved samples are exactly the accepted ones.
        yield* Effect.sleep("50 millis")
        const savedKeys = captures.flatMap((c) => c.samples.map(keyOf)).sort()
        const acceptedKeys = accepted.map(keyOf).sort()
        expect(new Set(acceptedKeys).size).toBe(acceptedKeys.length)
        expect(savedKeys).toEqual(acceptedKeys)
        // The race really happened: some windows landed in captures and some fell between them.
        expect(stops.length).toBeGreaterThan(1)
        expect(acceptedKeys.length).toBeGreaterThan(0)
        console.log(`${stops.length} captures, ${acceptedKeys.length} of ${2 * PER_SESSION} windows accepted while armed`)
      }).pipe(Effect.asVoid),
    240_000
  )

  it.scopedLive("50 concurrent relabels of one capture, then 20 concurrent deletes: one label wins whole, one delete succeeds", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { ...ONE_SCRIPT, PUNKTFUNK_SOURCE: "fake" }, windowMs: 10 })
      yield* Effect.promise(() => host.fetch("/start", { method: "POST" }))
      yield* Effect.sleep("300 millis")
      const meta = Schema.decodeUnknownSync(CaptureMeta)(yield* Effect.promise(async () => (await host.fetch("/stop", { method: "POST" })).json()))
      const labels = Array.from({ length: 50 }, (_, i) => `label ${i} ${"x".repeat(i * 3)}`)
      const relabels = yield* Effect.all(
        labels.map((label) =>
          Effect.promise(async () => {
            const res = await host.fetch(`/recordings/${meta.id}`, {
              method: "PATCH",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ label })
            })
            return { status: res.status, body: await res.text() }
          })
        ),
        { concurrency: "unbounded" }
      )
      for (const r of relabels) expect(r.status, r.body).toBe(200)
      const [capture] = checkCapturesDir(host.capturesDir)
      expect(labels).toContain(capture!.meta.label)
      expect(capture!.samples.length).toBe(meta.sample_count)
      const listed = Schema.decodeUnknownSync(CaptureListing)(yield* Effect.promise(async () => (await host.fetch("/recordings")).json()))
      expect(listed.map((m) => m.label)).toEqual([capture!.meta.label])

      const deletes = yield* Effect.all(
        Array.from({ length: 20 }, () => Effect.promise(async () => (await host.fetch(`/recordings/${meta.id}`, { method: "DELETE" })).status)),
        { concurrency: "unbounded" }
      )
      expect(deletes.filter((s) => s === 204).length).toBeGreaterThanOrEqual(1)
      for (const s of deletes) expect([204, 404]).toContain(s)
      expect(checkCapturesDir(host.capturesDir)).toEqual([])
    })
  )
})
