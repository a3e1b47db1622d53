// GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator 2: the one field every
// Reed-Solomon code of the host works in — punktfunk/1's video parity (media/reed_solomon.h),
// GameStream's nanors-compatible video parity (gamestream/gs_fec.h) and GameStream's audio parity
// (audio/audio_fec.h). Only their matrices differ; the work is the same "rows of coefficients ×
// shards" product, so it lives here once, in `dot`.
//
// Why our own SIMD kernels rather than ISA-L (Debian's libisal-dev, ec_encode_data) or nanors
// vendored: measured side by side on this project's machine (scripts/fec-library-comparison.cc;
// BENCHMARKS.md, "FEC kernels"), one 211 + 43 block of 1,408-byte shards (GameStream, a 290 KB
// frame) takes 208 µs with our best kernel here, 224 µs with ISA-L given its tables, 286 µs with
// ISA-L building them (ec_init_tables, 32 bytes per coefficient, which every GameStream block
// shape needs: the matrix depends on the parity count), 241 µs with nanors' kernel (a row at a
// time: a pass over the parity shard per data shard) and 7,539 µs with the byte-table loop this
// replaced; a punktfunk/1 720p frame (14 + 3 × 1,320 B) 1.0 µs ours and ISA-L's, 1.5 µs nanors'.
// Both of issue 15's targets are met by any of them, so the choice was about what comes with the
// code: ISA-L is one more library on every install and in every sanitizer build; nanors' encoder
// allocates per call and builds its own (GameStream's) matrix, where punktfunk/1 and audio use
// others. Here the tables are built once for all 256 coefficients, nothing is allocated per call
// (the frame thread calls this), the scalar fallback is the old code, and it builds wherever g++
// does (other architectures get the scalar kernel). The kernels, best first (picked once, at
// init(), from what the CPU has):
//   - gfni512 AVX-512 + GFNI: one vgf2p8affineqb per 64 bytes per coefficient. Multiplication by a
//             constant is linear over GF(2), an 8×8 bit matrix, whatever the polynomial (the
//             instruction set's own multiply, vgf2p8mulb, is fixed to AES's 0x11b: unusable here)
//   - gfni    the same on 32-byte AVX vectors
//   - avx2    the split-table ("nibble") method: c·x = c·(x & 15) ^ c·(x & 0xf0), two 16-entry
//             tables per coefficient looked up 32 bytes at a time with vpshufb
//   - ssse3   the same on 16-byte vectors (pshufb), for x86-64 without AVX2
//   - scalar  one 64 KiB product table, a lookup per byte: the code before the SIMD kernels, kept
//             as the fallback for other CPUs and as the reference the others are tested against.
// All produce the same bytes: the known-answer tests run each one the CPU has.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::gf256 {

enum class Kernel : int { Scalar = 0, Ssse3 = 1, Avx2 = 2, Gfni = 3, Gfni512 = 4 };
constexpr int kKernels = 5;

// Builds the tables and picks the kernel, once; safe from several threads.
void init();

uint8_t mul(uint8_t a, uint8_t b);
uint8_t inv(uint8_t a);  // inv(0) = 0
// The 256 products c·x, x = 0..255: for row operations on small matrices (a decoder's inversion),
// where one lookup per byte beats a call per multiply.
const uint8_t* mul_row(uint8_t c);

// out[r][0..size) = Σ_c coef[r·k + c] · in[c][0..size), for r < rows (overwrites out).
// `out` must not overlap any `in`. k ≥ 0 (k = 0 zero-fills), rows ≥ 0; no alignment needed.
void dot(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size);

// The kernel `dot` uses, and a way to pick another (tests and the bench compare them; returns
// false, changing nothing, when this CPU lacks it).
Kernel kernel();
bool set_kernel(Kernel k);
bool supported(Kernel k);
const char* kernel_name(Kernel k);
// By name ("scalar", "ssse3", "avx2", "gfni", "gfni512"); false when unknown or unsupported.
bool set_kernel_by_name(const char* name);

}  // namespace pf::gf256
