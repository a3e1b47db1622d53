/**
 * A real host in-process for tests: real HTTP server on an ephemeral port, real temp directory,
 * the fake pipeline (or none) instead of native threads.
 */
import { ConfigProvider, Effect, Layer, Schema } from "effect"
import type { Context, Scope } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { Capture } from "../../src/api/Stats.js"
import { makeHostLayer } from "../../src/Host.js"
import type { HostParts } from "../../src/Host.js"
import { isLoopbackBind, managementUrl } from "../../src/http/ManagementTls.js"
import { fakePipelineLayer } from "../../src/PipelineChoice.js"
import { hostConfig } from "../../src/services/Config.js"
import type { DiskOps } from "../../src/services/DiskOps.js"
import type { ArmedFlag } from "../../src/services/ArmedFlag.js"
import type { Pipeline } from "../../src/streams/Pipeline.js"
import { GAMESTREAM_ON_PORT_ZERO } from "../../src/bench/BenchHost.js"

export const tempDir = (prefix = "punktfunk-test-"): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

export interface TestHostOptions {
  readonly dir?: string
  readonly env?: Record<string, string>
  readonly disk?: Layer.Layer<DiskOps>
  readonly maxSamples?: number
  readonly windowMs?: number
  /** The frame producer; the fake one unless a test streams for real (GameStream end to end). */
  readonly pipeline?: Layer.Layer<Pipeline | ArmedFlag>
  /** Pairing limits (shorter durations than a real host's, so tests need not wait minutes). */
  readonly pairing?: HostParts["pairing"]
  readonly gamestreamPairing?: HostParts["gamestreamPairing"]
  /** GameStream's seams (test/gamestream/support/Fake*.ts); the live ones otherwise. */
  readonly gamestreamAudio?: HostParts["gamestreamAudio"]
  readonly inputInjector?: HostParts["inputInjector"]
}

export interface TestHost<R> {
  readonly url: string
  readonly api: string
  readonly token: string
  readonly dir: string
  readonly capturesDir: string
  readonly context: Context.Context<R>
  readonly fetch: (route: string, init?: RequestInit & { readonly token?: string | null }) => Promise<Response>
}

export const startHost = (options: TestHostOptions = {}) =>
  Effect.gen(function* () {
    const dir = options.dir ?? tempDir()
    const env: Record<string, string> = {
      PUNKTFUNK_PORT: "0",
      PUNKTFUNK_PUNKTFUNK1_PORT: "0",
      // GameStream is on by default in a real host; tests that want it turn it on, its ports
      // already 0 (the benches' table), so parallel hosts never fight over 47989.
      ...GAMESTREAM_ON_PORT_ZERO,
      PUNKTFUNK_GAMESTREAM: "0",
      PUNKTFUNK_CONFIG_DIR: dir,
      PUNKTFUNK_SOURCE: "none",
      PUNKTFUNK_WEB_DIR: path.join(dir, "no-web"),
      ...options.env
    }
    const config = yield* hostConfig.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
    const layer = makeHostLayer(config, {
      pipeline: options.pipeline ?? fakePipelineLayer(options.windowMs ?? config.fakeWindowMs),
      ...(options.disk === undefined ? {} : { disk: options.disk }),
      ...(options.maxSamples === undefined ? {} : { maxSamples: options.maxSamples }),
      ...(options.pairing === undefined ? {} : { pairing: options.pairing }),
      ...(options.gamestreamPairing === undefined ? {} : { gamestreamPairing: options.gamestreamPairing }),
      ...(options.gamestreamAudio === undefined ? {} : { gamestreamAudio: options.gamestreamAudio }),
      ...(options.inputInjector === undefined ? {} : { inputInjector: options.inputInjector })
    })
    const context = yield* Layer.build(layer)
    // `https://` when bound beyond loopback (see http/ManagementTls.ts).
    const url = yield* managementUrl(!isLoopbackBind(config.bind)).pipe(Effect.provide(context))
    const token = fs.readFileSync(config.tokenFile, "utf8").trim()
    const api = `${url}/api/v1/stats`
    const host: TestHost<Layer.Layer.Success<typeof layer>> = {
      url,
      api,
      token,
      dir,
      capturesDir: config.capturesDir,
      context,
      fetch: (route, init = {}) => {
        const headers = new Headers(init.headers)
        const t = init.token === undefined ? token : init.token
        if (t !== null) headers.set("authorization", `Bearer ${t}`)
        return fetch(route.startsWith("http") ? route : `${api}${route}`, { ...init, headers })
      }
    }
    return host
  })

export type StartedHost = Effect.Effect.Success<ReturnType<typeof startHost>>
export type HostScope = Scope.Scope

export const json = async (res: Response): Promise<unknown> => JSON.parse(await res.text())

/**
 * Let forked fibers and file writes (fsync: real I/O, not moved by the test clock) run until
 * `done` holds; a generous real-time bound only turns a hang into a failure.
 */
export const settle = <R>(done: Effect.Effect<boolean, never, R>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (yield* done) return
      yield* Effect.promise(() => new Promise<void>((r) => setTimeout(r, 5)))
    }
    throw new Error("did not settle within 10 s")
  })

/** Waits until the armed capture of `host` holds `count` samples (windows come on the host's own clock). */
export const armedSamples = (host: StartedHost, count: number, timeoutMs = 15_000) =>
  Effect.promise(() =>
    waitFor(async () => ((await json(await host.fetch("/status"))) as { sample_count: number }).sample_count >= count, timeoutMs, `${count} samples`)
  )

/** A saved capture as the API serves it (`GET /recordings/:id`), decoded. */
export const savedCapture = (host: StartedHost, id: string) =>
  Effect.promise(async () => Schema.decodeUnknownSync(Capture)(await json(await host.fetch(`/recordings/${id}`))))

/** Poll until `f` holds, for tests that wait on a real clock. */
export const waitFor = async (f: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition") => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await f()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** A request whose path is sent byte for byte (fetch would normalise `.` and `..` segments away). */
export const rawRequest = (
  baseUrl: string,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body?: string
): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    let status = 0
    const u = new URL(baseUrl)
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: rawPath, headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) } },
      (res) => {
        let data = ""
        status = res.statusCode ?? 0
        res.setEncoding("utf8")
        res.on("data", (c: string) => (data += c))
        res.on("end", () => resolve({ status, body: data }))
        res.on("error", () => resolve({ status, body: data }))
      }
    )
    // A server may answer (413) and close before an oversized body is fully written.
    req.on("error", (e) => (status === 0 ? reject(e) : resolve({ status, body: "" })))
    if (body !== undefined) req.write(body)
    req.end()
  })
