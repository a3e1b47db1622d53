/**
 * Raw sockets for the connection-limit tests: hold a connection open from a chosen loopback
 * address (attackers use 127.0.0.2–254), see whether the host closed it, trickle a head a byte at
 * a time. Every socket is destroyed by the caller's scope. Also a loopback port free a moment ago.
 */
import { Context, Effect } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import { ConnectionLimits } from "../../src/services/ConnectionLimits.js"
import type { ListenerName } from "../../src/services/ConnectionLimits.js"
import type { StartedHost } from "./TestHost.js"
import { waitFor } from "./TestHost.js"

/**
 * A loopback port nothing listened on a moment ago: bound, noted, closed. For a program that takes
 * its port as a flag, or for a port that must refuse a connection.
 */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** One TCP listener's connection counters (`ConnectionLimiter.ts`) in an in-process test host. */
export const countersOf = (host: StartedHost, listener: ListenerName) =>
  Context.get(host.context, ConnectionLimits).counters.pipe(
    Effect.map((all) => {
      const c = all[listener]
      if (c === undefined) throw new Error(`no limiter for ${listener}`)
      return c
    })
  )

export interface Held {
  readonly socket: net.Socket
  /** Bytes the host sent before closing (a refusal's answer, if any). */
  readonly received: () => Buffer
  readonly closed: () => boolean
}

/** A connection from `localAddress`, opened and (optionally) sent `bytes`; closed with the scope. */
export const hold = (
  port: number,
  localAddress: string,
  bytes?: Buffer | string
): Effect.Effect<Held, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<Held>((resolve) => {
          const chunks: Array<Buffer> = []
          let isClosed = false
          const socket: net.Socket = net.connect({ port, host: "127.0.0.1", localAddress }, () => {
            if (bytes !== undefined) socket.write(bytes)
            resolve({ socket, received: () => Buffer.concat(chunks), closed: () => isClosed })
          })
          socket.on("data", (c: Buffer) => chunks.push(c))
          socket.on("error", () => socket.destroy())
          socket.on("close", () => {
            isClosed = true
            resolve({ socket, received: () => Buffer.concat(chunks), closed: () => true })
          })
        })
    ),
    (h) => Effect.sync(() => h.socket.destroy())
  )

/** Waits until the host closed `held` (a bounded poll; no clock assertion). */
export const closedByHost = (held: Held, what = "the host to close the connection") =>
  Effect.promise(() => waitFor(() => held.closed(), 10_000, what))

/**
 * Sends `head` one byte every `everyMs` from `localAddress` until the host closes the connection
 * (or the head is all sent); resolves with what the host answered.
 */
export const trickle = (port: number, head: Buffer | string, everyMs: number, localAddress: string) =>
  Effect.promise(
    () =>
      new Promise<{ readonly sent: number; readonly answer: Buffer }>((resolve) => {
        const bytes = typeof head === "string" ? Buffer.from(head, "latin1") : head
        const chunks: Array<Buffer> = []
        let sent = 0
        const socket = net.connect({ port, host: "127.0.0.1", localAddress })
        const tick = setInterval(() => {
          if (socket.writable && sent < bytes.length) socket.write(bytes.subarray(sent, ++sent))
        }, everyMs)
        socket.on("data", (c: Buffer) => chunks.push(c))
        socket.on("error", () => socket.destroy())
        socket.on("close", () => {
          clearInterval(tick)
          resolve({ sent, answer: Buffer.concat(chunks) })
        })
      })
  )
