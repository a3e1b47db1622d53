/**
 * HTTPS to a host whose certificate is pinned by its SHA-256 fingerprint: the CLI's client when
 * the management API is bound beyond loopback (the host then serves its own self-signed
 * certificate, see `http/ManagementTls.ts`).
 *
 * Why the check sits in the agent's `createConnection`: Node's agent hands a socket to the
 * request only when `createConnection` calls back, so the certificate is compared before a
 * single byte of the request — and so the bearer token — is written. Checking in a
 * `secureConnect` listener on a socket already given to the request would race the request's
 * own writes. `rejectUnauthorized: false` only because no CA vouches for a self-signed
 * certificate; the pin is the whole of the trust, and a mismatch (or no pin at all) ends the
 * connection with `PinRefused`.
 *
 * Why no trust on first use: the CLI has nowhere safe to remember a first answer, and a silent
 * first use is exactly when a man in the middle would answer. The refusal names the fingerprint
 * the host presented, for the operator to compare with the one the host printed at start.
 */
import { Data } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import type { Duplex } from "node:stream"
import * as tls from "node:tls"
import { fingerprintOfDer } from "../lib/Certificates.js"
import { colonFingerprint } from "../http/ManagementTls.js"

/** The host presented a certificate other than the pinned one, or no pin was given: nothing was sent. */
export class PinRefused extends Data.TaggedError("PinRefused")<{ readonly message: string }> {}

/** `AB:CD:…`, `abcd…` or with spaces: 64 hex digits, lowercase, or `undefined` when it is not one. */
export const normalizeFingerprint = (text: string): string | undefined => {
  const hex = text.replace(/[\s:]/g, "").toLowerCase()
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined
}

class PinnedAgent extends https.Agent {
  constructor(private readonly pin: string | undefined, private readonly origin: string) {
    super({ keepAlive: false })
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void
  ): Duplex | null | undefined {
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false })
    const onError = (e: Error) => callback?.(e, socket)
    socket.once("error", onError)
    socket.once("secureConnect", () => {
      socket.off("error", onError)
      const presented = fingerprintOfDer(socket.getPeerCertificate().raw)
      if (this.pin === presented) {
        callback?.(null, socket)
        return
      }
      socket.destroy()
      const shown = colonFingerprint(presented)
      callback?.(
        new PinRefused({
          message:
            this.pin === undefined
              ? `the host at ${this.origin} serves HTTPS with certificate SHA-256 ${shown}; if the host printed that fingerprint at start, pass --fingerprint ${shown} (nothing was sent)`
              : `the host at ${this.origin} presented certificate SHA-256 ${shown}, not the pinned ${colonFingerprint(this.pin)}: refusing to send the token (is something between you and the host?)`
        }),
        socket
      )
    })
    return undefined
  }
}

/** The agents for NodeHttpClient: plain HTTP as usual, HTTPS only to the pinned certificate. */
export const pinnedAgents = (pin: string | undefined, origin: string) => ({
  http: new http.Agent({ keepAlive: false }),
  https: new PinnedAgent(pin, origin)
})
