/**
 * The host's GameStream certificate: RSA 2048, made once, kept `0600`, never silently replaced
 * (every Moonlight client pinned it) — a lost key is an error that says what to do.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createPrivateKey, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { loadOrCreateGameStreamIdentity } from "../../src/streams/gamestream/Identity.js"
import { tempDir } from "../support/TestHost.js"

describe("GameStream host identity", () => {
  it.live("made once as RSA 2048, kept 0600, the same on every later start", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const made = yield* loadOrCreateGameStreamIdentity(dir)
      const cert = new X509Certificate(made.certPem)
      expect(cert.publicKey.asymmetricKeyType).toBe("rsa")
      expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
      expect(cert.checkPrivateKey(createPrivateKey(made.keyPem))).toBe(true)
      for (const f of ["gamestream-cert.pem", "gamestream-key.pem"]) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600)
      const again = yield* loadOrCreateGameStreamIdentity(dir)
      expect(again.fingerprint).toBe(made.fingerprint)
      expect(again.uniqueId).toBe(made.uniqueId)
      expect(made.uniqueId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    })
  )

  it.live("a certificate without its key is an error naming the fix, not a new identity", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const made = yield* loadOrCreateGameStreamIdentity(dir)
      fs.rmSync(path.join(dir, "gamestream-key.pem"))
      const error = yield* loadOrCreateGameStreamIdentity(dir).pipe(Effect.flip)
      expect(error.message).toMatch(/gamestream-key\.pem does not; restore the key/)
      expect(fs.readFileSync(path.join(dir, "gamestream-cert.pem"), "utf8")).toBe(made.certPem)
    })
  )
})
