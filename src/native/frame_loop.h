// One session's frame loop: capture → submit → encode → send on its own thread, paced by a
// frame clock (absolute deadlines start + k·interval), with measurement decided per frame by
// `perf || armed` — one relaxed atomic load.
//
// Invariants:
// - Everything the loop touches (capture buffer, encoder frame and packets, window buffers) is
//   made in `open`, before the thread starts; a configuration or open failure therefore never
//   leaves a thread behind.
// - The loop takes no lock and allocates nothing of its own per frame; at a window boundary it
//   summarises in place and hands the summary to the outlet, which must not block.
// - The host total is read off the clock (deadline → send finished), never summed from stages.
// - `stop` joins the thread; after it returns the loop touches nothing, so capture and encoder
//   can be freed.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "capture.h"
#include "encoder.h"
#include "frame_ring.h"
#include "options.h"
#include "sink.h"
#include "still_policy.h"
#include "window_stats.h"

namespace pf {

// Receives window summaries on the frame thread; must return at once (never blocks).
class WindowOutlet {
 public:
  virtual ~WindowOutlet() = default;
  virtual void deliver(const WindowSummary& summary) = 0;
};

struct SessionInfo {
  std::string backend;  // the encoder that opened, e.g. "libx264"
  std::string note;     // why it is not the first choice (fallback), or ""
  std::string gpu;      // "none", "nvidia" or the GPU model
  std::string priority = "normal";  // "realtime" when the frame path got SCHED_RR
  std::string priority_note;        // why real-time was asked for and refused, or ""
  int stage_count = 0;
  std::string stages[kMaxStages];  // owned copies: the window mailbox outlives the loop
};

// frames = frame-clock ticks served (new pictures + repeats); repeats = ticks whose picture did
// not change; encoded = frames that went through the encoder (new pictures + the repeats the
// still policy let through, see still_policy.h).
struct LoopTotals {
  uint64_t frames = 0, repeats = 0, encoded = 0, bytes = 0, windows = 0, frames_dropped = 0;
};

class FrameLoop {
 public:
  // Validates, opens capture, encoder and sink. Null with `error` on failure; `config_error`
  // tells a configuration problem (retrying cannot help) from a runtime one.
  static std::unique_ptr<FrameLoop> open(const PipelineOptions& o, std::string* error, bool* config_error);
  ~FrameLoop();

  const SessionInfo& info() const { return info_; }
  void start(WindowOutlet* outlet);
  // Stops and joins the thread, then drains the encoder into the sink. Idempotent.
  void stop();
  LoopTotals totals() const;
  // The flight recorder (frame_ring.h): any thread may copy a span out while the loop runs.
  const FrameRing& frames() const { return *ring_; }
  // GameStream video counters and learned peer; after stop(), the values at the stop.
  gs::VideoCounters video_counters() const;
  std::string video_peer() const;
  // Any thread: asks the frame thread for a keyframe at its next frame / a new bitrate target.
  // Each is one atomic the frame thread reads with a relaxed load per frame; no lock.
  void request_idr() { idr_requested_.store(true, std::memory_order_relaxed); }
  void set_bitrate(int kbps) { bitrate_kbps_.store(kbps, std::memory_order_relaxed); }
  int bitrate_kbps() const { return bitrate_kbps_.load(std::memory_order_relaxed); }

 private:
  FrameLoop() = default;
  void run();
  void emit_window(uint64_t now, uint64_t* window_start);

  PipelineOptions options_;
  SessionInfo info_;
  std::unique_ptr<Capture> capture_;
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<WindowStats> window_;
  std::unique_ptr<FrameRing> ring_;
  std::unique_ptr<StillPolicy> still_;
  WindowSummary summary_;
  SinkCounters last_sink_;
  gs::VideoCounters final_video_;  // snapshot taken in stop(), before the sender is freed
  std::string final_peer_;
  WindowOutlet* outlet_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> idr_requested_{false};
  std::atomic<int> bitrate_kbps_{0};
  int applied_kbps_ = 0;
  // Real-time frame path (thread_priority.h): whether it holds, the encoder's worker threads to
  // demote with the frame thread, and how many windows in a row skipped deadlines.
  bool realtime_ = false;
  std::vector<pid_t> encoder_threads_;
  int late_windows_ = 0;
  bool started_ = false;
  Boundary stage_end_[kMaxStages] = {};  // where each of the path's stages ends
  uint64_t window_index_ = 0;
  std::atomic<uint64_t> frames_{0}, repeats_{0}, encoded_{0}, bytes_{0}, windows_{0}, frames_dropped_{0};
};

}  // namespace pf
