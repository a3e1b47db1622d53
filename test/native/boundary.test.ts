/**
 * The native boundary (issue 13.5): `src/native`'s TypeScript knows nothing of Effect; every
 * addon wrapper loads through the one loader, which follows `PUNKTFUNK_NATIVE_BUILD_DIR` (what
 * `npm run test:asan` relies on) and says which command builds a missing module; the test hooks
 * live in a test-only addon that the production addon, the host and the packed package do not
 * carry.
 */
import { afterEach, describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { addonLoader } from "../../src/native/addonLoader.js"
import { audio } from "../../src/native/audio.js"
import { nativeModule, nativeModulePath } from "../../src/native/binding.js"
import { enet } from "../../src/native/enet.js"
import { inputModule } from "../../src/native/input.js"
import { media } from "../../src/native/media.js"
import { nativeTestHooks, nativeTestHooksPath } from "../../src/native/testHooks.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const nativeDir = path.join(root, "src", "native")
const wrappers = fs.readdirSync(nativeDir).filter((n) => n.endsWith(".ts"))

describe("src/native's TypeScript", () => {
  it("imports nothing of Effect", () => {
    expect(wrappers.length).toBeGreaterThanOrEqual(5)
    const offenders = wrappers.filter((n) => /from\s+"(effect|@effect\/[^"]*)(\/[^"]*)?"/.test(fs.readFileSync(path.join(nativeDir, n), "utf8")))
    expect(offenders).toEqual([])
  })

  it("loads every addon through addonLoader (no wrapper requires a .node itself)", () => {
    const own = wrappers.filter((n) => n !== "addonLoader.ts" && fs.readFileSync(path.join(nativeDir, n), "utf8").includes("createRequire"))
    expect(own).toEqual([])
  })
})

describe("addonLoader", () => {
  const saved = process.env["PUNKTFUNK_NATIVE_BUILD_DIR"]
  afterEach(() => {
    if (saved === undefined) delete process.env["PUNKTFUNK_NATIVE_BUILD_DIR"]
    else process.env["PUNKTFUNK_NATIVE_BUILD_DIR"] = saved
  })

  it("looks in PUNKTFUNK_NATIVE_BUILD_DIR and names the build command when the module is missing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-addon-"))
    process.env["PUNKTFUNK_NATIVE_BUILD_DIR"] = dir
    const loader = addonLoader<object>("media", "punktfunk_media", "the media module", "npm run build")
    expect(loader.path).toBe(path.join(dir, "media", "build", "Release", "punktfunk_media.node"))
    expect(() => loader.load()).toThrow(/^the media module is not built \(.*punktfunk_media\.node\): run 'npm run build'/)
    fs.rmSync(dir, { recursive: true })
  })

  it("loads a built module once and hands back the same object", () => {
    delete process.env["PUNKTFUNK_NATIVE_BUILD_DIR"]
    const loader = addonLoader<{ readonly MediaReceiver: unknown }>("media", "punktfunk_media", "the media module")
    const first = loader.load()
    expect(typeof first.MediaReceiver).toBe("function")
    expect(loader.load()).toBe(first)
  })
})

describe("the test hooks", () => {
  const HOOKS = [
    "x11FillRect",
    "x11Grab",
    "x11MapWindow",
    "x11Animate",
    "writePatternFrames",
    "encodeRawFrames",
    "measurementCostNs",
    "convertBgrxToI420"
  ]

  it("are exports of the test-only addon, and none of the production addon", () => {
    const hooks = nativeTestHooks() as unknown as Record<string, unknown>
    expect(HOOKS.filter((h) => typeof hooks[h] !== "function")).toEqual([])
    const production = nativeModule() as unknown as Record<string, unknown>
    expect(HOOKS.filter((h) => h in production)).toEqual([])
    expect(typeof production["NativeSession"]).toBe("function")
  })

  // The known answers of the wire codes (FEC of both paths and of audio, the GameStream
  // packetizer and sealer, Opus) and the sender and decoder driven from JavaScript were exports
  // of the production modules until issue 13.5; each module now exports only what the host or
  // the client calls.
  const KNOWN_ANSWERS = [
    "fecKernel",
    "gfMul",
    "fecCoefficient",
    "fecEncode",
    "fecReconstruct",
    "audioFecParity",
    "decodeOpus",
    "decodeOpusSequence",
    "opusLayout",
    "MediaSender",
    "Decoder",
    "monotonicUs",
    "gsFecEncode",
    "gsPacketizeFrame",
    "gsPlanBlocks",
    "gsVideoHeaders",
    "gsPacketizeTimed",
    "gsSealVideoDatagram"
  ]

  it("the known-answer hooks are exports of the test-only addon and of no production module", () => {
    const hooks = nativeTestHooks() as unknown as Record<string, unknown>
    expect(KNOWN_ANSWERS.filter((h) => typeof hooks[h] !== "function")).toEqual([])
    const modules: Record<string, Record<string, unknown>> = {
      punktfunk_native: nativeModule() as unknown as Record<string, unknown>,
      punktfunk_media: media() as unknown as Record<string, unknown>,
      punktfunk_audio: audio() as unknown as Record<string, unknown>,
      punktfunk_enet: enet() as unknown as Record<string, unknown>,
      punktfunk_input: inputModule() as unknown as Record<string, unknown>
    }
    const carried = Object.entries(modules).flatMap(([name, m]) => [...KNOWN_ANSWERS, ...HOOKS].filter((h) => h in m).map((h) => `${name}.${h}`))
    expect(carried).toEqual([])
    // What each module is for is still there.
    expect(Object.keys(modules["punktfunk_media"]!)).toEqual(["MediaReceiver"])
    expect(Object.keys(modules["punktfunk_audio"]!)).toEqual(["GameStreamAudio"])
    expect(typeof modules["punktfunk_native"]!["GameStreamVideoPort"]).toBe("function")
  })

  it("link whole: every symbol of the test-only addon and the production addon resolves at load", () => {
    // dlopen binds lazily: a pipeline source missing from testing/binding.gyp would only fail
    // when a hook first calls into it. Binding every symbol now fails the load instead.
    const load = `require(${JSON.stringify(nativeTestHooksPath)}); require(${JSON.stringify(nativeModulePath)})`
    execFileSync(process.execPath, ["-e", load], { env: { ...process.env, LD_BIND_NOW: "1" }, stdio: "pipe" })
  })

  it("are imported by no host code (only tests and benchmarks load them)", () => {
    const importers: Array<string> = []
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name)
        if (e.isDirectory()) {
          if (e.name !== "bench" && e.name !== "build" && e.name !== "node_modules") walk(p)
        } else if (e.name.endsWith(".ts") && e.name !== "testHooks.ts" && fs.readFileSync(p, "utf8").includes("testHooks.js")) {
          importers.push(path.relative(root, p))
        }
      }
    }
    walk(path.join(root, "src"))
    expect(importers).toEqual([])
  })

  it("are left out of the packed package (npm pack lists no test addon sources and no wrapper)", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" })
    const files = (JSON.parse(out) as Array<{ readonly files: ReadonlyArray<{ readonly path: string }> }>)[0]!.files.map((f) => f.path)
    expect(files).toContain("src/native/binding.gyp")
    expect(files.filter((f) => f.startsWith("src/native/testing/") || f.includes("testHooks"))).toEqual([])
  })
})
