/**
 * Clients of a spawned host, for the tests that need what only a client brings — a session
 * exists only while someone watches: the bundled `punktfunk-client` (`dist/client.js`) as a
 * child process, paired through the operator API (the PIN typed as the console would), and an
 * in-process viewer that takes no media.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { controlPort, enterPinFor } from "../../src/bench/Viewer.js"
import { root } from "./HostProcess.js"
import type { HostProcess } from "./HostProcess.js"
import { tempDir } from "./TestHost.js"

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
  const port = String(await controlPort(host))
  const dir = tempDir("punktfunk-client-")
  const common = ["--host", "127.0.0.1", "--port", port, "--dir", dir, "--name", name]
  const pairing = runClient(["pair", ...common, "--pin", "2468"])
  // Generous: a loaded 2-core machine takes a while to start the client process and make its key.
  await enterPinFor(host, () => true, "2468", 60_000)
  const paired = await pairing
  if (paired.code !== 0) throw new Error(`the client did not pair:\n${paired.output}`)
  return common
}

export { watchWithoutMedia } from "../../src/bench/Viewer.js"
export type { Viewer, ViewerFormat } from "../../src/bench/Viewer.js"
