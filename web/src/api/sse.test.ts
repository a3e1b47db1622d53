import { Schema } from "effect"
import { sampleFixture } from "../../../src/api/SampleFixture.js"
import { describe, expect, it } from "vitest"
import { StatsSample, StatsStatus } from "../../../src/api/Stats.js"
import { SseParser, decodeEvent, readLiveEvents } from "./sse.js"

const status: StatsStatus = {
  armed: true,
  sample_count: 3,
  started_unix_ms: 1_700_000_000_000,
  elapsed_ms: 6000,
  kind: "punktfunk1",
  truncated: false,
  unsaved_id: null,
  active_sessions: 1
}

const sample: StatsSample = sampleFixture({
  t_ms: 2000,
  session_id: "s1",
  stages: [{ name: "encode", p50_us: 2100, p99_us: 3000, max_us: 4000, mean_us: 2200 }],
  fps: 60,
  repeat_fps: 0,
  mbps: 10,
  bitrate_kbps: 10_000,
  host_p50_us: 2500,
  host_p99_us: 3500,
  fec_us: 80
})

// The host's own encoding (src/http/LiveEvents.ts formats events this way).
const encode = <A, I>(schema: Schema.Schema<A, I>, value: A) => Schema.encodeSync(Schema.parseJson(schema))(value)

describe("server-sent events reader", () => {
  it("decodes status and sample events with the Schemas, across arbitrary chunk boundaries", () => {
    const text = `retry: 2000\n\nevent: status\ndata: ${encode(StatsStatus, status)}\n\n: keepalive\n\nevent: sample\ndata: ${encode(StatsSample, sample)}\n\n`
    for (const size of [1, 3, 17, text.length]) {
      const parser = new SseParser()
      const got = []
      for (let i = 0; i < text.length; i += size) got.push(...parser.push(text.slice(i, i + size)))
      expect(got).toEqual([
        { type: "status", status },
        { type: "sample", sample }
      ])
    }
  })

  it("accepts CRLF line ends", () => {
    const parser = new SseParser()
    expect(parser.push(`event: sample\r\ndata: ${encode(StatsSample, sample)}\r\n\r\n`)).toEqual([{ type: "sample", sample }])
  })

  it("ignores comments, unknown events and data that does not match the Schema", () => {
    expect(decodeEvent(": keepalive")).toBeNull()
    expect(decodeEvent("event: other\ndata: {}")).toBeNull()
    expect(decodeEvent('event: sample\ndata: {"t_ms": -1}')).toBeNull()
    expect(decodeEvent("event: sample\ndata: not json")).toBeNull()
  })
})

describe("readLiveEvents refused", () => {
  it("a live stream refused past the host's cap says why (the host's message), not only the status", async () => {
    const body = JSON.stringify({ _tag: "TooManySubscribers", max: 8, message: "8 live event streams are open already (PUNKTFUNK_MAX_LIVE_SUBSCRIBERS): close one" })
    const original = globalThis.fetch
    globalThis.fetch = (() => Promise.resolve(new Response(body, { status: 503, headers: { "content-type": "application/json" } }))) as typeof fetch
    try {
      await expect(readLiveEvents("http://host/api/v1/stats/live/events", "t", new AbortController().signal, () => undefined)).rejects.toThrow(
        "The live stream answered HTTP 503: 8 live event streams are open already (PUNKTFUNK_MAX_LIVE_SUBSCRIBERS): close one"
      )
    } finally {
      globalThis.fetch = original
    }
  })
})

describe("marker events", () => {
  it("a marker event decodes to a typed marker; a malformed one is dropped", () => {
    const marker = { t_ms: 1234, label: "stutter here", kind: "operator" }
    expect(decodeEvent(`event: marker\ndata: ${JSON.stringify(marker)}`)).toEqual({ type: "marker", marker })
    expect(decodeEvent(`event: marker\ndata: ${JSON.stringify({ ...marker, kind: "nonsense" })}`)).toBeNull()
  })
})
