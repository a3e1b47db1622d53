/**
 * The control messages inside the encrypted envelope (see ControlCrypto.ts), for a Moonlight
 * client talking to a host that reports appversion 7.1.431.-1: the "generation 7, encrypted"
 * type table, and, because the fourth appversion field is negative, the Sunshine extensions.
 *
 * Inner layout: u16 LE type, u16 LE payload length, payload. What such a client sends:
 *  - 0x0302 request IDR (2 zero bytes). It is also the client's "start A": the first message of
 *    every session, which is why a session starts with an IDR request;
 *  - 0x0307 start B (1 zero byte);
 *  - 0x0200 periodic ping every 100 ms (u16 LE 4, then zeros: 8 bytes), reliable, so ENet
 *    measures the round trip; from 7.1.415 on it replaces the old periodic loss stats;
 *  - 0x0201 loss stats (older clients / hosts; 32 bytes LE: u32 lost packets since the previous
 *    report, u32 report interval ms, u32 1000, u64 last good frame, u32 0, u32 0, u32 0x14);
 *  - 0x5502 frame FEC status (Sunshine extension, only when the client's ML_FF_FEC_STATUS flag
 *    is set; 21 bytes BIG endian, sent for a frame that needed FEC recovery or was dropped:
 *    u32 frame, u16 highest seq, u16 next contiguous seq, u16 missing packets before the
 *    highest received, u16 data shards, u16 parity shards, u16 data received, u16 parity
 *    received, u8 FEC %, u8 FEC block index, u8 FEC block count);
 *  - 0x0301 reference frame invalidation (only if the host's SDP says it supports it; 24 bytes
 *    LE, first and last frame in the low halves of two u64), 0x0350 LTR ack;
 *  - 0x0206 input: one mouse, keyboard, text, gamepad, touch or pen event (InputMessages.ts);
 * and what the host sends here: 0x0109 termination (u32 BIG endian HRESULT; 0x80030023 is
 * "closed by the server", which the client reports as a graceful end once it saw a frame).
 *
 * Decoding yields one of the Schema-described messages below; anything we do not act on is
 * `Ignored` (known type) or `Unknown`, never an error — a newer client may send more.
 */
import { Data, Either, Schema } from "effect"
import { INNER_HEADER_BYTES } from "./ControlCrypto.js"
import { InputEvent, decodeInput } from "./InputMessages.js"

export const ControlType = {
  termination: 0x0109,
  rumble: 0x010b,
  hdrMode: 0x010e,
  periodicPing: 0x0200,
  lossStats: 0x0201,
  frameStats: 0x0204,
  inputData: 0x0206,
  invalidateReferenceFrames: 0x0301,
  requestIdr: 0x0302,
  startA: 0x0305,
  startB: 0x0307,
  ltrAck: 0x0350,
  frameFecStatus: 0x5502
} as const

/** `x-ml-general.featureFlags`: the client identifies its control connection by connect data. */
export const ML_FF_SESSION_ID_V1 = 0x02
/** NVST_DISCONN_SERVER_TERMINATED_CLOSED: the host ended the stream on purpose. */
export const TERMINATION_GRACEFUL = 0x80030023

export const RequestIdr = Schema.TaggedStruct("RequestIdr", {})
export const InvalidateReferenceFrames = Schema.TaggedStruct("InvalidateReferenceFrames", {
  firstFrame: Schema.Number,
  lastFrame: Schema.Number
})
export const LossStats = Schema.TaggedStruct("LossStats", {
  /** Packets lost since the previous report (a delta). */
  lostPackets: Schema.Number,
  intervalMs: Schema.Number,
  lastGoodFrame: Schema.Number
})
export const FrameFecStatus = Schema.TaggedStruct("FrameFecStatus", {
  frameIndex: Schema.Number,
  /** Packets of this FEC block missing below the highest one received (a delta per block). */
  missingPackets: Schema.Number,
  dataShards: Schema.Number,
  parityShards: Schema.Number,
  receivedData: Schema.Number,
  receivedParity: Schema.Number
})
export const PeriodicPing = Schema.TaggedStruct("PeriodicPing", {})
export const StartB = Schema.TaggedStruct("StartB", {})
/** A client's input event (a malformed one is a `ControlMessageMalformed` of type 0x0206). */
export const Input = Schema.TaggedStruct("Input", { event: InputEvent })
export const Ignored = Schema.TaggedStruct("Ignored", { type: Schema.Number })
export const Unknown = Schema.TaggedStruct("Unknown", { type: Schema.Number })

export const ControlMessage = Schema.Union(
  RequestIdr,
  InvalidateReferenceFrames,
  LossStats,
  FrameFecStatus,
  PeriodicPing,
  StartB,
  Input,
  Ignored,
  Unknown
)
export type ControlMessage = typeof ControlMessage.Type

export class ControlMessageMalformed extends Data.TaggedError("ControlMessageMalformed")<{
  readonly type: number
  readonly reason: string
}> {}

const tooShort = (type: number, need: number, got: number) =>
  Either.left(new ControlMessageMalformed({ type, reason: `payload ${got} bytes, needs ${need}` }))

/** Decodes a decrypted inner message (header + payload). */
export const decodeControlMessage = (inner: Uint8Array): Either.Either<ControlMessage, ControlMessageMalformed> => {
  const buf = Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength)
  if (buf.length < INNER_HEADER_BYTES) {
    return Either.left(new ControlMessageMalformed({ type: -1, reason: `inner header truncated (${buf.length} bytes)` }))
  }
  const type = buf.readUInt16LE(0)
  const declared = buf.readUInt16LE(2)
  const payload = buf.subarray(INNER_HEADER_BYTES)
  if (declared !== payload.length) {
    return Either.left(new ControlMessageMalformed({ type, reason: `payload length field ${declared} for ${payload.length} bytes` }))
  }
  switch (type) {
    case ControlType.requestIdr:
      return Either.right(RequestIdr.make({}))
    case ControlType.invalidateReferenceFrames:
      return payload.length < 16
        ? tooShort(type, 16, payload.length)
        : Either.right(
            InvalidateReferenceFrames.make({
              firstFrame: Number(payload.readBigUInt64LE(0)),
              lastFrame: Number(payload.readBigUInt64LE(8))
            })
          )
    case ControlType.lossStats:
      return payload.length < 20
        ? tooShort(type, 20, payload.length)
        : Either.right(
            LossStats.make({
              lostPackets: payload.readUInt32LE(0),
              intervalMs: payload.readUInt32LE(4),
              lastGoodFrame: Number(payload.readBigUInt64LE(12))
            })
          )
    case ControlType.frameFecStatus:
      return payload.length < 21
        ? tooShort(type, 21, payload.length)
        : Either.right(
            FrameFecStatus.make({
              frameIndex: payload.readUInt32BE(0),
              missingPackets: payload.readUInt16BE(8),
              dataShards: payload.readUInt16BE(10),
              parityShards: payload.readUInt16BE(12),
              receivedData: payload.readUInt16BE(14),
              receivedParity: payload.readUInt16BE(16)
            })
          )
    case ControlType.periodicPing:
      return Either.right(PeriodicPing.make({}))
    case ControlType.startB:
      return Either.right(StartB.make({}))
    case ControlType.inputData: {
      const input = decodeInput(payload)
      return Either.isLeft(input)
        ? Either.left(new ControlMessageMalformed({ type, reason: input.left.reason }))
        : Either.right(Input.make({ event: input.right }))
    }
    case ControlType.startA:
    case ControlType.frameStats:
    case ControlType.ltrAck:
      return Either.right(Ignored.make({ type }))
    default:
      return Either.right(Unknown.make({ type }))
  }
}

/** An inner message: u16 LE type, u16 LE payload length, payload. */
export const encodeInner = (type: number, payload: Uint8Array): Buffer => {
  const out = Buffer.alloc(INNER_HEADER_BYTES + payload.length)
  out.writeUInt16LE(type, 0)
  out.writeUInt16LE(payload.length, 2)
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(out, INNER_HEADER_BYTES)
  return out
}

/** The host's termination message (inner), with a HRESULT such as TERMINATION_GRACEFUL. */
export const encodeTermination = (hresult: number = TERMINATION_GRACEFUL): Buffer => {
  const payload = Buffer.alloc(4)
  payload.writeUInt32BE(hresult >>> 0, 0)
  return encodeInner(ControlType.termination, payload)
}
