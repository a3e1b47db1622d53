/**
 * The ENet module on its own (`src/native/enet`): binding and reporting the port, refusing a
 * taken port, events both ways with our TypeScript ENet client, the bounded command path, and
 * teardown — `close()` joins the service thread (the process's thread count returns to where it
 * was) and a worker that exits without closing its host takes the thread with it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { addonPath } from "../../src/native/addonPath.js"
import { enet } from "../../src/native/enet.js"
import type { EnetEvent, EnetHost } from "../../src/native/enet.js"
import { makeControlStream } from "../../src/streams/gamestream/ControlStream.js"
import { EnetClient } from "./support/EnetClient.js"

const threads = () => fs.readdirSync("/proc/self/task").length

const waitUntil = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!ok()) throw new Error(`never saw ${what}`)
}

const open = () => {
  const events: Array<EnetEvent> = []
  const host: EnetHost = new (enet().EnetHost)({ bind: "127.0.0.1", port: 0 }, (batch) => events.push(...batch))
  return { host, events }
}

describe("ENet module", () => {
  it("binds an ephemeral port, and a taken port is refused", () => {
    const { host } = open()
    expect(host.port).toBeGreaterThan(0)
    expect(() => new (enet().EnetHost)({ bind: "127.0.0.1", port: host.port }, () => undefined)).toThrow(/cannot bind/)
    expect(() => new (enet().EnetHost)({ bind: "not-an-address", port: 0 }, () => undefined)).toThrow(/IPv4/)
    host.close()
    host.close() // idempotent
    expect(host.send(1, 0, new Uint8Array(1), true)).toBe(false)
  })

  it.effect("makeControlStream on a taken port fails with ControlListenError", () =>
    Effect.gen(function* () {
      const { host } = open()
      const exit = yield* Effect.exit(Effect.scoped(makeControlStream({ bind: "127.0.0.1", port: host.port })))
      host.close()
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("ControlListenError")
    })
  )

  it("connect data, receive, send (reliable and unsequenced), disconnect — both ways", async () => {
    const { host, events } = open()
    try {
      const client = await EnetClient.connect({ host: "127.0.0.1", port: host.port, connectData: 0xdeadbeef })
      await waitUntil("the connect", () => events.some((e) => e.type === "connect"))
      const connect = events.find((e) => e.type === "connect")
      if (connect?.type !== "connect") throw new Error("no connect")
      expect(connect.data).toBe(0xdeadbeef)
      expect(connect.address).toBe("127.0.0.1")
      await client.send(3, Buffer.from("reliable"))
      await client.send(4, Buffer.from("unsequenced"), "unsequenced")
      await waitUntil("two packets", () => events.filter((e) => e.type === "receive").length === 2)
      const received = events.flatMap((e) => (e.type === "receive" ? [[e.channel, Buffer.from(e.bytes).toString()]] : []))
      expect(received).toEqual([
        [3, "reliable"],
        [4, "unsequenced"]
      ])
      expect(host.send(connect.peer, 0, Buffer.from("to the client"), true)).toBe(true)
      expect(host.send(connect.peer, 2, Buffer.from("fast"), false)).toBe(true)
      const first = await client.receive()
      const second = await client.receive()
      expect([first.bytes.toString(), first.reliable, second.bytes.toString(), second.reliable]).toEqual([
        "to the client",
        true,
        "fast",
        false
      ])
      expect(host.send(connect.peer + 1000, 0, Buffer.from("nobody"), true)).toBe(true) // queued, refused on the thread
      await client.ping()
      await client.disconnect()
      await waitUntil("the disconnect", () => events.some((e) => e.type === "disconnect" && e.peer === connect.peer))
      const c = host.counters()
      expect(c).toMatchObject({ connects: 1, disconnects: 1, packets_received: 2, packets_sent: 2, packets_dropped: 0, sends_refused: 1 })
    } finally {
      host.close()
    }
  })

  it("a host disconnect reaches the client; every connect gets exactly one disconnect event", async () => {
    const { host, events } = open()
    try {
      const a = await EnetClient.connect({ host: "127.0.0.1", port: host.port, connectData: 1 })
      const b = await EnetClient.connect({ host: "127.0.0.1", port: host.port, connectData: 2 })
      await waitUntil("two connects", () => events.filter((e) => e.type === "connect").length === 2)
      const peers = events.flatMap((e) => (e.type === "connect" ? [e.peer] : []))
      expect(new Set(peers).size).toBe(2)
      host.disconnect(peers[0]!, false) // at once
      host.disconnect(peers[1]!, true) // after what is queued
      await Promise.all([a.disconnected, b.disconnected])
      await waitUntil("two disconnects", () => events.filter((e) => e.type === "disconnect").length === 2)
      expect(events.filter((e) => e.type === "disconnect").map((e) => e.peer).sort()).toEqual([...peers].sort())
    } finally {
      host.close()
    }
  })

  it("close() joins the service thread: no thread left behind", () => {
    open().host.close() // the first one may start threads the process keeps (libuv, OpenSSL)
    const before = threads()
    for (let i = 0; i < 5; i++) open().host.close()
    expect(threads()).toBe(before)
  })

  it("a worker that exits without closing its host tears it down with the environment", async () => {
    const before = threads()
    const modulePath = addonPath("enet", "punktfunk_enet")
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
       const m = require(${JSON.stringify(modulePath)});
       const h = new m.EnetHost({ bind: "127.0.0.1", port: 0 }, () => {});
       parentPort.postMessage(h.port);`,
      { eval: true }
    )
    const port = await new Promise<number>((resolve) => worker.once("message", resolve))
    expect(port).toBeGreaterThan(0)
    await worker.terminate()
    await waitUntil("the worker's threads gone", () => threads() <= before)
    // The port is free again: the host was destroyed, not leaked.
    const again = new (enet().EnetHost)({ bind: "127.0.0.1", port }, () => undefined)
    again.close()
  })

  it("the event queue is bounded: a flood while JavaScript is busy is dropped and counted", async () => {
    const { host, events } = open()
    const flagDir = fs.mkdtempSync(path.join(os.tmpdir(), "enet-flood-"))
    const flag = path.join(flagDir, "done")
    // A bare ENet peer in another process: connect, acknowledge the verify, then 6000
    // unsequenced packets, then the flag file. Plain bytes, so it needs nothing from this repo.
    const flooder = `
      const dgram = require("node:dgram"), fs = require("node:fs");
      const s = dgram.createSocket("udp4"), port = ${host.port};
      const header = (peer) => { const h = Buffer.alloc(4); h.writeUInt16BE(peer | 0x8000, 0); h.writeUInt16BE(Date.now() & 0xffff, 2); return h };
      s.on("message", async (m) => {
        if ((m[4] & 0x0f) !== 3) return;
        const peer = m.readUInt16BE(8), out = m[11];
        const ack = Buffer.from([1, 0xff, m[6], m[7], m[6], m[7], m[2], m[3]]);
        s.send(Buffer.concat([header(peer | (out << 12)), ack]), port, "127.0.0.1");
        await new Promise((r) => setTimeout(r, 200));
        for (let i = 1; i <= 6000; i++) {
          const c = Buffer.alloc(12); c[0] = 0x49; c[1] = 0; c.writeUInt16BE(i, 4); c.writeUInt16BE(4, 6); c.writeUInt32BE(i, 8);
          s.send(Buffer.concat([header(peer | (out << 12)), c]), port, "127.0.0.1");
          if (i % 200 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        setTimeout(() => { fs.writeFileSync(${JSON.stringify(flag)}, "1"); process.exit(0) }, 200);
      });
      s.bind(0, "127.0.0.1", () => {
        const c = Buffer.alloc(48); c[0] = 0x82; c[1] = 0xff; c.writeUInt16BE(1, 2); c[6] = 0xff; c[7] = 0xff;
        [1392, 65536, 0x30, 0, 0, 5000, 2, 2, 42, 7].forEach((v, i) => c.writeUInt32BE(v, 8 + 4 * i));
        s.send(Buffer.concat([header(0xfff), c]), port, "127.0.0.1");
      });`
    const child = spawn(process.execPath, ["-e", flooder], { stdio: "ignore" })
    try {
      // Keep this thread busy (no event loop turn, so no draining) until the flood is sent.
      const pause = new Int32Array(new SharedArrayBuffer(4))
      for (let i = 0; i < 6000 && !fs.existsSync(flag); i++) Atomics.wait(pause, 0, 0, 5)
      expect(fs.existsSync(flag)).toBe(true)
      await waitUntil("every received packet delivered or counted", () => {
        const c = host.counters()
        return c.packets_dropped > 0 && events.filter((e) => e.type === "receive").length + c.packets_dropped === c.packets_received
      })
      const c = host.counters()
      expect(c.packets_dropped).toBeGreaterThan(0)
      expect(events.filter((e) => e.type === "receive").length).toBeGreaterThanOrEqual(4096)
      // And the host still serves a new peer.
      const client = await EnetClient.connect({ host: "127.0.0.1", port: host.port, connectData: 5 })
      await client.disconnect()
    } finally {
      child.kill()
      host.close()
      fs.rmSync(flagDir, { recursive: true, force: true })
    }
  })
})
