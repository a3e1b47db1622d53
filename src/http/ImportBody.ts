/**
 * The body of `POST /api/v1/stats/recordings/import`, read within its own bound
 * (`PUNKTFUNK_IMPORT_MAX_BYTES`, default 64 MiB; every other route keeps the API's 64 KiB).
 *
 * Why this reads the socket's stream itself instead of the platform's `arrayBuffer`: the platform
 * concatenates the whole buffer again at every chunk (quadratic for tens of megabytes) and, past
 * its limit, destroys the socket, so the client sees a reset instead of a 413. Here a declared
 * length over the bound is refused before a byte is read, and a body that streams past it
 * (chunked, or longer than it declared) is refused at the chunk that crosses it: nothing beyond
 * the bound is kept, the host stops reading, and the 413 goes out on a connection marked
 * `close`, so the rest of the upload is never taken in. Nothing is parsed until the whole body is
 * in and within the bound.
 *
 * The bearer check has run before this (the group's middleware): an unauthenticated client
 * never gets the host to read its body.
 */
import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect } from "effect"
import { CaptureImportInvalid, ImportTooLarge } from "../api/Errors.js"

const tooLarge = (maxBytes: number, what: string) =>
  new ImportTooLarge({
    max_bytes: maxBytes,
    message: `${what} is larger than the import bound of ${maxBytes} bytes (PUNKTFUNK_IMPORT_MAX_BYTES)`
  })

/** Close the connection once the answer is out: the client may still be sending what we refused. */
const closeAfterAnswer = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => NodeHttpServerRequest.toServerResponse(request).setHeader("connection", "close"))

export const readImportBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number
): Effect.Effect<Uint8Array, ImportTooLarge | CaptureImportInvalid> =>
  Effect.suspend(() => {
    const header = request.headers["content-length"]
    const declared = header === undefined ? undefined : Number(header)
    if (declared !== undefined && declared > maxBytes) {
      return Effect.zipRight(closeAfterAnswer(request), Effect.fail(tooLarge(maxBytes, `a body of ${declared} bytes`)))
    }
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    return Effect.async<Uint8Array, ImportTooLarge | CaptureImportInvalid>((resume) => {
      const chunks: Array<Buffer> = []
      let total = 0
      const stop = () => {
        incoming.off("data", onData)
        incoming.off("end", onEnd)
        incoming.off("error", onError)
        incoming.off("close", onClose)
      }
      function onData(chunk: Buffer) {
        total += chunk.length
        if (total > maxBytes) {
          stop()
          incoming.pause()
          chunks.length = 0
          NodeHttpServerRequest.toServerResponse(request).setHeader("connection", "close")
          resume(Effect.fail(tooLarge(maxBytes, "the body")))
          return
        }
        chunks.push(chunk)
      }
      function onEnd() {
        stop()
        resume(Effect.succeed(new Uint8Array(Buffer.concat(chunks, total))))
      }
      function onError(e: Error) {
        stop()
        resume(Effect.fail(new CaptureImportInvalid({ field: "", message: `the body could not be read: ${e.message}` })))
      }
      function onClose() {
        // Closed before its end: the client went away mid-upload.
        stop()
        resume(Effect.fail(new CaptureImportInvalid({ field: "", message: "the body could not be read: the client closed the connection" })))
      }
      incoming.on("data", onData)
      incoming.on("end", onEnd)
      incoming.on("error", onError)
      incoming.on("close", onClose)
      return Effect.sync(stop)
    })
  })
