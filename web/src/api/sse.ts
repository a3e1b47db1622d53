/**
 * The live route's server-sent events, read with `fetch` and a stream reader because
 * `EventSource` cannot send the bearer header (and the token must never go in a query string).
 * Each event's data is decoded with the same Schemas the host encoded it with (`decodeLiveEvent`).
 */
import { decodeLiveEvent, type LiveEvent } from "../../../src/api/LiveEvents.js"

/** What the host sends on the live route (`src/api/LiveEvents.ts`, the host's own description). */
export type LiveMessage = LiveEvent

/** One raw event block (`event:` / `data:` lines) → a typed message, or null for anything else. */
export const decodeEvent = (block: string): LiveMessage | null => {
  let event = "message"
  const data: Array<string> = []
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) continue
    const colon = line.indexOf(":")
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "event") event = value
    else if (field === "data") data.push(value)
  }
  if (data.length === 0) return null
  return decodeLiveEvent(event, data.join("\n"))
}

/**
 * Split an SSE byte stream into event blocks. Keeps the partial tail between chunks; accepts
 * `\n`, `\r\n` and `\r` line ends as the SSE format allows.
 */
export class SseParser {
  private buffer = ""
  push(chunk: string): Array<LiveMessage> {
    this.buffer += chunk.replace(/\r\n?/g, "\n")
    const out: Array<LiveMessage> = []
    let cut = this.buffer.indexOf("\n\n")
    while (cut !== -1) {
      const message = decodeEvent(this.buffer.slice(0, cut))
      if (message !== null) out.push(message)
      this.buffer = this.buffer.slice(cut + 2)
      cut = this.buffer.indexOf("\n\n")
    }
    return out
  }
}

/**
 * Read the event stream until `signal` aborts or the host closes it. Resolves when the stream
 * ends; rejects with the HTTP status in words when the host refuses.
 */
const messageOf = (body: string): string => {
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === "object" && value !== null && "message" in value && typeof value.message === "string" ? value.message : ""
  } catch {
    return ""
  }
}

export const readLiveEvents = async (
  url: string,
  token: string,
  signal: AbortSignal,
  onMessage: (message: LiveMessage) => void
): Promise<void> => {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    signal,
    cache: "no-store"
  })
  if (!response.ok || response.body === null) {
    if (response.status === 401) throw new Error("The host refused the token.")
    // The host says why in `{ _tag, message }` (e.g. 503: too many live streams open already).
    const detail = await response.text().then(messageOf, () => "")
    throw new Error(`The live stream answered HTTP ${response.status}${detail === "" ? "." : `: ${detail}`}`)
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const parser = new SseParser()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      for (const message of parser.push(value)) onMessage(message)
    }
  } finally {
    reader.releaseLock()
  }
}
