/**
 * What a Moonlight client on the LAN sees of the host over mDNS: browsing `_nvstream._tcp` finds
 * it, the SRV record leads to nvhttp's HTTP port, stopping the host says goodbye, and
 * `PUNKTFUNK_GAMESTREAM_MDNS=0` keeps it quiet. The browser is multicast-dns (an independent
 * implementation), asking the way Moonlight's browser does.
 *
 * Needs multicast that loops back to this machine; where the network has none (some
 * containers), the test says so and is skipped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as dgram from "node:dgram"
import makeMdns from "multicast-dns"
import type { MulticastDNS } from "multicast-dns"
import type { Answer } from "dns-packet"
import { announceScope, instanceName } from "../../src/streams/gamestream/MdnsAdvertiser.js"
import { gameStreamOf, startGameStreamHost } from "./support/Hosts.js"

const SERVICE = "_nvstream._tcp.local"

/** Does a datagram sent to a multicast group come back to this machine? (Probed on a spare port.) */
const multicastLoopsBack = (): Promise<boolean> =>
  new Promise((resolve) => {
    const group = "239.255.42.99"
    const socket = dgram.createSocket({ type: "udp4", reuseAddr: true })
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.close()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), 2000)
    socket.on("error", () => done(false))
    socket.on("message", (m) => m.toString() === "punktfunk-probe" && done(true))
    socket.bind(0, () => {
      try {
        socket.addMembership(group)
        socket.setMulticastLoopback(true)
        socket.send("punktfunk-probe", socket.address().port, group)
      } catch {
        done(false)
      }
    })
  })

const canMulticast = await multicastLoopsBack()
if (!canMulticast) console.warn("skipping the mDNS announcement test: multicast does not loop back on this machine")

interface Seen {
  readonly srvPorts: Map<string, number>
  readonly goodbyes: Set<string>
  readonly addresses: Set<string>
}

/** A browser that keeps asking for `_nvstream._tcp` PTRs and remembers every answer. */
const browser = Effect.acquireRelease(
  Effect.sync(() => {
    const mdns: MulticastDNS = makeMdns()
    const seen: Seen = { srvPorts: new Map(), goodbyes: new Set(), addresses: new Set() }
    mdns.on("response", (packet) => {
      const records: ReadonlyArray<Answer> = [...(packet.answers ?? []), ...(packet.additionals ?? [])]
      for (const r of records) {
        if (r.type === "PTR" && r.name.toLowerCase() === SERVICE && r.ttl === 0) seen.goodbyes.add(r.data)
        if (r.type === "SRV" && r.name.toLowerCase().endsWith(`.${SERVICE}`)) seen.srvPorts.set(r.name, r.data.port)
        if (r.type === "A") seen.addresses.add(r.data)
      }
    })
    const ask = () => mdns.query({ questions: [{ name: SERVICE, type: "PTR" }] })
    const timer = setInterval(ask, 300)
    ask()
    return { seen, stop: () => (clearInterval(timer), mdns.destroy()) }
  }),
  (b) => Effect.sync(b.stop)
)

const until = (what: string, check: () => boolean, seconds = 15) =>
  Effect.gen(function* () {
    const deadline = Date.now() + seconds * 1000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`never saw ${what}`))
      yield* Effect.sleep("100 millis")
    }
  })

const nameWithPort = (seen: Seen, port: number) => [...seen.srvPorts].find(([, p]) => p === port)?.[0]

describe("GameStream mDNS announcement", () => {
  it("announces on a wildcard bind or one address, never on loopback", () => {
    expect(announceScope("0.0.0.0")._tag).toBe("all")
    expect(announceScope("192.168.1.20")).toEqual({ _tag: "address", address: "192.168.1.20" })
    const loop = announceScope("127.0.0.1")
    expect(loop._tag).toBe("none")
    expect(loop._tag === "none" && loop.reason).toMatch(/loopback/)
    // DNS labels stop at 63 bytes; an empty hostname still gets a name.
    expect(Buffer.byteLength(instanceName("é".repeat(40)))).toBeLessThanOrEqual(63)
    expect(instanceName("  ")).toBe("punktfunk")
  })

  const name = "a Moonlight browser finds the host at its nvhttp port, sees it leave, and nothing when it is off"
  if (!canMulticast) it.skip(name, () => undefined)
  else it.scopedLive(name, () =>
    Effect.gen(function* () {
      const { seen } = yield* browser

      const hostScope = yield* Scope.make()
      const host = yield* startGameStreamHost({ env: { PUNKTFUNK_GAMESTREAM_MDNS: "1", PUNKTFUNK_STREAM_BIND: "0.0.0.0" } }).pipe(
        Scope.extend(hostScope)
      )
      const httpPort = gameStreamOf(host).httpPort
      yield* until(`an _nvstream._tcp SRV for port ${httpPort}`, () => nameWithPort(seen, httpPort) !== undefined)
      const instance = nameWithPort(seen, httpPort) ?? ""
      expect(instance.toLowerCase()).toBe(`${instanceName().toLowerCase()}.${SERVICE}`)
      // And what Moonlight does next: ask serverinfo at an announced address and that port.
      expect(seen.addresses.size).toBeGreaterThan(0)
      const address = [...seen.addresses].find((a) => !a.startsWith("127.")) ?? [...seen.addresses][0]
      const info = yield* Effect.promise(() => fetch(`http://${address}:${httpPort}/serverinfo?uniqueid=0123456789ABCDEF`).then((r) => r.text()))
      expect(info).toContain(`<HttpsPort>${gameStreamOf(host).httpsPort}</HttpsPort>`)

      // Stopping the host withdraws it: Moonlight drops it at once instead of when the TTL ends.
      yield* Scope.close(hostScope, Exit.void)
      yield* until(`a goodbye for ${instance}`, () => seen.goodbyes.has(instance))

      // Switched off: a host on the same wildcard bind answers nothing about its port.
      const quiet = yield* startGameStreamHost({ env: { PUNKTFUNK_GAMESTREAM_MDNS: "0", PUNKTFUNK_STREAM_BIND: "0.0.0.0" } })
      const quietPort = gameStreamOf(quiet).httpPort
      yield* Effect.sleep("3 seconds")
      expect(nameWithPort(seen, quietPort)).toBeUndefined()
    }), 60_000)
})
