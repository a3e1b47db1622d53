// punktfunk/1's Reed-Solomon code: the Cauchy matrix and its inversion. The field and the
// multiply kernels are the host's one GF(2^8) implementation (gf256/gf256.h).
#include "reed_solomon.h"

#include <algorithm>
#include <cstring>

#include "gf256/gf256.h"

namespace pf::fec {
namespace {
// Rows of the parity matrix built per `dot` call: 16 × 255 bytes on the frame thread's stack.
constexpr int kRowsPerCall = 16;
}  // namespace

void init() { gf256::init(); }

uint8_t mul(uint8_t a, uint8_t b) { return gf256::mul(a, b); }

uint8_t inv(uint8_t a) { return gf256::inv(a); }

uint8_t coefficient(int i, int j, int k) {
  return inv(static_cast<uint8_t>((k + i) ^ j));
}

void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size) {
  uint8_t coef[kRowsPerCall * kMaxShards];
  for (int i0 = 0; i0 < m; i0 += kRowsPerCall) {
    const int rows = std::min(kRowsPerCall, m - i0);
    for (int i = 0; i < rows; i++)
      for (int j = 0; j < k; j++) coef[i * k + j] = coefficient(i0 + i, j, k);
    gf256::dot(coef, k, data, rows, parity + i0, size);
  }
}
int reconstruct(uint8_t* const* shards, const bool* present, int k, int m, size_t size, uint8_t* work) {
  int missing_data[kMaxShards];
  int missing = 0;
  for (int j = 0; j < k; j++)
    if (!present[j]) missing_data[missing++] = j;
  if (missing == 0) return 0;

  // Pick k present rows: the present data rows, then enough parity rows.
  int rows[kMaxShards];
  int n = 0;
  for (int j = 0; j < k; j++)
    if (present[j]) rows[n++] = j;
  for (int i = 0; i < m && n < k; i++)
    if (present[k + i]) rows[n++] = k + i;
  if (n < k) return -1;

  // matrix (k x k): the generator rows of the chosen shards; inverse built beside it.
  uint8_t* a = work;
  uint8_t* b = work + k * k;
  for (int r = 0; r < k; r++) {
    for (int c = 0; c < k; c++) {
      a[r * k + c] = rows[r] < k ? (rows[r] == c ? 1 : 0) : coefficient(rows[r] - k, c, k);
      b[r * k + c] = r == c ? 1 : 0;
    }
  }
  // Gauss-Jordan elimination over GF(2^8).
  for (int col = 0; col < k; col++) {
    int pivot = col;
    while (pivot < k && a[pivot * k + col] == 0) pivot++;
    if (pivot == k) return -1;  // cannot happen for a Cauchy system; guards a corrupted call
    if (pivot != col) {
      for (int c = 0; c < k; c++) {
        std::swap(a[pivot * k + c], a[col * k + c]);
        std::swap(b[pivot * k + c], b[col * k + c]);
      }
    }
    const uint8_t* scale = gf256::mul_row(inv(a[col * k + col]));
    for (int c = 0; c < k; c++) {
      a[col * k + c] = scale[a[col * k + c]];
      b[col * k + c] = scale[b[col * k + c]];
    }
    for (int r = 0; r < k; r++) {
      if (r == col) continue;
      const uint8_t f = a[r * k + col];
      if (f == 0) continue;
      const uint8_t* fr = gf256::mul_row(f);
      for (int c = 0; c < k; c++) {
        a[r * k + c] ^= fr[a[col * k + c]];
        b[r * k + c] ^= fr[b[col * k + c]];
      }
    }
  }
  // data[j] = sum_r inv[j][r] * chosen[r]; only the missing rows need computing, in one product
  // (their rows of the inverse gathered into `a`, the identity now). Missing data shards are not
  // among the chosen rows, so writing them does not disturb the inputs.
  const uint8_t* in[kMaxShards];
  uint8_t* out[kMaxShards];
  for (int r = 0; r < k; r++) in[r] = shards[rows[r]];
  for (int t = 0; t < missing; t++) {
    std::memcpy(a + t * k, b + missing_data[t] * k, static_cast<size_t>(k));
    out[t] = shards[missing_data[t]];
  }
  gf256::dot(a, k, in, missing, out, size);
  return missing;
}

}  // namespace pf::fec
