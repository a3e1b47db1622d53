/**
 * Known answers for CPace (src/streams/punktfunk1/Cpace.ts): the test vectors that
 * draft-irtf-cfrg-cpace-21 publishes for CPACE-RISTR255-SHA512 (appendix "Test vector for CPace
 * using group ristretto255 and hash SHA-512") and for its string functions. A mismatch in any byte
 * means our pairing would not interoperate with the draft, or hashes something else than it says.
 *
 * The draft gives no vectors for key confirmation (it leaves the MAC to the application); the
 * tags are checked here for what makes them useful: both parties agree, and one changed input
 * (PIN, channel, sid, a share or its AD) changes them.
 */
import { describe, expect, it } from "vitest"
import { Either } from "effect"
import {
  calculateGenerator,
  confirmationTags,
  DRAFT,
  generatorString,
  IDENTITY,
  initiate,
  initiatorFinish,
  intermediateSessionKey,
  isValidShare,
  lvCat,
  prependLen,
  respond,
  scalarFromBytes,
  scalarMult,
  scalarMultVfy,
  transcriptIr
} from "../src/streams/punktfunk1/Cpace.js"
import { ristretto255 } from "@noble/curves/ed25519.js"

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "latin1"))

// ── draft-irtf-cfrg-cpace-21, ristretto255 / SHA-512 ─────────────────────────────────────────
const PRS = ascii("Password")
const CI = hex("0b415f696e69746961746f720b425f726573706f6e646572")
const SID = hex("7e4b4791d6a8ef019b936c79fb7f2c57")
const GENERATOR_STRING = hex(`
  11435061636552697374726574746f3235350850617373776f726464
  00000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000000000000000000000000000
  00000000000000000000000000000000180b415f696e69746961746f
  720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f
  2c57`)
const G = "222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56"
const ADa = ascii("ADa")
const ya = scalarFromBytes(hex("da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08"))
const Ya = "d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157"
const ADb = ascii("ADb")
const yb = scalarFromBytes(hex("d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d"))
const Yb = "3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258"
const K = "80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f"
const TRANSCRIPT_IR = `
  20d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0e
  ec482b915703414461203ea7e0b19560d7c0b0f5734f63b955286dfa
  8232b5ebe63324e2d9e7433f725803414462`
const ISK_IR = `
  b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dc
  ae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c
  3fa2068af7900447`

describe(`CPace known answers (${DRAFT}, ristretto255 + SHA-512)`, () => {
  it("string functions: prepend_len, lv_cat, transcript_ir", () => {
    expect(toHex(prependLen(new Uint8Array(0)))).toBe("00")
    expect(toHex(prependLen(ascii("1234")))).toBe("0431323334")
    const r127 = Uint8Array.from({ length: 127 }, (_, i) => i)
    expect(toHex(prependLen(r127))).toBe("7f" + toHex(r127))
    const r128 = Uint8Array.from({ length: 128 }, (_, i) => i)
    expect(toHex(prependLen(r128))).toBe("8001" + toHex(r128))
    expect(toHex(lvCat(ascii("1234"), ascii("5"), ascii(""), ascii("678")))).toBe("043132333401350003363738")
    expect(toHex(transcriptIr(ascii("123"), ascii("PartyA"), ascii("234"), ascii("PartyB")))).toBe(
      "03313233065061727479410332333406506172747942"
    )
    expect(toHex(transcriptIr(ascii("3456"), ascii("PartyA"), ascii("2345"), ascii("PartyB")))).toBe(
      "043334353606506172747941043233343506506172747942"
    )
  })

  it("calculate_generator: the generator string (ZPAD 100) and the encoded generator", () => {
    const s = generatorString(PRS, CI, SID)
    expect(s.length).toBe(170)
    expect(toHex(s)).toBe(toHex(GENERATOR_STRING))
    expect(calculateGenerator(PRS, CI, SID).toHex()).toBe(G)
  })

  it("the exchange: Ya, Yb, both K, and ISK (initiator/responder)", () => {
    const g = calculateGenerator(PRS, CI, SID)
    expect(toHex(scalarMult(ya, g))).toBe(Ya)
    expect(toHex(scalarMult(yb, g))).toBe(Yb)
    expect(toHex(scalarMultVfy(ya, hex(Yb)))).toBe(K)
    expect(toHex(scalarMultVfy(yb, hex(Ya)))).toBe(K)
    expect(toHex(intermediateSessionKey(SID, hex(K), hex(Ya), ADa, hex(Yb), ADb))).toBe(toHex(hex(ISK_IR)))
    expect(toHex(transcriptIr(hex(Ya), ADa, hex(Yb), ADb))).toBe(toHex(hex(TRANSCRIPT_IR)))

    // The same run through the two parties' entry points, with the vectors' scalars.
    const inputs = { prs: PRS, ci: CI, sid: SID }
    const a = initiate(inputs, ya)
    expect(toHex(a.ya)).toBe(Ya)
    const b = Either.getOrThrow(respond(inputs, a.ya, ADa, ADb, yb))
    expect(toHex(b.yb)).toBe(Yb)
    expect(toHex(b.isk)).toBe(toHex(hex(ISK_IR)))
    const aDone = Either.getOrThrow(initiatorFinish(inputs, a, ADa, b.yb, ADb))
    expect(toHex(aDone.isk)).toBe(toHex(hex(ISK_IR)))
    expect(toHex(aDone.ta)).toBe(toHex(b.ta))
    expect(toHex(aDone.tb)).toBe(toHex(b.tb))
  })

  it("scalar_mult_vfy: the valid case, and G.I for a non-canonical encoding and for the identity", () => {
    const s = scalarFromBytes(hex("7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05"))
    const X = "2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c"
    const sX = "7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e"
    expect(toHex(scalarMult(s, ristretto255.Point.fromHex(X)))).toBe(sX)
    expect(toHex(scalarMultVfy(s, hex(X)))).toBe(sX)
    const Yi1 = hex("2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c")
    expect(toHex(scalarMultVfy(s, Yi1))).toBe(toHex(IDENTITY))
    expect(toHex(scalarMultVfy(s, IDENTITY))).toBe(toHex(IDENTITY))
    expect(isValidShare(Yi1)).toBe(false)
    expect(isValidShare(IDENTITY)).toBe(false)
    expect(isValidShare(hex(X))).toBe(true)
    // A run that receives either aborts (the draft: "the protocol MUST abort").
    const inputs = { prs: PRS, ci: CI, sid: SID }
    expect(Either.isLeft(respond(inputs, Yi1, ADa, ADb))).toBe(true)
    expect(Either.isLeft(respond(inputs, IDENTITY, ADa, ADb))).toBe(true)
    expect(Either.isLeft(initiatorFinish(inputs, initiate(inputs), ADa, IDENTITY, ADb))).toBe(true)
    expect(Either.isLeft(initiatorFinish(inputs, initiate(inputs), ADa, Yi1, ADb))).toBe(true)
  })

  it("key confirmation: both parties' tags agree, and any changed input changes ISK and the tags", () => {
    const base = { prs: ascii("4711"), ci: ascii("channel"), sid: ascii("session") }
    const run = (aIn: typeof base, bIn: typeof base, adA = ADa, adBforA = ADb) => {
      const a = initiate(aIn)
      const b = Either.getOrThrow(respond(bIn, a.ya, ADa, ADb))
      const aDone = Either.getOrThrow(initiatorFinish(aIn, a, adA, b.yb, adBforA))
      return { a: aDone, b }
    }
    const same = run(base, base)
    expect(toHex(same.a.isk)).toBe(toHex(same.b.isk))
    expect(toHex(same.a.ta)).toBe(toHex(same.b.ta))
    expect(toHex(same.a.tb)).toBe(toHex(same.b.tb))
    expect(toHex(same.a.ta)).not.toBe(toHex(same.a.tb))
    for (const differs of [
      run(base, { ...base, prs: ascii("4712") }),
      run(base, { ...base, ci: ascii("channel'") }),
      run(base, { ...base, sid: ascii("session'") }),
      run(base, base, ascii("ADa'")),
      run(base, base, ADa, ascii("ADb'"))
    ]) {
      expect(toHex(differs.a.isk)).not.toBe(toHex(differs.b.isk))
      expect(toHex(differs.a.ta)).not.toBe(toHex(differs.b.ta))
      expect(toHex(differs.a.tb)).not.toBe(toHex(differs.b.tb))
    }
    // The tags are HMAC-SHA-512 under mac_key = H("CPaceMac" ‖ sid ‖ ISK) over lv_cat(share, AD).
    const tags = confirmationTags(SID, hex(ISK_IR), hex(Ya), ADa, hex(Yb), ADb)
    expect(tags.ta.length).toBe(64)
    expect(toHex(tags.ta)).not.toBe(toHex(tags.tb))
  })
})
