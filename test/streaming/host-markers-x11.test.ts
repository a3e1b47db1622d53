/**
 * A real X display going away under a client's session, and coming back (issue 14.1): a private
 * Xvfb captured by the native pipeline (libx264) for a punktfunk/1 client; the X server is
 * stopped mid-session — the session fails, and the armed capture marks `source_lost` under that
 * session — then started again on the same display number, and the client's next session marks
 * `source_back` (and `client_reconnect`). This is the addon's own failure ("capture: the X
 * display … went away") read as a source failure, end to end into the saved capture.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import { nativePipelineLayer } from "../../src/PipelineChoice.js"
import { connect } from "../../src/client/ControlClient.js"
import { arm, ofKind, stopAndRead, waitMarker } from "../support/Markers.js"
import { endpointOf, identity, pairThroughApi } from "../support/PairedClient.js"
import { startHost, waitFor } from "../support/TestHost.js"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const freeDisplay = (): number => {
  for (let n = 140; n < 240; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n
  }
  throw new Error("no free X display number")
}

const startX = (display: string): ChildProcess =>
  spawn("Xvfb", [display, "-screen", "0", "320x240x24", "-nolisten", "tcp", "-noreset"], { stdio: "ignore" })

const waitForDisplay = (display: string) =>
  promise(() =>
    waitFor(() => {
      try {
        nativeTestHooks().x11Grab(display, 16, 16)
        return true
      } catch {
        return false
      }
    }, 30_000, `Xvfb ${display}`)
  )

const request = { width: 320, height: 240, fps: 30, codec: "h264", bitrate_kbps: 1_000 } as const

describe("host markers: a real X display", () => {
  it.scopedLive("goes away under a client's session (source_lost on that session) and comes back (source_back on the next)", () =>
    Effect.gen(function* () {
      const display = `:${freeDisplay()}`
      let server = startX(display)
      yield* Effect.addFinalizer(() => Effect.sync(() => void server.kill("SIGKILL")))
      yield* waitForDisplay(display)
      const host = yield* startHost({ pipeline: nativePipelineLayer(), env: { PUNKTFUNK_SOURCE: "x11", PUNKTFUNK_DISPLAY: display } })
      const client = yield* identity("x11-desk")
      const hostFp = yield* pairThroughApi(host, client, "x11-desk")
      expect(yield* arm(host)).toBe(200)

      const first = yield* Effect.scoped(
        Effect.gen(function* () {
          const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "x11-desk", request })
          const running = yield* Effect.fork(session.run)
          const id = session.welcome.session_id
          yield* waitMarker(host, "the session to start", (ms) => ms.some((m) => m.kind === "client_connect" && m.session_id === id))
          // The X server stops: the capture fails at its next grab, the host ends the session.
          const gone = new Promise<void>((resolve) => server.once("exit", () => resolve()))
          server.kill("SIGTERM")
          yield* promise(() => gone)
          const reason = yield* Fiber.join(running)
          expect(reason).toContain(`the X display '${display}' went away`)
          return id
        })
      )
      yield* waitMarker(host, "the source lost", (ms) => ms.some((m) => m.kind === "source_lost"))

      server = startX(display)
      yield* waitForDisplay(display)
      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const session = yield* connect({ endpoint: endpointOf(host), identity: client, pinnedHost: hostFp, name: "x11-desk", request })
          const id = session.welcome.session_id
          yield* waitMarker(host, "the source back", (ms) => ms.some((m) => m.kind === "source_back" && m.session_id === id))
          yield* session.goodbye("done")
          return id
        })
      )
      const capture = yield* stopAndRead(host)

      expect(ofKind(capture, "source_lost")).toEqual([
        expect.objectContaining({ session_id: first, label: expect.stringMatching(new RegExp(`^capture source x11 ${display} lost: .*capture: the X display '${display}' went away`)) })
      ])
      expect(ofKind(capture, "source_back")).toEqual([
        expect.objectContaining({ session_id: second, label: expect.stringMatching(new RegExp(`^capture source x11 ${display} back after \\d+\\.\\d s$`)) })
      ])
      expect(ofKind(capture, "client_reconnect")).toEqual([expect.objectContaining({ session_id: second })])
      // A lost display is no encoder restart: the host reopens nothing for a client by itself.
      expect(ofKind(capture, "encoder_restart")).toEqual([])
    })
  )
})
