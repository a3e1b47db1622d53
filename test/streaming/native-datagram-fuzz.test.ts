/**
 * The fuzz driver of the C++ receive paths: real datagrams from a real sender, then thousands of
 * mutations of them (bit flips, cuts, extensions, header fields at edge values, duplicates,
 * reordering) and pure random bytes, thrown at every native socket that parses what arrives:
 *
 * - the punktfunk/1 media receiver (`media/media_receiver.cc`: header checks, replay window,
 *   AES-GCM open, reassembly, Reed-Solomon in `reed_solomon.cc`), once as an attacker without the
 *   key and once as a hostile key holder (a host that seals any header it likes);
 * - the GameStream audio and video ports' ping readers (`audio/audio_stream.cc`,
 *   `gamestream/video_sender.cc`);
 * - the ENet host of the control stream (`enet/enet_service.cc` over libenet).
 *
 * In the normal suite it runs a few hundred iterations per path and checks what an operator
 * would see: every datagram counted exactly once as received or refused, the genuine stream still
 * whole beside the junk. `npm run test:asan` runs it with many more iterations
 * (`PUNKTFUNK_FUZZ_ITERATIONS`) against the addons built with AddressSanitizer and UBSan, where
 * any out-of-bounds access or undefined behaviour aborts the process. A failure prints the seed;
 * `PUNKTFUNK_FUZZ_SEED=<seed>` replays the same datagrams.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { audio } from "../../src/native/audio.js"
import { enet } from "../../src/native/enet.js"
import type { EnetEvent } from "../../src/native/enet.js"
import { nativeModule } from "../../src/native/binding.js"
import { media } from "../../src/native/media.js"
import { nativeTestHooks } from "../../src/native/testHooks.js"
import type { ReceiverCounters } from "../../src/native/media.js"
import { openNative } from "../../src/streams/NativePipeline.js"
import { EnetClient } from "../gamestream/support/EnetClient.js"
import {
  HEADER_BYTES,
  type MediaHeader,
  Rng,
  fuzzIterations,
  fuzzSeed,
  mediaKey,
  mutate,
  open as openSealed,
  openSocket,
  readHeader,
  seal,
  sendCounted,
  until
} from "../support/DatagramFuzz.js"
import { baseConfig } from "./nativeSupport.js"

const N = fuzzIterations(400)
const SEED = fuzzSeed()
beforeAll(() => {
  // eslint-disable-next-line no-console
  console.log(`datagram fuzz: ${N} iterations per path, PUNKTFUNK_FUZZ_SEED=${SEED}`)
})

const closers: Array<() => void> = []
afterEach(() => {
  for (const c of closers.splice(0).reverse()) c()
})
const keep = <T extends { close(): void }>(x: T): T => {
  closers.push(() => x.close())
  return x
}

const MTU = 1400
const SHARD = MTU - 28 - 36 - 16
const MAX_FRAME = 4 << 20
const refused = (c: ReceiverCounters) => c.packets_malformed + c.packets_tampered + c.packets_replayed
const counted = (c: ReceiverCounters) => c.packets_received + refused(c)

/** Real datagrams from the real sender: `frames` sent, captured on a plain socket, in order. */
const captureMediaStream = async (keyHex: string, frames: ReadonlyArray<Buffer>): Promise<Array<Buffer>> => {
  const got: Array<Buffer> = []
  const sink = keep(await openSocket("127.0.0.1", (d) => got.push(d)))
  const sender = keep(new (nativeTestHooks().MediaSender)({ keyHex, host: "127.0.0.1", port: sink.port, fecPercent: 50, fps: 240, mtu: MTU }))
  let packets = 0
  for (const [i, f] of frames.entries()) {
    packets += sender.sendFrame(f, i === 0).packets
    // Let the pacer drain before the next frame: the sink must not drop any.
    await until(`frame ${i} captured`, () => got.length >= packets)
  }
  return got
}

describe("the build under test", () => {
  // Under `npm run test:asan` the driver must really run the instrumented modules: a loader that
  // ignored PUNKTFUNK_NATIVE_BUILD_DIR would make a clean sanitizer run mean nothing.
  it.runIf(process.env["PUNKTFUNK_NATIVE_BUILD_DIR"] !== undefined)("the addons mapped are the sanitizer build, with the ASan runtime", () => {
    media()
    audio()
    enet()
    nativeModule()
    const maps = fs.readFileSync("/proc/self/maps", "utf8")
    const dir = path.resolve(process.env["PUNKTFUNK_NATIVE_BUILD_DIR"]!)
    for (const name of ["punktfunk_media", "punktfunk_audio", "punktfunk_enet", "punktfunk_native"]) {
      expect(maps).toMatch(new RegExp(`${dir}\\S*/${name}\\.node`))
    }
    expect(maps).toMatch(/libasan\.so/)
    expect(maps).toMatch(/libubsan\.so/)
  })
})

describe("punktfunk/1 media receiver under random and mutated datagrams", () => {
  it("an attacker without the key: every forgery refused and counted, the genuine stream whole (FEC, reordering, duplicates)", async () => {
    const rng = new Rng(SEED)
    const key = mediaKey(rng)
    // Frame sizes at the edges of shards and blocks (64 data shards per block), one of 3 blocks.
    const sizes = [1, 100, SHARD - 1, SHARD, SHARD + 1, 64 * SHARD, 64 * SHARD + 1, 130 * SHARD + 7, 9_000]
    const frames = sizes.map((n) => rng.bytes(n))
    const genuine = await captureMediaStream(key.hex, frames)

    // Per frame: drop one data shard of each block that has parity (FEC rebuilds it), shuffle
    // the rest, and repeat a few (the repeats are replays).
    const byFrame = new Map<number, Array<Buffer>>()
    for (const d of genuine) {
      const id = readHeader(d).frameId
      byFrame.set(id, [...(byFrame.get(id) ?? []), d])
    }
    const schedule: Array<{ d: Buffer; genuine: boolean }> = []
    let genuineSent = 0
    let dropped = 0
    const perDatagram = Math.max(1, Math.ceil(N / genuine.length))
    for (const shards of byFrame.values()) {
      const firstOfBlock = new Set<number>()
      const kept = shards.filter((d) => {
        const h = readHeader(d)
        if (h.shardIndex === 0 && h.parityShards > 0 && !firstOfBlock.has(h.blockIndex)) {
          firstOfBlock.add(h.blockIndex)
          dropped++
          return false
        }
        return true
      })
      for (const d of rng.shuffle(kept)) {
        schedule.push({ d, genuine: true })
        genuineSent++
        for (let i = 0; i < perDatagram; i++) schedule.push({ d: rng.next() < 0.05 ? d : mutate(rng, d, HEADER_BYTES), genuine: false })
      }
    }
    expect(dropped).toBeGreaterThan(0)

    const receiver = keep(new (media().MediaReceiver)({ keyHex: key.hex, codec: "none", mtu: MTU }))
    const attacker = keep(await openSocket())
    await sendCounted(schedule.map((s) => ({ d: s.d, via: attacker, port: receiver.port })), () => counted(receiver.counters()), "media receiver")

    const c = receiver.counters()
    const junk = schedule.length - genuineSent
    expect(c.packets_received).toBe(genuineSent)
    expect(refused(c)).toBe(junk)
    expect(c.packets_tampered).toBeGreaterThan(0)
    expect(c.packets_malformed).toBeGreaterThan(0)
    expect(c.packets_replayed).toBeGreaterThan(0)
    expect(c.frames_complete).toBe(frames.length)
    // At least the dropped shards were rebuilt (shuffled, a block can also complete from parity
    // before some of its data shards arrive).
    expect(c.fec_recovered).toBeGreaterThanOrEqual(dropped)
    expect(c.frames_dropped).toBe(0)
  })

  it("a hostile key holder: authentic datagrams with any header it likes never crash or hang the receiver", async () => {
    const rng = new Rng(SEED ^ 0x5eed)
    const key = mediaKey(rng)
    const receiver = keep(new (media().MediaReceiver)({ keyHex: key.hex, codec: "h264", mtu: MTU }))
    const sender = keep(await openSocket())
    let seq = 1000n
    const edge = (values: ReadonlyArray<number>, random: number) => (rng.next() < 0.7 ? rng.pick(values) : rng.int(random))
    const sizeEdges = [0, 1, SHARD - 1, SHARD, SHARD + 1, 64 * SHARD, 64 * SHARD + 1, MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1, 0xffffffff]
    const datagrams: Array<Buffer> = []

    // A frame sent shard by shard the way the sender would, then disturbed: shards duplicated,
    // reordered, parity only, one field of one shard changed (a frame that disagrees with itself).
    const frameDatagrams = (frameId: number, frameBytes: number): Array<Buffer> => {
      const totalData = Math.ceil(frameBytes / SHARD)
      const blocks = Math.ceil(totalData / 64)
      const out: Array<Buffer> = []
      for (let b = 0; b < blocks; b++) {
        const k = b + 1 < blocks ? 64 : totalData - b * 64
        const m = rng.int(k + 1)
        for (let s = 0; s < k + m; s++) {
          if (rng.next() < 0.15) continue // lost (parity may or may not cover it)
          const h: MediaHeader = {
            seq: seq++,
            version: 1,
            flags: rng.int(4),
            shardBytes: SHARD,
            frameId,
            blockIndex: b,
            blockCount: blocks,
            shardIndex: s,
            dataShards: k,
            parityShards: m,
            frameBytes,
            captureUs: BigInt(rng.int(2 ** 32))
          }
          if (rng.next() < 0.03) {
            const field = rng.pick(["blockIndex", "blockCount", "shardIndex", "dataShards", "parityShards", "frameBytes", "flags"] as const)
            h[field] = field === "frameBytes" ? edge(sizeEdges, 2 ** 32) : edge([0, 1, 63, 64, 65, 127, 128, 254, 255], 256)
          }
          // Payloads: random, one repeated byte, or (first shard) an Annex B start code and a
          // NAL header, so some reassembled frames go past the decoder's first check.
          const payload = rng.next() < 0.5 ? rng.bytes(SHARD) : Buffer.alloc(SHARD, rng.int(256))
          if (b === 0 && s === 0 && rng.next() < 0.5) Buffer.from([0, 0, 0, 1, rng.pick([0x67, 0x68, 0x65, 0x41, 0x06])]).copy(payload)
          out.push(seal(key, h, payload))
          if (rng.next() < 0.05) out.push(out[out.length - 1]!) // duplicate: a replay
        }
      }
      return rng.next() < 0.3 ? rng.shuffle(out) : out
    }

    let frameId = 1
    while (datagrams.length < N) {
      const r = rng.next()
      if (r < 0.5) {
        // A well-formed frame (maybe disturbed), of a size near the edges; ids mostly forward,
        // sometimes back, sometimes far ahead or across the 32-bit wrap.
        frameId = rng.pick([frameId + 1, frameId + 1, frameId + 1, frameId - 3, frameId + 9, frameId + 2 ** 31, 0xfffffffe, 0])
        frameId >>>= 0
        datagrams.push(...frameDatagrams(frameId, rng.pick([1, 100, SHARD, SHARD + 1, 64 * SHARD, 64 * SHARD + 1, 200 * SHARD + 3])))
      } else {
        // One datagram whose every header field is an edge or random value.
        if (rng.next() < 0.1) seq += BigInt(rng.pick([4095, 4096, 4097, 1_000_000]))
        const h: MediaHeader = {
          seq: rng.next() < 0.1 ? seq - BigInt(rng.int(5000)) : seq++,
          version: rng.next() < 0.9 ? 1 : rng.int(256),
          flags: rng.int(256),
          shardBytes: rng.next() < 0.9 ? SHARD : edge([0, 1, SHARD - 1, SHARD + 1, 0xffff], 0x10000),
          frameId: rng.next() < 0.5 ? frameId : rng.int(2 ** 32),
          blockIndex: edge([0, 1, 2, 63, 64, 254, 255], 256),
          blockCount: edge([0, 1, 2, 3, 64, 254, 255], 256),
          shardIndex: edge([0, 1, 63, 64, 127, 128, 255], 256),
          dataShards: edge([0, 1, 2, 63, 64, 65, 255], 256),
          parityShards: edge([0, 1, 63, 64, 65, 255], 256),
          frameBytes: edge(sizeEdges, 2 ** 32),
          captureUs: rng.next() < 0.5 ? 0n : 0xffffffffffffffffn
        }
        datagrams.push(seal(key, h, rng.bytes(SHARD)))
      }
    }
    await sendCounted(datagrams.map((d) => ({ d, via: sender, port: receiver.port })), () => counted(receiver.counters()), "media receiver (key holder)")
    const c = receiver.counters()
    expect(c.packets_received).toBeGreaterThan(0)
    expect(c.frames_complete).toBeGreaterThan(0)
    expect(c.packets_malformed).toBeGreaterThan(0)
    expect(c.packets_replayed).toBeGreaterThan(0)
  })

  it("sequence numbers at the 64-bit edge: the replay window keeps counting (regression: its slide never ended at 2^64 - 1)", async () => {
    const rng = new Rng(SEED ^ 0xe06e)
    const key = mediaKey(rng)
    const receiver = keep(new (media().MediaReceiver)({ keyHex: key.hex, codec: "none", mtu: MTU }))
    const sender = keep(await openSocket())
    const top = 0xffffffffffffffffn
    const seqs = [top - 5000n, top - 3n, top - 1n, top, top, top - 2n, top - 4096n, 0n, 1n]
    const datagrams = seqs.map((seq, i) =>
      seal(key, {
        seq, version: 1, flags: 0, shardBytes: SHARD, frameId: i, blockIndex: 0, blockCount: 1,
        shardIndex: 0, dataShards: 1, parityShards: 0, frameBytes: 10, captureUs: 0n
      }, rng.bytes(SHARD))
    )
    // One at a time: the assertion is about the order they were taken in.
    for (const d of datagrams) await sendCounted([{ d, via: sender, port: receiver.port }], () => counted(receiver.counters()), "media receiver (64-bit edge)")
    const c = receiver.counters()
    // top-5000, top-3, top-1, top and top-2 are new; the second `top` is a replay; top-4096,
    // 0 and 1 are older than the window below `top`.
    expect(c.packets_received).toBe(5)
    expect(c.packets_replayed).toBe(4)
    expect(c.frames_complete).toBe(5)
  })

  it("a genuine datagram resealed under another sequence number still reassembles (the driver's sealing matches the receiver)", async () => {
    // Guards the test itself: if `seal` here disagreed with the C++, the key-holder case above
    // would only ever exercise the tag check.
    const rng = new Rng(SEED ^ 0x0a11)
    const key = mediaKey(rng)
    const frame = rng.bytes(3 * SHARD + 5)
    const genuine = await captureMediaStream(key.hex, [frame])
    const receiver = keep(new (media().MediaReceiver)({ keyHex: key.hex, codec: "none", mtu: MTU }))
    const sender = keep(await openSocket())
    const resealed = genuine.map((d, i) => seal(key, { ...readHeader(d), seq: 77_000n + BigInt(i) }, openSealed(key, d)))
    await sendCounted(resealed.map((d) => ({ d, via: sender, port: receiver.port })), () => counted(receiver.counters()), "resealed")
    expect(receiver.counters().packets_received).toBe(genuine.length)
    expect(receiver.counters().frames_complete).toBe(1)
  })
})

describe("GameStream ping readers under random and mutated datagrams", () => {
  const PAYLOAD = "0123456789abcdef"
  /** A real Moonlight ping: the 16-byte payload, then a big-endian 32-bit sequence number. */
  const ping = (n: number) => {
    const b = Buffer.alloc(20)
    b.write(PAYLOAD, 0, "latin1")
    b.writeUInt32BE(n, 16)
    return b
  }
  /** Junk from the client's own address and from another one (127.0.0.2). */
  const junk = (rng: Rng, count: number): Array<{ d: Buffer; fromClient: boolean }> =>
    Array.from({ length: count }, (_, i) => ({
      d: rng.next() < 0.1 ? Buffer.from("PING") : mutate(rng, ping(i), 20),
      fromClient: rng.next() < 0.7
    }))

  it("audio: only the client's real pings count; everything else is ignored and counted", async () => {
    const rng = new Rng(SEED ^ 0xa0d1)
    const host = keep(new (audio().GameStreamAudio)("127.0.0.1", 0))
    host.start({ clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetDurationMs: 20, channels: 2 })
    const client = keep(await openSocket("127.0.0.1", () => undefined))
    const other = keep(await openSocket("127.0.0.2"))
    const datagrams = [...junk(rng, N), ...Array.from({ length: 5 }, (_, i) => ({ d: ping(1000 + i), fromClient: true }))]
    rng.shuffle(datagrams)
    // The audio reader's rule (audio_stream.cc is_ping): from the client's host, at least 20
    // bytes, starting with the payload; the legacy "PING" only when no payload was negotiated.
    const valid = datagrams.filter((x) => x.fromClient && x.d.length >= 20 && x.d.subarray(0, 16).toString("latin1") === PAYLOAD).length
    const seen = () => host.counters().pings + host.counters().ignored
    await sendCounted(datagrams.map((x) => ({ d: x.d, via: x.fromClient ? client : other, port: host.port })), seen, "audio pings")
    expect(host.counters().pings).toBe(valid)
    expect(host.counters().ignored).toBe(datagrams.length - valid)
    // Still streaming to the client after all that.
    await until("audio packets sent", () => host.counters().packets_sent > 0)
  })

  it("video: only the client's real pings count; everything else is ignored and counted", async () => {
    const rng = new Rng(SEED ^ 0x51de0)
    const port = keep(new (nativeModule().GameStreamVideoPort)("127.0.0.1", 0))
    const scope = Effect.runSync(Scope.make())
    closers.push(() => Effect.runSync(Scope.close(scope, Exit.void)))
    const { session } = await Effect.runPromise(
      Scope.extend(
        openNative(
          baseConfig({
            kind: "gamestream",
            width: 160,
            height: 96,
            fps: 30,
            bitrate_kbps: 500,
            gamestream: { videoFd: port.fd, clientHost: "127.0.0.1", pingPayload: PAYLOAD, packetSize: 1024, fecPercent: 20, minRequiredFecPackets: 2 }
          })
        ),
        scope
      )
    )
    const client = keep(await openSocket("127.0.0.1", () => undefined))
    const other = keep(await openSocket("127.0.0.2"))
    const datagrams = [...junk(rng, N), ...Array.from({ length: 5 }, (_, i) => ({ d: ping(1000 + i), fromClient: true }))]
    rng.shuffle(datagrams)
    // The video reader's rule (video_sender.cc read_pings): from the client's host, exactly 20
    // bytes, starting with the payload.
    const valid = datagrams.filter((x) => x.fromClient && x.d.length === 20 && x.d.subarray(0, 16).toString("latin1") === PAYLOAD).length
    const seen = () => session.videoCounters().pings_accepted + session.videoCounters().pings_ignored
    await sendCounted(datagrams.map((x) => ({ d: x.d, via: x.fromClient ? client : other, port: port.port })), seen, "video pings")
    expect(session.videoCounters().pings_accepted).toBe(valid)
    expect(session.videoCounters().pings_ignored).toBe(datagrams.length - valid)
  })
})

describe("ENet host under random and mutated datagrams", () => {
  it("a session's own datagrams mutated, and random ones from other addresses: the host keeps serving, a new client connects and talks", async () => {
    const rng = new Rng(SEED ^ 0xe7e7)
    const events: Array<EnetEvent> = []
    const host = keep(new (enet().EnetHost)({ bind: "127.0.0.1", port: 0, peers: 256, timeoutMs: 2000 }, (batch) => events.push(...batch)))
    // A relay between a real ENet client and the host records what the client sends, and later
    // sends mutations of it from the same address and port (so they reach the live peer).
    const recorded: Array<Buffer> = []
    let clientAddress: { port: number } | undefined
    const relay = keep(
      await openSocket("127.0.0.1", (d, from) => {
        if (from.port === host.port) {
          if (clientAddress !== undefined) void relay.send(d, clientAddress.port)
        } else {
          clientAddress = { port: from.port }
          recorded.push(Buffer.from(d))
          void relay.send(d, host.port)
        }
      })
    )
    const client = await EnetClient.connect({ host: "127.0.0.1", port: relay.port, connectData: 0x1234 })
    closers.push(() => client.close())
    await client.send(0, Buffer.from("reliable hello"))
    await client.send(1, rng.bytes(900), "unsequenced")
    await client.send(2, rng.bytes(1200))
    await client.ping()
    expect(recorded.length).toBeGreaterThan(3)

    const others = await Promise.all([openSocket("127.0.0.2"), openSocket("127.0.0.3")])
    for (const o of others) keep(o)
    let oversized = 0
    for (let i = 0; i < N; i++) {
      const r = rng.next()
      const d = r < 0.8 ? mutate(rng, rng.pick(recorded), 4) : rng.bytes(rng.int(1500))
      if (d.length > 4096) oversized++
      await (r < 0.6 ? relay : rng.pick(others)).send(d, host.port)
      if (i % 64 === 63) await new Promise((res) => setTimeout(res, 5))
    }
    // The host still serves: a fresh client connects and its message arrives whole.
    const fresh = await EnetClient.connect({ host: "127.0.0.1", port: host.port, connectData: 0x4321 })
    closers.push(() => fresh.close())
    const message = rng.bytes(500)
    await fresh.send(0, message)
    await until("the fresh client's message", () =>
      events.some((e) => e.type === "receive" && Buffer.from(e.bytes).equals(message))
    )
    // libenet reads at most 4096 bytes and reports a longer (truncated) datagram as an error of
    // that service call; the host counts it and goes on. Nothing else may fail.
    expect(host.counters().service_errors).toBeLessThanOrEqual(oversized)
  })
})
