/**
 * Helpers for the FEC known-answer tests: the test-only addon (src/native/testHooks.ts), which
 * carries every Reed-Solomon code of the host (punktfunk/1's, GameStream video's and audio's),
 * exports `fecKernel`, which names the GF(2^8) multiply kernel in use and the ones this CPU has,
 * and switches between them for all of its hooks (src/native/gf256/gf256.h). The fixtures must come out byte for byte under each kernel, not
 * only the one this machine happens to pick; the kernel is put back afterwards.
 */
import { createHash } from "node:crypto"

export interface FecKernelHook {
  readonly fecKernel: (name?: string) => { readonly kernel: string; readonly kernels: ReadonlyArray<string> }
}

/** The kernels this CPU has, best last ("scalar" always first). */
export const kernelsOf = (module: FecKernelHook): ReadonlyArray<string> => module.fecKernel().kernels

/** Runs `f` with the module's FEC kernel switched to `name`, restoring the previous one. */
export const withKernel = <A>(module: FecKernelHook, name: string, f: () => A): A => {
  const before = module.fecKernel().kernel
  module.fecKernel(name)
  try {
    return f()
  } finally {
    module.fecKernel(before)
  }
}

/**
 * The fixtures' data: `k` shards of `bytes` bytes, shard-major, each byte the high byte of the
 * LCG x = x·1103515245 + 12345 (mod 2^32) stepped from x = seed (the generators' own rule).
 */
export const lcgShards = (seed: number, k: number, bytes: number): Array<Uint8Array> => {
  let x = seed >>> 0
  const out: Array<Uint8Array> = []
  for (let s = 0; s < k; s++) {
    const shard = new Uint8Array(bytes)
    for (let i = 0; i < bytes; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      shard[i] = (x >>> 16) & 0xff
    }
    out.push(shard)
  }
  return out
}

export const sha256Hex = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex")
