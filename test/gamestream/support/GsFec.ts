/**
 * Reed-Solomon erasure decoding for GameStream video, written from the description of the code a
 * Moonlight client uses (nanors): GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1, systematic, and
 * parity shard r of a block with m parity shards weighting data shard c by 1 / ((m + c) XOR r).
 *
 * Why the test client has its own: the host's parity must be rebuilt by a decoder that shares
 * nothing with the host's encoder. The known-answer test checks this file against parity nanors
 * itself produced (`fixtures/rs-nanors.json`), so agreement with the host means agreement with
 * what a Moonlight client computes. Speed is irrelevant here (tests only).
 */

const EXP = new Uint8Array(512)
const LOG = new Uint8Array(256)
{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP[i] = x
    LOG[x] = i
    x <<= 1
    if (x & 0x100) x ^= 0x11d
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!
}

export const gfMul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!)

export const gfInv = (a: number): number => {
  if (a === 0) throw new RangeError("0 has no inverse in GF(2^8)")
  return EXP[255 - LOG[a]!]!
}

/** The weight of data shard `col` in parity shard `row` (m parity shards in the block). */
export const parityWeight = (row: number, col: number, m: number): number => gfInv(((m + col) ^ row) & 0xff)

/** Row `i` of the block's generator: identity for data shards, the weights for parity shards. */
const generatorRow = (i: number, k: number, m: number): Array<number> =>
  Array.from({ length: k }, (_, c) => (i < k ? (c === i ? 1 : 0) : parityWeight(i - k, c, m)))

/** Parity of equal-length data shards (for round trips in tests). */
export const encodeParity = (data: ReadonlyArray<Uint8Array>, m: number): Array<Uint8Array> => {
  const k = data.length
  const size = data[0]?.length ?? 0
  return Array.from({ length: m }, (_, r) => {
    const out = new Uint8Array(size)
    for (let c = 0; c < k; c++) {
      const w = parityWeight(r, c, m)
      const src = data[c]!
      for (let i = 0; i < size; i++) out[i]! ^= gfMul(w, src[i]!)
    }
    return out
  })
}

/** Inverts a k×k matrix over GF(2^8) (Gauss-Jordan); undefined when singular. */
const invert = (matrix: ReadonlyArray<ReadonlyArray<number>>): Array<Array<number>> | undefined => {
  const k = matrix.length
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: k }, (_, j) => (i === j ? 1 : 0))])
  for (let col = 0; col < k; col++) {
    const pivot = a.findIndex((row, i) => i >= col && row[col] !== 0)
    if (pivot < 0) return undefined
    ;[a[col], a[pivot]] = [a[pivot]!, a[col]!]
    const p = a[col]!
    const scale = gfInv(p[col]!)
    for (let j = 0; j < 2 * k; j++) p[j] = gfMul(p[j]!, scale)
    for (let i = 0; i < k; i++) {
      if (i === col) continue
      const row = a[i]!
      const f = row[col]!
      if (f === 0) continue
      for (let j = 0; j < 2 * k; j++) row[j]! ^= gfMul(f, p[j]!)
    }
  }
  return a.map((row) => row.slice(k))
}

/**
 * Rebuilds the missing data shards of one block. `shards` holds k data then m parity shards,
 * `undefined` where lost; present ones must all be `size` bytes (pad short ones with zeros
 * first, as the client does). Returns the k data shards, or undefined with fewer than k present.
 */
export const reconstruct = (
  shards: ReadonlyArray<Uint8Array | undefined>,
  k: number,
  m: number,
  size: number
): Array<Uint8Array> | undefined => {
  const missing = Array.from({ length: k }, (_, i) => i).filter((i) => shards[i] === undefined)
  if (missing.length === 0) return shards.slice(0, k) as Array<Uint8Array>
  const rows: Array<number> = []
  for (let i = 0; i < k + m && rows.length < k; i++) if (shards[i] !== undefined) rows.push(i)
  if (rows.length < k) return undefined
  const inverse = invert(rows.map((i) => generatorRow(i, k, m)))
  if (inverse === undefined) return undefined
  const out = shards.slice(0, k) as Array<Uint8Array | undefined>
  for (const lost of missing) {
    const rebuilt = new Uint8Array(size)
    const weights = inverse[lost]!
    rows.forEach((shardIndex, j) => {
      const w = weights[j]!
      if (w === 0) return
      const src = shards[shardIndex]!
      for (let b = 0; b < size; b++) rebuilt[b]! ^= gfMul(w, src[b]!)
    })
    out[lost] = rebuilt
  }
  return out as Array<Uint8Array>
}
