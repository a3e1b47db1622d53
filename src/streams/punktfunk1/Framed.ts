/**
 * A TLS socket as a scoped, framed message channel, used by both ends of `punktfunk/1`.
 *
 * Why a bounded queue that drops the connection when full instead of pausing the socket: a peer
 * sends a handful of control messages per second; one that floods hundreds before we read them
 * is broken or hostile, and ending that connection is cheaper and clearer than backpressure.
 */
import { Effect, Option, Queue } from "effect"
import type { Scope } from "effect"
import type { Duplex } from "node:stream"
import { FrameError, FrameReader } from "./FrameReader.js"

type Item = { readonly _tag: "Frame"; readonly body: string } | { readonly _tag: "Closed" } | FrameError

export interface Framed {
  /** The next frame body, `None` once the peer has closed, or the framing error that ended it. */
  readonly next: Effect.Effect<Option.Option<string>, FrameError>
  readonly send: (bytes: Buffer) => Effect.Effect<void>
  /** Flush what was sent, then close. */
  readonly end: Effect.Effect<void>
}

export const QUEUE_LIMIT = 256

export const framed = (socket: Duplex): Effect.Effect<Framed, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.bounded<Item>(QUEUE_LIMIT + 2)
    const reader = new FrameReader()
    let closed = false
    const finish = (item: Item) => {
      if (closed) return
      closed = true
      Queue.unsafeOffer(queue, item)
    }
    socket.on("data", (chunk: Buffer) => {
      if (closed) return
      const frames = reader.push(chunk)
      if (frames instanceof FrameError) {
        finish(frames)
        socket.destroy()
        return
      }
      for (const body of frames) {
        if (Option.getOrElse(queue.unsafeSize(), () => 0) >= QUEUE_LIMIT) {
          finish(new FrameError({ message: `more than ${QUEUE_LIMIT} unread control messages: flood` }))
          socket.destroy()
          return
        }
        Queue.unsafeOffer(queue, { _tag: "Frame", body })
      }
    })
    socket.on("end", () => finish({ _tag: "Closed" }))
    socket.on("close", () => finish({ _tag: "Closed" }))
    socket.on("error", () => finish({ _tag: "Closed" }))
    yield* Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))

    const next: Framed["next"] = Queue.take(queue).pipe(
      Effect.flatMap((item) => {
        if (item._tag === "Frame") return Effect.succeed(Option.some(item.body))
        // Leave the terminal item in place so every later `next` sees the same end.
        Queue.unsafeOffer(queue, item)
        return item._tag === "Closed" ? Effect.succeed(Option.none()) : Effect.fail(item)
      })
    )
    const send = (bytes: Buffer) =>
      Effect.sync(() => {
        if (!socket.destroyed && socket.writable) socket.write(bytes)
      })
    const end = Effect.async<void>((resume) => {
      if (socket.destroyed || !socket.writable) return resume(Effect.void)
      socket.end(() => resume(Effect.void))
      // Do not wait forever on a peer that stopped reading.
      const timer = setTimeout(() => {
        socket.destroy()
        resume(Effect.void)
      }, 2_000)
      return Effect.sync(() => clearTimeout(timer))
    })
    return { next, send, end }
  })
