/**
 * Any failure from the API client, in words an operator can act on. The sentence is the one the
 * CLI prints too (`src/api/ErrorWords.ts`: the host's own message for a typed error, transport
 * and decode failures named by what went wrong, not by a stack trace); the console adds what to
 * press where there is something to press.
 */
import { capitalized, errorText } from "../../../src/api/ErrorWords.js"

export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly tag: string
  ) {
    super(message)
  }
}

/** What the console adds after the sentence: the operator's next step, where there is one. */
const NEXT_STEP: Readonly<Record<string, string>> = {
  Unauthorized: "Enter the token again.",
  CaptureSaveError: "It is kept in memory; press Stop again to retry the save.",
  WrongPin: "The client must ask to pair again."
}

const CLIENT_WORDED = new Set(["Unauthorized", "RequestError", "ResponseError", "ParseError"])

export const describeError = (error: unknown): ApiFailure => {
  if (error instanceof ApiFailure) return error
  const text = errorText(error)
  // The client's own sentences start lower-case (the CLI prints them after "punktfunk: "); the
  // host's messages are shown as the host wrote them.
  const sentence = CLIENT_WORDED.has(text.tag) ? capitalized(text.message) : text.message
  const next = NEXT_STEP[text.tag]
  const message = next === undefined ? sentence : `${sentence}${/[.!?]$/.test(sentence) ? "" : "."} ${next}`
  return new ApiFailure(message, text.status, text.tag)
}
