/**
 * `punktfunk/1` control messages: what the host and its client say to each other over TLS 1.3.
 * One Schema per message, shared by the host and `punktfunk-client`.
 *
 * Framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Why JSON and not a
 * binary format: control messages are a few per second at most, and a human reading a capture of
 * the control stream should see what was said; the media plane, where bytes matter, is binary.
 * Why a length prefix: TLS gives a byte stream, and a length lets the reader refuse an oversized
 * frame before buffering it.
 *
 * Pairing proves the PIN by CPace (see `PairingPake.ts`): `Pair` carries the client's share,
 * `PairResponse` the host's once the operator typed the PIN, then `PairConfirm` and `Paired` carry
 * each side's confirmation tag. No message lets anyone test a PIN offline.
 */
import { Schema } from "effect"
import { frame } from "./FrameReader.js"

export { frame, FrameError, FrameReader, MAX_FRAME_BYTES } from "./FrameReader.js"

export const PROTOCOL = "punktfunk/1"

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Name = Schema.String.pipe(Schema.maxLength(64))

// ── client → host ────────────────────────────────────────────────────────────────────────────
/** A CPace share (a ristretto255 element): 32 bytes, hex. */
const Share = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
/** A CPace confirmation tag (HMAC-SHA-512): 64 bytes, hex. */
const Tag = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{128}$/))

/** Asks to pair, with the client's CPace share Ya (computed from the PIN it shows). */
export class Pair extends Schema.TaggedClass<Pair>()("Pair", {
  name: Name,
  ya: Share
}) {}

/** The client's confirmation tag Ta, sent once it has the host's share. */
export class PairConfirm extends Schema.TaggedClass<PairConfirm>()("PairConfirm", { ta: Tag }) {}

export class Hello extends Schema.TaggedClass<Hello>()("Hello", {
  protocol: Schema.String,
  name: Name,
  width: Count,
  height: Count,
  fps: Count,
  codec: Schema.Literal("h264", "hevc"),
  bitrate_kbps: Count,
  /** The UDP port the client receives media on (at the address it connected from). */
  udp_port: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(1, 65535))),
  /** Parity shards per 100 data shards the client asks for; the host may clamp it. */
  fec_percent: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(0, 100))),
  /**
   * The client's receiver reports will carry end-to-end latency (`e2e_p50_us`, `e2e_p99_us`): the
   * host lists it as measured for the session only then (an older client never sends it).
   */
  reports_e2e: Schema.optional(Schema.Boolean)
}) {}

/** How the media of a session is sealed and cut: the client's receiver is opened with these. */
export const MediaParams = Schema.Struct({
  /** 16 bytes of AES-128-GCM key and 4 bytes of nonce salt, hex; new for every session. */
  key_hex: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{40}$/)),
  mtu: Count,
  fec_percent: Count
})
export type MediaParams = typeof MediaParams.Type

/** The decoder lost its references (dropped frames): the next frame should be an IDR. */
export class IdrRequest extends Schema.TaggedClass<IdrRequest>()("IdrRequest", {}) {}

/** A new bitrate target, e.g. when the client sees its link cannot carry the current one. */
export class BitrateChange extends Schema.TaggedClass<BitrateChange>()("BitrateChange", {
  kbps: Schema.Number.pipe(Schema.int(), Schema.between(100, 500_000))
}) {}

/**
 * A count in a receiver report: what one receiver saw between two reports (about a second).
 * Bounded by 2^32 − 1, far above any real link, so that the host can sum reports into a window
 * without leaving the safe integers (a capture holding an unsafe integer cannot be saved).
 */
const ReportCount = Schema.Number.pipe(Schema.int(), Schema.between(0, 2 ** 32 - 1))

/** What the receiver saw since its previous report (deltas). */
export class ReceiverReport extends Schema.TaggedClass<ReceiverReport>()("ReceiverReport", {
  packets_received: ReportCount,
  packets_lost: ReportCount,
  fec_recovered: ReportCount,
  frames_decoded: ReportCount,
  frames_dropped: ReportCount,
  /** Finite: JSON's 1e999 parses as Infinity. */
  decode_us: Schema.Number.pipe(Schema.finite(), Schema.nonNegative()),
  /**
   * Capture→decoded latency of the frames decoded since the previous report, on the host's clock
   * (the client subtracts its estimate of the clocks' offset, see src/client/ClockOffset.ts).
   * Absent until the client has an estimate, or from a client that does not measure it.
   */
  e2e_p50_us: Schema.optional(Schema.Number.pipe(Schema.finite(), Schema.nonNegative())),
  e2e_p99_us: Schema.optional(Schema.Number.pipe(Schema.finite(), Schema.nonNegative()))
}) {}

/** The client's answer to the host's `Ping`. */
export class Echo extends Schema.TaggedClass<Echo>()("Echo", { id: Count }) {}

export class Goodbye extends Schema.TaggedClass<Goodbye>()("Goodbye", { reason: Schema.String.pipe(Schema.maxLength(200)) }) {}

export const ClientMessage = Schema.Union(Pair, PairConfirm, Hello, IdrRequest, BitrateChange, ReceiverReport, Echo, Goodbye)
export type ClientMessage = typeof ClientMessage.Type

// ── host → client ────────────────────────────────────────────────────────────────────────────
export class PairingPending extends Schema.TaggedClass<PairingPending>()("PairingPending", { request_id: Schema.String }) {}

/** The host's CPace share Yb, from the PIN the operator typed. */
export class PairResponse extends Schema.TaggedClass<PairResponse>()("PairResponse", { yb: Share }) {}

/** The host checked the client's tag and pinned it; `tb` is the host's own tag for the client to check. */
export class Paired extends Schema.TaggedClass<Paired>()("Paired", { host_fingerprint: Schema.String, tb: Tag }) {}

export class Refused extends Schema.TaggedClass<Refused>()("Refused", { reason: Schema.String }) {}

export class Welcome extends Schema.TaggedClass<Welcome>()("Welcome", {
  session_id: Schema.String,
  width: Count,
  height: Count,
  fps: Count,
  codec: Schema.String,
  bitrate_kbps: Count,
  encoder_backend: Schema.String,
  /** Present when the host streams media to the client's `udp_port`. */
  media: Schema.optional(MediaParams)
}) {}

/** The bitrate the encoder runs at from now on (the host may refuse a change: then the old one). */
export class BitrateApplied extends Schema.TaggedClass<BitrateApplied>()("BitrateApplied", { kbps: Count }) {}

/** A host clock reading: CLOCK_MONOTONIC µs, the clock of the media plane's capture stamps. */
const HostUs = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())

/**
 * Round-trip probe: the client echoes `id` at once; the host times the round trip itself.
 * `host_us` is when the host sent it and `echo` when the host received the client's previous
 * echo, both on the host's clock: with its own receive and answer times the client has the four
 * stamps of an NTP exchange, and so the offset between the two clocks (src/client/ClockOffset.ts).
 */
export class Ping extends Schema.TaggedClass<Ping>()("Ping", {
  id: Count,
  host_us: Schema.optional(HostUs),
  echo: Schema.optional(Schema.Struct({ id: Count, host_us: HostUs }))
}) {}

export const HostMessage = Schema.Union(PairingPending, PairResponse, Paired, Refused, Welcome, Ping, BitrateApplied, Goodbye)
export type HostMessage = typeof HostMessage.Type

// ── framing (FrameReader.ts) ─────────────────────────────────────────────────────────────────
export const encodeClientMessage = (m: ClientMessage): Buffer =>
  frame(Schema.encodeSync(Schema.parseJson(ClientMessage))(m))
export const encodeHostMessage = (m: HostMessage): Buffer => frame(Schema.encodeSync(Schema.parseJson(HostMessage))(m))
