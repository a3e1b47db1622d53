// GF(2^8) multiply by log/antilog tables built once at static-init time, and the fixed-matrix
// parity encoder for audio blocks (see audio_fec.h for why the matrix is a constant).
#include "audio_fec.h"

namespace pf::audio::fec {
const uint8_t kParity[2][4] = {{0x77, 0x40, 0x38, 0x0e}, {0xc7, 0xa7, 0x0d, 0x6c}};

namespace {
struct Tables {
  uint8_t exp[512];
  uint8_t log[256];
  Tables() {
    unsigned x = 1;
    for (int i = 0; i < 255; i++) {
      exp[i] = static_cast<uint8_t>(x);
      log[x] = static_cast<uint8_t>(i);
      x <<= 1;
      if (x & 0x100) x ^= 0x11d;
    }
    for (int i = 255; i < 512; i++) exp[i] = exp[i - 255];
    log[0] = 0;  // never read: mul() returns early for 0
  }
};
const Tables tables;
}  // namespace

uint8_t mul(uint8_t a, uint8_t b) {
  if (a == 0 || b == 0) return 0;
  return tables.exp[tables.log[a] + tables.log[b]];
}

void encode(const uint8_t* const data[4], uint8_t* const parity[2], size_t bytes) {
  for (int j = 0; j < 2; j++) {
    uint8_t* out = parity[j];
    for (size_t k = 0; k < bytes; k++) {
      out[k] = static_cast<uint8_t>(mul(kParity[j][0], data[0][k]) ^ mul(kParity[j][1], data[1][k]) ^
                                    mul(kParity[j][2], data[2][k]) ^ mul(kParity[j][3], data[3][k]));
    }
  }
}
}  // namespace pf::audio::fec
