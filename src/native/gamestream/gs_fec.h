// Reed-Solomon parity for GameStream video, compatible with the decoder Moonlight runs.
//
// Why a second Reed-Solomon next to media/reed_solomon.h: a stock Moonlight client rebuilds lost
// video packets with nanors (`reed_solomon_decode`), which inverts one fixed matrix. Parity only
// helps if it was made with that same matrix, so this file encodes with it: GF(2^8) modulo
// x^8 + x^4 + x^3 + x^2 + 1, and parity row r (0 ≤ r < m) weighting data shard c (0 ≤ c < k)
// by the inverse of ((m + c) XOR r) — a Cauchy matrix whose x-values are offset by the parity
// count (punktfunk/1's own matrix offsets by the data count instead, so the two differ).
// The known-answer test (test/gamestream/video-known-answers.test.ts) checks this against
// numbers nanors itself produced.
//
// Allocation-free: the caller owns every shard; the field and its SIMD multiply are gf256/gf256.h.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::gs::fec {

constexpr int kMaxShards = 255;  // data + parity in one block

void init();

uint8_t mul(uint8_t a, uint8_t b);
uint8_t inv(uint8_t a);
// The weight of data shard `col` in parity shard `row` of a block with `m` parity shards.
uint8_t coefficient(int row, int col, int m);

// parity[r][0..size) = Σ_c coefficient(r, c, m) · data[c][0..size), for r < m.
void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size);

}  // namespace pf::gs::fec
