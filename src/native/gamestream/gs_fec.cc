// GameStream parity (see gs_fec.h). The field and its 64 KiB product table are punktfunk/1's
// (media/reed_solomon.h): only the matrix differs, so the tables are built once for both. Each
// multiply is a lookup: the encoder runs on the frame thread over every byte of every data shard.
#include "gs_fec.h"

#include <cstring>

#include "reed_solomon.h"

namespace pf::gs::fec {
namespace {
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
  const uint8_t* row = pf::fec::mul_row(w);
  if (first) {
    for (size_t i = 0; i < size; i++) dst[i] = row[src[i]];
  } else {
    for (size_t i = 0; i < size; i++) dst[i] ^= row[src[i]];
  }
}
}  // namespace

void init() { pf::fec::init(); }

uint8_t mul(uint8_t a, uint8_t b) {
  init();
  return pf::fec::mul(a, b);
}

uint8_t inv(uint8_t a) {
  init();
  return pf::fec::inv(a);
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
