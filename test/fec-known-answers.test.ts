/**
 * punktfunk/1's Reed-Solomon parity, known answers under every GF(2^8) kernel (issue 15.3).
 *
 * - `fixtures/reed-solomon-pf1.json`: parity computed by punktfunk/1's encoder as it was before
 *   the SIMD kernels (one product-table lookup per byte, commit 54b1188), built outside the addon
 *   from that commit's sources, for the block shapes the sender makes (1,320-byte shards, up to
 *   64 data + 13 parity) and for odd sizes that exercise each kernel's tail (7, 33, 65, 100, 130
 *   bytes). The addon's parity must equal it byte for byte with every kernel this CPU has.
 * - Then every kernel against the scalar one on shapes no fixture lists (every length 1..200,
 *   parity counts not a multiple of the kernels' 4-row groups), and the decoder rebuilding lost
 *   data shards under every kernel.
 * GameStream's video parity (nanors' matrix) and audio parity have their own fixtures in
 * test/gamestream (video-known-answers, audio-known-answers), also run under every kernel.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { nativeTestHooks } from "../src/native/testHooks.js"
import { kernelsOf, lcgShards, sha256Hex, withKernel } from "./support/FecKernels.js"

interface Pf1Case {
  readonly data_shards: number
  readonly parity_shards: number
  readonly bytes: number
  readonly seed: number
  readonly parity_sha256: ReadonlyArray<string>
  readonly parity_head: ReadonlyArray<string>
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "reed-solomon-pf1.json"), "utf8")
) as { readonly cases: ReadonlyArray<Pf1Case> }

const m = nativeTestHooks()
const kernels = kernelsOf(m)
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex")

describe("punktfunk/1 Reed-Solomon parity", () => {
  it("the scalar kernel is always there, and the default is the best this CPU has", () => {
    expect(kernels[0]).toBe("scalar")
    expect(m.fecKernel().kernel).toBe(kernels[kernels.length - 1])
    expect(() => m.fecKernel("no-such-kernel")).toThrow(/unknown or unsupported FEC kernel "no-such-kernel"/)
    expect(m.fecKernel().kernel).toBe(kernels[kernels.length - 1])
  })

  for (const kernel of kernels) {
    for (const c of fixture.cases) {
      it(`${kernel}: ${c.data_shards} data + ${c.parity_shards} parity × ${c.bytes} bytes equals the byte-table encoder's`, () => {
        const data = lcgShards(c.seed, c.data_shards, c.bytes)
        const parity = withKernel(m, kernel, () => m.fecEncode(data, c.parity_shards))
        expect(parity.map((p) => hexOf(p.subarray(0, 16)))).toEqual(c.parity_head)
        expect(parity.map(sha256Hex)).toEqual(c.parity_sha256)
      })
    }
  }

  it("every kernel equals the scalar one for every length from 1 to 200 bytes", () => {
    for (let bytes = 1; bytes <= 200; bytes++) {
      const k = 1 + (bytes % 11)
      const parityCount = 1 + (bytes % 9)
      const data = lcgShards(bytes, k, bytes)
      const reference = withKernel(m, "scalar", () => m.fecEncode(data, parityCount)).map(hexOf)
      for (const kernel of kernels) expect(withKernel(m, kernel, () => m.fecEncode(data, parityCount)).map(hexOf), `${kernel} at ${bytes} B`).toEqual(reference)
    }
  })

  it("the hooks refuse malformed shards with a clear error instead of reading past them", () => {
    const four = lcgShards(1, 4, 32)
    expect(() => m.fecEncode([four[0]!, new Uint8Array(31)], 2)).toThrow(/one length/)
    expect(() => m.fecEncode([new Uint8Array(0)], 1)).toThrow(/non-empty/)
    expect(() => m.fecEncode(four, 0)).toThrow(RangeError)
    expect(() => m.fecEncode(four, 252)).toThrow(/≤ 255/)
    expect(() => m.fecReconstruct([...four, undefined], 5)).toThrow(RangeError)
    expect(() => m.fecReconstruct([undefined, undefined], 1)).toThrow(/one shard present/)
  })

  for (const kernel of kernels) {
    it(`${kernel}: the decoder rebuilds lost data shards from any k of k + m, and refuses fewer`, () => {
      withKernel(m, kernel, () => {
        const k = 20
        const parityCount = 5
        const data = lcgShards(99, k, 1320)
        const parity = m.fecEncode(data, parityCount)
        const all = [...data, ...parity]
        // Data only lost; data and parity lost together; the parity alone lost (nothing to do).
        for (const lost of [[0, 1, 2, 3, 4], [3, 7, 19, 20, 24], [20, 21, 22, 23, 24]]) {
          const shards = all.map((s, i) => (lost.includes(i) ? undefined : s))
          expect(m.fecReconstruct(shards, k)?.map(hexOf)).toEqual(data.map(hexOf))
        }
        const tooMany = all.map((s, i) => (i <= parityCount ? undefined : s))
        expect(m.fecReconstruct(tooMany, k)).toBeNull()
      })
    })
  }
})
