/**
 * The check worker's entry (a `worker_threads` module, started by `CaptureChecker.ts`): checks
 * each file's bytes it is sent, straight through, and answers with what the check found or why
 * the bytes fail. Nothing else runs here, so holding this thread for a file's ~100 ms holds no
 * request.
 */
import { Either } from "effect"
import { parentPort } from "node:worker_threads"
import { checkCaptureBytesSync } from "./CaptureCheck.js"
import type { CheckReply, CheckRequest } from "./CaptureCheck.js"

const port = parentPort
if (port !== null) {
  port.on("message", (request: CheckRequest) => {
    const outcome = checkCaptureBytesSync(request.bytes)
    const reply: CheckReply = {
      seq: request.seq,
      outcome: Either.isRight(outcome) ? { ok: true, ...outcome.right } : { ok: false, ...outcome.left }
    }
    port.postMessage(reply)
  })
}
