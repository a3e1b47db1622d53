/**
 * Clients of a spawned host, for the tests that need what only a client brings — a session
 * exists only while someone watches: the bundled `punktfunk-client` (`dist/client.js`) as a
 * child process, paired through the operator API (the PIN typed as the console would), and an
 * in-process viewer that takes no media.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { Schema } from "effect"
import { PendingPairing } from "../../src/api/Pairing.js"
import { root } from "./HostProcess.js"
import type { HostProcess } from "./HostProcess.js"
import { tempDir, waitFor } from "./TestHost.js"

const clientJs = path.join(root, "dist", "client.js")

export const runClient = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [clientJs, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (c: Buffer) => (output += c.toString()))
    child.stderr.on("data", (c: Buffer) => (output += c.toString()))
    child.on("exit", (code) => resolve({ code, output }))
  })

/**
 * Pairs a new client identity with `host` (the operator enters the PIN through the API); returns
 * the arguments every later `runClient` call of that client starts with.
 */
export const pairClient = async (host: HostProcess, name = "e2e"): Promise<ReadonlyArray<string>> => {
  await waitFor(() => /punktfunk\/1 control on [^:]+:\d+/.test(host.output()), 15_000, "the control port")
  const port = /punktfunk\/1 control on [^:]+:(\d+)/.exec(host.output())?.[1] ?? ""
  const dir = tempDir("punktfunk-client-")
  const common = ["--host", "127.0.0.1", "--port", port, "--dir", dir, "--name", name]
  const pairing = runClient(["pair", ...common, "--pin", "2468"])
  const api = (route: string, init: RequestInit = {}) =>
    fetch(`${host.url}/api/v1/pairing${route}`, {
      ...init,
      headers: { authorization: `Bearer ${host.token}`, "content-type": "application/json" }
    })
  let requestId = ""
  // Generous: a loaded 2-core machine takes a while to start the client process and make its key.
  await waitFor(async () => {
    const pending = Schema.decodeUnknownSync(Schema.Array(PendingPairing))(await (await api("/pending")).json())
    requestId = pending[0]?.request_id ?? ""
    return requestId !== ""
  }, 60_000, "the pairing request")
  const entered = await api(`/pending/${requestId}/pin`, { method: "POST", body: JSON.stringify({ pin: "2468" }) })
  if (entered.status !== 200) throw new Error(`the operator's PIN was answered ${entered.status}`)
  const paired = await pairing
  if (paired.code !== 0) throw new Error(`the client did not pair:\n${paired.output}`)
  return common
}

export { watchWithoutMedia } from "../../src/bench/Viewer.js"
export type { Viewer, ViewerFormat } from "../../src/bench/Viewer.js"
