/**
 * The flight recorder's TypeScript side (issue 14.3): decides when a span of frames is kept, copies
 * it out of the producer's ring (the addon's, or the fake pipeline's), and holds what the armed
 * capture kept until it is saved as `<id>.frames.json`.
 *
 * When: each window of an armed capture is checked with the breach rules of `Breaches.ts`
 * (`findBreaches` over the session's windows so far, keeping the events that end at this window —
 * the RTT rule's median is then the median so far); a breaching window keeps its own frames and
 * the window's before. A marker keeps the same span up to now for every session (`snapshot`).
 * Frames cross into JavaScript only at those moments, never per frame.
 *
 * Clocks: a producer stamps windows and frames on its own monotonic clock; the Recorder restamps a
 * window with the capture's time when it arrives. A frame is placed by its offset from the newest
 * window's end, so a span sits exactly where its windows sit on the capture's charts.
 *
 * Overlap: a window breaching right after one that was kept extends the kept span instead of
 * storing its frames twice. Bound: `MAX_FRAME_SPANS` spans and `MAX_FRAME_RECORDS` frames per
 * capture (`Frames.ts`); past it a span is cut or left out and `bound_hit` is set.
 */
import { findBreaches } from "../../api/Breaches.js"
import { MAX_FRAME_RECORDS, MAX_FRAME_SPANS } from "../../api/Frames.js"
import type { FrameRecord, FrameSpan, FrameSpanReason, FramesFile } from "../../api/Frames.js"
import type { CaptureMeta, SessionMeta, StageName, StatsSample } from "../../api/Stats.js"
import { CAPTURE_FORMAT_VERSION } from "../../api/CaptureFormat.js"

/** One frame as a producer's ring holds it: its own clock (ms), times in µs after the deadline. */
export interface RawFrame {
  readonly deadline_ms: number
  readonly woke_us: number
  readonly captured_us: number
  readonly submitted_us: number
  readonly encoded_us: number
  readonly packetized_us: number
  readonly sent_us: number
  readonly bytes: number
  readonly packets: number
  readonly dropped_before: number
  readonly key: boolean
  readonly repeat: boolean
}

/** A session's ring: the frames whose deadline lies in [fromMs, toMs] on the producer's clock. */
export interface FrameSource {
  readonly copy: (fromMs: number, toMs: number) => ReadonlyArray<RawFrame>
}

const END_OF: Record<StageName, keyof RawFrame> = {
  capture: "captured_us",
  submit: "submitted_us",
  encode: "encoded_us",
  packetize: "packetized_us",
  send: "sent_us"
}

const round3 = (x: number) => Math.round(x * 1000) / 1000

/** A raw frame in the capture's time, each stage from the previous stage's end to its own. */
export const frameRecord = (raw: RawFrame, stages: ReadonlyArray<StageName>, offsetMs: number): FrameRecord => {
  let start = 0
  const stages_us: Array<readonly [number, number]> = []
  for (const name of stages) {
    const end = Math.max(start, raw[END_OF[name]] as number)
    stages_us.push([round3(start), round3(end)])
    start = end
  }
  return {
    t_ms: round3(Math.max(0, raw.deadline_ms + offsetMs)),
    woke_us: round3(raw.woke_us),
    stages_us,
    host_us: round3(start),
    bytes: raw.bytes,
    packets: raw.packets,
    dropped_before: raw.dropped_before,
    key: raw.key,
    repeat: raw.repeat
  }
}

interface SessionTrack {
  meta: SessionMeta
  source: FrameSource | undefined
  /** This capture's windows of the session, capture time (for the breach rules). */
  readonly samples: Array<StatsSample>
  /** Producer-clock ends of the last three windows and the newest window's capture time. */
  readonly ends: Array<number>
  lastStamped: number
}

interface MutableSpan {
  session_id: string
  reason: FrameSpanReason
  detail: string
  from_ms: number
  to_ms: number
  budget_us: number
  stages: ReadonlyArray<StageName>
  frames: Array<FrameRecord>
}

export interface FlightLog {
  /** A window of an armed capture arrived: `producerTMs` its producer-clock end, `stamped` as the capture keeps it. */
  readonly window: (meta: SessionMeta, source: FrameSource | undefined, stamped: StatsSample, producerTMs: number) => ReadonlyArray<string>
  /** A marker: every session's span from the start of its previous window up to now. Returns the spans kept. */
  readonly snapshot: (label: string) => number
  readonly isEmpty: () => boolean
  readonly file: (id: string) => FramesFile
}

const DEFAULT_WINDOW_MS = 2000
const UP_TO_NOW = Number.MAX_SAFE_INTEGER

export const makeFlightLog = (bounds: { readonly maxSpans?: number | undefined; readonly maxFrames?: number | undefined } = {}): FlightLog => {
  const maxSpans = bounds.maxSpans ?? MAX_FRAME_SPANS
  const maxFrames = bounds.maxFrames ?? MAX_FRAME_RECORDS
  const tracks = new Map<string, SessionTrack>()
  const spans: Array<MutableSpan> = []
  let frameCount = 0
  let boundHit = false

  /** Keeps the frames of `track` in [fromProducer, toProducer]; extends the session's last span when they overlap. */
  const keep = (track: SessionTrack, reason: FrameSpanReason, detail: string, fromProducer: number, toProducer: number): boolean => {
    if (track.source === undefined) return false
    const offset = track.lastStamped - (track.ends[track.ends.length - 1] ?? 0)
    const fromMs = Math.max(0, fromProducer + offset)
    let last: MutableSpan | undefined
    for (let i = spans.length - 1; i >= 0 && last === undefined; i--) if (spans[i]!.session_id === track.meta.session_id) last = spans[i]
    // Only breach spans merge: a marker's span is its own, with its label.
    const extending = last !== undefined && last.reason === "breach" && reason === "breach" && fromMs <= last.to_ms ? last : undefined
    if (extending === undefined && spans.length >= maxSpans) {
      boundHit = true
      return false
    }
    if (frameCount >= maxFrames) {
      boundHit = true
      return false
    }
    const after = extending?.frames[extending.frames.length - 1]?.t_ms ?? -1
    const fresh: Array<FrameRecord> = []
    for (const raw of track.source.copy(fromProducer, toProducer)) {
      // A frame from before the capture was armed has no place on its clock.
      if (raw.deadline_ms + offset < 0) continue
      const record = frameRecord(raw, track.meta.stages, offset)
      if (record.t_ms <= after) continue
      if (frameCount + fresh.length >= maxFrames) {
        boundHit = true
        break
      }
      fresh.push(record)
    }
    frameCount += fresh.length
    // A marker copies up to now: its span ends at its last frame.
    const toMs = toProducer === UP_TO_NOW ? Math.max(fromMs, fresh[fresh.length - 1]?.t_ms ?? fromMs) : Math.max(fromMs, toProducer + offset)
    if (extending !== undefined) {
      extending.frames.push(...fresh)
      extending.to_ms = Math.max(extending.to_ms, toMs)
      if (!extending.detail.includes(detail) && extending.detail.length < 500) extending.detail = `${extending.detail}; ${detail}`
      return true
    }
    spans.push({
      session_id: track.meta.session_id,
      reason,
      detail,
      from_ms: fromMs,
      to_ms: toMs,
      budget_us: track.meta.fps > 0 ? 1e6 / track.meta.fps : 0,
      stages: track.meta.stages,
      frames: fresh
    })
    return true
  }

  /** Producer-clock start of the window before the newest one. */
  const spanStart = (track: SessionTrack): number => {
    const e = track.ends
    if (e.length >= 3) return e[e.length - 3]!
    const newest = e[e.length - 1] ?? 0
    const len = e.length >= 2 ? newest - e[e.length - 2]! : DEFAULT_WINDOW_MS
    return newest - 2 * len
  }

  return {
    window: (meta, source, stamped, producerTMs) => {
      let track = tracks.get(meta.session_id)
      if (track === undefined) {
        track = { meta, source, samples: [], ends: [], lastStamped: stamped.t_ms }
        tracks.set(meta.session_id, track)
      }
      track.meta = meta
      track.source = source
      track.samples.push(stamped)
      track.ends.push(producerTMs)
      if (track.ends.length > 3) track.ends.shift()
      track.lastStamped = stamped.t_ms
      const captureMeta = metaFor(meta)
      const events = findBreaches(captureMeta, track.samples).filter((e) => e.to_ms === stamped.t_ms)
      if (events.length === 0) return []
      const detail = events.map((e) => e.message).join("; ")
      keep(track, "breach", detail, spanStart(track), producerTMs)
      return events.map((e) => e.message)
    },
    snapshot: (label) => {
      let kept = 0
      for (const track of tracks.values()) if (keep(track, "marker", label, spanStart(track), UP_TO_NOW)) kept++
      return kept
    },
    isEmpty: () => spans.length === 0 && !boundHit,
    file: (id) => ({
      version: 1,
      id,
      max_spans: maxSpans,
      max_frames: maxFrames,
      bound_hit: boundHit,
      spans: spans.map((s) => ({ ...s, frames: s.frames.slice() }))
    })
  }
}

/** The breach rules read a capture's meta; one session's is enough for its own windows. */
const metaFor = (session: SessionMeta): CaptureMeta => ({
  format_version: CAPTURE_FORMAT_VERSION,
  id: "",
  label: "",
  started_unix_ms: 0,
  duration_ms: 0,
  kind: session.kind,
  width: session.width,
  height: session.height,
  fps: session.fps,
  codec: session.codec,
  client: session.client,
  encoder_backend: session.encoder_backend,
  gpu: session.gpu,
  sample_count: 0,
  truncated: false,
  recovered: false,
  measured: session.measured,
  sessions: [session],
  imported: false
})
