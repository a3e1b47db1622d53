/**
 * A server-sent-event response read as the host wrote it: each block's `event:` and `data:` lines,
 * raw. The tests decode the data themselves, with the Schemas or the host's `decodeLiveEvent`
 * (the console's own reader, `web/src/api/sse.ts`, is tested apart and is not the oracle here).
 */

export interface SseEvent {
  readonly event: string
  readonly data: string
}

/**
 * The events of `body` in order, until the host ends the stream (or the reader fails: a killed
 * host or an aborted request ends the iteration by throwing). Leaving the loop early cancels the
 * stream, so the host sees the client go.
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let idx: number
      while ((idx = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, idx)
        buffer = buffer.slice(idx + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) yield { event, data }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}
