// GameStream parity (see gs_fec.h). One 64 KiB product table makes each multiply a lookup: the
// encoder runs on the frame thread once per FEC block, over every byte of every data shard.
#include "gs_fec.h"

#include <cstring>
#include <mutex>

namespace pf::gs::fec {
namespace {
uint8_t g_exp[512];
uint8_t g_log[256];
uint8_t g_product[256][256];
std::once_flag g_once;

void build() {
  unsigned x = 1;
  for (int i = 0; i < 255; i++) {
    g_exp[i] = static_cast<uint8_t>(x);
    g_log[x] = static_cast<uint8_t>(i);
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (int i = 255; i < 512; i++) g_exp[i] = g_exp[i - 255];
  for (int a = 0; a < 256; a++)
    for (int b = 0; b < 256; b++) g_product[a][b] = (a == 0 || b == 0) ? 0 : g_exp[g_log[a] + g_log[b]];
}

// dst (^)= w · src over `size` bytes; `first` overwrites instead of accumulating.
inline void accumulate(uint8_t* dst, const uint8_t* src, uint8_t w, size_t size, bool first) {
  if (w == 0) {
    if (first) std::memset(dst, 0, size);
    return;
  }
  if (w == 1) {
    if (first) {
      std::memcpy(dst, src, size);
    } else {
      for (size_t i = 0; i < size; i++) dst[i] ^= src[i];
    }
    return;
  }
  const uint8_t* row = g_product[w];
  if (first) {
    for (size_t i = 0; i < size; i++) dst[i] = row[src[i]];
  } else {
    for (size_t i = 0; i < size; i++) dst[i] ^= row[src[i]];
  }
}
}  // namespace

void init() { std::call_once(g_once, build); }

uint8_t mul(uint8_t a, uint8_t b) {
  init();
  return g_product[a][b];
}

uint8_t inv(uint8_t a) {
  init();
  return a == 0 ? 0 : g_exp[255 - g_log[a]];
}

uint8_t coefficient(int row, int col, int m) { return inv(static_cast<uint8_t>((m + col) ^ row)); }

void encode(const uint8_t* const* data, int k, uint8_t* const* parity, int m, size_t size) {
  init();
  for (int r = 0; r < m; r++) {
    for (int c = 0; c < k; c++) accumulate(parity[r], data[c], coefficient(r, c, m), size, c == 0);
    if (k == 0) std::memset(parity[r], 0, size);
  }
}

}  // namespace pf::gs::fec
