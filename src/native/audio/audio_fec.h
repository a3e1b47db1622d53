// Audio FEC parity: Reed-Solomon over GF(2^8) (polynomial x^8+x^4+x^3+x^2+1, 0x11d) with 4 data
// and 2 parity shards. The parity rows are not derived from a Vandermonde or Cauchy construction
// at run time: GameStream fixes them, and Moonlight installs the same 2×4 matrix into its decoder
// (rows {0x77,0x40,0x38,0x0e} and {0xc7,0xa7,0x0d,0x6c}), so parity[j] = Σ_i P[j][i]·data[i]
// byte by byte is exactly what the client can invert.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pf::audio::fec {
extern const uint8_t kParity[2][4];

uint8_t mul(uint8_t a, uint8_t b);

// parity[0..1] (each `bytes` long) from data[0..3] (each `bytes` long).
void encode(const uint8_t* const data[4], uint8_t* const parity[2], size_t bytes);
}  // namespace pf::audio::fec
