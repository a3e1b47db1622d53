/**
 * Interoperability with Moonlight's own ENet: a small peer (support/moonlight_enet_peer.c)
 * built from the ENet fork moonlight-common-c links (github.com/cgutman/enet) connects to our
 * control stream (Debian's libenet 1.3.17 underneath) as Moonlight does and carries control
 * messages sealed by the test's Moonlight-like client both ways. It answers DECISIONS.md's
 * "check libenet's wire format against what Moonlight's ENet expects" with the real thing.
 *
 * The fork's source is not part of this repository: the test takes it from the bare mirror
 * `cgutman+enet/repo` in the directory `PUNKTFUNK_MOONLIGHT_MIRRORS` names (default
 * /work/.mirror, test/README.md), and is skipped, saying so, when it is missing or gcc is.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Queue } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes, randomInt } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import type { ControlHandlers } from "../../src/streams/gamestream/ControlStream.js"
import { controlSettings, openAsClient, sealAsClient } from "./support/ControlClient.js"
import { ENET } from "./support/moonlightBuild.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const MIRROR = ENET

/** Builds the peer against the fork; undefined (with the reason logged) when it cannot. */
const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "moonlight-enet-"))
afterAll(() => fs.rmSync(buildDir, { recursive: true, force: true }))

const buildPeer = (): string | undefined => {
  const dir = buildDir
  try {
    if (!fs.existsSync(MIRROR)) throw new Error(`no ENet fork at ${MIRROR} (set PUNKTFUNK_MOONLIGHT_MIRRORS to the directory of the bare mirrors)`)
    const src = path.join(dir, "enet")
    fs.mkdirSync(src)
    const tar = execFileSync("git", ["-C", MIRROR, "archive", "HEAD"], { maxBuffer: 64 * 1024 * 1024 })
    execFileSync("tar", ["-x", "-C", src], { input: tar })
    const sources = ["callbacks.c", "compress.c", "host.c", "list.c", "packet.c", "peer.c", "protocol.c", "unix.c"]
    const defines = ["FCNTL", "IOCTL", "POLL", "GETADDRINFO", "GETNAMEINFO", "INET_PTON", "INET_NTOP", "MSGHDR_FLAGS", "SOCKLEN_T"]
    const out = path.join(dir, "moonlight_enet_peer")
    execFileSync("gcc", [
      "-O1", "-w",
      ...defines.map((d) => `-DHAS_${d}=1`),
      "-I", path.join(src, "include"),
      ...sources.map((f) => path.join(src, f)),
      path.join(here, "support", "moonlight_enet_peer.c"),
      "-o", out
    ])
    return out
  } catch (e) {
    console.warn(`skipping the Moonlight ENet interop test: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
  }
}

const peerBinary = buildPeer()

const within = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: Duration.seconds(10), onTimeout: () => new Error(`never saw ${what}`) }))

describe("GameStream control stream with Moonlight's ENet", () => {
  const name = "start, loss report, termination and disconnect across the two ENets"
  if (peerBinary === undefined) it.skip(name, () => undefined)
  else it.scopedLive(name, () =>
    Effect.gen(function* () {
      const control = yield* makeControlStream({ bind: "127.0.0.1", port: 0 })
      const connectData = randomInt(1, 2 ** 31)
      const keyHex = randomBytes(16).toString("hex")
      const key = Buffer.from(keyHex, "hex")
      const idr = yield* Queue.unbounded<void>()
      const loss = yield* Queue.unbounded<number>()
      const ended = yield* Queue.unbounded<string>()
      const handlers: ControlHandlers = {
        requestIdr: Queue.offer(idr, undefined),
        lossReport: (n) => Queue.offer(loss, n),
        ended: (r) => Queue.offer(ended, r)
      }
      const session = yield* control.expect(controlSettings({ connectData, keyHex }), handlers)
      const lossPayload = Buffer.alloc(32)
      lossPayload.writeUInt32LE(12, 0)
      const payloads = [
        sealAsClient(key, "v2", 0, 0x0302, Buffer.from([0, 0])), // start A
        sealAsClient(key, "v2", 1, 0x0307, Buffer.from([0])), // start B
        sealAsClient(key, "v2", 2, 0x0201, lossPayload)
      ].map((b) => b.toString("hex"))
      const lines: Array<string> = []
      const child = spawn(peerBinary, [String(control.port), String(connectData), ...payloads])
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill()))
      let buffered = ""
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString()
        const parts = buffered.split("\n")
        buffered = parts.pop() ?? ""
        lines.push(...parts)
      })
      const exited = Effect.async<number | null>((resume) => {
        child.once("exit", (code) => resume(Effect.succeed(code)))
      })
      yield* within("start A", Queue.take(idr))
      expect(yield* within("the loss report", Queue.take(loss))).toBe(12)
      yield* session.terminate("interop test done")
      expect(yield* within("the peer's exit", exited)).toBe(0)
      expect(lines[0]).toBe("connected")
      const received = lines.filter((l) => l.startsWith("receive "))
      expect(received).toHaveLength(1)
      const [, channel, hex] = received[0]!.split(" ")
      expect(channel).toBe("0")
      const message = openAsClient(key, "v2", Buffer.from(hex!, "hex"))
      expect(message.type).toBe(0x0109)
      expect(message.payload.readUInt32BE(0)).toBe(0x80030023)
      expect(lines.at(-1)).toBe("disconnect")
      expect(yield* Queue.size(ended)).toBe(0)
      expect(yield* control.counters).toEqual({ malformed: 0, refused: 0, connected: 1, replayed: 0 })
    })
  )
})
