/**
 * The host every browser test drives: the built host (`dist/main.js`) serving the built console
 * (`web/dist`), its configuration in the test's own directory, every listener on loopback unless
 * the test says otherwise (`env` comes last and wins), and the clean-up after the file's tests.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { loopbackConsoleEnv } from "../../src/bench/BenchHost.js"
import { root, spawnHost } from "../support/HostProcess.js"
import type { HostProcess } from "../support/HostProcess.js"

export const WEB_DIST = path.join(root, "web", "dist")

export const requireWebBuild = () => {
  const index = path.join(WEB_DIST, "index.html")
  if (!fs.existsSync(index)) throw new Error(`${index} is missing: run 'npm run build:web' before the e2e tests`)
}

export const consoleHostEnv = (dir: string, env: Record<string, string>): Record<string, string> => loopbackConsoleEnv(dir, WEB_DIST, env)

export const spawnConsoleHost = (dir: string, env: Record<string, string>): Promise<HostProcess> => spawnHost(consoleHostEnv(dir, env))

/** After the file's tests: the host stopped (and waited for) and its directory gone, whatever was started. */
export const stopConsoleHost = async (host: HostProcess | undefined, dir: string | undefined) => {
  host?.child.kill("SIGTERM")
  await host?.exited
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
}
