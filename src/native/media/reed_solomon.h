// Reed-Solomon erasure code over GF(2^8), systematic: k data shards travel as they are, m parity
// shards are combinations of them, and any k of the k+m shards rebuild the data.
//
// Why a Cauchy matrix for the parity rows: every square submatrix of [I; C] is invertible, so
// recovery works for every pattern of up to m lost shards, with no special cases. The multiply
// work is gf256::dot (SIMD, gf256/gf256.h); the encoder runs on the frame thread, where a few
// microseconds matter and allocation is not allowed — the caller owns every buffer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::fec {

constexpr int kMaxShards = 255;  // k + m per block

// Builds the field's tables once; safe to call from several threads.
void init();

// parity[i][0..size) = sum_j C[i][j] * data[j][0..size), for i < m.
void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size);

// Rebuilds missing data shards in place. `shards` holds k + m pointers (data first, then parity);
// `present[i]` says which arrived. Needs at least k present; returns the number of data shards
// rebuilt, or -1 when fewer than k arrived. `work` must hold k*k*2 bytes (no allocation here).
int reconstruct(uint8_t* const* shards, const bool* present, int k, int m, size_t size, uint8_t* work);

// GF(2^8) helpers (gf256's), exposed for the known-answer tests.
uint8_t mul(uint8_t a, uint8_t b);
uint8_t inv(uint8_t a);
// The parity coefficient C[i][j] = 1 / (x_i + y_j), x_i = k + i, y_j = j.
uint8_t coefficient(int i, int j, int k);

}  // namespace pf::fec
