/**
 * Known answers for the encrypted control packet (DECISIONS.md: compatibility cannot be proven
 * by our own client alone). The expected bytes were computed outside this code base, with
 * Python's `cryptography` AESGCM, from the protocol description:
 *   envelope = u16 LE 0x0001 ‖ u16 LE (4 + 16 + len(ciphertext)) ‖ u32 LE seq ‖ tag ‖ ciphertext
 *   plaintext = u16 LE type ‖ u16 LE payload length ‖ payload
 *   legacy IV (no V2 negotiated) = 16 bytes, all zero but byte 0 = seq & 0xff
 *   V2 IV = u32 LE seq ‖ 6 zero bytes ‖ 'C' (client) or 'H' (host) ‖ 'C'
 * with key 00 01 … 0f, no additional data.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { controlEncryptionOf, controlIv, openControl, sealControl } from "../../src/streams/gamestream/ControlCrypto.js"
import { decodeControlMessage, encodeInner, encodeTermination } from "../../src/streams/gamestream/ControlMessages.js"

const key = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex")
const idrInner = Buffer.from("020302000000", "hex") // 0x0302, 2 bytes, 00 00
const terminationInner = Buffer.from("0901040080030023", "hex") // 0x0109, 4 bytes, BE 0x80030023

const answers = {
  legacyClientIdr: "01001a00050100004efac1fd7c54061860318aaec87c59b5fc2b7e8c62dd", // seq 0x105
  v2ClientIdr: "01001a00040302013903623206d786aab0bc51f7f7cff82012df6a1bb44f", // seq 0x01020304
  v2HostTermination: "01001c0007000000a825d6bd20ccfe5ba7fbb60530900ef17f27937ed176265a", // seq 7
  legacyHostTermination: "01001c0000000000a0aac3392f67a3ba15e9e3096999aa4209177ff66bbdf454" // seq 0
}

describe("GameStream control envelope: known answers", () => {
  it("IVs: legacy keeps only the low byte of seq; V2 is seq LE plus origin and stream", () => {
    expect(controlIv("legacy", "client", 0x105).toString("hex")).toBe("05" + "00".repeat(15))
    expect(controlIv("legacy", "host", 0x105).toString("hex")).toBe("05" + "00".repeat(15))
    expect(controlIv("v2", "client", 0x01020304).toString("hex")).toBe("04030201" + "00".repeat(6) + "4343")
    expect(controlIv("v2", "host", 7).toString("hex")).toBe("07000000" + "00".repeat(6) + "4843")
  })

  it("which IV a session uses follows x-ss-general.encryptionEnabled bit 0x01", () => {
    expect(controlEncryptionOf(0)).toBe("legacy")
    expect(controlEncryptionOf(0x06)).toBe("legacy") // video + audio only
    expect(controlEncryptionOf(0x01)).toBe("v2")
  })

  it("inner messages: the host's termination and the client's IDR request", () => {
    expect(encodeTermination()).toEqual(terminationInner)
    expect(encodeInner(0x0302, Buffer.from([0, 0]))).toEqual(idrInner)
  })

  it("the host seals termination byte for byte", () => {
    expect(sealControl(key, "v2", "host", 7, terminationInner).toString("hex")).toBe(answers.v2HostTermination)
    expect(sealControl(key, "legacy", "host", 0, terminationInner).toString("hex")).toBe(answers.legacyHostTermination)
  })

  it("the host opens a client's IDR request (header fields, seq, IV) and decodes it", () => {
    for (const [mode, hex, seq] of [
      ["legacy", answers.legacyClientIdr, 0x105],
      ["v2", answers.v2ClientIdr, 0x01020304]
    ] as const) {
      const opened = openControl(key, mode, "client", Buffer.from(hex, "hex"))
      expect(Either.isRight(opened)).toBe(true)
      if (Either.isRight(opened)) {
        expect(opened.right.seq).toBe(seq)
        expect(opened.right.inner).toEqual(idrInner)
        expect(decodeControlMessage(opened.right.inner)).toEqual(Either.right({ _tag: "RequestIdr" }))
      }
    }
  })

  it("the wrong origin or mode does not open (the directions never share an IV)", () => {
    const v2 = Buffer.from(answers.v2ClientIdr, "hex")
    expect(Either.getLeft(openControl(key, "v2", "host", v2))._tag).toBe("Some")
    expect(Either.getLeft(openControl(key, "legacy", "client", v2))._tag).toBe("Some")
  })

  it("decodes loss stats, FEC status and RFI payloads with their byte orders", () => {
    const loss = Buffer.alloc(32)
    loss.writeUInt32LE(7, 0)
    loss.writeUInt32LE(50, 4)
    loss.writeUInt32LE(1000, 8)
    loss.writeBigUInt64LE(1234n, 12)
    expect(decodeControlMessage(encodeInner(0x0201, loss))).toEqual(
      Either.right({ _tag: "LossStats", lostPackets: 7, intervalMs: 50, lastGoodFrame: 1234 })
    )
    const fec = Buffer.from("000001f4" + "0064" + "005a" + "0003" + "000a" + "0002" + "0007" + "0002" + "14" + "00" + "01", "hex")
    expect(decodeControlMessage(encodeInner(0x5502, fec))).toEqual(
      Either.right({ _tag: "FrameFecStatus", frameIndex: 500, missingPackets: 3, dataShards: 10, parityShards: 2, receivedData: 7, receivedParity: 2 })
    )
    const rfi = Buffer.alloc(24)
    rfi.writeBigUInt64LE(100n, 0)
    rfi.writeBigUInt64LE(104n, 8)
    expect(decodeControlMessage(encodeInner(0x0301, rfi))).toEqual(
      Either.right({ _tag: "InvalidateReferenceFrames", firstFrame: 100, lastFrame: 104 })
    )
  })
})
