/**
 * The two SDP bodies of the GameStream RTSP handshake: what the host offers in its DESCRIBE
 * answer, and what the client announces in its ANNOUNCE (turned into `StreamSettings`).
 *
 * DESCRIBE: Moonlight does not parse this SDP as SDP; it searches the text for markers
 * (moonlight-common-c, RtspConnection.c):
 *  - `AV1/90000` → the host can send AV1; `sprop-parameter-sets=AAAAAU` (the base64 start of an
 *    HEVC VPS) → the host can send HEVC; neither → H.264. So a codec is offered by writing its
 *    marker, and withheld by leaving it out — the builder writes them only for `codecs` listed.
 *  - `x-nv-video[0].refPicInvalidation` → the host does reference-frame invalidation. Not
 *    written: the encoder does not do it, so clients ask for an IDR frame after a loss instead.
 *  - `x-ss-general.featureFlags` (read as an integer after the first `:`): 0, no pen/touch
 *    extensions.
 *  - `x-ss-general.encryptionSupported`: the V2 control-stream IV (bit 0x01) and encrypted video
 *    (bit 0x02, below). The control stream is AES-GCM under the launch key either way, but the legacy IV keeps only
 *    the low byte of the sequence number, so it repeats every 256 messages — a repeated GCM
 *    nonce lets an observer forge control messages. V2 takes the whole sequence number plus
 *    the sender, and Moonlight turns it on whenever a host offers it. Clients that do not know
 *    it (or do not announce it) keep the legacy IV, and RtspServer.ts refuses them unless the
 *    operator allows it (PUNKTFUNK_GAMESTREAM_LEGACY_CONTROL_IV). `encryptionRequested` stays 0:
 *    the host requires nothing through these bits (audio is not offered through them at all).
 *  - Encrypted video (bit 0x02): a client that asks for it (moonlight-common-c's `ENCFLG_VIDEO`;
 *    it asks only when the host offers it) announces bit 0x02 in `encryptionEnabled` and gets
 *    every video datagram sealed with AES-GCM under the launch key (src/native/gamestream/
 *    video_wire.h). Offered, never requested: Moonlight enables it against a host's request even
 *    when its user opted out (it warns that performance may suffer), and whether to pay for it is
 *    the client's choice. A client that does not ask gets today's plain datagrams.
 *  - `a=fmtp:97 surround-params=<channels><streams><coupled><mapping…>` per channel count: only
 *    read for 5.1/7.1. Stereo needs none; the stereo line is written anyway for people reading it.
 *    A 5.1 client then falls back to its built-in mapping and a 7.1 client stops before ANNOUNCE.
 *
 * ANNOUNCE: lines `a=<name>:<value> ` (Moonlight ends each with a space before CRLF). Attributes
 * the session needs are required; those older clients omit get the defaults GameStream hosts
 * assume. Every value is decoded through the `StreamSettings` Schema, and a refusal names the
 * attribute it came from. Beyond ranges, what the host did not offer is refused here (a codec
 * without its DESCRIBE marker, HDR, 4:4:4, encryption bits the host did not advertise): a client
 * that asks for them is not a Moonlight client talking to this DESCRIBE.
 *
 * Audio encryption is the exception: clients that opt in (Moonlight's `ENCFLG_AUDIO`, the default
 * in several of them) set bit 0x20 of the legacy `x-nv-general.featureFlags` whatever the host
 * offered, and then expect encrypted audio. That request is folded into `encryptionFlags` as
 * 0x04 (the `x-ss-general` audio bit), so the audio sender sees one mask.
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import { surroundParamsLine } from "../../native/audio.js"
import { StreamSettings } from "./StreamSettings.js"
import type { GameStreamCodec } from "./StreamSettings.js"

/** `x-ss-general.encryption*` bits (moonlight-common-c names them SS_ENC_*). */
export const ENCRYPTION_CONTROL_V2 = 0x01
export const ENCRYPTION_VIDEO = 0x02
export const ENCRYPTION_AUDIO = 0x04
/** What DESCRIBE offers in `x-ss-general.encryptionSupported` (see above). */
export const ENCRYPTION_OFFERED = ENCRYPTION_CONTROL_V2 | ENCRYPTION_VIDEO
/** `x-nv-general.featureFlags` bit by which clients ask for encrypted audio. */
const NV_FEATURE_AUDIO_ENCRYPTION = 0x20

export const MAX_ANNOUNCE_ATTRIBUTES = 256

export interface DescribeOptions {
  /** Codecs the host can encode; their DESCRIBE markers are written. */
  readonly codecs: ReadonlyArray<GameStreamCodec>
}

/** The DESCRIBE body. */
export const describeSdp = (options: DescribeOptions): string => {
  const lines = [
    "v=0",
    "o=- 0 0 IN IP4 0.0.0.0",
    "s=punktfunk",
    "t=0 0",
    "a=x-ss-general.featureFlags:0",
    `a=x-ss-general.encryptionSupported:${ENCRYPTION_OFFERED}`,
    "a=x-ss-general.encryptionRequested:0",
    "m=video 0 RTP/AVP 96",
    "a=rtpmap:96 H264/90000"
  ]
  if (options.codecs.includes("hevc")) lines.push("a=fmtp:96 sprop-parameter-sets=AAAAAU")
  if (options.codecs.includes("av1")) lines.push("a=rtpmap:98 AV1/90000")
  // Stereo, then the 5.1 and 7.1 layouts the audio sender encodes, in the order and form
  // Moonlight looks them up by channel count (without them a surround client guesses a layout).
  lines.push("m=audio 0 RTP/AVP 97", "a=rtpmap:97 opus/48000/2", "a=fmtp:97 surround-params=21101")
  for (const channels of [6, 8] as const) {
    const line = surroundParamsLine(channels)
    if (line !== undefined) lines.push(line)
  }
  return `${lines.join("\r\n")}\r\n`
}

// ---- ANNOUNCE ------------------------------------------------------------------------------------

/** A value the client announced that this host cannot serve, naming the attribute. */
export class AnnounceRefused extends Data.TaggedError("AnnounceRefused")<{
  readonly attribute: string
  readonly message: string
}> {}

/** What the announce does not carry: the launch, the host's choices, the session's identifiers. */
export interface AnnounceContext {
  readonly client: string
  readonly clientAddress: string
  readonly rikey: string
  readonly rikeyid: number
  readonly fecPercent: number
  readonly pingPayload: string
  readonly connectData: number
  readonly codecs: ReadonlyArray<GameStreamCodec>
}

/** The `a=` attributes of an SDP body, first occurrence of each name. */
export const sdpAttributes = (body: string): Either.Either<ReadonlyMap<string, string>, AnnounceRefused> => {
  const attributes = new Map<string, string>()
  for (const line of body.split(/\r?\n/)) {
    if (!line.startsWith("a=")) continue
    const colon = line.indexOf(":")
    const name = colon < 0 ? line.slice(2) : line.slice(2, colon)
    if (!attributes.has(name)) attributes.set(name, colon < 0 ? "" : line.slice(colon + 1).trim())
    if (attributes.size > MAX_ANNOUNCE_ATTRIBUTES) {
      return Either.left(new AnnounceRefused({ attribute: name, message: `more than ${MAX_ANNOUNCE_ATTRIBUTES} SDP attributes` }))
    }
  }
  return Either.right(attributes)
}

/** A decimal integer as Moonlight writes them (`%d` / `%u`). */
const AttributeInt = Schema.String.pipe(
  Schema.pattern(/^-?[0-9]{1,10}$/, { message: () => "must be a decimal integer" }),
  Schema.compose(Schema.NumberFromString),
  Schema.int()
)
const decodeInt = Schema.decodeUnknownEither(AttributeInt)

const A = {
  width: "x-nv-video[0].clientViewportWd",
  height: "x-nv-video[0].clientViewportHt",
  fps: "x-nv-video[0].maxFPS",
  packetSize: "x-nv-video[0].packetSize",
  bitrateKbps: "x-nv-vqos[0].bw.maximumBitrateKbps",
  codec: "x-nv-vqos[0].bitStreamFormat",
  minRequiredFecPackets: "x-nv-vqos[0].fec.minRequiredFecPackets",
  slicesPerFrame: "x-nv-video[0].videoEncoderSlicesPerFrame",
  audioPacketDurationMs: "x-nv-aqos.packetDuration",
  audioChannels: "x-nv-audio.surround.numChannels",
  audioChannelMask: "x-nv-audio.surround.channelMask",
  encryptionFlags: "x-ss-general.encryptionEnabled",
  mlFeatureFlags: "x-ml-general.featureFlags",
  nvFeatureFlags: "x-nv-general.featureFlags",
  dynamicRange: "x-nv-video[0].dynamicRangeMode",
  chroma: "x-ss-video[0].chromaSamplingType"
} as const

/** Which attribute each `StreamSettings` field comes from, for naming a Schema refusal. */
const attributeOfField: Readonly<Record<string, string>> = A

const CODEC_OF_FORMAT: ReadonlyArray<GameStreamCodec> = ["h264", "hevc", "av1"]

const decodeSettings = Schema.decodeUnknownEither(StreamSettings, { errors: "first" })

/** The client's ANNOUNCE body → `StreamSettings`, or the first attribute that cannot be served. */
export const parseAnnounce = (body: string, context: AnnounceContext): Effect.Effect<StreamSettings, AnnounceRefused> =>
  Effect.gen(function* () {
    const attributes = yield* sdpAttributes(body)
    const int = (attribute: string, fallback?: number): Either.Either<number, AnnounceRefused> => {
      const raw = attributes.get(attribute)
      if (raw === undefined) {
        return fallback === undefined
          ? Either.left(new AnnounceRefused({ attribute, message: `missing SDP attribute '${attribute}'` }))
          : Either.right(fallback)
      }
      return Either.mapLeft(
        decodeInt(raw),
        () => new AnnounceRefused({ attribute, message: `bad SDP attribute '${attribute}': must be a decimal integer, got '${raw.slice(0, 32)}'` })
      )
    }
    const refuse = (attribute: string, why: string) =>
      Effect.fail(new AnnounceRefused({ attribute, message: `bad SDP attribute '${attribute}': ${why}` }))

    const format = yield* int(A.codec, 0)
    const codec = CODEC_OF_FORMAT[format]
    if (codec === undefined) return yield* refuse(A.codec, `unknown bitstream format ${format} (0 H.264, 1 HEVC, 2 AV1)`)
    if (!context.codecs.includes(codec)) return yield* refuse(A.codec, `${codec.toUpperCase()} was not offered by this host (it offers ${context.codecs.join(", ")})`)
    if ((yield* int(A.dynamicRange, 0)) !== 0) return yield* refuse(A.dynamicRange, "HDR was not offered by this host")
    if ((yield* int(A.chroma, 0)) !== 0) return yield* refuse(A.chroma, "YUV 4:4:4 was not offered by this host")
    const ssEncryption = yield* int(A.encryptionFlags, 0)
    if ((ssEncryption & ~ENCRYPTION_OFFERED) !== 0) {
      return yield* refuse(A.encryptionFlags, `encryption ${ssEncryption} was not offered by this host (it offers ${ENCRYPTION_OFFERED}: the V2 control-stream IV and video)`)
    }
    const nvFeatures = yield* int(A.nvFeatureFlags, 0)

    const candidate = {
      client: context.client,
      clientAddress: context.clientAddress,
      width: yield* int(A.width),
      height: yield* int(A.height),
      fps: yield* int(A.fps),
      packetSize: yield* int(A.packetSize),
      bitrateKbps: yield* int(A.bitrateKbps),
      codec,
      fecPercent: context.fecPercent,
      minRequiredFecPackets: yield* int(A.minRequiredFecPackets, 0),
      slicesPerFrame: yield* int(A.slicesPerFrame, 1),
      audioPacketDurationMs: yield* int(A.audioPacketDurationMs, 5),
      audioChannels: yield* int(A.audioChannels),
      audioChannelMask: yield* int(A.audioChannelMask),
      encryptionFlags: (ssEncryption & (ENCRYPTION_CONTROL_V2 | ENCRYPTION_VIDEO)) | ((nvFeatures & NV_FEATURE_AUDIO_ENCRYPTION) !== 0 ? ENCRYPTION_AUDIO : 0),
      mlFeatureFlags: yield* int(A.mlFeatureFlags, 0),
      rikey: context.rikey,
      rikeyid: context.rikeyid,
      pingPayload: context.pingPayload,
      connectData: context.connectData
    }
    return yield* Either.mapLeft(decodeSettings(candidate), (error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      const field = String(issue?.path[0] ?? "")
      const attribute = attributeOfField[field] ?? field
      const got = (candidate as Readonly<Record<string, unknown>>)[field]
      return new AnnounceRefused({
        attribute,
        message: `bad SDP attribute '${attribute}': ${issue?.message ?? "invalid"}${got === undefined ? "" : ` (got ${String(got)})`}`
      })
    })
  })
