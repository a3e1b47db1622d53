/**
 * The host's own certificate and key (`<config>/host-cert.pem`, `host-key.pem`, `0600`), made on
 * first start and kept: clients pin its fingerprint when they pair, so regenerating it would
 * silently unpair every client.
 */
import { Context, Data, Effect, Layer } from "effect"
import * as path from "node:path"
import { fingerprintOfPem, generateCertificate } from "../lib/Certificates.js"
import { readIfExists, writePrivateFile } from "../lib/PrivateFile.js"
import { DiskOps, nodeDiskOps } from "./DiskOps.js"
import type { DiskOpsService } from "./DiskOps.js"

export class IdentityError extends Data.TaggedError("IdentityError")<{ readonly message: string }> {}

export interface HostIdentityShape {
  readonly certPem: string
  readonly keyPem: string
  readonly fingerprint: string
}

export class HostIdentity extends Context.Tag("punktfunk/HostIdentity")<HostIdentity, HostIdentityShape>() {}

/**
 * `<dir>/<prefix>-cert.pem` and `<prefix>-key.pem`, made on first use. The client keeps its own
 * the same way. The writes go through `disk` (the host's `DiskOps`), so a refused write is the
 * same `IdentityError` and leaves no half-written key.
 */
export const loadOrCreateIdentity = (dir: string, prefix: string, commonName: string, disk: DiskOpsService = nodeDiskOps) =>
  Effect.tryPromise({
    try: async (): Promise<HostIdentityShape> => {
      const certFile = path.join(dir, `${prefix}-cert.pem`)
      const keyFile = path.join(dir, `${prefix}-key.pem`)
      const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)])
      if (cert !== undefined && key !== undefined) return { certPem: cert, keyPem: key, fingerprint: fingerprintOfPem(cert) }
      if (cert !== undefined) {
        throw new Error(`${certFile} exists but its key ${keyFile} does not; restore the key, or remove the certificate to make a new identity (every client must then pair again)`)
      }
      // A key without a certificate is a first start cut short: no client can have pinned a
      // certificate that was never written, so a new pair is safe.
      const made = await generateCertificate(commonName)
      // Key first: a crash between the two writes leaves no certificate without its key.
      await Effect.runPromise(
        writePrivateFile(disk, keyFile, made.keyPem).pipe(
          Effect.zipRight(writePrivateFile(disk, certFile, made.certPem)),
          Effect.mapError((e) => new Error(e.message))
        )
      )
      return { ...made, fingerprint: fingerprintOfPem(made.certPem) }
    },
    catch: (e) => new IdentityError({ message: `host identity: ${e instanceof Error ? e.message : String(e)}` })
  })

export const HostIdentityLive = (configDir: string): Layer.Layer<HostIdentity, IdentityError, DiskOps> =>
  Layer.effect(
    HostIdentity,
    Effect.flatMap(DiskOps, (disk) => loadOrCreateIdentity(configDir, "host", "punktfunk host", disk))
  )
