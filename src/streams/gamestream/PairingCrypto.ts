/**
 * The arithmetic of GameStream pairing, as pure functions over bytes (the host's state machine in
 * `PairingSessions.ts` strings them together; the known-answer tests pin each one down).
 *
 * What the protocol proves, and how: the client shows a PIN and sends a random salt; both sides
 * derive an AES-128 key from SHA-256(salt ‖ PIN) (first 16 bytes — current clients, which see an
 * `appversion` of 7 or more, use SHA-256 throughout; SHA-1 was GFE before 7 and is not offered).
 * Each side then sends a random challenge encrypted under that key (AES-128-ECB, whole 16-byte
 * blocks, no padding) and answers the other's with a SHA-256 over (challenge ‖ the signature
 * bytes of its own certificate ‖ a secret it reveals later, signed with its RSA key). Only a peer
 * that knew the PIN can produce a matching hash, and only the holder of a certificate's key can
 * sign its secret — so a matching round proves "same PIN" and "owns this certificate" at once.
 */
import { createCipheriv, createDecipheriv, createHash, sign, verify, X509Certificate } from "node:crypto"
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

export const BLOCK = 16

/** SHA-256(salt ‖ PIN as ASCII), first 16 bytes: the pairing's AES-128 key. */
export const aesKeyOf = (salt: Uint8Array, pin: string): Buffer =>
  createHash("sha256").update(salt).update(Buffer.from(pin, "utf8")).digest().subarray(0, BLOCK)

const ecb = (mode: "encrypt" | "decrypt", key: Uint8Array, data: Uint8Array): Buffer => {
  if (data.length % BLOCK !== 0) throw new RangeError(`AES-ECB data must be whole 16-byte blocks, got ${data.length} bytes`)
  const c = mode === "encrypt" ? createCipheriv("aes-128-ecb", key, null) : createDecipheriv("aes-128-ecb", key, null)
  c.setAutoPadding(false)
  return Buffer.concat([c.update(data), c.final()])
}

export const aesEcbEncrypt = (key: Uint8Array, data: Uint8Array): Buffer => ecb("encrypt", key, data)
export const aesEcbDecrypt = (key: Uint8Array, data: Uint8Array): Buffer => ecb("decrypt", key, data)

export const sha256 = (...parts: ReadonlyArray<Uint8Array>): Buffer => {
  const h = createHash("sha256")
  for (const p of parts) h.update(p)
  return h.digest()
}

/** The signature bytes inside a certificate (its signatureValue), which both sides hash. */
export const certificateSignature = (certPem: string): Buffer =>
  Buffer.from(new x509.X509Certificate(certPem).signature)

/** SHA256withRSA (PKCS#1 v1.5) over `data` with a PEM private key: deterministic. */
export const rsaSign = (keyPem: string, data: Uint8Array): Buffer => sign("sha256", data, keyPem)

export const rsaVerify = (certPem: string, data: Uint8Array, signature: Uint8Array): boolean => {
  try {
    return verify("sha256", data, new X509Certificate(certPem).publicKey, signature)
  } catch {
    return false
  }
}

/**
 * The host's answer to `clientchallenge`: decrypt the client's challenge, hash it with the host
 * certificate's signature and the host's secret, append the host's own challenge, encrypt.
 */
export const serverChallengeResponse = (args: {
  readonly key: Uint8Array
  readonly encryptedClientChallenge: Uint8Array
  readonly hostCertSignature: Uint8Array
  readonly serverSecret: Uint8Array
  readonly serverChallenge: Uint8Array
}): Buffer => {
  const challenge = aesEcbDecrypt(args.key, args.encryptedClientChallenge)
  const hash = sha256(challenge, args.hostCertSignature, args.serverSecret)
  return aesEcbEncrypt(args.key, Buffer.concat([hash, args.serverChallenge]))
}

/** What the client's `serverchallengeresp` must decrypt to once it reveals `clientSecret`. */
export const expectedClientHash = (serverChallenge: Uint8Array, clientCertSignature: Uint8Array, clientSecret: Uint8Array): Buffer =>
  sha256(serverChallenge, clientCertSignature, clientSecret)

/** `pairingsecret`: the host's secret and its RSA signature, so the client can check the host. */
export const serverPairingSecret = (hostKeyPem: string, serverSecret: Uint8Array): Buffer =>
  Buffer.concat([serverSecret, rsaSign(hostKeyPem, serverSecret)])
