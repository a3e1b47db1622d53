/**
 * fast-check arbitraries for fuzzing parsers of network input: random bytes, and valid messages
 * mutated the ways a broken or hostile peer would — bytes overwritten, cut short, extended,
 * slices repeated or dropped; and a stream cut into chunks anywhere, as TCP may deliver it.
 */
import fc from "fast-check"

/** Cuts `bytes` at the given offsets (any order, duplicates and out-of-range ones allowed). */
export const cut = (bytes: Buffer, at: ReadonlyArray<number>): Array<Buffer> => {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Array<Buffer> = []
  let from = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p))
    from = p
  }
  return out
}


export type Edit = readonly [at: number, value: number, kind: "flip" | "cut" | "extend" | "dup" | "drop"]

export const edits = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom("flip", "cut", "extend", "dup", "drop")), {
  minLength: 1,
  maxLength: 4
})

/** Applies edits to a copy of `bytes`. */
export const applyEdits = (bytes: Uint8Array, list: ReadonlyArray<Edit>): Buffer => {
  let b = Buffer.from(bytes)
  for (const [at, value, kind] of list) {
    const i = b.length === 0 ? 0 : at % b.length
    if (kind === "flip") {
      if (b.length > 0) b[i] = value
    } else if (kind === "cut") b = b.subarray(0, i)
    else if (kind === "extend") b = Buffer.concat([b, Buffer.alloc(value % 40, value)])
    else if (kind === "dup") b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + value), b.subarray(i)])
    else b = Buffer.concat([b.subarray(0, i), b.subarray(i + (value % 8) + 1)])
  }
  return b
}

/** `base` mutated by one to four edits. */
export const mutated = (base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Buffer> =>
  fc.tuple(base, edits).map(([bytes, list]) => applyEdits(bytes, list))

export const randomBytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u))

/** Valid messages, mutated ones and random bytes, in equal shares. */
export const hostile = (valid: fc.Arbitrary<Uint8Array>, maxRandom = 300): fc.Arbitrary<Buffer> =>
  fc.oneof(valid.map((v) => Buffer.from(v)), mutated(valid), randomBytes(maxRandom))

/** A string mutated at the byte level (latin1: one char per byte). */
export const hostileText = (valid: fc.Arbitrary<string>, maxRandom = 300): fc.Arbitrary<string> =>
  hostile(valid.map((s) => Buffer.from(s, "latin1")), maxRandom).map((b) => b.toString("latin1"))
