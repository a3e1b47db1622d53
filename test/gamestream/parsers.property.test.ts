/**
 * Every GameStream parser of network input, fuzzed with fast-check (bounded runs): RTSP
 * requests, ANNOUNCE/SDP bodies, nvhttp query parameters, the control stream's envelope and
 * inner messages, input events and their translation to X operations. Inputs are valid messages,
 * the same mutated (bytes overwritten, cut short, extended, slices repeated or dropped) and
 * random bytes.
 *
 * Asserted for every input: the parser returns (no exception, no defect — a hang would trip the
 * test's timeout) and its answer is either a value its Schema accepts or its own typed refusal
 * with a reason: `RtspRefusal` with a 4xx/5xx status, `AnnounceRefused` naming an attribute,
 * `BadRequest`, `ControlEnvelopeMalformed` / `ControlAuthFailed`, `ControlMessageMalformed`,
 * `InputMalformed`. What the listeners do with the refusals (count them) is tested through the
 * listeners in listeners.property.test.ts.
 */
import { describe, expect, it } from "vitest"
import { Cause, Effect, Either, Exit, Schema } from "effect"
import fc from "fast-check"
import { createCipheriv } from "node:crypto"
import { decodeControlMessage, ControlMessage, ControlType } from "../../src/streams/gamestream/ControlMessages.js"
import { envelopeSeq, openControl, sealControl } from "../../src/streams/gamestream/ControlCrypto.js"
import { decodeInput, InputEvent, InputMagic } from "../../src/streams/gamestream/InputMessages.js"
import { makeTranslator } from "../../src/streams/gamestream/InputTranslate.js"
import * as Q from "../../src/streams/gamestream/Query.js"
import { parseRequest, RtspRequestReader } from "../../src/streams/gamestream/RtspMessage.js"
import { parseAnnounce, sdpAttributes } from "../../src/streams/gamestream/Sdp.js"
import { StreamSettings } from "../../src/streams/gamestream/StreamSettings.js"
import { hostile, hostileText, randomBytes } from "../support/Mutate.js"
import { DEFAULT_CLIENT_CONFIG, moonlightAnnounce } from "./support/RtspClient.js"

/** `PUNKTFUNK_FUZZ_RUNS` raises the bound for a longer hunt (the normal test command keeps 400). */
const RUNS = { numRuns: Number(process.env["PUNKTFUNK_FUZZ_RUNS"] ?? "400") }

/** The failure of an effect that must not die: its typed error, or undefined on success. */
const typedFailure = <A, E>(effect: Effect.Effect<A, E>): { readonly ok: A } | { readonly error: E } => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) return { ok: exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "None") throw new Error(`a defect, not a typed refusal: ${Cause.pretty(exit.cause)}`)
  return { error: failure.value }
}

// ---- RTSP ------------------------------------------------------------------------------------------

const rtspRequest = fc
  .record({
    method: fc.constantFrom("OPTIONS", "DESCRIBE", "SETUP", "ANNOUNCE", "PLAY", "TEARDOWN"),
    target: fc.constantFrom("rtsp://10.0.0.2:48010", "streamid=audio/0/0", "streamid=video/0/0", "streamid=control/13/0", "/"),
    cseq: fc.nat({ max: 99 }),
    session: fc.option(fc.constantFrom("0123456789ABCDEF", "0123456789ABCDEF;timeout = 90")),
    body: fc.option(fc.constant(moonlightAnnounce()))
  })
  .map(({ method, target, cseq, session, body }) => {
    const lines = [`${method} ${target} RTSP/1.0`, `CSeq: ${cseq}`, "X-GS-ClientVersion: 14", "Host: 10.0.0.2"]
    if (session !== null) lines.push(`Session: ${session}`)
    if (body !== null) lines.push("Content-type: application/sdp", `Content-length: ${body.length}`)
    return Buffer.from(`${lines.join("\r\n")}\r\n\r\n${body ?? ""}`, "latin1")
  })

describe("RTSP requests", () => {
  it("valid, mutated or random: complete, incomplete or a refusal with a status and reason; never a throw", () => {
    fc.assert(
      fc.property(hostile(rtspRequest, 600), (bytes) => {
        const outcome = parseRequest(bytes)
        if (outcome._tag === "Refused") {
          expect([400, 413, 505]).toContain(outcome.refusal.status)
          expect(outcome.refusal.reason.length).toBeGreaterThan(0)
        } else if (outcome._tag === "Complete") {
          expect(outcome.consumed).toBeLessThanOrEqual(bytes.length)
          expect(outcome.request.method).toMatch(/^[A-Za-z_-]+$/)
        }
        // A reader given the bytes one at a time gives the same kind of answer.
        const reader = new RtspRequestReader()
        let last = reader.push(Buffer.alloc(0))
        for (let i = 0; i < bytes.length && last._tag === "Incomplete"; i++) last = reader.push(bytes.subarray(i, i + 1))
        expect(last._tag).toBe(outcome._tag)
      }),
      RUNS
    )
  })
})

// ---- ANNOUNCE / SDP --------------------------------------------------------------------------------

const ANNOUNCE_CONTEXT = {
  client: "c",
  clientAddress: "127.0.0.1",
  rikey: "00112233445566778899aabbccddeeff",
  rikeyid: 0,
  fecPercent: 20,
  pingPayload: "AAAAAAAAAAAAAAAA",
  connectData: 1,
  codecs: ["h264", "hevc"]
} as const

const SDP_NAMES = [
  "x-nv-video[0].clientViewportWd",
  "x-nv-video[0].clientViewportHt",
  "x-nv-video[0].maxFPS",
  "x-nv-video[0].packetSize",
  "x-nv-vqos[0].bw.maximumBitrateKbps",
  "x-nv-vqos[0].bitStreamFormat",
  "x-nv-vqos[0].fec.minRequiredFecPackets",
  "x-nv-video[0].videoEncoderSlicesPerFrame",
  "x-nv-aqos.packetDuration",
  "x-nv-audio.surround.numChannels",
  "x-nv-audio.surround.channelMask",
  "x-ss-general.encryptionEnabled",
  "x-ml-general.featureFlags",
  "x-nv-general.featureFlags",
  "x-nv-video[0].dynamicRangeMode",
  "x-ss-video[0].chromaSamplingType"
]

const sdpValue = fc.oneof(
  fc.integer({ min: -5, max: 10 }).map(String),
  fc.integer().map(String),
  fc.constantFrom("", " ", "0x10", "1e3", "-0", "99999999999", "4294967296", "2147483648", "NaN", "1.5", "-2147483649", "007"),
  fc.string({ maxLength: 12 })
)

/** Moonlight's ANNOUNCE with some attributes replaced, removed or repeated. */
const announceBody = fc
  .tuple(
    fc.record({
      width: fc.constantFrom(640, 1280, 1920, 3840, 16, 7680),
      height: fc.constantFrom(360, 720, 1080, 2160),
      fps: fc.constantFrom(30, 60, 120, 240),
      bitrateKbps: fc.constantFrom(500, 10_000, 150_000)
    }),
    fc.dictionary(fc.constantFrom(...SDP_NAMES), fc.option(sdpValue, { nil: undefined }), { maxKeys: 4 })
  )
  .map(([config, overrides]) => moonlightAnnounce({ ...DEFAULT_CLIENT_CONFIG, ...config }, overrides))

describe("ANNOUNCE / SDP", () => {
  it("valid, altered, mutated or random bodies: StreamSettings the Schema accepts, or AnnounceRefused naming an attribute", () => {
    let accepted = 0
    fc.assert(
      fc.property(hostileText(announceBody, 2000), (body) => {
        const result = typedFailure(parseAnnounce(body, ANNOUNCE_CONTEXT))
        if ("ok" in result) {
          accepted++
          expect(Schema.is(StreamSettings)(result.ok)).toBe(true)
        } else {
          expect(result.error._tag).toBe("AnnounceRefused")
          expect(result.error.attribute.length).toBeGreaterThan(0)
          expect(result.error.message.length).toBeGreaterThan(0)
        }
        expect(Either.isEither(sdpAttributes(body))).toBe(true)
      }),
      RUNS
    )
    // The generator is not all garbage: some bodies are servable.
    expect(accepted).toBeGreaterThan(0)
  })

  it("a body of thousands of attributes is refused at the cap, not collected", () => {
    const body = Array.from({ length: 5000 }, (_, i) => `a=x-${i}:${i}`).join("\r\n")
    const result = typedFailure(parseAnnounce(body, ANNOUNCE_CONTEXT))
    expect("error" in result && result.error.message).toMatch(/more than 256 SDP attributes/)
  })
})

// ---- nvhttp queries --------------------------------------------------------------------------------

const QUERY_SCHEMAS = {
  ServerInfoQuery: Q.ServerInfoQuery,
  GetServerCertQuery: Q.GetServerCertQuery,
  ClientChallengeQuery: Q.ClientChallengeQuery,
  ServerChallengeRespQuery: Q.ServerChallengeRespQuery,
  ClientPairingSecretQuery: Q.ClientPairingSecretQuery,
  PairChallengeQuery: Q.PairChallengeQuery,
  UnpairQuery: Q.UnpairQuery,
  AppAssetQuery: Q.AppAssetQuery,
  LaunchQuery: Q.LaunchQuery,
  ResumeQuery: Q.ResumeQuery
} as const

const PARAMS = [
  "uniqueid", "phrase", "salt", "clientcert", "devicename", "clientchallenge", "serverchallengeresp", "clientpairingsecret",
  "appid", "AssetType", "AssetIdx", "mode", "rikey", "rikeyid", "localAudioPlayMode", "sops", "additionalStates",
  "surroundAudioInfo", "remoteControllersBitmap", "gcmap", "corever", "__proto__", "constructor", "hasOwnProperty"
]

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"))
const PEM = "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
const paramValue = fc.oneof(
  hex(16),
  hex(32),
  fc.nat({ max: 600 }).chain((n) => hex(n)),
  fc.constant(Buffer.from(PEM).toString("hex")),
  fc.constantFrom("getservercert", "pairchallenge", "1920x1080x60", "0x0x0", "99999x1x1", "1280x720x60x1", "1", "0", "-1", "2147483648", "4294967296", "1e3", "", "0x10"),
  fc.integer().map(String),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 })
)
const queryArb = fc.dictionary(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 10 })), paramValue, { maxKeys: 10 })

describe("nvhttp queries", () => {
  it("every query Schema: decoded, or BadRequest naming the parameter; never a defect", () => {
    fc.assert(
      fc.property(queryArb, fc.constantFrom(...(Object.keys(QUERY_SCHEMAS) as Array<keyof typeof QUERY_SCHEMAS>)), (query, name) => {
        const schema: Schema.Schema<unknown, Record<string, unknown>> = QUERY_SCHEMAS[name] as never
        const result = typedFailure(Q.decodeQuery(schema, query))
        if ("error" in result) {
          expect(result.error._tag).toBe("BadRequest")
          expect(result.error.message).toMatch(/parameter|malformed request/)
        }
      }),
      RUNS
    )
  })

  it("regression (the property below, counterexample [\"\", \"\"]): a parameter named __proto__ stays a parameter", () => {
    const record = Q.queryRecord(new URLSearchParams("__proto__=p&uniqueid=1"))
    expect(Object.hasOwn(record, "__proto__")).toBe(true)
    expect(record["__proto__"]).toBe("p")
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
  })

  it("query strings of any shape become a record without throwing; the first value wins", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 60 }), (raw, more) => {
        const search = new URLSearchParams(`${raw}&${encodeURIComponent(more)}=1&x=first&x=second&__proto__=p`)
        const record = Q.queryRecord(search)
        for (const name of search.keys()) expect(record[name]).toBe(search.getAll(name)[0])
        expect(Object.getPrototypeOf(record)).toBe(Object.prototype)
      }),
      RUNS
    )
  })
})

// ---- control stream --------------------------------------------------------------------------------

const KEY = Buffer.from("00112233445566778899aabbccddeeff", "hex")

/** Inner messages a client sends: the known types with plausible payloads, and any type. */
const innerMessage = fc
  .oneof(
    fc.constantFrom(ControlType.requestIdr, ControlType.startB, ControlType.periodicPing, ControlType.startA).map((t) => [t, Buffer.alloc(2)] as const),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((p) => [ControlType.lossStats, Buffer.from(p)] as const),
    fc.uint8Array({ minLength: 21, maxLength: 21 }).map((p) => [ControlType.frameFecStatus, Buffer.from(p)] as const),
    fc.uint8Array({ minLength: 24, maxLength: 24 }).map((p) => [ControlType.invalidateReferenceFrames, Buffer.from(p)] as const),
    fc.uint8Array({ minLength: 8, maxLength: 40 }).map((p) => [ControlType.inputData, Buffer.from(p)] as const),
    fc.tuple(fc.nat({ max: 0xffff }), fc.uint8Array({ maxLength: 40 })).map(([t, p]) => [t, Buffer.from(p)] as const)
  )
  .map(([type, payload]) => {
    const out = Buffer.alloc(4 + payload.length)
    out.writeUInt16LE(type, 0)
    out.writeUInt16LE(payload.length, 2)
    payload.copy(out, 4)
    return out
  })

describe("control stream messages", () => {
  it("inner messages: a ControlMessage the Schema accepts, or ControlMessageMalformed with a reason", () => {
    fc.assert(
      fc.property(hostile(innerMessage, 80), (inner) => {
        const decoded = decodeControlMessage(inner)
        if (Either.isRight(decoded)) expect(Schema.is(ControlMessage)(decoded.right)).toBe(true)
        else {
          expect(decoded.left._tag).toBe("ControlMessageMalformed")
          expect(decoded.left.reason.length).toBeGreaterThan(0)
        }
      }),
      RUNS
    )
  })

  it("envelopes: sealed ones open to what was sealed; any change or random bytes is a typed refusal", () => {
    const sealed = fc
      .tuple(fc.constantFrom("v2" as const, "legacy" as const), fc.nat(), innerMessage)
      .map(([mode, seq, inner]) => ({ mode, seq, inner, packet: sealControl(KEY, mode, "client", seq, inner) }))
    fc.assert(
      fc.property(sealed, fc.nat(), (s, pick) => {
        const opened = openControl(KEY, s.mode, "client", s.packet)
        expect(Either.isRight(opened) && opened.right.inner.equals(s.inner)).toBe(true)
        // The host's own direction, and the other IV generation, never open a client's message.
        expect(Either.isLeft(openControl(KEY, s.mode, "host", s.packet))).toBe(s.mode === "v2")
        // One byte changed anywhere: refused, typed. (With the legacy IV the upper three bytes
        // of the sequence number are not in the IV, so they are not authenticated: the weakness
        // for which that IV is refused by default. They are left out for it here.)
        const tampered = Buffer.from(s.packet)
        const at = s.mode === "v2" || pick % tampered.length < 5 || pick % tampered.length > 7 ? pick % tampered.length : 4
        tampered[at] = tampered[at]! ^ (1 + (pick % 255))
        const refused = openControl(KEY, s.mode, "client", tampered)
        expect(Either.isLeft(refused)).toBe(true)
        if (Either.isLeft(refused)) expect(["ControlEnvelopeMalformed", "ControlAuthFailed"]).toContain(refused.left._tag)
      }),
      RUNS
    )
    fc.assert(
      fc.property(
        hostile(sealed.map((s) => s.packet), 120),
        fc.constantFrom("v2" as const, "legacy" as const),
        (packet, mode) => {
          const opened = openControl(KEY, mode, "client", packet)
          const seq = envelopeSeq(packet)
          if (Either.isLeft(opened)) expect(["ControlEnvelopeMalformed", "ControlAuthFailed"]).toContain(opened.left._tag)
          else expect(Either.isRight(seq)).toBe(true)
          if (Either.isLeft(seq)) expect(Either.isLeft(opened)).toBe(true)
        }
      ),
      RUNS
    )
  })

  it("a wrong key (or a key of a wrong length) is a typed refusal, not a throw", () => {
    const packet = sealControl(KEY, "v2", "client", 7, Buffer.from([2, 3, 2, 0, 0, 0]))
    for (const key of [Buffer.alloc(16), Buffer.alloc(0), Buffer.alloc(15), Buffer.alloc(32)]) {
      const opened = openControl(key, "v2", "client", packet)
      expect(Either.isLeft(opened) && opened.left._tag).toBe("ControlAuthFailed")
    }
    // A ciphertext sealed under another cipher's framing: still just "failed authentication".
    const cipher = createCipheriv("aes-128-gcm", KEY, Buffer.alloc(12))
    const body = Buffer.concat([cipher.update(Buffer.alloc(10)), cipher.final()])
    const head = Buffer.alloc(8)
    head.writeUInt16LE(1, 0)
    head.writeUInt16LE(4 + 16 + body.length, 2)
    expect(Either.isLeft(openControl(KEY, "v2", "client", Buffer.concat([head, cipher.getAuthTag(), body])))).toBe(true)
  })
})

// ---- input events ----------------------------------------------------------------------------------

const inputEvent = fc
  .tuple(
    fc.oneof(fc.constantFrom(...Object.values(InputMagic)), fc.nat({ max: 0x20 }), fc.integer({ min: 0, max: 0xffffffff })),
    fc.uint8Array({ maxLength: 40 })
  )
  .map(([magic, fields]) => {
    const out = Buffer.alloc(8 + fields.length)
    out.writeUInt32BE(4 + fields.length, 0)
    out.writeUInt32LE(magic >>> 0, 4)
    Buffer.from(fields).copy(out, 8)
    return out
  })

describe("input events", () => {
  it("an InputEvent the Schema accepts (and the translator turns into bounded X operations), or InputMalformed", () => {
    const translate = makeTranslator({ width: 1920, height: 1080 })
    fc.assert(
      fc.property(hostile(inputEvent, 60), (payload) => {
        const decoded = decodeInput(payload)
        if (Either.isLeft(decoded)) {
          expect(decoded.left._tag).toBe("InputMalformed")
          expect(decoded.left.reason.length).toBeGreaterThan(0)
          return
        }
        expect(Schema.is(InputEvent)(decoded.right)).toBe(true)
        const translation = translate(decoded.right)
        if (translation._tag === "Ops") {
          // One i16 scroll amount is at most 273 notches: a click is a press and a release.
          expect(translation.ops.length).toBeLessThanOrEqual(2 * Math.ceil(65536 / 120) + 64)
          for (const op of translation.ops) {
            if (op.op === "moveTo") {
              expect(op.x).toBeGreaterThanOrEqual(0)
              expect(op.x).toBeLessThan(1920)
              expect(op.y).toBeGreaterThanOrEqual(0)
              expect(op.y).toBeLessThan(1080)
            }
          }
        }
        // The same bytes inside control message 0x0206 give the same verdict.
        const inner = Buffer.alloc(4 + payload.length)
        inner.writeUInt16LE(ControlType.inputData, 0)
        inner.writeUInt16LE(payload.length, 2)
        payload.copy(inner, 4)
        expect(Either.isRight(decodeControlMessage(inner))).toBe(true)
      }),
      RUNS
    )
  })

  it("random bytes as input: typed, never thrown", () => {
    fc.assert(
      fc.property(randomBytes(64), (payload) => {
        const decoded = decodeInput(payload)
        expect(Either.isLeft(decoded) ? decoded.left._tag : decoded.right._tag).toMatch(/^[A-Za-z]+$/)
      }),
      RUNS
    )
  })
})
