/**
 * Any failure from the API client, in words an operator can act on. The typed errors from
 * `src/api/Errors.ts` already carry a message written for people; transport and decode failures
 * are named by what went wrong, not by a stack trace.
 */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly tag: string
  ) {
    super(message)
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

export const describeError = (error: unknown): ApiFailure => {
  if (error instanceof ApiFailure) return error
  if (isRecord(error)) {
    const tag = typeof error["_tag"] === "string" ? error["_tag"] : "Error"
    const message = typeof error["message"] === "string" ? error["message"] : ""
    switch (tag) {
      case "Unauthorized":
        return new ApiFailure(`The host refused the token: ${message || "unauthorized"}. Enter the token again.`, 401, tag)
      case "CaptureNotFound":
        return new ApiFailure(message || "That recording no longer exists.", 404, tag)
      case "NotArmed":
        return new ApiFailure(message || "No capture is armed.", 404, tag)
      case "CaptureSaveError":
        return new ApiFailure(
          `${message || "The host could not save the capture."} It is kept in memory; press Stop again to retry the save.`,
          507,
          tag
        )
      case "CaptureReadError":
        return new ApiFailure(message || "The host could not read that recording.", 500, tag)
      case "WrongPin":
        return new ApiFailure(`${message || "The PIN did not match."} The client must ask to pair again.`, 403, tag)
      case "PairingRequestNotFound":
        return new ApiFailure(message || "That pairing request is gone (it timed out or was answered).", 404, tag)
      case "ClientNotFound":
        return new ApiFailure(message || "That client is not paired.", 404, tag)
      case "PairingSaveError":
        return new ApiFailure(message || "The host could not save its paired clients.", 507, tag)
      case "RequestError":
        return new ApiFailure("The host did not answer (is it running, is this the right address?).", null, tag)
      case "ResponseError": {
        const response = error["response"]
        const status = isRecord(response) && typeof response["status"] === "number" ? response["status"] : null
        return new ApiFailure(
          status === null ? "The host sent an unexpected answer." : `The host answered with HTTP ${status}${message ? ` (${message})` : ""}.`,
          status,
          tag
        )
      }
      case "ParseError":
        return new ApiFailure(`The host's answer did not match the API this console was built with: ${message}`, null, tag)
    }
    if (message) return new ApiFailure(message, null, tag)
  }
  return new ApiFailure(String(error), null, "Error")
}
