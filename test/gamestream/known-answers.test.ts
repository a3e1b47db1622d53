/**
 * Known answers for GameStream pairing and its XML (DECISIONS.md: a Moonlight-compatible host
 * cannot be proven by our own client alone, which could share our mistakes). Every expected
 * value below was computed outside this code base, with the OpenSSL command line, from the
 * protocol description:
 *   key  = first 16 bytes of SHA-256(salt ‖ ASCII PIN)
 *   enc  = AES-128-ECB(key, challenge), no padding
 *   resp = AES-128-ECB(key, SHA-256(challenge ‖ host cert signature ‖ host secret) ‖ host challenge)
 *   client hash = SHA-256(host challenge ‖ client cert signature ‖ client secret)
 *   pairing secret = host secret ‖ RSASSA-PKCS1-v1_5-SHA256(host key, host secret)
 * (`openssl dgst -sha256`, `openssl enc -aes-128-ecb -nopad`, `openssl dgst -sha256 -sign`,
 * `openssl x509 -text` for the certificate's signature value). The fixture key and certificate in
 * `fixtures/` were made with `openssl req -x509 -newkey rsa:2048` and serve only these tests.
 */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  aesEcbDecrypt,
  aesEcbEncrypt,
  aesKeyOf,
  certificateSignature,
  expectedClientHash,
  rsaSign,
  rsaVerify,
  serverChallengeResponse,
  serverPairingSecret
} from "../../src/streams/gamestream/PairingCrypto.js"
import { escapeXml, refusal, xmlDocument } from "../../src/streams/gamestream/Xml.js"
import { applistFields } from "../../src/streams/gamestream/Apps.js"

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")
const fixtureKey = fs.readFileSync(path.join(fixtures, "rsa-key.pem"), "utf8")
const fixtureCert = fs.readFileSync(path.join(fixtures, "rsa-cert.pem"), "utf8")

const hex = (s: string) => Buffer.from(s, "hex")
const salt = hex("000102030405060708090a0b0c0d0e0f")
const challenge = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
const hostCertSignature = Buffer.alloc(256, 0xaa)
const serverSecret = Buffer.alloc(16, 0x11)
const serverChallenge = Buffer.alloc(16, 0x22)
const clientCertSignature = Buffer.alloc(256, 0xbb)
const clientSecret = Buffer.alloc(16, 0x33)

const KEY = "bad0b4f7cae08eb7c1b5acc763a8ed25"
const ENCRYPTED_CHALLENGE = "b7bacc4cdf492b3a096f912ff1d3af8f"
const CHALLENGE_RESPONSE =
  "55d5c884eb70c3e0c24eb4e40045c13b3bf8c335c9652bc95ba95d18a9c2ccada1473b0e4270ab679b83f2d860f5b689"
const CLIENT_HASH = "ca4e1d667d53a303cca6df74a25f4bb84fdaf372fec055cbcbdc91dbab95e221"
const RSA_SIGNATURE_OF_SECRET =
  "14857dc0848321b5da9a8c143551d5419de62feaea1618069fb16162257e8c79b4b28a5eedf5e5ad51c59de2c155ff5ceb1fe2e27f03fece9b710ed0104e53c7870d4f0c80b4441108772c1413f22f8e00b94a29673b2376c23589f8709436c43303c578e5f1f2bc1c97ac48bbc0ba4d8fa0b8e6033a4e084c6ed3bc17d5a8ff5b50b3c40b971f16d439737e63920d88184488152b57b801b596ade813ee6ea224bff88d08fb10c68087ceb9a896dc8a51fae8b6072cbb506d7e01ecdfac35ab804dd3ca6c808500e121cb0e4935a955819236eac03f464984f609c99426dc1c6817534b1bd879001e4787f07f34eaff94e0c5a3a68492425aa6b20272c1e4f4"
const FIXTURE_CERT_SIGNATURE =
  "4ed69b4979ab3071278ec93d3ae8c3c16edd4821268a43587ef7b3f340e528c6ad98dcaacb6cdab0d661236a360d87ecd0a3189cfc7ce475d9b5caf76d10edb803b2e68c7a24e7dc3e23c8e17633bf1917243f737f46fb7cb67c94592d4b378a55b89b5b8759061f29df52bd90b6992c04e216037218ef2bf6f1492ef3ed05bd0fedf5e974aab4e0cf69264d7f02675616aee250e10c7f598bb1ca1ee30e69a45ec99354d0c225d7862a1a36b8770266a4a247c78bf937f24e5dd7d013c4cf6f758dd8920f6cf6d6ec3929dc5da13fe30058cc52904f119f48a3743f7faad730aa26e0baa0b77a47bb0bd0cdb7fe007b805f013e00425624138b7b71fa2f8538"

describe("GameStream pairing arithmetic (known answers)", () => {
  it("derives the AES key from salt and PIN with SHA-256", () => {
    expect(aesKeyOf(salt, "1234").toString("hex")).toBe(KEY)
    // One digit off is another key entirely.
    expect(aesKeyOf(salt, "1235").toString("hex")).not.toBe(KEY)
  })

  it("encrypts and decrypts a challenge with AES-128-ECB, no padding", () => {
    expect(aesEcbEncrypt(hex(KEY), challenge).toString("hex")).toBe(ENCRYPTED_CHALLENGE)
    expect(aesEcbDecrypt(hex(KEY), hex(ENCRYPTED_CHALLENGE)).equals(challenge)).toBe(true)
    expect(() => aesEcbEncrypt(hex(KEY), Buffer.alloc(15))).toThrow(/16-byte blocks/)
  })

  it("answers a client challenge: hash over challenge, certificate signature and secret, then its own challenge", () => {
    const response = serverChallengeResponse({
      key: hex(KEY),
      encryptedClientChallenge: hex(ENCRYPTED_CHALLENGE),
      hostCertSignature,
      serverSecret,
      serverChallenge
    })
    expect(response.toString("hex")).toBe(CHALLENGE_RESPONSE)
    expect(response.length).toBe(48)
  })

  it("expects the client's hash over host challenge, client certificate signature and client secret", () => {
    expect(expectedClientHash(serverChallenge, clientCertSignature, clientSecret).toString("hex")).toBe(CLIENT_HASH)
  })

  it("signs the host secret with SHA256withRSA (deterministic) and verifies against the certificate", () => {
    expect(rsaSign(fixtureKey, serverSecret).toString("hex")).toBe(RSA_SIGNATURE_OF_SECRET)
    const pairingSecret = serverPairingSecret(fixtureKey, serverSecret)
    expect(pairingSecret.subarray(0, 16).equals(serverSecret)).toBe(true)
    expect(pairingSecret.subarray(16).toString("hex")).toBe(RSA_SIGNATURE_OF_SECRET)
    expect(rsaVerify(fixtureCert, serverSecret, hex(RSA_SIGNATURE_OF_SECRET))).toBe(true)
    expect(rsaVerify(fixtureCert, clientSecret, hex(RSA_SIGNATURE_OF_SECRET))).toBe(false)
    expect(rsaVerify(fixtureCert, serverSecret, Buffer.alloc(7))).toBe(false)
  })

  it("hashes the certificate's signature value, as OpenSSL prints it", () => {
    expect(certificateSignature(fixtureCert).toString("hex")).toBe(FIXTURE_CERT_SIGNATURE)
  })
})

describe("nvhttp XML shapes", () => {
  it("writes a flat root with status_code and escaped values", () => {
    expect(xmlDocument(200, [["paired", 1], ["plaincert", "ab01"]])).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<root status_code="200"><paired>1</paired><plaincert>ab01</plaincert></root>\n'
    )
    expect(escapeXml(`<a & "b" 'c'>`)).toBe("&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;")
  })

  it("a refusal carries status_code and status_message in the XML, HTTP 200 unless told", () => {
    const r = refusal(400, 'missing parameter "uniqueid"', [["paired", 0]])
    expect(r.status).toBe(200)
    expect(r.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<root status_code="400" status_message="missing parameter &quot;uniqueid&quot;"><paired>0</paired></root>\n'
    )
    expect(refusal(404, "no", [], 404).status).toBe(404)
  })

  it("lists Desktop as an App with title, id and HDR flag", () => {
    expect(xmlDocument(200, applistFields)).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<root status_code="200"><App><IsHdrSupported>0</IsHdrSupported><AppTitle>Desktop</AppTitle><ID>1</ID></App></root>\n'
    )
  })
})
