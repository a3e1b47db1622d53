/**
 * What the control-stream tests hand `expect` as a session's handlers: every call lands in a
 * queue the test reads, so a test asserts what reached the session (an IDR request, a loss
 * report, a repair count, the end) rather than how the stream got there.
 */
import { Effect, Queue } from "effect"
import { randomBytes, randomInt } from "node:crypto"
import type { ControlHandlers } from "../../../src/streams/gamestream/ControlStream.js"

export const controlRecorder = Effect.gen(function* () {
  const idr = yield* Queue.unbounded<void>()
  const loss = yield* Queue.unbounded<number>()
  const ended = yield* Queue.unbounded<string>()
  const repaired = yield* Queue.unbounded<number>()
  const handlers: ControlHandlers = {
    requestIdr: Queue.offer(idr, undefined),
    lossReport: (n) => Queue.offer(loss, n),
    fecRecovered: (n) => Queue.offer(repaired, n),
    ended: (reason) => Queue.offer(ended, reason)
  }
  return { idr, loss, ended, repaired, handlers }
})

/** A session's connect data and launch key, fresh for each test. */
export const newControlSession = () => ({ connectData: randomInt(1, 2 ** 31), keyHex: randomBytes(16).toString("hex") })
