// GameStream parity (see gs_fec.h): nanors' matrix, built per block in chunks of rows, times the
// data shards through the host's one GF(2^8) implementation (gf256/gf256.h, SIMD). The encoder
// runs on the frame thread over every byte of every data shard, so the multiply kernel is the
// cost of a large frame: a 292 KB IDR is two blocks of ≈ 107 data × 22 parity 1,408-byte shards.
#include "gs_fec.h"

#include <algorithm>

#include "gf256/gf256.h"

namespace pf::gs::fec {
namespace {
// Rows of the parity matrix built per `dot` call: 16 × 255 bytes on the frame thread's stack.
constexpr int kRowsPerCall = 16;
}  // namespace

void init() { gf256::init(); }

uint8_t mul(uint8_t a, uint8_t b) { return gf256::mul(a, b); }

uint8_t inv(uint8_t a) { return gf256::inv(a); }

uint8_t coefficient(int row, int col, int m) { return inv(static_cast<uint8_t>((m + col) ^ row)); }

void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size) {
  uint8_t coef[kRowsPerCall * kMaxShards];
  for (int r0 = 0; r0 < m; r0 += kRowsPerCall) {
    const int rows = std::min(kRowsPerCall, m - r0);
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < k; c++) coef[r * k + c] = coefficient(r0 + r, c, m);
    gf256::dot(coef, k, data, rows, parity + r0, size);
  }
}

}  // namespace pf::gs::fec
