/**
 * The npm package as a user gets it: `npm pack` of this tree, `npm install -g` of the tarball
 * into a temporary prefix (its install script builds the addons with node-gyp against the
 * headers of the Node that runs it), the three commands' `--help`, then the installed host
 * started and the installed CLI asking it for its status.
 *
 * Why the environment is scrubbed: under `npm test` npm hands its own configuration to the test
 * as `npm_config_*` variables (this machine's user config sets `nodedir=/usr`), and a user's
 * machine has none of that; the install must find the headers itself. The npm cache is kept, so
 * packages already fetched are not fetched again. Slow by nature (a full native build), so it
 * has its own project that runs after the others (`vitest.config.ts`, `package`).
 */
import { execFile, spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { root } from "../support/HostProcess.js"
import { tempDir, waitFor } from "../support/TestHost.js"

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const work = tempDir("punktfunk-package-")
const prefix = path.join(work, "prefix")
const bin = (name: string) => path.join(prefix, "bin", name)

/** The environment of a user's shell: no npm configuration inherited from the test runner. */
const userEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !k.startsWith("PUNKTFUNK_")) env[k] = v
  // An empty user config: no nodedir, nothing this machine's ~/.npmrc would add.
  const userconfig = path.join(work, "npmrc")
  fs.writeFileSync(userconfig, "")
  env["npm_config_userconfig"] = userconfig
  env["HOME"] = path.join(work, "home")
  // Keep the real npm cache (the registry is reachable but slow to ask for 90 packages again).
  env["npm_config_cache"] = path.join(process.env["HOME"] ?? "/root", ".npm")
  // The Node running the tests runs the package's commands (their shebang is `env node`).
  env["PATH"] = `${path.join(prefix, "bin")}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}`
  return env
}

const run = (command: string, args: ReadonlyArray<string>, options: { cwd?: string; timeoutMs?: number } = {}) =>
  new Promise<Ran>((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd ?? work, env: userEnv(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resolve({ code, stdout, stderr })
      }
    )
  })

const npm = (args: ReadonlyArray<string>, timeoutMs: number) => run("npm", args, { timeoutMs })

const children: Array<ChildProcess> = []
// The prefix holds a whole install (≈ 110 MB): stop the host (it saves its armed capture first),
// then remove everything.
afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => {
            child.kill("SIGKILL")
            resolve()
          }, 20_000)
          child.on("exit", () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill("SIGTERM")
        })
    )
  )
  fs.rmSync(work, { recursive: true, force: true })
}, 60_000)

describe("the npm package", () => {
  it("packs, installs into a prefix (building the addons), answers --help three times, and its CLI reads its host", async () => {
    for (const built of ["dist/main.js", "dist/cli.js", "dist/client.js", "web/dist/index.html"]) {
      expect(fs.existsSync(path.join(root, built)), `${built}: run 'npm run build' first`).toBe(true)
    }
    fs.mkdirSync(path.join(work, "home"), { recursive: true })

    // --ignore-scripts: `prepack` would rebuild what the suite's build step has just built.
    const packed = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", work], { cwd: root, timeoutMs: 120_000 })
    expect(packed.code, packed.stderr).toBe(0)
    const tarball = path.join(work, packed.stdout.trim().split("\n").at(-1) ?? "")
    expect(fs.existsSync(tarball), packed.stdout).toBe(true)

    // What the README tells a user to type (the absolute path is how npm names a local tarball
    // in its install-script policy).
    const installed = await npm(
      ["install", "-g", "--prefix", prefix, `--allow-scripts=${tarball}`, "--foreground-scripts", "--no-audit", "--no-fund", "--prefer-offline", tarball],
      1_500_000
    )
    expect(installed.code, `${installed.stdout}\n${installed.stderr}`).toBe(0)
    const installLog = `${installed.stdout}\n${installed.stderr}`
    // Our install script ran, found the running Node's headers itself and built every addon.
    expect(installLog).toContain(`building the addons with node-gyp against the headers in ${path.resolve(path.dirname(process.execPath), "..")}`)
    expect(installLog).toMatch(/punktfunk install: built \d+ addons/)
    expect(installLog).not.toMatch(/punktfunk@[0-9.]+ \(install:/)
    const pkgDir = path.join(prefix, "lib", "node_modules", "punktfunk")
    expect(fs.existsSync(path.join(pkgDir, "src", "native", "build", "Release", "punktfunk_native.node"))).toBe(true)
    // Sources of the tests and the TypeScript stay in the clone.
    expect(fs.existsSync(path.join(pkgDir, "src", "main.ts"))).toBe(false)
    expect(fs.existsSync(path.join(pkgDir, "test"))).toBe(false)

    const host = await run(bin("punktfunk-host"), ["--help"])
    expect(host.code, host.stderr).toBe(0)
    // @effect/cli's help: the usage line and every setting as an option with its variable.
    expect(host.stdout).toContain("$ punktfunk-host [--port text]")
    expect(host.stdout).toContain("--log-format")
    expect(host.stdout).toContain("Environment: PUNKTFUNK_LOG_FORMAT")
    const cli = await run(bin("punktfunk"), ["--help"])
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stdout).toContain("stats")
    const client = await run(bin("punktfunk-client"), ["--help"])
    expect(client.code, client.stderr).toBe(0)
    expect(client.stdout).toContain("pair")
    expect(client.stdout).toContain("stream")

    // The installed host, with the addon the install built (the synthetic source encodes natively).
    const configDir = path.join(work, "config")
    const child = spawn(bin("punktfunk-host"), ["--port", "0", "--punktfunk1-port", "0", "--gamestream", "0", "--width", "320", "--height", "240", "--fps", "15"], {
      env: { ...userEnv(), PUNKTFUNK_CONFIG_DIR: configDir },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let out = ""
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()))
    await waitFor(() => /punktfunk host listening on (http\S+)\n/.test(out) && /^token file: /m.test(out), 60_000, `the installed host's start\n${out}`)
    const url = /punktfunk host listening on (http\S+)\n/.exec(out)?.[1] ?? ""
    // The console comes with the package, built.
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain("<div id=\"root\"")

    const status = await run(bin("punktfunk"), ["stats", "status", "--host", url, "--token-file", path.join(configDir, "token"), "--json"])
    expect(status.code, status.stderr).toBe(0)
    expect((JSON.parse(status.stdout) as { armed: boolean }).armed).toBe(false)
    // The host loaded the addon the install built: without it, it says "native pipeline not built"
    // and keeps the armed flag in memory.
    expect(out).not.toContain("not built")
    const armed = await run(bin("punktfunk"), ["stats", "arm", "--host", url, "--token-file", path.join(configDir, "token")])
    expect(armed.code, armed.stderr).toBe(0)
    const after = await run(bin("punktfunk"), ["stats", "status", "--host", url, "--token-file", path.join(configDir, "token"), "--json"])
    expect((JSON.parse(after.stdout) as { armed: boolean }).armed).toBe(true)
    expect(out).not.toContain("cannot start")
  })
})
