/**
 * The native boundary (issue 13.5): `src/native`'s TypeScript knows nothing of Effect, and every
 * addon wrapper loads through the one loader, which follows `PUNKTFUNK_NATIVE_BUILD_DIR` (what
 * `npm run test:asan` relies on) and says which command builds a missing module.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { addonLoader } from "../../src/native/addonLoader.js"

const nativeDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "native")
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
    const loader = addonLoader<{ readonly monotonicUs: () => number }>("media", "punktfunk_media", "the media module")
    const first = loader.load()
    expect(first.monotonicUs()).toBeGreaterThan(0)
    expect(loader.load()).toBe(first)
  })
})
