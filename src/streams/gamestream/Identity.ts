/**
 * The host's GameStream identity: an RSA 2048 certificate and key in `<config>/gamestream-cert.pem`
 * and `gamestream-key.pem` (`0600`), made on first start and kept.
 *
 * Why a second identity beside the punktfunk/1 `host-cert.pem`: Moonlight clients sign and verify the
 * pairing with RSA keys and pin this certificate by its bytes; the punktfunk/1 path's ECDSA key would
 * not do. Why it is never regenerated: every Moonlight client pinned it when it paired, so a new
 * one would silently break every pairing.
 *
 * `uniqueid` (what serverinfo calls the host) is derived from the certificate's fingerprint, so
 * it is as stable as the certificate without a file of its own.
 */
import { Context, Data, Effect, Layer } from "effect"
import * as path from "node:path"
import { fingerprintOfPem, generateRsaCertificate } from "../../lib/Certificates.js"
import { readIfExists, writePrivateFile } from "../../lib/PrivateFile.js"
import { DiskOps, nodeDiskOps } from "../../services/DiskOps.js"
import type { DiskOpsService } from "../../services/DiskOps.js"
import { certificateSignature } from "./PairingCrypto.js"

export class GameStreamIdentityError extends Data.TaggedError("GameStreamIdentityError")<{ readonly message: string }> {}

export interface GameStreamIdentityShape {
  readonly certPem: string
  readonly keyPem: string
  readonly fingerprint: string
  /** The certificate's signature bytes, hashed into every pairing. */
  readonly certSignature: Buffer
  /** UUID-shaped host id for serverinfo. */
  readonly uniqueId: string
}

export class GameStreamIdentity extends Context.Tag("punktfunk/GameStreamIdentity")<GameStreamIdentity, GameStreamIdentityShape>() {}

const uuidOf = (fingerprint: string): string =>
  [fingerprint.slice(0, 8), fingerprint.slice(8, 12), fingerprint.slice(12, 16), fingerprint.slice(16, 20), fingerprint.slice(20, 32)]
    .join("-")
    .toUpperCase()

const shapeOf = (certPem: string, keyPem: string): GameStreamIdentityShape => {
  const fingerprint = fingerprintOfPem(certPem)
  return { certPem, keyPem, fingerprint, certSignature: certificateSignature(certPem), uniqueId: uuidOf(fingerprint) }
}

/**
 * The writes go through `disk` (the host's `DiskOps`): a disk that refuses is this start's
 * `GameStreamIdentityError` naming the file and the reason, with no half-written key left, and
 * the fault tests reach it as they reach every other private file.
 */
export const loadOrCreateGameStreamIdentity = (configDir: string, disk: DiskOpsService = nodeDiskOps) =>
  Effect.tryPromise({
    try: async (): Promise<GameStreamIdentityShape> => {
      const certFile = path.join(configDir, "gamestream-cert.pem")
      const keyFile = path.join(configDir, "gamestream-key.pem")
      const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)])
      if (cert !== undefined && key !== undefined) return shapeOf(cert, key)
      if (cert !== undefined) {
        throw new Error(
          `${certFile} exists but its key ${keyFile} does not; restore the key, or remove the certificate to make a new one (every Moonlight client must then pair again)`
        )
      }
      // A key without a certificate is a first start cut short: nobody can have pinned a
      // certificate that was never written.
      const made = await generateRsaCertificate("punktfunk GameStream host")
      // Key first: a crash between the two writes leaves no certificate without its key.
      await Effect.runPromise(
        writePrivateFile(disk, keyFile, made.keyPem).pipe(
          Effect.zipRight(writePrivateFile(disk, certFile, made.certPem)),
          Effect.mapError((e) => new Error(e.message))
        )
      )
      return shapeOf(made.certPem, made.keyPem)
    },
    catch: (e) => new GameStreamIdentityError({ message: `GameStream identity: ${e instanceof Error ? e.message : String(e)}` })
  })

export const GameStreamIdentityLive = (configDir: string): Layer.Layer<GameStreamIdentity, GameStreamIdentityError, DiskOps> =>
  Layer.effect(GameStreamIdentity, Effect.flatMap(DiskOps, (disk) => loadOrCreateGameStreamIdentity(configDir, disk)))
