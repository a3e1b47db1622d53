// Window aggregation (see window_stats.h). Percentiles are nearest-rank over the window's
// measured frames: p50 is the value half the frames did not exceed, p99 the value 99 % did not
// exceed — with ~120 frames per 2 s window the p99 is the second-largest frame, which is what a
// stutter shows up as.
#include "window_stats.h"

#include <algorithm>
#include <cmath>

namespace pf {

namespace {

// Stored in nanoseconds (sub-microsecond stages such as a counting send stay visible), capped
// at ~4.3 s — a frame that long is reported as 4.3 s, not wrapped around.
uint32_t clamp_ns(uint64_t ns) { return ns > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(ns); }

double rank(const std::vector<uint32_t>& sorted, size_t n, double q) {
  size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  if (k < 1) k = 1;
  if (k > n) k = n;
  return static_cast<double>(sorted[k - 1]) / 1000.0;
}

}  // namespace

WindowStats::WindowStats(int stage_count, size_t capacity) : stage_count_(stage_count), capacity_(capacity) {
  for (int s = 0; s < kMaxStages; s++) stage_ns_[s].assign(capacity, 0);
  host_ns_.assign(capacity, 0);
}

void WindowStats::add(const uint64_t* stage_ns, uint64_t host_ns) {
  if (n_ >= capacity_) {
    overflow_++;
    return;
  }
  for (int s = 0; s < stage_count_; s++) {
    const uint32_t ns = clamp_ns(stage_ns[s]);
    stage_ns_[s][n_] = ns;
    stage_sum_ns_[s] += ns;
  }
  host_ns_[n_] = clamp_ns(host_ns);
  n_++;
}

void WindowStats::summarise(WindowSummary* out) {
  out->frames = frames_;
  out->repeats = repeats_;
  out->encoded = encoded_;
  out->frames_dropped = dropped_;
  out->overflow = overflow_;
  out->bytes = bytes_;
  out->measured_frames = static_cast<uint32_t>(n_);
  out->stage_count = n_ > 0 ? stage_count_ : 0;
  out->host_p50_us = out->host_p99_us = 0;
  if (n_ > 0) {
    for (int s = 0; s < stage_count_; s++) {
      std::vector<uint32_t>& v = stage_ns_[s];
      std::sort(v.begin(), v.begin() + static_cast<long>(n_));
      out->stages[s].p50_us = rank(v, n_, 0.50);
      out->stages[s].p99_us = rank(v, n_, 0.99);
      out->stages[s].max_us = static_cast<double>(v[n_ - 1]) / 1000.0;
      out->stages[s].mean_us = static_cast<double>(stage_sum_ns_[s]) / 1000.0 / static_cast<double>(n_);
    }
    std::sort(host_ns_.begin(), host_ns_.begin() + static_cast<long>(n_));
    out->host_p50_us = rank(host_ns_, n_, 0.50);
    out->host_p99_us = rank(host_ns_, n_, 0.99);
  }
  n_ = 0;
  for (uint64_t& sum : stage_sum_ns_) sum = 0;
  frames_ = repeats_ = encoded_ = dropped_ = overflow_ = 0;
  bytes_ = 0;
}

}  // namespace pf
