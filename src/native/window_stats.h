// One aggregation window's raw values and their summary.
//
// Invariant: all storage is made when the session opens (capacity = frames a window can hold,
// with headroom); `add` only writes into it, and a window with more measured frames than the
// capacity keeps the first ones (counted in `overflow`) rather than growing. `summarise` sorts
// the buffers in place (std::sort does not allocate) once per window, not per frame.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pf {

constexpr int kMaxStages = 4;

struct StageSummary {
  double p50_us = 0, p99_us = 0, max_us = 0, mean_us = 0;
};

struct WindowSummary {
  uint64_t index = 0;
  double t_ms = 0;         // window end on the monotonic clock
  double duration_ms = 0;  // window length actually covered
  uint32_t frames = 0;     // frame-clock ticks served (new pictures + repeats)
  uint32_t repeats = 0;    // ticks whose picture did not change (re-encoded or skipped)
  uint32_t encoded = 0;    // frames that went through the encoder (still_policy.h)
  uint32_t measured_frames = 0;
  uint32_t frames_dropped = 0;  // frame-clock deadlines skipped because the loop ran late
  uint32_t overflow = 0;
  uint64_t bytes = 0;
  int stage_count = 0;  // 0 when no frame of the window was measured
  StageSummary stages[kMaxStages];
  double host_p50_us = 0, host_p99_us = 0;
  // Send counters (deltas), meaningful only when `sending` (the session has a network target,
  // whichever transport): punktfunk/1 media — fec and seal on the frame thread, sock on the
  // pacer; GameStream video — fec_us (parity, part of packetize), seal_us (encrypted video only,
  // also part of packetize) and sock_us (pacer). Which of them a path claims is the field
  // table's business (src/api/Fields.ts), not the addon's.
  bool sending = false;
  uint64_t send_dropped = 0;
  double fec_us = 0, seal_us = 0, sock_us = 0;
  uint64_t frames_unsent = 0;  // GameStream: frames produced before the client's first valid ping
  uint64_t windows_dropped = 0;  // windows JavaScript never got because its queue was full
  // The frame thread ran at real-time priority through this window (thread_priority.h).
  bool realtime = false;
  bool failed = false;
  char error[256] = {};
};

class WindowStats {
 public:
  WindowStats(int stage_count, size_t capacity);
  // Frame thread: one measured frame's stage times and its deadline→last-send total (ns).
  void add(const uint64_t* stage_ns, uint64_t host_ns);
  void count_frame(bool repeat, uint64_t bytes, bool encoded) {
    frames_++;
    if (repeat) repeats_++;
    if (encoded) encoded_++;
    bytes_ += bytes;
  }
  void count_dropped(uint32_t n) { dropped_ += n; }
  // Writes the window's summary into `out` and starts the next window.
  void summarise(WindowSummary* out);

 private:
  int stage_count_;
  size_t capacity_;
  size_t n_ = 0;
  // nanoseconds per measured frame
  std::vector<uint32_t> stage_ns_[kMaxStages];
  std::vector<uint32_t> host_ns_;
  uint64_t stage_sum_ns_[kMaxStages] = {};  // ns
  uint32_t frames_ = 0, repeats_ = 0, encoded_ = 0, dropped_ = 0, overflow_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace pf
