// BGRX → YUV 4:2:0 (I420: three planes) for the encoder's input: the `submit` stage's colour
// conversion.
//
// Why our own and not libswscale: every source hands over 32-bit BGRX at the encoder's size, so
// nothing is scaled, and libswscale (FFmpeg 5.1) has no unscaled path for 32-bit RGB to YUV: it
// runs its general scaler — input to 15-bit intermediates, a horizontal and a vertical filter,
// dither on output — which cost ≈ 3.7–4.9 ms per 1080p frame here with SWS_POINT, and 2.3–6 ms
// with the other flags (FAST_BILINEAR, BILINEAR, ACCURATE_RND, FULL_CHR_H_INP, NV12 out) or the
// picture split over two threads. The conversion itself is a fixed 3×3 matrix: this AVX2 loop
// does it in ≈ 1.0–1.3 ms on one core, the portable loop in ≈ 3.9 ms (BENCHMARKS.md, issue 12).
//
// Colour: BT.601, limited range (Y 16..235, Cb/Cr 16..240) — what libswscale produces by default
// for this conversion and what an H.264 stream without colour description means to decoders
// (Moonlight, FFmpeg). Coefficients in 15-bit fixed point, rounded to nearest; each chroma
// sample is the mean of its 2×2 block (centred siting). Agrees with libswscale to ±1 in luma.
//
// Invariant: the AVX2 path and the portable path give bit-identical output (a test compares
// them); which one runs is decided once per process from the CPU.
#pragma once
#include <cstdint>

namespace pf {

struct PlanesI420 {
  uint8_t* y;
  int y_stride;
  uint8_t* u;
  int u_stride;
  uint8_t* v;
  int v_stride;
};

// Converts rows [row_begin, row_end) of a width×height BGRX picture (both even; row_begin and
// row_end even) into the matching rows of `out`. Rows split this way can run on separate threads.
void bgrx_to_i420(const uint8_t* bgrx, int stride, int width, int row_begin, int row_end, const PlanesI420& out);

// The same with the portable code only (tests compare it with the SIMD path).
void bgrx_to_i420_portable(const uint8_t* bgrx, int stride, int width, int row_begin, int row_end,
                           const PlanesI420& out);

// "avx2" or "portable": the path bgrx_to_i420 takes on this CPU.
const char* colour_convert_path();

}  // namespace pf
