// The one clock of the frame loop: CLOCK_MONOTONIC in nanoseconds. Stage times, the frame
// clock's deadlines and window boundaries all read it, so they can be subtracted from each other
// (wall-clock time jumps; this does not).
#pragma once
#include <cerrno>
#include <cstdint>
#include <ctime>

namespace pf {

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Sleeps until an absolute monotonic instant (no drift from relative sleeps adding up).
inline void sleep_until_ns(uint64_t t) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(t / 1000000000ull);
  ts.tv_nsec = static_cast<long>(t % 1000000000ull);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace pf
