import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { X509Certificate } from "node:crypto"
import * as path from "node:path"
import { Capture, CaptureListItem, StatsStatus } from "../src/api/Stats.js"
import { root } from "./support/HostProcess.js"
import { freePort } from "./support/Sockets.js"
import { startHost, tempDir, waitFor } from "./support/TestHost.js"

const cliJs = path.join(root, "dist", "cli.js")

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `node dist/cli.js …` with a clean environment: only what the test passes reaches the CLI. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.promise(
    () =>
      new Promise<Ran>((resolve) => {
        if (!fs.existsSync(cliJs)) throw new Error(`${cliJs} is missing: run 'npm run build' before the tests`)
        execFile(
          process.execPath,
          [cliJs, ...args],
          { env: { PATH: process.env["PATH"] ?? "", HOME: tempDir("punktfunk-cli-home-"), ...env }, timeout: 20_000 },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
            resolve({ code, stdout, stderr })
          }
        )
      })
  )

describe("the punktfunk CLI against a running host", () => {
  it.scopedLive("status, arm, stop, list, show, export, label, delete", () =>
    Effect.gen(function* () {
      const host = yield* startHost({ env: { PUNKTFUNK_SOURCE: "fake" }, windowMs: 25 })
      // The token file is found the way the host finds it: PUNKTFUNK_CONFIG_DIR/token.
      const env = { PUNKTFUNK_HOST: host.url, PUNKTFUNK_CONFIG_DIR: host.dir }

      const idle = yield* cli(["stats", "status", "--json"], env)
      expect(idle.code, idle.stderr).toBe(0)
      const idleStatus = Schema.decodeUnknownSync(Schema.parseJson(StatsStatus))(idle.stdout)
      expect(idleStatus.armed).toBe(false)
      expect(idleStatus.active_sessions).toBe(1)
      expect((yield* cli(["stats", "status"], env)).stdout).toMatch(/armed:\s+no/)

      const arm = yield* cli(["stats", "arm"], env)
      expect(arm.code, arm.stderr).toBe(0)
      expect(arm.stdout).toContain("capture armed")
      yield* Effect.promise(() =>
        waitFor(async () => Schema.decodeUnknownSync(StatsStatus)(await (await host.fetch("/status")).json()).sample_count >= 5)
      )
      expect((yield* cli(["stats", "status"], env)).stdout).toMatch(/armed:\s+yes/)

      const stop = yield* cli(["stats", "stop"], env)
      expect(stop.code, stop.stderr).toBe(0)
      const saved = /saved capture (\S+): (\d+) samples/.exec(stop.stdout)
      expect(saved, stop.stdout).not.toBeNull()
      const id = saved![1]!
      const again = yield* cli(["stats", "stop"], env)
      expect(again.code).toBe(0)
      expect(again.stdout).toContain("no capture was armed")

      const list = yield* cli(["stats", "list"], env)
      expect(list.code).toBe(0)
      expect(list.stdout).toContain(id)
      const listJson = Schema.decodeUnknownSync(Schema.parseJson(Schema.Array(CaptureListItem)))((yield* cli(["stats", "list", "--json"], env)).stdout)
      expect(listJson.map((m) => [m.id, m.sample_count, m.session_count])).toEqual([[id, Number(saved![2]), 1]])
      // The table's row: id, format and sample count as the listing's row gives them.
      expect(list.stdout).toMatch(new RegExp(`^${id}\\s.*\\d+x\\d+@\\d+ \\w+\\s+\\S+\\s+${saved![2]}\\b`, "m"))

      const stored = Schema.decodeUnknownSync(Capture)(yield* Effect.promise(async () => (await host.fetch(`/recordings/${id}`)).json()))
      const show = yield* cli(["stats", "show", id], env)
      expect(show.code, show.stderr).toBe(0)
      // One row per stage the capture measured, the frame budget, rates, and counters "not measured".
      for (const stage of stored.meta.sessions[0]!.stages) expect(show.stdout).toMatch(new RegExp(`^${stage}\\s+\\d`, "m"))
      expect(show.stdout).toContain("frame budget: 16.67 ms (60 fps)")
      expect(show.stdout).toMatch(/^fps\s+60\.0/m)
      expect(show.stdout).toMatch(/^frames dropped\s+not measured/m)
      expect(show.stdout).toContain("Computed over aggregation windows")
      expect(show.stdout).toContain(`${stored.samples.length} windows`)

      const csv = yield* cli(["stats", "export", id, "--format", "csv"], env)
      expect(csv.code).toBe(0)
      const rows = csv.stdout.trim().split(/\r?\n/)
      expect(rows[0]).toMatch(/^t_ms,session_id,/)
      expect(rows).toHaveLength(stored.samples.length + 1)
      const out = path.join(host.dir, "export.json")
      const exported = yield* cli(["stats", "export", id, "--format", "json", "--output", out], env)
      expect(exported.code, exported.stderr).toBe(0)
      expect(Schema.decodeUnknownSync(Schema.parseJson(Capture))(fs.readFileSync(out, "utf8"))).toEqual(stored)

      const label = yield* cli(["stats", "label", id, "before, after"], env)
      expect(label.code, label.stderr).toBe(0)
      const relabelled = Schema.decodeUnknownSync(Capture)(yield* Effect.promise(async () => (await host.fetch(`/recordings/${id}`)).json()))
      expect(relabelled.meta.label).toBe("before, after")

      const del = yield* cli(["stats", "delete", id], env)
      expect(del.code, del.stderr).toBe(0)
      expect(fs.existsSync(path.join(host.capturesDir, `${id}.json`))).toBe(false)
      const gone = yield* cli(["stats", "show", id], env)
      expect(gone.code).toBe(1)
      expect(gone.stderr).toContain(`no capture with id '${id}'`)
      expect((yield* cli(["stats", "list"], env)).stdout).toContain("no stored captures")
    }),
    // Sixteen CLI processes, each loading Effect (~1–2 s on a busy 2-core machine).
    180_000
  )

  it.scopedLive("a wrong token: 'the host refused the token from FILE', nonzero exit", () =>
    Effect.gen(function* () {
      const host = yield* startHost()
      const wrong = path.join(tempDir(), "wrong-token")
      fs.writeFileSync(wrong, "not-the-token-at-all-0123456789\n")
      const res = yield* cli(["stats", "status", "--host", host.url, "--token-file", wrong])
      expect(res.code).not.toBe(0)
      expect(res.stderr).toContain(`the host refused the token from ${wrong}`)
      expect(res.stdout).toBe("")
      const missing = path.join(tempDir(), "absent")
      const noFile = yield* cli(["stats", "list", "--host", host.url, "--token-file", missing])
      expect(noFile.code).not.toBe(0)
      expect(noFile.stderr).toContain(`cannot read the token file ${missing}`)
    }),
    60_000
  )

  it.effect("no host: 'no punktfunk host answers at URL', nonzero exit", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(freePort)
      const tokenFile = path.join(tempDir(), "token")
      fs.writeFileSync(tokenFile, "some-token-that-is-long-enough\n")
      const url = `http://127.0.0.1:${port}`
      for (const args of [["stats", "status"], ["stats", "arm"], ["stats", "list"]]) {
        const res = yield* cli([...args, "--token-file", tokenFile], { PUNKTFUNK_HOST: url })
        expect(res.code).not.toBe(0)
        expect(res.stderr).toContain(`no punktfunk host answers at ${url}`)
      }
      // Without a scheme the address means http://.
      const bare = yield* cli(["stats", "status", "--host", `127.0.0.1:${port}`, "--token-file", tokenFile])
      expect(bare.code).not.toBe(0)
      expect(bare.stderr).toContain(`no punktfunk host answers at ${url}`)
    }),
    60_000
  )

  it.scopedLive("an https:// host (API bound beyond loopback): the right pin works, a wrong one is refused in one line", () =>
    Effect.gen(function* () {
      // Bound to every address, so the API speaks HTTPS; the CLI reaches it over loopback.
      const host = yield* startHost({ env: { PUNKTFUNK_BIND: "0.0.0.0" } })
      expect(host.url).toMatch(/^https:\/\//)
      const url = `https://127.0.0.1:${new URL(host.url).port}`
      const tokenFile = path.join(host.dir, "token")
      const printed = new X509Certificate(fs.readFileSync(path.join(host.dir, "host-cert.pem"))).fingerprint256
      const base = ["stats", "status", "--host", url, "--token-file", tokenFile]

      const pinned = yield* cli([...base, "--fingerprint", printed])
      expect(pinned.code, pinned.stderr).toBe(0)
      expect(pinned.stdout).toMatch(/armed:\s+no/)
      // The same pin from the environment, and written as lowercase hex without colons.
      const fromEnv = yield* cli(base, { PUNKTFUNK_HOST_FINGERPRINT: printed.replace(/:/g, "").toLowerCase() })
      expect(fromEnv.code, fromEnv.stderr).toBe(0)
      // Beside the host (its config directory readable), its own certificate file is the pin.
      const local = yield* cli(["stats", "status", "--host", url], { PUNKTFUNK_CONFIG_DIR: host.dir })
      expect(local.code, local.stderr).toBe(0)

      const wrongPin = printed.slice(0, -2) + (printed.endsWith("00") ? "11" : "00")
      const wrong = yield* cli([...base, "--fingerprint", wrongPin])
      expect(wrong.code).toBe(5)
      expect(wrong.stdout).toBe("")
      expect(wrong.stderr.trim().split("\n")).toHaveLength(1)
      expect(wrong.stderr).toContain(`presented certificate SHA-256 ${printed}, not the pinned ${wrongPin}: refusing to send the token`)

      // No pin anywhere: refused, naming what the host presented (no silent trust on first use).
      const unpinned = yield* cli(base)
      expect(unpinned.code).toBe(5)
      expect(unpinned.stderr).toContain(`serves HTTPS with certificate SHA-256 ${printed}`)
      expect(unpinned.stderr).toContain(`pass --fingerprint ${printed}`)

      const notHex = yield* cli([...base, "--fingerprint", "abc"])
      expect(notHex.code).toBe(2)
      expect(notHex.stderr).toContain("is not a SHA-256 fingerprint")

      // Plain HTTP to the HTTPS port: the host hangs up, and the CLI says to use https://.
      const plain = yield* cli(["stats", "status", "--host", `127.0.0.1:${new URL(host.url).port}`, "--token-file", tokenFile])
      expect(plain.code).toBe(3)
      expect(plain.stderr).toContain("speaks only HTTPS: try https://")
    }),
    120_000
  )
})
