/**
 * `--demo`: a new user gets a host with the bundled client already paired and streaming to it,
 * without typing a PIN — and the pairing is a real one, listed like any other client's.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { PairedClient } from "../src/api/Pairing.js"
import { LiveSnapshot } from "../src/api/Stats.js"
import { hostsKilledAfterEach } from "./support/HostProcess.js"
import { tempDir, waitFor } from "./support/TestHost.js"

const spawn = hostsKilledAfterEach()

describe("--demo", () => {
  it("pairs the bundled client and records its session when armed", async () => {
    const host = await spawn({ PUNKTFUNK_CONFIG_DIR: tempDir(), PUNKTFUNK_SOURCE: "fake", PUNKTFUNK_FAKE_WINDOW_MS: "200" }, ["--demo"])
    const pairing = (route: string) =>
      fetch(`${host.url}/api/v1/pairing${route}`, { headers: { authorization: `Bearer ${host.token}` } })
    await waitFor(async () => ((await (await pairing("/clients")).json()) as Array<unknown>).length === 1, 30_000, "the demo client paired")
    const [client] = Schema.decodeUnknownSync(Schema.Array(PairedClient))(await (await pairing("/clients")).json())
    expect(client?.name).toBe("demo")

    expect((await host.fetch("/start", { method: "POST" })).status).toBe(200)
    await waitFor(async () => {
      const res = await host.fetch("/live")
      if (res.status !== 200) return false
      const live = Schema.decodeUnknownSync(LiveSnapshot)(await res.json())
      return live.samples.length >= 2 && live.sessions.some((s) => s.client === client?.fingerprint.slice(0, 16))
    }, 30_000, "samples of the demo client's session")
    expect(host.output()).toMatch(/\[demo client\] streaming 1280x720@60/)
  })
})
