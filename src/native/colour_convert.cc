// BGRX → I420 (see colour_convert.h for why and for the colour definition).
//
// Fixed point: luma = (cr·R + cg·G + cb·B + 16·2^15 + 2^14) >> 15; chroma from the sums of the
// 2×2 block's four pixels, so the same coefficients with two more bits of shift:
// (cr·ΣR + cg·ΣG + cb·ΣB + 128·2^17 + 2^16) >> 17. Both paths compute exactly this.
#include "colour_convert.h"

#include <cstddef>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PF_HAVE_X86 1
#endif

namespace pf {

namespace {

// BT.601 with limited-range scaling (219/255 luma, 224/255 chroma), × 2^15.
constexpr int kYR = 8414, kYG = 16520, kYB = 3208;
constexpr int kUR = -4857, kUG = -9535, kUB = 14392;
constexpr int kVR = 14392, kVG = -12052, kVB = -2340;
constexpr int kYBias = (16 << 15) + (1 << 14);
constexpr int kCBias = (128 << 17) + (1 << 16);

inline uint8_t luma(const uint8_t* p) {
  return static_cast<uint8_t>((kYR * p[2] + kYG * p[1] + kYB * p[0] + kYBias) >> 15);
}

// Columns [x_begin, width) of one pair of rows (x_begin even).
void convert_pair_portable(const uint8_t* r0, const uint8_t* r1, int x_begin, int width, uint8_t* y0, uint8_t* y1,
                           uint8_t* u, uint8_t* v) {
  for (int x = x_begin; x < width; x += 2) {
    const uint8_t* a = r0 + 4 * x;
    const uint8_t* b = r1 + 4 * x;
    y0[x] = luma(a), y0[x + 1] = luma(a + 4);
    y1[x] = luma(b), y1[x + 1] = luma(b + 4);
    const int sb = a[0] + a[4] + b[0] + b[4], sg = a[1] + a[5] + b[1] + b[5], sr = a[2] + a[6] + b[2] + b[6];
    u[x / 2] = static_cast<uint8_t>((kUR * sr + kUG * sg + kUB * sb + kCBias) >> 17);
    v[x / 2] = static_cast<uint8_t>((kVR * sr + kVG * sg + kVB * sb + kCBias) >> 17);
  }
}

#ifdef PF_HAVE_X86

// Sixteen 16-bit lanes of four (B, G, R, X) pixels' coefficients, X weighted 0 so whatever the
// source leaves in the padding byte (X servers differ) never reaches the picture.
__attribute__((target("avx2"))) inline __m256i coefficients(int r, int g, int b) {
  return _mm256_setr_epi16(b, g, r, 0, b, g, r, 0, b, g, r, 0, b, g, r, 0);
}

// 8 pixels (32 bytes) → their 8 luma values as int32, in pixel order within each 128-bit lane
// (lane 0: pixels 0–3, lane 1: pixels 4–7).
__attribute__((target("avx2"))) inline __m256i luma8(__m256i px, __m256i cy, __m256i bias) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi8(px, zero), cy);  // pixels 0,1 | 4,5: (B·cb+G·cg, R·cr)
  const __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi8(px, zero), cy);  // pixels 2,3 | 6,7
  return _mm256_srai_epi32(_mm256_add_epi32(_mm256_hadd_epi32(lo, hi), bias), 15);
}

// Two groups of 8 pixels' vertical sums (16-bit per channel, unpacked lo/hi as in luma8) → the
// 8 chroma values of those 16 columns as int32, lane-ordered: lane 0 = c0 c1 c4 c5, lane 1 =
// c2 c3 c6 c7.
__attribute__((target("avx2"))) inline __m256i chroma8(__m256i lo_a, __m256i hi_a, __m256i lo_b, __m256i hi_b,
                                                       __m256i cc, __m256i bias) {
  const __m256i a = _mm256_hadd_epi32(_mm256_madd_epi16(lo_a, cc), _mm256_madd_epi16(hi_a, cc));  // per column
  const __m256i b = _mm256_hadd_epi32(_mm256_madd_epi16(lo_b, cc), _mm256_madd_epi16(hi_b, cc));
  return _mm256_srai_epi32(_mm256_add_epi32(_mm256_hadd_epi32(a, b), bias), 17);  // per column pair
}

// 32 int32 values in four vectors, each lane-ordered as luma8 leaves them → 32 bytes in order.
__attribute__((target("avx2"))) inline __m256i pack_luma32(__m256i a, __m256i b, __m256i c, __m256i d) {
  // packs/packus work per 128-bit lane: the result holds 4-pixel groups 0 2 4 6 | 1 3 5 7.
  const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Two chroma8 results (columns 0–7 and 8–15 of a 32-pixel span) → 16 bytes in order.
__attribute__((target("avx2"))) inline __m128i pack_chroma16(__m256i a, __m256i b) {
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  const __m256i words = _mm256_packs_epi32(_mm256_permutevar8x32_epi32(a, order),
                                           _mm256_permutevar8x32_epi32(b, order));  // c0-3 c8-11 | c4-7 c12-15
  const __m256i bytes = _mm256_packus_epi16(words, words);  // c0-3 c8-11 (twice) | c4-7 c12-15 (twice)
  const __m256i in_order = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
  return _mm256_castsi256_si128(in_order);
}

// One pair of rows, 32 pixels per step; returns the first column left for the portable code.
__attribute__((target("avx2"))) int convert_pair_avx2(const uint8_t* r0, const uint8_t* r1, int width, uint8_t* y0,
                                                      uint8_t* y1, uint8_t* u, uint8_t* v) {
  const __m256i cy = coefficients(kYR, kYG, kYB);
  const __m256i cu = coefficients(kUR, kUG, kUB);
  const __m256i cv = coefficients(kVR, kVG, kVB);
  const __m256i ybias = _mm256_set1_epi32(kYBias);
  const __m256i cbias = _mm256_set1_epi32(kCBias);
  const __m256i zero = _mm256_setzero_si256();
  int x = 0;
  for (; x + 32 <= width; x += 32) {
    __m256i top[4], bottom[4];
    for (int k = 0; k < 4; k++) {
      top[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r0 + 4 * (x + 8 * k)));
      bottom[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r1 + 4 * (x + 8 * k)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y0 + x),
                        pack_luma32(luma8(top[0], cy, ybias), luma8(top[1], cy, ybias), luma8(top[2], cy, ybias),
                                    luma8(top[3], cy, ybias)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y1 + x),
                        pack_luma32(luma8(bottom[0], cy, ybias), luma8(bottom[1], cy, ybias),
                                    luma8(bottom[2], cy, ybias), luma8(bottom[3], cy, ybias)));
    // Vertical sums of the two rows per channel, 16-bit (at most 2·255 here, 4·255 after madd's pairs).
    __m256i lo[4], hi[4];
    for (int k = 0; k < 4; k++) {
      lo[k] = _mm256_add_epi16(_mm256_unpacklo_epi8(top[k], zero), _mm256_unpacklo_epi8(bottom[k], zero));
      hi[k] = _mm256_add_epi16(_mm256_unpackhi_epi8(top[k], zero), _mm256_unpackhi_epi8(bottom[k], zero));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(u + x / 2),
                     pack_chroma16(chroma8(lo[0], hi[0], lo[1], hi[1], cu, cbias),
                                   chroma8(lo[2], hi[2], lo[3], hi[3], cu, cbias)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(v + x / 2),
                     pack_chroma16(chroma8(lo[0], hi[0], lo[1], hi[1], cv, cbias),
                                   chroma8(lo[2], hi[2], lo[3], hi[3], cv, cbias)));
  }
  return x;
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

#endif  // PF_HAVE_X86

void convert(const uint8_t* bgrx, int stride, int width, int row_begin, int row_end, const PlanesI420& out,
             bool simd) {
  for (int row = row_begin; row + 1 < row_end; row += 2) {
    const uint8_t* r0 = bgrx + static_cast<ptrdiff_t>(row) * stride;
    const uint8_t* r1 = r0 + stride;
    uint8_t* y0 = out.y + static_cast<ptrdiff_t>(row) * out.y_stride;
    uint8_t* y1 = y0 + out.y_stride;
    uint8_t* u = out.u + static_cast<ptrdiff_t>(row / 2) * out.u_stride;
    uint8_t* v = out.v + static_cast<ptrdiff_t>(row / 2) * out.v_stride;
    int x = 0;
#ifdef PF_HAVE_X86
    if (simd) x = convert_pair_avx2(r0, r1, width, y0, y1, u, v);
#else
    (void)simd;
#endif
    convert_pair_portable(r0, r1, x, width, y0, y1, u, v);
  }
}

}  // namespace

void bgrx_to_i420(const uint8_t* bgrx, int stride, int width, int row_begin, int row_end, const PlanesI420& out) {
#ifdef PF_HAVE_X86
  convert(bgrx, stride, width, row_begin, row_end, out, cpu_has_avx2());
#else
  convert(bgrx, stride, width, row_begin, row_end, out, false);
#endif
}

void bgrx_to_i420_portable(const uint8_t* bgrx, int stride, int width, int row_begin, int row_end,
                           const PlanesI420& out) {
  convert(bgrx, stride, width, row_begin, row_end, out, false);
}

const char* colour_convert_path() {
#ifdef PF_HAVE_X86
  return cpu_has_avx2() ? "avx2" : "portable";
#else
  return "portable";
#endif
}

}  // namespace pf
