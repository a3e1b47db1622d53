import { describe, expect, it } from "vitest"
import { CaptureNotFound, CaptureSaveError, Unauthorized } from "../../../src/api/Errors.js"
import { describeError } from "./errors.js"

describe("API errors in words", () => {
  it("names a refused token, a missing recording and a failed save with what to do", () => {
    const refused = describeError(new Unauthorized({ message: "wrong bearer token" }))
    expect(refused.status).toBe(401)
    expect(refused.message).toContain("refused the token")
    expect(describeError(new CaptureNotFound({ id: "x", message: "no capture named x" })).message).toBe("no capture named x")
    const save = describeError(new CaptureSaveError({ id: "x", message: "disk full", code: "ENOSPC" }))
    expect(save.status).toBe(507)
    expect(save.message).toContain("press Stop again")
  })

  it("names transport failures without a stack trace", () => {
    expect(describeError({ _tag: "RequestError", message: "fetch failed" }).message).toContain("did not answer")
    expect(describeError({ _tag: "ResponseError", response: { status: 502 }, message: "" }).message).toContain("HTTP 502")
    expect(describeError("boom").message).toBe("boom")
  })
})
