/**
 * What one GameStream stream is: the seam between RTSP (which negotiates it), the ENet control
 * stream, and the native media session (which sends it).
 *
 * RTSP fills `StreamSettings` from the client's ANNOUNCE (its `a=x-nv-*` / `x-ss-*` / `x-ml-*`
 * attributes) on top of the launch record; on PLAY it hands the settings to the session
 * orchestrator, which opens the native session with them. Each field names the SDP attribute it
 * comes from, so a reader can check it against what a Moonlight client sends.
 *
 * Why a Schema and not a plain interface: ANNOUNCE is client input. Decoding through this
 * Schema is where an impossible value (a 0×0 viewport, a packet size the header does not fit
 * in) becomes a typed refusal naming the attribute, instead of a native session that fails later.
 */
import { Schema } from "effect"

export const GameStreamCodec = Schema.Literal("h264", "hevc", "av1")
export type GameStreamCodec = typeof GameStreamCodec.Type

export const StreamSettings = Schema.Struct({
  /** Fingerprint of the paired client (from the launch); its prefix becomes the stats `client`. */
  client: Schema.String,
  /** Address the client launched from; media goes to where its pings come from. */
  clientAddress: Schema.String,
  /** `x-nv-video[0].clientViewportWd` / `clientViewportHt`. */
  width: Schema.Int.pipe(Schema.between(16, 7680)),
  height: Schema.Int.pipe(Schema.between(16, 4320)),
  /** `x-nv-video[0].maxFPS`. */
  fps: Schema.Int.pipe(Schema.between(1, 240)),
  /**
   * `x-nv-video[0].packetSize`: the 16-byte video header plus payload; each datagram is this + the
   * 16-byte RTP header (+ the 32-byte prefix of encrypted video, for which a Moonlight client
   * announces 32 bytes less, so its datagrams keep their size).
   */
  packetSize: Schema.Int.pipe(Schema.between(256, 4096)),
  /** `x-nv-vqos[0].bw.maximumBitrateKbps`. */
  bitrateKbps: Schema.Int.pipe(Schema.between(100, 500_000)),
  /** `x-nv-vqos[0].bitStreamFormat`: 0 H.264, 1 HEVC, 2 AV1. */
  codec: GameStreamCodec,
  /** Parity packets per 100 data packets; the host's choice (GameStream hosts use 20). */
  fecPercent: Schema.Int.pipe(Schema.between(0, 255)),
  /** `x-nv-vqos[0].fec.minRequiredFecPackets`: parity packets a block gets at least. */
  minRequiredFecPackets: Schema.Int.pipe(Schema.between(0, 255)),
  /** `x-nv-video[0].videoEncoderSlicesPerFrame`. */
  slicesPerFrame: Schema.Int.pipe(Schema.between(1, 64)),
  /** `x-nv-aqos.packetDuration` (ms of audio per packet: 5 or 10). */
  audioPacketDurationMs: Schema.Int.pipe(Schema.between(1, 20)),
  /** `x-nv-audio.surround.numChannels` and `channelMask`. */
  audioChannels: Schema.Int.pipe(Schema.between(1, 8)),
  audioChannelMask: Schema.Int,
  /**
   * What the client asked to be encrypted: `x-ss-general.encryptionEnabled` bits 0x01 (V2
   * control IV) and 0x02 (video), plus 0x04 for audio however the client asked (Sdp.ts).
   */
  encryptionFlags: Schema.Int,
  /** `x-ml-general.featureFlags`. */
  mlFeatureFlags: Schema.Int,
  /** AES-128 key (hex) and its id from the launch (`rikey` / `rikeyid`). */
  rikey: Schema.String,
  rikeyid: Schema.Int,
  /** What the client sends in its UDP pings (`X-SS-Ping-Payload`), or "" for legacy "PING". */
  pingPayload: Schema.String,
  /** What the client sends in its ENet connect data (`X-SS-Connect-Data`). */
  connectData: Schema.Int
})
export type StreamSettings = typeof StreamSettings.Type
