import { afterEach, describe, expect, it } from "vitest"
import { loadToken, tokenFromFragment } from "./token.js"

afterEach(() => {
  window.sessionStorage.clear()
  window.history.replaceState(null, "", "/")
})

describe("bearer token from the console link", () => {
  it("reads the token from the URL fragment", () => {
    expect(tokenFromFragment("#token=abc123")).toBe("abc123")
    expect(tokenFromFragment("token=abc123&x=1")).toBe("abc123")
    expect(tokenFromFragment("#other=1")).toBeNull()
    expect(tokenFromFragment("#token=")).toBeNull()
  })

  it("keeps it for the session and wipes it from the address bar", () => {
    window.history.replaceState(null, "", "/#token=s3cret")
    expect(loadToken()).toBe("s3cret")
    expect(window.location.hash).toBe("")
    expect(window.location.href).not.toContain("s3cret")
    // Later loads (a reload without the fragment) find it in sessionStorage.
    expect(loadToken()).toBe("s3cret")
  })

  it("has no token without a fragment or a stored one", () => {
    expect(loadToken()).toBeNull()
  })
})
