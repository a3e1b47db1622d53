// See pacer.h for what is paced and why.
#include "pacing/pacer.h"

#include <ctime>

namespace pf::pacing {

uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

BurstPacer::BurstPacer(int fps, uint64_t late_backlog)
    : spread_ns_(800000000ull / static_cast<uint64_t>(fps > 0 ? fps : 1)), late_backlog_(late_backlog) {}

void BurstPacer::begin(uint64_t batch) {
  const uint64_t bursts = (batch + kBurst - 1) / kBurst;
  gap_ns_ = batch == 0 || batch > late_backlog_ ? 0 : spread_ns_ / bursts;
}

void BurstPacer::between_bursts(uint64_t remaining) const {
  if (gap_ns_ == 0 || remaining == 0) return;
  timespec ts{static_cast<time_t>(gap_ns_ / 1000000000ull), static_cast<long>(gap_ns_ % 1000000000ull)};
  nanosleep(&ts, nullptr);
}

bool PacketClock::due(int64_t now, bool* resynced) {
  *resynced = false;
  if (now < deadline_) return false;
  if (now - deadline_ > resync_ns_) {
    *resynced = true;
    deadline_ = now;
  }
  deadline_ += period_ns_;
  return true;
}

}  // namespace pf::pacing
