/**
 * Bad input on the RTSP port: no launch, the wrong peer, malformed request lines and headers,
 * unknown methods, oversized heads and bodies, clients that send nothing or half a message,
 * ANNOUNCE values the host cannot serve, requests out of order, random bytes. Each gets a
 * refusal with its reason (and the attribute, for ANNOUNCE), every connection is closed, and a
 * well-behaved client running its handshake at the same time is unaffected.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import * as net from "node:net"
import { DEFAULT_CLIENT_CONFIG, exchange, moonlightAnnounce, parseAnswer, RtspClient } from "./support/RtspClient.js"
import type { RtspAnswer } from "./support/RtspClient.js"
import { makeRtspServer } from "../../src/streams/gamestream/RtspServer.js"
import { fakeLaunch, startRtsp, TEST_PORTS } from "./support/RtspHost.js"
import { attackerAddress } from "../../src/bench/slow-sockets.js"
import { waitFor } from "../support/TestHost.js"

const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const raw = (port: number, bytes: string | Buffer) => call(() => exchange(port, bytes).then(parseAnswer))

/** Waits until the server reports no open connection (a bounded poll, no clock assertion). */
const waitNoneOpen = (counters: Effect.Effect<{ readonly open: number }>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      if ((yield* counters).open === 0) return
      yield* Effect.sleep("20 millis")
    }
    expect((yield* counters).open).toBe(0)
  })

describe("GameStream RTSP refuses bad input clearly and goes on", () => {
  it.scopedLive("without a launch: 454 for every method; from another address: 403", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({}, { launch: undefined })
      const client = new RtspClient(rtsp.port)
      for (const answer of [yield* call(() => client.options()), yield* call(() => client.describe()), yield* call(() => client.setup("streamid=audio/0/0"))]) {
        expect(answer.status).toBe(454)
        expect(answer.body).toMatch(/no launched session/)
      }
      yield* rtsp.setLaunch(fakeLaunch({ clientAddress: "10.9.8.7" }))
      const foreign = yield* call(() => client.options())
      expect(foreign.status).toBe(403)
      expect(foreign.body).toMatch(/launched from another address/)
      // The launching address may be IPv4-mapped in the record.
      yield* rtsp.setLaunch(fakeLaunch({ clientAddress: "::ffff:127.0.0.1" }))
      expect((yield* call(() => client.options())).status).toBe(200)
    })
  )

  it.scopedLive("malformed request lines and headers: 400 with the reason; wrong version 505; unknown method 501", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const cases: ReadonlyArray<readonly [string, number, RegExp]> = [
        ["HELLO\r\n\r\n", 400, /malformed request line/],
        ["OPTIONS  rtsp://h RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400, /malformed request line/],
        ["OPT{ONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400, /method is not a token/],
        ["OPTIONS rtsp://h RTSP/1.0\r\nCSeq 1\r\n\r\n", 400, /malformed header line 1/],
        ["OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\n: empty\r\n\r\n", 400, /malformed header line 2/],
        ["OPTIONS rtsp://h RTSP/1.0\r\nX-Thing: 1\r\n\r\n", 400, /missing header 'CSeq'/],
        ["OPTIONS rtsp://h RTSP/1.0\r\nCSeq: one\r\n\r\n", 400, /bad header 'CSeq'/],
        ["OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\nX-Bin: \x01\x02\r\n\r\n", 400, /control or non-ASCII/],
        ["ANNOUNCE x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n", 400, /bad header 'Content-Length'/],
        ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", 505, /unsupported protocol version 'HTTP\/1.1'/],
        ["GET_PARAMETER rtsp://h RTSP/1.0\r\nCSeq: 9\r\n\r\n", 501, /method 'GET_PARAMETER' is not implemented/]
      ]
      for (const [request, status, reason] of cases) {
        const answer = yield* raw(rtsp.port, request)
        expect([JSON.stringify(request), answer.status]).toEqual([JSON.stringify(request), status])
        expect(answer.body).toMatch(reason)
      }
      // The CSeq is echoed where it could be read.
      expect((yield* raw(rtsp.port, "GET_PARAMETER rtsp://h RTSP/1.0\r\nCSeq: 9\r\n\r\n")).header("CSeq")).toBe("9")
      expect((yield* rtsp.server.counters).refused).toBe(cases.length + 1)
      yield* waitNoneOpen(rtsp.server.counters)
    })
  )

  it.scopedLive("oversized heads and bodies: 413 and the connection closed", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const head = yield* raw(rtsp.port, `OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`)
      expect(head.status).toBe(413)
      expect(head.body).toMatch(/request head larger than 16384 bytes/)
      // Refused on the declared length, before the body is read.
      const body = yield* raw(rtsp.port, "ANNOUNCE streamid=control/13/0 RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 100000\r\n\r\n")
      expect(body.status).toBe(413)
      expect(body.body).toMatch(/request body larger than 65536 bytes/)
      expect(body.header("CSeq")).toBe("2")
      // A client that keeps streaming a head without end is cut off, not buffered.
      const flood = yield* call(
        () =>
          new Promise<string>((resolve) => {
            let got = ""
            const s = net.connect(rtsp.port, "127.0.0.1", () => {
              s.write("OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ")
              const chunk = Buffer.alloc(4096, "a")
              // Keep sending until the host answers; then stop and let it close.
              const pump = setInterval(() => {
                if (got.length > 0 || s.destroyed) {
                  clearInterval(pump)
                  s.end()
                } else s.write(chunk)
              }, 5)
            })
            s.setEncoding("latin1")
            s.on("data", (d: string) => (got += d))
            s.on("close", () => resolve(got))
            s.on("error", () => s.destroy())
          })
      )
      expect(flood).toMatch(/^RTSP\/1\.0 413 /)
      yield* waitNoneOpen(rtsp.server.counters)
    })
  )

  it.scopedLive("a client that sends nothing or half a message gets 408 and is closed", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 300 })
      for (const partial of ["", "OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\n", "ANNOUNCE x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100\r\n\r\nv=0\r\n"]) {
        const answer = yield* call(
          () =>
            new Promise<Buffer>((resolve) => {
              const chunks: Array<Buffer> = []
              const s = net.connect(rtsp.port, "127.0.0.1", () => {
                if (partial !== "") s.write(partial)
              })
              s.on("data", (c: Buffer) => chunks.push(c))
              s.on("close", () => resolve(Buffer.concat(chunks)))
            })
        ).pipe(Effect.map(parseAnswer))
        expect(answer.status).toBe(408)
        expect(answer.body).toMatch(/no complete request within 300 ms/)
      }
      yield* waitNoneOpen(rtsp.server.counters)
    })
  )

  it.scopedLive("ANNOUNCE values the host cannot serve: 400 naming the attribute; a good ANNOUNCE then works", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const client = new RtspClient(rtsp.port)
      for (const target of ["streamid=audio/0/0", "streamid=video/0/0", "streamid=control/13/0"]) {
        expect((yield* call(() => client.setup(target))).status).toBe(200)
      }
      const cases: ReadonlyArray<readonly [Record<string, string | undefined>, string, RegExp]> = [
        [{ "x-nv-video[0].clientViewportWd": "0" }, "x-nv-video[0].clientViewportWd", /between 16 and 7680.*got 0/],
        [{ "x-nv-video[0].clientViewportHt": "99999" }, "x-nv-video[0].clientViewportHt", /got 99999/],
        [{ "x-nv-video[0].clientViewportWd": undefined }, "x-nv-video[0].clientViewportWd", /missing SDP attribute/],
        [{ "x-nv-video[0].maxFPS": "1000" }, "x-nv-video[0].maxFPS", /got 1000/],
        [{ "x-nv-video[0].packetSize": "abc" }, "x-nv-video[0].packetSize", /must be a decimal integer, got 'abc'/],
        [{ "x-nv-video[0].packetSize": "64" }, "x-nv-video[0].packetSize", /got 64/],
        [{ "x-nv-vqos[0].bw.maximumBitrateKbps": "1.5" }, "x-nv-vqos[0].bw.maximumBitrateKbps", /decimal integer/],
        [{ "x-nv-vqos[0].bitStreamFormat": "1" }, "x-nv-vqos[0].bitStreamFormat", /HEVC was not offered/],
        [{ "x-nv-vqos[0].bitStreamFormat": "2" }, "x-nv-vqos[0].bitStreamFormat", /AV1 was not offered/],
        [{ "x-nv-vqos[0].bitStreamFormat": "7" }, "x-nv-vqos[0].bitStreamFormat", /unknown bitstream format 7/],
        [{ "x-nv-video[0].videoEncoderSlicesPerFrame": "0" }, "x-nv-video[0].videoEncoderSlicesPerFrame", /got 0/],
        [{ "x-nv-audio.surround.numChannels": "12" }, "x-nv-audio.surround.numChannels", /got 12/],
        [{ "x-nv-aqos.packetDuration": "50" }, "x-nv-aqos.packetDuration", /got 50/],
        [{ "x-nv-vqos[0].fec.minRequiredFecPackets": "999" }, "x-nv-vqos[0].fec.minRequiredFecPackets", /got 999/],
        // Audio through the x-ss bit (0x04) and unknown bits are not offered (video, 0x02, is).
        [{ "x-ss-general.encryptionEnabled": "5" }, "x-ss-general.encryptionEnabled", /not offered/],
        [{ "x-ss-general.encryptionEnabled": "11" }, "x-ss-general.encryptionEnabled", /not offered/],
        [{ "x-nv-video[0].dynamicRangeMode": "1" }, "x-nv-video[0].dynamicRangeMode", /HDR was not offered/],
        [{ "x-ss-video[0].chromaSamplingType": "1" }, "x-ss-video[0].chromaSamplingType", /4:4:4 was not offered/]
      ]
      for (const [overrides, attribute, reason] of cases) {
        const answer: RtspAnswer = yield* call(() => client.announce(moonlightAnnounce(DEFAULT_CLIENT_CONFIG, overrides)))
        expect([attribute, answer.status]).toEqual([attribute, 400])
        expect(answer.body).toContain(`'${attribute}'`)
        expect(answer.body).toMatch(reason)
      }
      // Nothing refused was kept: PLAY still needs an ANNOUNCE.
      expect((yield* call(() => client.play())).status).toBe(455)
      expect((yield* call(() => client.announce(moonlightAnnounce()))).status).toBe(200)
      expect((yield* call(() => client.play())).status).toBe(200)
      expect((yield* rtsp.played).map((s) => s.width)).toEqual([DEFAULT_CLIENT_CONFIG.width])
    })
  )

  it.scopedLive("requests out of order or for another session are refused", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp()
      const client = new RtspClient(rtsp.port)
      expect((yield* call(() => client.announce(moonlightAnnounce()))).status).toBe(454) // no Session yet
      expect((yield* call(() => client.setup("streamid=bogus/0/0"))).status).toBe(404)
      expect((yield* call(() => client.setup("streamid=audio/0/0"))).status).toBe(200)
      const early = yield* call(() => client.announce(moonlightAnnounce()))
      expect(early.status).toBe(455)
      expect(early.body).toMatch(/SETUP streamid=video, streamid=control first/)
      expect((yield* call(() => client.setup("streamid=video/0/0"))).status).toBe(200)
      expect((yield* call(() => client.setup("streamid=control/13/0"))).status).toBe(200)
      expect((yield* call(() => client.play())).status).toBe(455)

      const wrongType = yield* call(() =>
        client.request("ANNOUNCE", "streamid=control/13/0", [["Session", client.session ?? ""], ["Content-Type", "text/plain"], ["Content-Length", "3"]], "v=0")
      )
      expect(wrongType.status).toBe(415)
      const empty = yield* call(() => client.request("ANNOUNCE", "streamid=control/13/0", [["Session", client.session ?? ""]]))
      expect(empty.status).toBe(400)
      expect(empty.body).toMatch(/without an SDP body/)

      const other = new RtspClient(rtsp.port)
      other.session = "0123456789ABCDEF"
      expect((yield* call(() => other.play())).status).toBe(454)
      expect((yield* call(() => other.setup("streamid=video/0/0"))).status).toBe(454)

      // A new launch invalidates the old negotiation.
      yield* rtsp.setLaunch(fakeLaunch({ launched_unix_ms: 1_800_000_000_000 }))
      expect((yield* call(() => client.announce(moonlightAnnounce()))).status).toBe(454)
      expect(yield* rtsp.played).toHaveLength(0)
    })
  )

  it.scopedLive("garbage senders do not disturb a client running its handshake; random bytes never get a 500", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 500 })
      // The garbage comes from other addresses than the client's (one address would meet the
      // per-address cap, which has its own test below).
      const garbage = Effect.forEach(
        Array.from({ length: 60 }, (_, i) => i),
        (i) =>
          call(() =>
            exchange(
              rtsp.port,
              i % 3 === 0 ? randomBytes(64 + i * 37) : i % 3 === 1 ? `${randomBytes(32).toString("base64")}\r\n\r\n` : `SETUP streamid=audio RTSP/1.0\r\nCSeq: ${i}\r\n`,
              "127.0.0.1",
              undefined,
              attackerAddress(i)
            )
          ),
        { concurrency: 20 }
      )
      const [answers, result] = yield* Effect.all([garbage, call(() => new RtspClient(rtsp.port).handshake())], { concurrency: 2 })
      expect(result.play.status).toBe(200)
      expect(yield* rtsp.played).toHaveLength(1)
      for (const bytes of answers) {
        const answer = parseAnswer(bytes)
        expect(answer.status).toBeGreaterThanOrEqual(400)
        expect(answer.status).not.toBe(500)
      }
      yield* waitNoneOpen(rtsp.server.counters)
      // And the server still answers.
      expect((yield* call(() => new RtspClient(rtsp.port).options())).status).toBe(200)
    })
  )

  it.scopedLive("a failure inside the host's handling is that request's 500; the server goes on", () =>
    Effect.gen(function* () {
      let calls = 0
      const server = yield* makeRtspServer({
        bind: "127.0.0.1",
        port: 0,
        ports: TEST_PORTS,
        currentLaunch: Effect.succeed(fakeLaunch()),
        play: () => (calls++ === 0 ? Effect.die(new Error("the session orchestrator broke")) : Effect.void)
      })
      const client = new RtspClient(server.port)
      const error = yield* call(() => client.handshake().then(() => "", (e: Error) => e.message))
      expect(error).toBe("RTSP PLAY failed: 500 the host failed to answer this request")
      expect((yield* call(() => client.play())).status).toBe(200)
      expect((yield* call(() => new RtspClient(server.port).handshake())).play.status).toBe(200)
    })
  )

  it.scopedLive("connection limits: the per-address cap refuses the N+1th; a full port evicts the oldest unauthenticated; a trickler is cut by the header timeout", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 60_000, limits: { maxPerAddress: 3, maxConnections: 6 } })
      const held: Array<net.Socket> = []
      yield* Effect.addFinalizer(() => Effect.sync(() => held.forEach((s) => s.destroy())))
      const hold = (localAddress: string) =>
        call(
          () =>
            new Promise<net.Socket>((resolve) => {
              const s: net.Socket = net.connect({ port: rtsp.port, host: "127.0.0.1", localAddress }, () => resolve(s))
              s.on("error", () => s.destroy())
              held.push(s)
            })
        )
      const closed = (s: net.Socket) => call(() => waitFor(() => s.destroyed || s.readableEnded, 5_000, "the host to close it"))
      const openNow = (n: number) =>
        call(() => waitFor(async () => (await Effect.runPromise(rtsp.server.connections)).open === n, 5_000, `${n} open`))

      // Three silent connections from 127.0.0.2 are admitted; the fourth is closed unanswered.
      for (let i = 0; i < 3; i++) yield* hold("127.0.0.2")
      yield* openNow(3)
      const fourth = yield* hold("127.0.0.2")
      yield* closed(fourth)
      expect((yield* rtsp.server.connections).refused_per_address).toBe(1)
      // Another address is not affected.
      expect((yield* call(() => new RtspClient(rtsp.port).options())).status).toBe(200)

      // Three more from 127.0.0.3 fill the port (6); the launched client still gets in, and the
      // oldest silent connection (the first from 127.0.0.2) is the one that went.
      for (let i = 0; i < 3; i++) yield* hold("127.0.0.3")
      yield* openNow(6)
      expect((yield* call(() => new RtspClient(rtsp.port).options())).status).toBe(200)
      yield* closed(held[0] as net.Socket)
      expect(held.slice(1, 3).concat(held.slice(4, 7)).every((s) => !s.destroyed)).toBe(true)
      const counted = yield* rtsp.server.connections
      expect(counted.evicted).toBe(1)
      expect(counted.open).toBeLessThanOrEqual(6)
    })
  )

  it.scopedLive("a trickler (a byte every 100 ms) is cut by the header timeout with 408; its bytes held are bounded", () =>
    Effect.gen(function* () {
      const rtsp = yield* startRtsp({ requestTimeoutMs: 500 })
      const answer = yield* call(
        () =>
          new Promise<Buffer>((resolve) => {
            const chunks: Array<Buffer> = []
            const head = Buffer.from("OPTIONS rtsp://h RTSP/1.0\r\nCSeq: 1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "latin1")
            let sent = 0
            const s = net.connect({ port: rtsp.port, host: "127.0.0.1", localAddress: "127.0.0.9" })
            const tick = setInterval(() => {
              if (s.writable && sent < head.length) s.write(head.subarray(sent, ++sent))
            }, 100)
            s.on("data", (c: Buffer) => chunks.push(c))
            s.on("error", () => s.destroy())
            s.on("close", () => {
              clearInterval(tick)
              resolve(Buffer.concat(chunks))
            })
          })
      ).pipe(Effect.map(parseAnswer))
      expect(answer.status).toBe(408)
      const counted = yield* rtsp.server.connections
      expect(counted.header_timeouts).toBe(1)
      yield* waitNoneOpen(rtsp.server.counters)
      expect((yield* rtsp.server.connections).in_head_bytes).toBe(0)
    })
  )
})
