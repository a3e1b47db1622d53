// The measurement behind src/native/gf256's choice of its own kernels over ISA-L or nanors
// (BENCHMARKS.md, "FEC kernels: ours, ISA-L, nanors"). Not part of the build or of
// `npm run bench`: it links two libraries the project does not depend on. To run it:
//
//   apt-get install libisal-dev
//   mkdir -p /tmp/nanors && git --git-dir=/work/.mirror/sleepybishop+nanors/repo archive b1e3c22 deps/obl | tar -C /tmp/nanors -xf -
//   gcc -O2 -c -I/tmp/nanors/deps/obl /tmp/nanors/deps/obl/oblas_lite.c -o /tmp/oblas_lite.o
//   g++ -O2 -std=c++17 -Isrc/native -I/tmp/nanors/deps/obl scripts/fec-library-comparison.cc src/native/gf256/gf256.cc /tmp/oblas_lite.o -lisal -o /tmp/fec-library-comparison
//   /tmp/fec-library-comparison
//
// Each shape is a block the host makes: data and parity shards in one ring, slot after slot (as
// the packetizer lays them out), the matrix GameStream's. Per implementation: p50 and p10 of 300
// single blocks (one block rarely spans a scheduler slice on a loaded machine), every output
// checked against the scalar kernel first.
//   - ours <kernel>: gf256::dot with each kernel this CPU has;
//   - isa-l + init: ec_init_tables (32 bytes per coefficient, from the matrix) then
//     ec_encode_data — what a caller pays per block when block shapes vary (GameStream's do);
//   - isa-l: ec_encode_data alone, tables made in advance (a fixed shape);
//   - nanors: its kernel as its encoder uses it, a row at a time (axiy for the first data shard,
//     axpy for the others), with the best implementation it picks for this CPU.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "gf256/gf256.h"
extern "C" {
#include <isa-l/erasure_code.h>

#include "oblas_lite.h"
}

namespace {
double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
struct Shape {
  const char* name;
  int k, m;
  size_t size;
};
}  // namespace

int main() {
  using namespace pf;
  gf256::init();
  oblas_impl obl;
  oblas_get_impl(&obl);
  const Shape shapes[] = {
      {"GameStream 1080p IDR x8 (211 + 43 x 1,408 B)", 211, 43, 1408},
      {"GameStream 107 + 22 x 1,408 B", 107, 22, 1408},
      {"GameStream 1080p P (28 + 6 x 1,408 B)", 28, 6, 1408},
      {"punktfunk/1 720p frame (14 + 3 x 1,320 B)", 14, 3, 1320},
      {"punktfunk/1 full block (64 + 13 x 1,320 B)", 64, 13, 1320},
      {"audio (4 + 2 x 240 B)", 4, 2, 240},
  };
  std::mt19937 rng(1);
  for (const Shape& s : shapes) {
    std::vector<uint8_t> ring(static_cast<size_t>(s.k + s.m) * s.size);
    for (auto& b : ring) b = static_cast<uint8_t>(rng());
    std::vector<const uint8_t*> in(s.k);
    std::vector<uint8_t*> out(s.m);
    for (int c = 0; c < s.k; c++) in[c] = ring.data() + c * s.size;
    for (int r = 0; r < s.m; r++) out[r] = ring.data() + (s.k + r) * s.size;
    std::vector<uint8_t> coef(static_cast<size_t>(s.m) * s.k);
    for (int r = 0; r < s.m; r++)
      for (int c = 0; c < s.k; c++) coef[r * s.k + c] = gf256::inv(static_cast<uint8_t>((s.m + c) ^ r));
    std::vector<uint8_t> ref(static_cast<size_t>(s.m) * s.size);
    gf256::set_kernel(gf256::Kernel::Scalar);
    gf256::dot(coef.data(), s.k, in.data(), s.m, out.data(), s.size);
    for (int r = 0; r < s.m; r++) std::memcpy(&ref[r * s.size], out[r], s.size);
    const double madds = static_cast<double>(s.k) * s.m * s.size;
    std::printf("%s\n", s.name);
    auto time = [&](const char* name, auto f) {
      for (int r = 0; r < s.m; r++) std::memset(out[r], 0, s.size);
      f();
      for (int r = 0; r < s.m; r++)
        if (std::memcmp(&ref[r * s.size], out[r], s.size) != 0) std::printf("  %s: WRONG BYTES in parity %d\n", name, r);
      std::vector<double> t;
      for (int i = 0; i < 300; i++) {
        const double t0 = now_us();
        f();
        t.push_back(now_us() - t0);
      }
      std::sort(t.begin(), t.end());
      std::printf("  %-16s p50 %9.1f us  p10 %9.1f us  %6.1f GB/s multiply-adds at p10\n", name, t[150], t[30], madds / t[30] / 1e3);
    };
    for (int i = 0; i < gf256::kKernels; i++) {
      const auto k = static_cast<gf256::Kernel>(i);
      if (!gf256::supported(k)) continue;
      gf256::set_kernel(k);
      char name[32];
      std::snprintf(name, sizeof name, "ours %s", gf256::kernel_name(k));
      time(name, [&] { gf256::dot(coef.data(), s.k, in.data(), s.m, out.data(), s.size); });
    }
    std::vector<uint8_t> tables(32 * static_cast<size_t>(s.k) * s.m);
    auto** data = const_cast<uint8_t**>(in.data());
    time("isa-l + init", [&] {
      ec_init_tables(s.k, s.m, coef.data(), tables.data());
      ec_encode_data(static_cast<int>(s.size), s.k, s.m, tables.data(), data, out.data());
    });
    time("isa-l", [&] { ec_encode_data(static_cast<int>(s.size), s.k, s.m, tables.data(), data, out.data()); });
    time("nanors", [&] {
      for (int r = 0; r < s.m; r++) {
        obl.axiy(out[r], data[0], coef[r * s.k], static_cast<unsigned>(s.size));
        for (int c = 1; c < s.k; c++) obl.axpy(out[r], data[c], coef[r * s.k + c], static_cast<unsigned>(s.size));
      }
    });
  }
}
