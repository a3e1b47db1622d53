// The fixed-matrix parity encoder for audio blocks (see audio_fec.h for why the matrix is a
// constant), through the host's one GF(2^8) implementation (gf256/gf256.h).
#include "audio_fec.h"

#include "gf256/gf256.h"

namespace pf::audio::fec {
const uint8_t kParity[2][4] = {{0x77, 0x40, 0x38, 0x0e}, {0xc7, 0xa7, 0x0d, 0x6c}};

uint8_t mul(uint8_t a, uint8_t b) { return gf256::mul(a, b); }

void encode(const uint8_t* const data[4], uint8_t* const parity[2], size_t bytes) {
  gf256::dot(&kParity[0][0], 4, data, 2, parity, bytes);
}
}  // namespace pf::audio::fec
