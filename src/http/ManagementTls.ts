/**
 * Whether the management API speaks HTTPS, and the address the host prints for it.
 *
 * Why HTTPS only beyond loopback: every request to the API carries the bearer token, and the
 * token operates the host (captures, pairing, so input). On loopback nothing crosses a network
 * and a browser treats `http://127.0.0.1` as a secure context, so plain HTTP stays there and
 * needs no certificate warning. Bound anywhere else (`0.0.0.0`, a LAN address, a host name) the
 * API serves HTTPS with the host's own certificate — the one punktfunk/1 clients pin when they pair —
 * and the host prints its SHA-256 fingerprint, which the operator compares with what the browser
 * or `punktfunk --fingerprint` sees. A name is never trusted to be loopback except `localhost`.
 */
import { HttpServer } from "@effect/platform"
import { Effect } from "effect"
import * as net from "node:net"

/** `127.0.0.0/8`, `::1`, an IPv4-mapped `::ffff:127.x.y.z`, or `localhost`. */
export const isLoopbackBind = (bind: string): boolean => {
  const host = bind.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")
  if (host === "localhost") return true
  if (net.isIPv4(host)) return host.startsWith("127.")
  if (net.isIPv6(host)) {
    if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1]
    return mapped !== undefined && net.isIPv4(mapped) && mapped.startsWith("127.")
  }
  return false
}

/** A SHA-256 fingerprint (hex, any case, colons or not) as browsers and `openssl x509 -fingerprint` show it. */
export const colonFingerprint = (hex: string): string =>
  (hex.replace(/[^0-9a-f]/gi, "").toUpperCase().match(/../g) ?? []).join(":")

/** The listening URL with the scheme the API really speaks (the platform always says `http://`). */
export const managementUrl = (secure: boolean) =>
  HttpServer.addressFormattedWith((address) =>
    Effect.succeed(secure ? address.replace(/^http:\/\//, "https://") : address)
  )
