/**
 * Self-signed certificates for the host and for clients, and their fingerprints.
 *
 * Why self-signed and pinned rather than a CA: a streaming host on a LAN has no name a CA could
 * vouch for. Trust comes from pairing instead: each side pins the other's certificate
 * fingerprint (SHA-256 of the DER) once the operator has confirmed the PIN. Why ECDSA P-256: key
 * generation takes milliseconds (an RSA key in pure JS takes seconds) and TLS 1.3 supports it
 * everywhere we need it. GameStream needs RSA certificates of its own (Moonlight clients sign
 * and verify its pairing with RSA keys): `generateRsaCertificate` below, used only by that path.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"
import { createHash, webcrypto, X509Certificate } from "node:crypto"

// Node's WebCrypto is the standard one; the cast only bridges the DOM-less type declarations.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export interface CertificatePair {
  readonly certPem: string
  readonly keyPem: string
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const
const TWENTY_YEARS_MS = 20 * 365 * 24 * 3600 * 1000

const pem = (label: string, der: ArrayBuffer): string => {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

type SigningAlgorithm = typeof ALGORITHM | typeof RSA_ALGORITHM

/** A fresh self-signed certificate with `commonName`, valid for twenty years. */
export const generateCertificate = (commonName: string): Promise<CertificatePair> => selfSigned(commonName, ALGORITHM)

const selfSigned = async (commonName: string, algorithm: SigningAlgorithm): Promise<CertificatePair> => {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
  serial[0] = (serial[0] ?? 0) & 0x7f // a positive serial number
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, "_")}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + TWENTY_YEARS_MS),
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams["keys"],
    signingAlgorithm: algorithm
  })
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)
  return { certPem: cert.toString("pem") + "\n", keyPem: pem("PRIVATE KEY", pkcs8) }
}

// GameStream only: RSA 2048 with SHA-256 (PKCS#1 v1.5), what Moonlight clients expect of a host
// and make for themselves. Key generation runs in OpenSSL (under WebCrypto): well under a second.
const RSA_ALGORITHM = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1])
} as const

/** A fresh self-signed RSA 2048 / SHA-256 certificate (the GameStream path's host and test clients). */
export const generateRsaCertificate = (commonName: string): Promise<CertificatePair> => selfSigned(commonName, RSA_ALGORITHM)

/** SHA-256 of a certificate's DER, lowercase hex. */
export const fingerprintOfDer = (der: Uint8Array): string => createHash("sha256").update(der).digest("hex")

export const fingerprintOfPem = (certPem: string): string => fingerprintOfDer(new X509Certificate(certPem).raw)
