/**
 * The GameStream benchmark's client: the test suite's VideoReceiver
 * (`test/gamestream/support/VideoReceiver.ts` — pings, reassembles, rebuilds lost packets with
 * its own Reed-Solomon, decodes with libavcodec), loaded as it is rather than copied.
 *
 * Why a bundle: `tsconfig.build.json` compiles `src/` only, so `dist/` has no JavaScript for the
 * test support files. esbuild (already installed with vite) bundles the receiver and its Reed-
 * Solomon into `dist/bench/` at run time, leaving npm packages (`effect`) as imports so the
 * benchmark and the receiver share one Effect runtime; being beside the other compiled modules,
 * the bundled `media.ts` finds the media addon two directories up as it does from `dist/native/`.
 * The types below mirror the part of the receiver's interface the benchmark reads.
 * Not a benchmark itself (the runner only loads `*.bench.js`).
 */
import type { Effect, Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { packageRoot } from "../services/Config.js"

export interface BenchReceiverOptions {
  readonly hostPort: number
  readonly pingPayload: string
  readonly packetSize: number
  readonly dropFraction?: number
  readonly seed?: number
  /** The launch key: the session seals its video, the receiver opens it. */
  readonly keyHex?: string
}

export interface BenchReceiverCounters {
  readonly datagrams: number
  readonly dropped: number
  readonly malformed: number
  readonly lost: number
  readonly recovered: number
  readonly recoveredBadHeader: number
  readonly parityReceived: number
  readonly framesComplete: number
  readonly framesIncomplete: number
  readonly idrFrames: number
  readonly multiBlockFrames: number
  readonly framesDecoded: number
  readonly decodeErrors: number
  readonly badFrameHeaders: number
  readonly width: number
  readonly height: number
  readonly decryptFailures: number
}

export interface BenchReceiver {
  readonly port: number
  readonly counters: Effect.Effect<BenchReceiverCounters>
}

interface ReceiverModule {
  readonly makeVideoReceiver: (options: BenchReceiverOptions) => Effect.Effect<BenchReceiver, unknown, Scope.Scope>
}

const here = path.dirname(fileURLToPath(import.meta.url))

/** Bundles the test receiver next to this module and imports it. */
export const loadVideoReceiver = async (): Promise<ReceiverModule["makeVideoReceiver"]> => {
  const entry = path.join(packageRoot, "test", "gamestream", "support", "VideoReceiver.ts")
  if (!fs.existsSync(entry)) throw new Error(`the test receiver is missing: ${entry}`)
  const outfile = path.join(here, "gamestream-receiver.generated.mjs")
  const esbuild = (await import("esbuild")) as typeof import("esbuild")
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile,
    logLevel: "error"
  })
  try {
    const mod = (await import(pathToFileURL(outfile).href)) as ReceiverModule
    return mod.makeVideoReceiver
  } finally {
    fs.rmSync(outfile, { force: true })
  }
}
