// The field's tables, the five `dot` kernels and the choice between them (see gf256.h).
//
// Every SIMD kernel has the same shape, the one ISA-L's dot products use: rows are done in groups
// of kGroup; for each vector-wide column of the shards (16, 32 or 64 bytes), the group's accumulators start at
// zero, every data shard's vector is loaded once and multiplied into each accumulator of the
// group, and the accumulators are stored. A data byte is thus read once per group rather than
// once per parity row (a row-at-a-time loop re-reads and re-writes the parity shard for each data
// shard), and no output is read back. The last partial vector of a shard is done by stepping back
// to size − width: those bytes are computed twice, to the same value, since outputs are written,
// never accumulated in memory. Shards shorter than a vector go to the scalar kernel.
//
// Coefficients are looked up per use (coef byte → its 32-byte split table or 8-byte affine
// matrix, all 256 built once, 10 KiB, resident in L1): no per-call table build, no allocation.
#include "gf256.h"

#include <atomic>
#include <cstring>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PF_GF256_X86 1
#endif

namespace pf::gf256 {
namespace {
uint8_t g_exp[512];
uint8_t g_log[256];
uint8_t g_mul[256][256];
// split[c]: bytes 0..15 = c·x for x < 16, bytes 16..31 = c·(x << 4) for x < 16.
alignas(64) uint8_t g_split[256][32];
// affine[c]: the 8×8 bit matrix of x ↦ c·x in vgf2p8affineqb's layout (byte 7 − i is the mask of
// input bits that make output bit i).
alignas(64) uint64_t g_affine[256];
std::once_flag g_once;

using DotFn = void (*)(const uint8_t*, int, const uint8_t* const*, int, uint8_t* const*, size_t);
std::atomic<DotFn> g_dot{nullptr};
std::atomic<int> g_kernel{0};
bool g_supported[kKernels] = {true, false, false, false, false};

// Rows per pass over the data: their accumulators stay in registers. 4 measured best for every
// kernel here (6 and 8 were slower: more table loads per data vector, spills for the split tables).
constexpr int kGroup = 4;

// ── scalar ─────────────────────────────────────────────────────────────────────────────────────
void dot_scalar(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  for (int r = 0; r < rows; r++) {
    uint8_t* dst = out[r];
    if (k == 0) std::memset(dst, 0, size);
    for (int c = 0; c < k; c++) {
      const uint8_t w = coef[r * k + c];
      const uint8_t* src = in[c];
      const uint8_t* row = g_mul[w];
      if (c == 0) {
        for (size_t i = 0; i < size; i++) dst[i] = row[src[i]];
      } else if (w == 1) {
        for (size_t i = 0; i < size; i++) dst[i] ^= src[i];
      } else if (w != 0) {
        for (size_t i = 0; i < size; i++) dst[i] ^= row[src[i]];
      }
    }
  }
}

#if PF_GF256_X86
// ── ssse3 ──────────────────────────────────────────────────────────────────────────────────────
template <int R>
__attribute__((target("ssse3"))) void group_ssse3(const uint8_t* coef, int k, const uint8_t* const* in,
                                                   uint8_t* const* out, size_t size) {
  const __m128i mask = _mm_set1_epi8(0x0f);
  size_t x = 0;
  for (;;) {
    if (x + 16 > size) {
      if (x == size) break;
      x = size - 16;
    }
    __m128i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm_setzero_si128();
    for (int c = 0; c < k; c++) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[c] + x));
      const __m128i lo = _mm_and_si128(v, mask);
      const __m128i hi = _mm_and_si128(_mm_srli_epi64(v, 4), mask);
      for (int r = 0; r < R; r++) {
        const uint8_t* t = g_split[coef[r * k + c]];
        const __m128i tl = _mm_load_si128(reinterpret_cast<const __m128i*>(t));
        const __m128i th = _mm_load_si128(reinterpret_cast<const __m128i*>(t + 16));
        acc[r] = _mm_xor_si128(acc[r], _mm_xor_si128(_mm_shuffle_epi8(tl, lo), _mm_shuffle_epi8(th, hi)));
      }
    }
    for (int r = 0; r < R; r++) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[r] + x), acc[r]);
    x += 16;
  }
}

// ── avx2 ───────────────────────────────────────────────────────────────────────────────────────
template <int R>
__attribute__((target("avx2"))) void group_avx2(const uint8_t* coef, int k, const uint8_t* const* in,
                                                 uint8_t* const* out, size_t size) {
  const __m256i mask = _mm256_set1_epi8(0x0f);
  size_t x = 0;
  for (;;) {
    if (x + 32 > size) {
      if (x == size) break;
      x = size - 32;
    }
    __m256i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int c = 0; c < k; c++) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in[c] + x));
      const __m256i lo = _mm256_and_si256(v, mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi64(v, 4), mask);
      for (int r = 0; r < R; r++) {
        const uint8_t* t = g_split[coef[r * k + c]];
        const __m256i tl = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
        const __m256i th = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t + 16)));
        acc[r] = _mm256_xor_si256(acc[r], _mm256_xor_si256(_mm256_shuffle_epi8(tl, lo), _mm256_shuffle_epi8(th, hi)));
      }
    }
    for (int r = 0; r < R; r++) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[r] + x), acc[r]);
    x += 32;
  }
}

// ── gfni ───────────────────────────────────────────────────────────────────────────────────────
template <int R>
__attribute__((target("avx2,gfni"))) void group_gfni(const uint8_t* coef, int k, const uint8_t* const* in,
                                                      uint8_t* const* out, size_t size) {
  size_t x = 0;
  for (;;) {
    if (x + 32 > size) {
      if (x == size) break;
      x = size - 32;
    }
    __m256i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int c = 0; c < k; c++) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in[c] + x));
      for (int r = 0; r < R; r++) {
        const __m256i a = _mm256_set1_epi64x(static_cast<long long>(g_affine[coef[r * k + c]]));
        acc[r] = _mm256_xor_si256(acc[r], _mm256_gf2p8affine_epi64_epi8(v, a, 0));
      }
    }
    for (int r = 0; r < R; r++) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[r] + x), acc[r]);
    x += 32;
  }
}

// ── avx512 + gfni ──────────────────────────────────────────────────────────────────────────────
template <int R>
__attribute__((target("avx512f,avx512bw,gfni"))) void group_gfni512(const uint8_t* coef, int k, const uint8_t* const* in,
                                                                    uint8_t* const* out, size_t size) {
  size_t x = 0;
  for (;;) {
    if (x + 64 > size) {
      if (x == size) break;
      x = size - 64;
    }
    __m512i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_si512();
    for (int c = 0; c < k; c++) {
      const __m512i v = _mm512_loadu_si512(in[c] + x);
      for (int r = 0; r < R; r++) {
        const __m512i a = _mm512_set1_epi64(static_cast<long long>(g_affine[coef[r * k + c]]));
        acc[r] = _mm512_xor_si512(acc[r], _mm512_gf2p8affine_epi64_epi8(v, a, 0));
      }
    }
    for (int r = 0; r < R; r++) _mm512_storeu_si512(out[r] + x, acc[r]);
    x += 64;
  }
}

using GroupFn = void (*)(const uint8_t*, int, const uint8_t* const*, uint8_t* const*, size_t);

// Rows in groups of kGroup, the remainder with one smaller group; shards shorter than one vector
// (never on the video paths, possible for audio) go to the scalar kernel.
template <size_t W, template <int> class K>
void dot_groups(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  if (size < W || k == 0) {
    dot_scalar(coef, k, in, rows, out, size);
    return;
  }
  static constexpr GroupFn fns[kGroup + 1] = {nullptr, K<1>::fn, K<2>::fn, K<3>::fn, K<4>::fn};
  int r = 0;
  for (; r + kGroup <= rows; r += kGroup) fns[kGroup](coef + r * k, k, in, out + r, size);
  if (rows > r) fns[rows - r](coef + r * k, k, in, out + r, size);
}

template <int R> struct Ssse3 { static constexpr GroupFn fn = group_ssse3<R>; };
template <int R> struct Avx2 { static constexpr GroupFn fn = group_avx2<R>; };
template <int R> struct Gfni { static constexpr GroupFn fn = group_gfni<R>; };
template <int R> struct Gfni512 { static constexpr GroupFn fn = group_gfni512<R>; };

void dot_ssse3(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  dot_groups<16, Ssse3>(coef, k, in, rows, out, size);
}
void dot_avx2(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  dot_groups<32, Avx2>(coef, k, in, rows, out, size);
}
void dot_gfni(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  dot_groups<32, Gfni>(coef, k, in, rows, out, size);
}
void dot_gfni512(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  dot_groups<64, Gfni512>(coef, k, in, rows, out, size);
}
#endif

DotFn fn_of(Kernel k) {
  switch (k) {
#if PF_GF256_X86
    case Kernel::Ssse3: return dot_ssse3;
    case Kernel::Avx2: return dot_avx2;
    case Kernel::Gfni: return dot_gfni;
    case Kernel::Gfni512: return dot_gfni512;
#endif
    default: return dot_scalar;
  }
}

void build() {
  int x = 1;
  for (int i = 0; i < 255; i++) {
    g_exp[i] = static_cast<uint8_t>(x);
    g_log[x] = static_cast<uint8_t>(i);
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (int i = 255; i < 512; i++) g_exp[i] = g_exp[i - 255];
  g_log[0] = 0;  // never read: zero is handled first
  for (int a = 0; a < 256; a++)
    for (int b = 0; b < 256; b++) g_mul[a][b] = (a == 0 || b == 0) ? 0 : g_exp[g_log[a] + g_log[b]];
  for (int c = 0; c < 256; c++) {
    for (int n = 0; n < 16; n++) {
      g_split[c][n] = g_mul[c][n];
      g_split[c][16 + n] = g_mul[c][n << 4];
    }
    uint64_t m = 0;
    for (int bit = 0; bit < 8; bit++) {  // output bit
      uint8_t row = 0;
      for (int j = 0; j < 8; j++)
        if (g_mul[c][1 << j] & (1 << bit)) row = static_cast<uint8_t>(row | (1 << j));
      m |= static_cast<uint64_t>(row) << (8 * (7 - bit));
    }
    g_affine[c] = m;
  }
#if PF_GF256_X86
  __builtin_cpu_init();
  g_supported[static_cast<int>(Kernel::Ssse3)] = __builtin_cpu_supports("ssse3");
  g_supported[static_cast<int>(Kernel::Avx2)] = __builtin_cpu_supports("avx2");
  g_supported[static_cast<int>(Kernel::Gfni)] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("gfni");
  g_supported[static_cast<int>(Kernel::Gfni512)] =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("gfni");
#endif
  Kernel best = Kernel::Scalar;
  for (int i = kKernels - 1; i > 0; i--) {
    if (g_supported[i]) {
      best = static_cast<Kernel>(i);
      break;
    }
  }
  g_kernel.store(static_cast<int>(best));
  g_dot.store(fn_of(best));
}
}  // namespace

void init() { std::call_once(g_once, build); }

uint8_t mul(uint8_t a, uint8_t b) {
  init();
  return g_mul[a][b];
}

const uint8_t* mul_row(uint8_t c) {
  init();
  return g_mul[c];
}

uint8_t inv(uint8_t a) {
  init();
  return a == 0 ? 0 : g_exp[255 - g_log[a]];
}

void dot(const uint8_t* coef, int k, const uint8_t* const* in, int rows, uint8_t* const* out, size_t size) {
  init();
  if (rows <= 0 || size == 0) return;
  g_dot.load(std::memory_order_relaxed)(coef, k, in, rows, out, size);
}

Kernel kernel() {
  init();
  return static_cast<Kernel>(g_kernel.load());
}

bool supported(Kernel k) {
  init();
  const int i = static_cast<int>(k);
  return i >= 0 && i < kKernels && g_supported[i];
}

bool set_kernel(Kernel k) {
  if (!supported(k)) return false;
  g_kernel.store(static_cast<int>(k));
  g_dot.store(fn_of(k));
  return true;
}

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::Ssse3: return "ssse3";
    case Kernel::Avx2: return "avx2";
    case Kernel::Gfni: return "gfni";
    case Kernel::Gfni512: return "gfni512";
    default: return "scalar";
  }
}

bool set_kernel_by_name(const char* name) {
  for (int i = 0; i < kKernels; i++) {
    const Kernel k = static_cast<Kernel>(i);
    if (std::strcmp(name, kernel_name(k)) == 0) return set_kernel(k);
  }
  return false;
}

}  // namespace pf::gf256
