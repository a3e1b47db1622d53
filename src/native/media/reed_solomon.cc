// GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator 2.
#include "reed_solomon.h"

#include <cstring>
#include <mutex>

namespace pf::fec {
namespace {
uint8_t g_exp[512];
uint8_t g_log[256];
uint8_t g_mul[256][256];
std::once_flag g_once;

void build() {
  int x = 1;
  for (int i = 0; i < 255; i++) {
    g_exp[i] = static_cast<uint8_t>(x);
    g_log[x] = static_cast<uint8_t>(i);
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (int i = 255; i < 512; i++) g_exp[i] = g_exp[i - 255];
  g_log[0] = 0;  // never used: mul() handles zero first
  for (int a = 0; a < 256; a++)
    for (int b = 0; b < 256; b++)
      g_mul[a][b] = (a == 0 || b == 0) ? 0 : g_exp[g_log[a] + g_log[b]];
}

// dst ^= c * src, the inner loop of both encode and decode.
inline void mul_add(uint8_t* dst, const uint8_t* src, uint8_t c, size_t size) {
  if (c == 0) return;
  const uint8_t* row = g_mul[c];
  if (c == 1) {
    for (size_t i = 0; i < size; i++) dst[i] ^= src[i];
    return;
  }
  for (size_t i = 0; i < size; i++) dst[i] ^= row[src[i]];
}
}  // namespace

void init() { std::call_once(g_once, build); }

uint8_t mul(uint8_t a, uint8_t b) { return g_mul[a][b]; }

const uint8_t* mul_row(uint8_t c) { return g_mul[c]; }

uint8_t inv(uint8_t a) { return a == 0 ? 0 : g_exp[255 - g_log[a]]; }

uint8_t coefficient(int i, int j, int k) {
  return inv(static_cast<uint8_t>((k + i) ^ j));
}

void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size) {
  for (int i = 0; i < m; i++) {
    std::memset(parity[i], 0, size);
    for (int j = 0; j < k; j++) mul_add(parity[i], data[j], coefficient(i, j, k), size);
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
    const uint8_t scale = inv(a[col * k + col]);
    for (int c = 0; c < k; c++) {
      a[col * k + c] = mul(a[col * k + c], scale);
      b[col * k + c] = mul(b[col * k + c], scale);
    }
    for (int r = 0; r < k; r++) {
      if (r == col) continue;
      const uint8_t f = a[r * k + col];
      if (f == 0) continue;
      for (int c = 0; c < k; c++) {
        a[r * k + c] ^= mul(f, a[col * k + c]);
        b[r * k + c] ^= mul(f, b[col * k + c]);
      }
    }
  }
  // data[j] = sum_r inv[j][r] * chosen[r]; only the missing rows need computing. Missing data
  // shards are not among the chosen rows, so writing them does not disturb the inputs.
  for (int t = 0; t < missing; t++) {
    const int j = missing_data[t];
    std::memset(shards[j], 0, size);
    for (int r = 0; r < k; r++) mul_add(shards[j], shards[rows[r]], b[j * k + r], size);
  }
  return missing;
}

}  // namespace pf::fec
