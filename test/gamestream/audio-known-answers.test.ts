/**
 * Known answers for GameStream audio (DECISIONS.md: Moonlight compatibility cannot be proven by
 * our own client alone). The FEC fixture's parity was computed by nanors — the Reed-Solomon
 * library Moonlight decodes audio FEC with — with the parity matrix Moonlight installs; the
 * cipher fixture by the OpenSSL command line from the IV rule (see each fixture's `about`).
 * Both the host's C++ (`audioFecParity`) and the test client's TypeScript must agree with them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  audioEncryptionRequested,
  type AudioStartInput,
  OPUS_LAYOUTS,
  surroundParamsLine
} from "../../src/native/audio.js"
import { nativeTestHooks as hooks } from "../../src/native/testHooks.js"
import { gameStreamAudioOut, openGameStreamAudio } from "../../src/streams/gamestream/GameStreamAudio.js"
import { kernelsOf, lcgShards, withKernel } from "../support/FecKernels.js"
import { audioIv, decryptAudio, parityOf, PARITY_MATRIX, reconstruct } from "./support/AudioReceiver.js"

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")
interface FecFixture {
  readonly parityMatrix: ReadonlyArray<ReadonlyArray<number>>
  readonly blocks: ReadonlyArray<{ readonly data: ReadonlyArray<string>; readonly parity: ReadonlyArray<string> }>
}
interface CipherFixture {
  readonly keyHex: string
  readonly cases: ReadonlyArray<{ keyId: number; sequenceNumber: number; iv: string; plaintext: string; ciphertext: string }>
}
const fec = JSON.parse(fs.readFileSync(path.join(fixtures, "audio-fec.json"), "utf8")) as FecFixture
const cipher = JSON.parse(fs.readFileSync(path.join(fixtures, "audio-cipher.json"), "utf8")) as CipherFixture
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"))
const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex")

describe("audio FEC (4 data + 2 parity, Moonlight's fixed matrix)", () => {
  it("the test client's matrix is the fixture's", () => {
    expect(PARITY_MATRIX).toEqual(fec.parityMatrix)
  })

  it("the host's parity equals nanors' for every fixture block, under every GF(2^8) kernel", () => {
    for (const kernel of kernelsOf(hooks())) {
      for (const block of fec.blocks) {
        const parity = withKernel(hooks(), kernel, () => hooks().audioFecParity(block.data.map(bytes)))
        expect(parity.map(hexOf), kernel).toEqual(block.parity)
      }
    }
  })

  it("the host's parity equals the test client's for every shard length from 1 to 300 bytes, under every kernel", () => {
    for (let len = 1; len <= 300; len++) {
      const data = lcgShards(len, 4, len)
      const expected = parityOf(data).map(hexOf)
      for (const kernel of kernelsOf(hooks()))
        expect(withKernel(hooks(), kernel, () => hooks().audioFecParity(data)).map(hexOf), `${kernel} at ${len} B`).toEqual(expected)
    }
  })

  it("the test client's parity equals nanors' for every fixture block", () => {
    for (const block of fec.blocks) expect(parityOf(block.data.map(bytes)).map(hexOf)).toEqual(block.parity)
  })

  it("any one or two lost data shards come back from the parity", () => {
    const block = fec.blocks[1]!
    const data = block.data.map(bytes)
    const parity = block.parity.map(bytes)
    for (let a = 0; a < 4; a++)
      for (let b = a; b < 4; b++) {
        const lossy = data.map((d, i) => (i === a || i === b ? undefined : d))
        // With one loss either parity shard alone is enough.
        const parities = a === b ? [[parity[0], undefined], [undefined, parity[1]]] : [parity]
        for (const p of parities) expect(reconstruct(lossy, p)?.map(hexOf)).toEqual(block.data)
      }
  })

  it("three lost data shards cannot be rebuilt (fewer than four shards)", () => {
    const block = fec.blocks[0]!
    const data = block.data.map(bytes)
    expect(reconstruct([data[0], undefined, undefined, undefined], block.parity.map(bytes))).toBeUndefined()
  })

  it("the host refuses shards of unequal length", () => {
    expect(() => hooks().audioFecParity([new Uint8Array(4), new Uint8Array(4), new Uint8Array(5), new Uint8Array(4)])).toThrow()
  })
})

describe("audio encryption (AES-128-CBC, IV = BE32(rikeyid + seq) ‖ 0…)", () => {
  it("the test client derives the fixture IVs and decrypts the fixture ciphertexts", () => {
    for (const c of cipher.cases) {
      expect(audioIv(c.keyId, c.sequenceNumber).toString("hex")).toBe(c.iv)
      expect(hexOf(decryptAudio(cipher.keyHex, c.keyId, c.sequenceNumber, bytes(c.ciphertext)))).toBe(c.plaintext)
    }
  })

  it("the client's request is either the SS_ENC_AUDIO bit or the legacy featureFlags bit", () => {
    expect(audioEncryptionRequested({ encryptionFlags: 0 })).toBe(false)
    expect(audioEncryptionRequested({ encryptionFlags: 0x01 | 0x02 })).toBe(false)
    expect(audioEncryptionRequested({ encryptionFlags: 0x04 })).toBe(true)
    expect(audioEncryptionRequested({ encryptionFlags: 0, nvFeatureFlags: 0x07 | 0x20 | 0x80 })).toBe(true)
  })
})

describe("Opus layouts and the DESCRIBE surround-params line", () => {
  it("the TypeScript table is the encoder's", () => {
    for (const channels of [2, 6, 8] as const) expect(hooks().opusLayout(channels)).toEqual(OPUS_LAYOUTS[channels])
    expect(hooks().opusLayout(4)).toBeUndefined()
  })

  it("stereo announces nothing; surround announces channels, streams, coupled, then the mapping", () => {
    expect(surroundParamsLine(2)).toBeUndefined()
    expect(surroundParamsLine(6)).toBe("a=fmtp:97 surround-params=642012453")
    expect(surroundParamsLine(8)).toBe("a=fmtp:97 surround-params=85301245673")
  })

  it("after Moonlight's normal-quality reordering the client decodes with the encoder's mapping", () => {
    // What a Moonlight client does with the digits (RtspConnection.c): LFE (last) moves to index 3.
    for (const channels of [6, 8] as const) {
      const digits = surroundParamsLine(channels)!.split("surround-params=")[1]!.slice(3).split("").map(Number)
      const client = [...digits.slice(0, 3), digits[channels - 1]!, ...digits.slice(3, channels - 1)]
      expect(client).toEqual(OPUS_LAYOUTS[channels].mapping)
    }
  })
})

describe("start options are checked before the native call", () => {
  const start = (options: AudioStartInput) =>
    Effect.scoped(
      Effect.gen(function* () {
        const sender = yield* openGameStreamAudio("127.0.0.1", 0)
        const out = gameStreamAudioOut(sender)
        const exit = yield* Effect.exit(out.start(options))
        yield* out.stop
        expect(sender.running).toBe(false)
        return exit
      })
    )
  const good = { clientHost: "127.0.0.1", pingPayload: "0123456789ABCDEF", packetDurationMs: 5, channels: 2 }

  it.effect("valid options start", () =>
    Effect.gen(function* () {
      expect(Exit.isSuccess(yield* start(good))).toBe(true)
    })
  )

  it.effect("a refusal is a GameStreamAudioError naming the problem", () =>
    Effect.gen(function* () {
      for (const bad of [
        { ...good, pingPayload: "short" },
        { ...good, packetDurationMs: 7 },
        { ...good, channels: 4 },
        { ...good, encryption: { keyHex: "00", keyId: 1 } },
        { ...good, clientHost: "" }
      ]) {
        const exit = yield* start(bad)
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("GameStreamAudioError")
      }
    })
  )

  it.effect("a host name instead of an address is refused by the addon", () =>
    Effect.gen(function* () {
      const exit = yield* start({ ...good, clientHost: "localhost" })
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("numeric")
    })
  )

  it.effect("binding a port that is taken fails with the reason", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const first = yield* openGameStreamAudio("127.0.0.1", 0)
        const exit = yield* Effect.exit(openGameStreamAudio("127.0.0.1", first.port))
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("cannot bind")
      })
    )
  )
})
