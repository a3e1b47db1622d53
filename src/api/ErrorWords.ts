/**
 * What a failed API call means, in one sentence an operator can act on: the one mapping the CLI
 * (`cli/HostClient.ts`) and the console (`web/src/api/errors.ts`) both read, so a new error of
 * `Errors.ts` or `Pairing.ts` is worded once.
 *
 * Why the host's own message comes first: the typed errors carry a message written for people
 * (it names the capture, the request, the cause); the fallback here is only for an error that
 * arrived without one. What each client adds is what only it knows: the CLI names the address it
 * dialled and the token file it read, and turns the tag into an exit code; the console names
 * what to press.
 *
 * The transport failures (`RequestError`, `ResponseError`, `ParseError`) come from Effect's HTTP
 * client, not from the host: they are named by what went wrong, never by a stack trace.
 */

/** What a client knows about the call that failed; each part makes the sentence more exact. */
export interface ErrorContext {
  /** The host's address as the client dialled it. */
  readonly host?: string
  /** Where the token came from (the CLI's token file). */
  readonly tokenFile?: string
}

export interface ErrorText {
  /** The error's `_tag` ("Error" for something untagged). */
  readonly tag: string
  /** The HTTP status the host answered with; null when no answer (or none that applies). */
  readonly status: number | null
  readonly message: string
}

interface Wording {
  readonly status: number | null
  /** The sentence when the host's message is empty. */
  readonly fallback: string
}

/** Every typed error of the API, with its status (as annotated in its Schema) and a fallback. */
export const API_ERROR_WORDS: Readonly<Record<string, Wording>> = {
  Unauthorized: { status: 401, fallback: "Unauthorized." },
  CaptureNotFound: { status: 404, fallback: "That recording no longer exists." },
  NotArmed: { status: 404, fallback: "No capture is armed." },
  CaptureSaveError: { status: 507, fallback: "The host could not save the capture." },
  CaptureReadError: { status: 500, fallback: "The host could not read that recording." },
  CaptureImportInvalid: { status: 400, fallback: "That file is not a capture this host can import." },
  ImportTooLarge: { status: 413, fallback: "That file is larger than the host's import bound (PUNKTFUNK_IMPORT_MAX_BYTES)." },
  BadQuery: { status: 400, fallback: "The request's query makes no sense." },
  TooManySubscribers: { status: 503, fallback: "Too many live event streams are open." },
  WrongPin: { status: 403, fallback: "The PIN did not match." },
  PairingRequestNotFound: { status: 404, fallback: "That pairing request is gone (it timed out or was answered)." },
  ClientNotFound: { status: 404, fallback: "That client is not paired." },
  PairingSaveError: { status: 507, fallback: "The host could not save its paired clients." }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const stringField = (u: Record<string, unknown>, key: string): string => (typeof u[key] === "string" ? u[key] : "")

/**
 * Any failure of an API call as one sentence: the host's own message for a typed error (else the
 * table's fallback); for the token and transport failures a sentence starting lower-case, as the
 * CLI prints it after "punktfunk: " (the console capitalizes it).
 */
export const errorText = (error: unknown, context: ErrorContext = {}): ErrorText => {
  if (!isRecord(error)) return { tag: "Error", status: null, message: String(error) }
  const tag = typeof error["_tag"] === "string" ? error["_tag"] : "Error"
  const message = stringField(error, "message")
  switch (tag) {
    case "Unauthorized":
      return {
        tag,
        status: 401,
        message: `the host refused the token${context.tokenFile === undefined ? "" : ` from ${context.tokenFile}`}${message ? ` (${message})` : ""}`
      }
    case "RequestError":
      return {
        tag,
        status: null,
        message:
          context.host === undefined
            ? "the host did not answer (is it running, is this the right address?)"
            : `no punktfunk host answers at ${context.host}`
      }
    case "ResponseError": {
      const response = error["response"]
      const status = isRecord(response) && typeof response["status"] === "number" ? response["status"] : null
      const from = context.host === undefined ? "the host" : context.host
      return {
        tag,
        status,
        message:
          status === null
            ? `unexpected answer from ${from}${message ? `: ${message}` : ""} (is it a punktfunk host?)`
            : `${from} answered with HTTP ${status}${message ? ` (${message})` : ""}`
      }
    }
    case "ParseError":
      return { tag, status: null, message: `the host's answer did not match the API this client was built with: ${message}` }
  }
  const words = API_ERROR_WORDS[tag]
  if (words !== undefined) return { tag, status: words.status, message: message || words.fallback }
  return { tag, status: null, message: message || String(error) }
}

/** The sentence with a capital first letter (the console's alerts). */
export const capitalized = (s: string): string => (s === "" ? s : s[0]!.toUpperCase() + s.slice(1))
