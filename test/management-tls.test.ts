import { describe, expect, it } from "vitest"
import { colonFingerprint, isLoopbackBind } from "../src/http/ManagementTls.js"
import { normalizeFingerprint } from "../src/cli/PinnedTls.js"

describe("which management API binds stay plain HTTP", () => {
  it("loopback only: 127.0.0.0/8, ::1 (also IPv4-mapped and bracketed), localhost", () => {
    for (const bind of ["127.0.0.1", "127.4.5.6", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) {
      expect(isLoopbackBind(bind), bind).toBe(true)
    }
  })

  it("everything else serves HTTPS: every address, a LAN address, a name, look-alikes", () => {
    for (const bind of ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "128.0.0.1", "::ffff:192.168.1.2", "host.lan", "127.0.0.1.example.com", "localhost.evil", ""]) {
      expect(isLoopbackBind(bind), bind).toBe(false)
    }
  })
})

describe("certificate fingerprints as operators type them", () => {
  const hex = "5e63b52d5d767cb1d87daf7e3daab7c03bd99789f2c93e0cd0a7ab7b1c39e2fd"
  it("prints as browsers and openssl show it, and reads back in any common spelling", () => {
    const shown = colonFingerprint(hex)
    expect(shown).toBe("5E:63:B5:2D:5D:76:7C:B1:D8:7D:AF:7E:3D:AA:B7:C0:3B:D9:97:89:F2:C9:3E:0C:D0:A7:AB:7B:1C:39:E2:FD")
    expect(normalizeFingerprint(shown)).toBe(hex)
    expect(normalizeFingerprint(hex.toUpperCase())).toBe(hex)
    expect(normalizeFingerprint(shown.replace(/:/g, " "))).toBe(hex)
  })

  it("anything but 64 hex digits is not a fingerprint", () => {
    for (const bad of ["", "abc", hex.slice(2), `${hex}00`, hex.replace("5e", "zz")]) expect(normalizeFingerprint(bad), bad).toBeUndefined()
  })
})
