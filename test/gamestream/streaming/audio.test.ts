/**
 * GameStream audio on loopback, against the test client's audio side (written from the protocol
 * description in test/gamestream/support/AudioReceiver.ts): the host sends nothing until the
 * launching client pings with its payload, then Opus silence in RTP at the negotiated packet
 * duration with 2 FEC packets per 4 data packets, encrypted when asked; a lost packet comes back
 * from the FEC byte for byte; wrong pings, other hosts and garbage change nothing; stop() and
 * close() leave no thread behind.
 *
 * Where moonlight-common-c's and nanors' sources are mirrored on the machine (PUNKTFUNK_MOONLIGHT_MIRRORS, default /work/.mirror), the
 * captured stream is also fed to Moonlight's own audio queue (RtpAudioQueue.c, built with its
 * debug FEC validation), through a small harness of ours compiled at test time; elsewhere those
 * tests are skipped, and the known answers in test/gamestream/audio-known-answers.test.ts stand
 * in for them.
 *
 * Cadence is checked as an order of magnitude (packets counted over a measured interval, loose
 * bounds): no assertion is about how long anything took.
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { addonPath } from "../../../src/native/addonPath.js"
import type { GameStreamAudio } from "../../../src/native/audio.js"
import type { AudioStartOptions } from "../../../src/streams/gamestream/GameStreamAudio.js"
import { AudioReceiver, type AudioReceiverOptions, decryptAudio } from "../support/AudioReceiver.js"
import { makeAudioEnds } from "../support/AudioEnds.js"
import { COMMON_C, NANORS } from "../support/moonlightBuild.js"
import { waitFor } from "../../support/TestHost.js"

const PAYLOAD = "A1B2C3D4E5F6G7H8"
const KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
const KEY_ID = 0x7ffffffe // near the top, so rikeyid + seq wraps in the IV arithmetic

const { track, closeAll, openHost, openClient } = makeAudioEnds()
afterEach(closeAll)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))


/** A host started with `start` and a client pinging it with the matching settings. */
const stream = async (
  start: Partial<AudioStartOptions> & { readonly testFirstSequence?: number } = {},
  client: Partial<AudioReceiverOptions> = {}
): Promise<{ host: GameStreamAudio; client: AudioReceiver }> => {
  const host = openHost()
  const options: AudioStartOptions & { readonly testFirstSequence?: number } = {
    clientHost: "127.0.0.1",
    pingPayload: PAYLOAD,
    packetDurationMs: 5,
    channels: 2,
    ...start
  }
  host.start(options)
  const c = await openClient({
    hostPort: host.port,
    pingPayload: options.pingPayload,
    channels: options.channels,
    packetDurationMs: options.packetDurationMs,
    ...(options.encryption !== undefined ? { encryption: options.encryption } : {}),
    ...client
  })
  c.startPinging(100)
  return { host, client: c }
}

/** Threads of this process named like the audio send thread. */
const audioThreads = (): number =>
  fs
    .readdirSync("/proc/self/task")
    .filter((t) => {
      try {
        return fs.readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "pf-gs-audio"
      } catch {
        return false // the thread ended while we listed
      }
    }).length

describe("GameStream audio stream", () => {
  it("sends continuous Opus silence at the packet cadence, with FEC, after the first ping", async () => {
    const { host, client } = await stream()
    await waitFor(() => client.stats.dataPackets > 0, 5_000, "the first audio packet")
    const c0 = client.stats.dataPackets
    const t0 = performance.now()
    await sleep(400)
    const c1 = client.stats.dataPackets
    const expected = (performance.now() - t0) / 5
    // Order of magnitude only: a loaded machine may delay, never multiply, packets.
    expect(c1 - c0).toBeGreaterThan(expected * 0.3)
    expect(c1 - c0).toBeLessThan(expected * 1.5 + 8)

    host.stop()
    // Wait until the client has read everything the host says it sent: a fixed pause lost the
    // race on a loaded machine (stats read between the block's fourth data packet and its two
    // parity packets, which sit in the socket a poll later).
    const sent = host.counters()
    await waitFor(
      () => client.stats.dataPackets === sent.packets_sent && client.stats.fecPackets === sent.fec_packets_sent,
      5_000,
      "the client to read every packet the host sent"
    )
    const s = client.stats
    expect(s.malformed).toBe(0)
    expect(s.sequenceGaps).toBe(0)
    expect(s.timestampErrors).toBe(0)
    expect(client.sequence[0]).toBe(0) // a session starts its sequence at 0, on an FEC block boundary
    expect(s.decodeErrors).toBe(0)
    expect(s.decoded).toBe(s.dataPackets)
    expect(s.lastSamples).toBe(240) // 5 ms at 48 kHz
    expect(s.maxPeak).toBeLessThan(1e-3)
    // Constant payload size: the block's shards must be equal (96 kb/s × 5 ms = 60 bytes).
    expect([...s.payloadBytes]).toEqual([60])
    expect(s.tocBytes.size).toBe(1) // one Opus configuration for the whole stream, as clients check in debug builds
    expect(s.unequalShards).toBe(0)
    // Two parity packets per complete block of four.
    expect(s.fecPackets).toBe(Math.floor(s.dataPackets / 4) * 2)
    expect(s.fecHeaderErrors).toBe(0)
    const n = host.counters()
    expect(n.packets_sent).toBe(s.dataPackets)
    expect(n.fec_packets_sent).toBe(s.fecPackets)
    expect(n.send_errors).toBe(0)
    expect(n.pings).toBeGreaterThan(0)
  })

  it("5.1 surround at 10 ms packets decodes as six-channel silence", async () => {
    const { host, client } = await stream({ channels: 6, packetDurationMs: 10 })
    await waitFor(() => client.stats.dataPackets >= 12, 5_000, "a dozen packets")
    host.stop()
    const s = client.stats
    expect(s.decodeErrors).toBe(0)
    expect(s.decoded).toBe(s.dataPackets)
    expect(s.lastSamples).toBe(480)
    expect(s.maxPeak).toBeLessThan(1e-3)
    expect(s.payloadBytes.size).toBe(1)
    expect(s.timestampErrors).toBe(0)
  })

  it("a dropped data packet is rebuilt from the FEC, byte for byte, and decodes", async () => {
    // Lose one packet in block 2 and two in block 5 (the most a block can lose).
    const lost = new Set([9, 21, 23])
    const { host, client } = await stream({}, { dropData: (seq) => lost.has(seq) })
    await waitFor(() => client.stats.dataPackets >= 40, 5_000, "ten FEC blocks")
    host.stop()
    const s = client.stats
    expect(s.dropped).toBe(3)
    expect(s.recovered).toBe(3)
    expect(s.recoveredExact).toBe(3)
    expect(s.decodeErrors).toBe(0)
    expect(s.decoded).toBe(s.dataPackets) // dropped ones decoded after their rebuild
  })

  it("encrypted audio decrypts with rikey and the rikeyid + sequence IV, and FEC works on the ciphertext", async () => {
    const encryption = { keyHex: KEY, keyId: KEY_ID }
    const { host, client } = await stream({ encryption }, { dropData: (seq) => seq === 6 })
    await waitFor(() => client.stats.dataPackets >= 24, 5_000, "two dozen packets")
    host.stop()
    const s = client.stats
    expect(s.decryptErrors).toBe(0)
    expect(s.decodeErrors).toBe(0)
    expect(s.decoded).toBe(s.dataPackets)
    expect(s.maxPeak).toBeLessThan(1e-3)
    expect([...s.payloadBytes]).toEqual([64]) // 60 bytes of Opus, PKCS#7-padded to 64
    expect(s.recoveredExact).toBe(1)
  })

  it("each packet has its own IV: equal silence, different ciphertexts; another rikeyid decrypts to other bytes", async () => {
    const { host, client } = await stream({ encryption: { keyHex: KEY, keyId: 1 } }, { keepPayloads: true })
    await waitFor(() => client.stats.dataPackets >= 16, 5_000, "sixteen packets")
    host.stop()
    const payloads = [...client.payloads.entries()].filter(([seq]) => seq >= 8) // past the encoder's first frames
    const plain = payloads.map(([seq, p]) => decryptAudio(KEY, 1, seq, p).toString("hex"))
    expect(new Set(plain).size).toBe(1) // the same silence every time…
    expect(new Set(payloads.map(([, p]) => Buffer.from(p).toString("hex"))).size).toBe(payloads.length) // …never the same ciphertext
    const [seq, p] = payloads[0]!
    expect(decryptAudio(KEY, 2, seq, p).subarray(0, 16)).not.toEqual(decryptAudio(KEY, 1, seq, p).subarray(0, 16))
  })

  it("a ping that arrived before start() counts (clients ping from SETUP on, before PLAY)", async () => {
    const host = openHost()
    const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
    client.ping()
    await sleep(50)
    host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })
    await waitFor(() => client.stats.dataPackets >= 8, 5_000, "packets without a further ping")
    expect(host.counters().pings).toBe(1)
  })

  it("an IPv4 client given as a v4-mapped address matches, on an IPv4 or a dual-stack socket", async () => {
    for (const bind of ["127.0.0.1", "::"]) {
      const host = openHost(bind)
      host.start({ clientHost: "::ffff:127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })
      const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
      client.startPinging(50)
      await waitFor(() => client.stats.dataPackets >= 4, 5_000, `packets on ${bind}`)
      host.close()
    }
  })

  it("across the 16-bit sequence wrap: continuous, FEC blocks intact, a lost packet on each side rebuilt, IVs right", async () => {
    const lost = new Set([65_533, 2])
    const encryption = { keyHex: KEY, keyId: KEY_ID }
    const { host, client } = await stream({ encryption, testFirstSequence: 65_520 }, { dropData: (seq) => lost.has(seq) })
    await waitFor(() => client.stats.dataPackets >= 40, 5_000, "forty packets")
    host.stop()
    const s = client.stats
    expect(client.sequence.slice(0, 20)).toEqual([...Array.from({ length: 16 }, (_, i) => 65_520 + i), 0, 1, 2, 3])
    expect(s.sequenceGaps).toBe(0)
    expect(s.timestampErrors).toBe(0)
    expect(s.fecHeaderErrors).toBe(0)
    expect(s.recoveredExact).toBe(2)
    expect(s.decryptErrors).toBe(0)
    expect(s.decodeErrors).toBe(0)
    expect(s.decoded).toBe(s.dataPackets)
  })

  it("legacy clients ping with PING when there is no ping payload", async () => {
    const { host, client } = await stream({ pingPayload: "" })
    await waitFor(() => client.stats.dataPackets >= 8, 5_000, "eight packets")
    expect(host.counters().pings).toBeGreaterThan(0)
  })
})

describe("what the host ignores", () => {
  it("pings with a wrong payload, or PING when a payload was negotiated, start nothing", async () => {
    const host = openHost()
    host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })
    const wrong = await openClient({ hostPort: host.port, pingPayload: "XXXXXXXXXXXXXXXX", channels: 2, packetDurationMs: 5 })
    const legacy = await openClient({ hostPort: host.port, pingPayload: "", channels: 2, packetDurationMs: 5 })
    wrong.startPinging(50)
    legacy.startPinging(50)
    await waitFor(() => host.counters().ignored >= 6, 5_000, "the pings to arrive")
    await sleep(100)
    expect(wrong.stats.dataPackets + legacy.stats.dataPackets).toBe(0)
    expect(host.counters().pings).toBe(0)
    expect(host.counters().packets_sent).toBe(0)
  })

  it("pings from another host than the launching client are ignored, the client's are not", async () => {
    const host = openHost()
    host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })
    // 127.0.0.2 is another address on the loopback interface: another host, as far as the check goes.
    const intruder = await openClient({ hostPort: host.port, bind: "127.0.0.2", pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
    intruder.startPinging(50)
    await waitFor(() => host.counters().ignored >= 3, 5_000, "the intruder's pings to arrive")
    expect(host.counters().pings).toBe(0)
    const client = await openClient({ hostPort: host.port, pingPayload: PAYLOAD, channels: 2, packetDurationMs: 5 })
    client.startPinging(50)
    await waitFor(() => client.stats.dataPackets >= 8, 5_000, "the client's packets")
    expect(intruder.stats.dataPackets).toBe(0)
  })

  it("garbage datagrams change nothing: the stream stays continuous and decodable", async () => {
    const { host, client } = await stream()
    await waitFor(() => client.stats.dataPackets >= 4, 5_000, "the first packets")
    const junk = dgram.createSocket("udp4")
    track({ close: () => junk.close() })
    await new Promise<void>((r) => junk.bind(0, "127.0.0.1", () => r()))
    const sizes = [0, 1, 3, 4, 15, 16, 19, 20, 21, 64, 512, 1400, 1500, 9000]
    let sent = 0
    for (let round = 0; round < 10; round++) {
      for (const size of sizes) {
        const b = Buffer.alloc(size)
        for (let i = 0; i < size; i++) b[i] = (i * 131 + round * 17 + size) & 0xff
        if (size >= 16 && round % 2 === 0) b.write(PAYLOAD.slice(0, 15) + "?", 0, "latin1") // a near miss
        junk.send(b, host.port, "127.0.0.1")
        sent++
      }
      await sleep(5)
    }
    // The junk socket is on the client's host: only the payload check stands between it and the stream.
    await waitFor(() => host.counters().ignored >= sent, 5_000, "the garbage to be read")
    const before = client.stats.dataPackets
    await waitFor(() => client.stats.dataPackets >= before + 20, 5_000, "packets after the garbage")
    host.stop()
    await sleep(30)
    expect(client.stats.sequenceGaps).toBe(0)
    expect(client.stats.decodeErrors).toBe(0)
    expect(client.stats.malformed).toBe(0)
    expect(host.counters().send_errors).toBe(0)
  })
})

describe("lifecycle", () => {
  it("stop() joins the thread and sending stops; start() again begins a new sequence; close() releases the port", async () => {
    const threadsBefore = audioThreads()
    const { host, client } = await stream()
    await waitFor(() => client.stats.dataPackets >= 8, 5_000, "eight packets")
    expect(host.running).toBe(true)
    expect(audioThreads()).toBe(threadsBefore + 1)
    expect(() => host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })).toThrow(/already running/)

    host.stop()
    expect(host.running).toBe(false)
    expect(audioThreads()).toBe(threadsBefore)
    const sent = host.counters().packets_sent
    await sleep(60)
    expect(host.counters().packets_sent).toBe(sent)
    host.stop() // idempotent

    // The next session on the same socket: a new launch, so a new ping payload (the first
    // client's last pings may still wait in the socket; they must not match).
    client.close()
    const port = host.port
    const payload2 = "Z9Y8X7W6V5U4T3S2"
    host.start({ clientHost: "127.0.0.1", pingPayload: payload2, packetDurationMs: 10, channels: 2 })
    const next = await openClient({ hostPort: port, pingPayload: payload2, channels: 2, packetDurationMs: 10 })
    next.startPinging(50)
    await waitFor(() => next.stats.dataPackets >= 4, 5_000, "the second session's packets")
    expect(next.sequence[0]).toBe(0)
    expect(next.stats.lastSamples).toBe(480)

    host.close()
    expect(host.running).toBe(false)
    expect(host.port).toBe(0)
    expect(audioThreads()).toBe(threadsBefore)
    host.close() // idempotent
    expect(() => host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 5, channels: 2 })).toThrow(/closed/)
    // The port is free again.
    const again = openHost("127.0.0.1", port)
    expect(again.port).toBe(port)
  })

  it("close() while streaming joins the thread", async () => {
    const threadsBefore = audioThreads()
    const { host, client } = await stream()
    await waitFor(() => client.stats.dataPackets >= 4, 5_000, "four packets")
    host.close()
    expect(audioThreads()).toBe(threadsBefore)
  })

  it("a process that exits while streaming, without close(), exits cleanly (environment cleanup joins the thread)", () => {
    const addon = addonPath("audio", "punktfunk_audio")
    const script = `
      const a = require(${JSON.stringify(addon)});
      const dgram = require("node:dgram");
      const host = new a.GameStreamAudio("127.0.0.1", 0);
      host.start({ clientHost: "127.0.0.1", pingPayload: "", packetDurationMs: 5, channels: 2 });
      const s = dgram.createSocket("udp4");
      s.on("message", () => { s.close(); process.stdout.write("streaming\\n"); process.exit(0); });
      s.bind(0, "127.0.0.1", () => s.send(Buffer.from("PING"), host.port, "127.0.0.1"));
    `
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 })
    expect(out).toBe("streaming\n")
  })
})

// ---- Moonlight's own audio queue, where its sources are on this machine ----------------------

// The mirrors' directory is the one setting of test/README.md (PUNKTFUNK_MOONLIGHT_MIRRORS).
const MOONLIGHT = COMMON_C
const hasTool = (tool: string, arg: string) => spawnSync(tool, [arg], { stdio: "ignore" }).status === 0
const canBuildMoonlight = fs.existsSync(MOONLIGHT) && fs.existsSync(NANORS) && hasTool("gcc", "--version") && hasTool("git", "--version")

/**
 * Our harness (not Moonlight code): feeds captured datagrams, byte-swapped as Moonlight's receive
 * thread does, to moonlight-common-c's RtpAudioQueue and drains it, then prints its statistics.
 * Built with LC_DEBUG, the queue runs its FEC validation mode: in every block it can, it drops one
 * more received shard, rebuilds it with nanors and asserts header and bytes equal the original.
 */
const HARNESS = String.raw`
#include "Limelight-internal.h"
#include <stdarg.h>
#include <stdio.h>
int AppVersionQuad[4] = {7, 1, 431, -1};
int AudioPacketDuration;
uint64_t PltGetMicroseconds(void) {
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}
static void logMessage(const char* format, ...) { va_list ap; va_start(ap, format); vfprintf(stderr, format, ap); va_end(ap); }
CONNECTION_LISTENER_CALLBACKS ListenerCallbacks = { .logMessage = logMessage };
int main(int argc, char** argv) {
  AudioPacketDuration = atoi(argv[2]);
  FILE* f = fopen(argv[1], "rb");
  RTP_AUDIO_QUEUE q; RtpaInitializeQueue(&q);
  unsigned char buf[1500]; uint16_t len; int out = 0, lost = 0, last = -1, gaps = 0;
  while (fread(&len, 2, 1, f) == 1 && len <= sizeof buf && fread(buf, 1, len, f) == len) {
    PRTP_PACKET rtp = (PRTP_PACKET)buf;
    rtp->sequenceNumber = BE16(rtp->sequenceNumber); rtp->timestamp = BE32(rtp->timestamp); rtp->ssrc = BE32(rtp->ssrc);
    int st = RtpaAddPacket(&q, rtp, len);
    if (RTPQ_HANDLE_NOW(st)) {
      if (last >= 0 && rtp->sequenceNumber != (uint16_t)(last + 1)) gaps++;
      last = rtp->sequenceNumber; out++; continue;
    }
    if (RTPQ_PACKET_READY(st)) {
      uint16_t l; PRTP_PACKET p;
      while ((p = RtpaGetQueuedPacket(&q, 0, &l)) != NULL) {
        if (l == 0) lost++;
        else { if (last >= 0 && p->sequenceNumber != (uint16_t)(last + 1)) gaps++; last = p->sequenceNumber; out++; }
        free(p);
      }
    }
  }
  const RTP_AUDIO_STATS* s = &q.stats;
  printf("{\"out\":%d,\"lost\":%d,\"gaps\":%d,\"audio\":%u,\"fec\":%u,\"fecRecovered\":%u,\"fecFailed\":%u,\"invalid\":%u,\"fecInvalid\":%u}\n",
         out, lost, gaps, s->packetCountAudio, s->packetCountFec, s->packetCountFecRecovered, s->packetCountFecFailed,
         s->packetCountInvalid, s->packetCountFecInvalid);
  return 0;
}
`

describe.skipIf(!canBuildMoonlight)("Moonlight's RtpAudioQueue takes the stream (where its sources are mirrored)", () => {
  let harness = ""
  const buildHarness = (): string => {
    if (harness !== "") return harness
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "punktfunk-mlc-"))
    for (const [repo, into] of [[MOONLIGHT, "mlc"], [NANORS, "nanors"]] as const) {
      fs.mkdirSync(path.join(dir, into))
      const tar = execFileSync("git", ["-C", repo, "archive", "HEAD"])
      execFileSync("tar", ["-x", "-C", path.join(dir, into)], { input: tar })
    }
    fs.writeFileSync(path.join(dir, "harness.c"), HARNESS)
    const out = path.join(dir, "harness")
    execFileSync("gcc", [
      "-DLC_DEBUG", "-DHAS_SOCKLEN_T", "-D_GNU_SOURCE", "-O1",
      `-I${dir}/mlc/src`, `-I${dir}/nanors`, `-I${dir}/nanors/deps/obl`,
      `${dir}/harness.c`, `${dir}/mlc/src/RtpAudioQueue.c`, `${dir}/nanors/rs.c`,
      `${dir}/nanors/deps/obl/oblas_common.c`, `${dir}/nanors/deps/obl/oblas_lite.c`, "-o", out
    ], { stdio: "pipe" })
    harness = out
    return out
  }

  const feed = (datagrams: ReadonlyArray<Uint8Array>, packetDurationMs: number) => {
    const file = path.join(path.dirname(buildHarness()), `capture-${Date.now()}.bin`)
    fs.writeFileSync(file, Buffer.concat(datagrams.flatMap((d) => {
      const len = Buffer.alloc(2)
      len.writeUInt16LE(d.length)
      return [len, Buffer.from(d)]
    })))
    const run = spawnSync(buildHarness(), [file, String(packetDurationMs)], { encoding: "utf8" })
    expect(run.status, run.stderr).toBe(0) // a failed assertion in the queue aborts
    return JSON.parse(run.stdout) as Record<"out" | "lost" | "gaps" | "audio" | "fec" | "fecRecovered" | "fecFailed" | "invalid" | "fecInvalid", number>
  }

  for (const [label, start, ms] of [
    ["stereo, 5 ms, plain", {}, 5],
    ["stereo, 5 ms, encrypted, across the sequence wrap", { encryption: { keyHex: KEY, keyId: KEY_ID }, testFirstSequence: 65_480 }, 5],
    ["5.1, 10 ms", { channels: 6 as const, packetDurationMs: 10 as const }, 10],
    ["7.1, 20 ms, encrypted", { channels: 8 as const, packetDurationMs: 20 as const, encryption: { keyHex: KEY, keyId: 3 } }, 20]
  ] as const) {
    it(`${label}: in order, no gaps, every lost packet recovered, validation passes`, async () => {
      const { host, client } = await stream(start, { keepDatagrams: true, dropData: (seq) => seq % 12 === 5 })
      await waitFor(() => client.stats.dataPackets >= 48, 10_000, "48 packets")
      host.stop()
      // Feed the queue only once the client holds all the host sent (see the first test).
      const sent = host.counters()
      await waitFor(
        () => client.stats.dataPackets === sent.packets_sent && client.stats.fecPackets === sent.fec_packets_sent,
        5_000,
        "the client to read every packet the host sent"
      )
      const r = feed(client.datagrams, ms)
      expect(r.invalid + r.fecInvalid).toBe(0)
      expect(r.gaps).toBe(0)
      expect(r.lost).toBe(0)
      expect(r.fecFailed).toBe(0)
      expect(r.fec).toBe(client.stats.fecPackets)
      // Every dropped packet past the queue's first (synchronizing) block came back through FEC.
      expect(r.fecRecovered).toBeGreaterThanOrEqual(client.stats.dropped - 1)
      // Everything the host sent comes out (`dataPackets` counts the dropped ones too), except the
      // queue's first, synchronizing block and the block stop() left unfinished — its parity is
      // never sent, so a loss in it holds the rest back: at most four packets each.
      expect(r.out).toBeGreaterThanOrEqual(client.stats.dataPackets - 8)
    })
  }
})
