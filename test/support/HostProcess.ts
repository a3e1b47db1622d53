/**
 * The compiled host (`dist/main.js`) as a child process, for what only a real process shows:
 * SIGKILL mid-capture, SIGTERM, start-up failures.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach } from "vitest"
import { fingerprintFromStartOutput, tokenFileFromStartOutput, urlFromStartOutput } from "../../src/bench/StartOutput.js"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const mainJs = path.join(root, "dist", "main.js")

export const requireBuild = () => {
  if (!fs.existsSync(mainJs)) throw new Error(`${mainJs} is missing: run 'npm run build' before the tests`)
}

export interface HostProcess {
  readonly child: ChildProcess
  readonly url: string
  /** Read from the token file the host names at start (the host prints the token itself only once). */
  readonly token: string
  readonly tokenFile: string
  /** The management API's certificate fingerprint, printed when it serves HTTPS (bound beyond loopback). */
  readonly fingerprint: string | undefined
  readonly output: () => string
  readonly fetch: (route: string, init?: RequestInit) => Promise<Response>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * `prefix`: a wrapper command to start the host through (e.g. `setpriv --reuid nobody … --`, to
 * run it as another user); the host's own command line follows it.
 */
export const spawnHost = (
  env: Record<string, string>,
  args: ReadonlyArray<string> = [],
  prefix: ReadonlyArray<string> = []
): Promise<HostProcess> =>
  new Promise((resolve, reject) => {
    requireBuild()
    const [command, ...rest] = [...prefix, process.execPath]
    const child = spawn(command ?? process.execPath, [...rest, mainJs, ...args], {
      env: { ...process.env, PUNKTFUNK_PORT: "0", PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_GAMESTREAM: "off", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on("exit", (code, signal) => r({ code, signal }))
    )
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`host did not start within 30 s:\n${out}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const url = urlFromStartOutput(out)
      const tokenFile = tokenFileFromStartOutput(out)
      if (url !== undefined && tokenFile !== undefined) {
        clearTimeout(timer)
        const token = fs.readFileSync(tokenFile, "utf8").trim()
        const fingerprint = fingerprintFromStartOutput(out)
        child.stdout?.off("data", onData)
        child.stdout?.on("data", (c: Buffer) => (out += c.toString()))
        resolve({
          child,
          url,
          token,
          tokenFile,
          fingerprint,
          output: () => out,
          exited,
          fetch: (route, init = {}) =>
            fetch(`${url}/api/v1/stats${route}`, {
              ...init,
              headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` }
            })
        })
      }
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()))
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`host exited (${code}) before listening:\n${out}`))
    })
  })

/**
 * `spawnHost` for a test file whose hosts must not outlive their test: every host started through
 * the function this returns is SIGKILLed after its test, passed or failed, and waited for. Call it
 * once at the top of the file (it registers the `afterEach`).
 */
export const hostsKilledAfterEach = () => {
  const started: Array<HostProcess> = []
  afterEach(async () => {
    for (const h of started.splice(0)) {
      h.child.kill("SIGKILL")
      await h.exited
    }
  })
  return async (env: Record<string, string>, args: ReadonlyArray<string> = []): Promise<HostProcess> => {
    const h = await spawnHost(env, args)
    started.push(h)
    return h
  }
}

/** Run the host to completion (for start-up failures): exit code and everything it printed. */
export const runHostToExit = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    requireBuild()
    const child = spawn(process.execPath, [mainJs, ...args], {
      env: { ...process.env, PUNKTFUNK_PORT: "0", PUNKTFUNK_PUNKTFUNK1_PORT: "0", PUNKTFUNK_GAMESTREAM: "off", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr.on("data", (c: Buffer) => (out += c.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, output: out })
    })
  })
