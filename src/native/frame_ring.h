// The flight recorder: one record per measured frame for the last ~10 s, in a ring made when
// the session opens (issue 14.3). JavaScript copies a span out only when it decides to keep one
// (a window breached its budget, a marker asked); nothing crosses per frame.
//
// Invariants:
// - The frame thread never allocates, locks or waits here: `push` is five relaxed stores and one
//   release store of the head (on x86 all plain moves).
// - The reader (JavaScript thread) takes no lock either. Every word of a slot is an atomic, so a
//   slot being overwritten while it is copied is not a data race; the reader reads the head before
//   and after copying and throws away every record the writer may have reached meanwhile (seqlock
//   on the whole ring: a slot with index < head_after − capacity may be torn).
// - Capacity is the session's frame rate × 10 s plus headroom; paced at that rate it holds the last
//   10 s. Unpaced (benchmarks) it holds the last `capacity` frames, whatever time they span.
//
// What a record holds: the frame's deadline (monotonic ns), when the loop woke for it, and the
// end of each step as an offset from the deadline — captured, submitted (native only), encoded,
// packetized (GameStream only; else = encoded) and sent. The stages are contiguous, so each
// stage's start is the previous stage's end and `capture` starts at the deadline, which is what
// the window stats call the capture stage; `woke` tells how late the thread got the CPU.
// Offsets are ns clamped to 4.29 s (a frame that long reads 4.29 s, never wraps).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace pf {

struct FramePoints {
  uint64_t deadline_ns = 0;
  uint32_t woke = 0, captured = 0, submitted = 0, encoded = 0, packetized = 0, sent = 0;  // ns after deadline
  uint32_t bytes = 0;
  uint16_t packets = 0;
  uint8_t dropped_before = 0;  // frame-clock deadlines skipped just before this frame (clamped 255)
  bool key = false;
  bool repeat = false;
};

// The ring a session of `fps` gets: its last 10 s plus half a second and a few frames of headroom.
constexpr size_t kFlightSeconds = 10;
inline size_t flight_capacity(int fps) {
  return static_cast<size_t>(fps) * kFlightSeconds + static_cast<size_t>(fps) / 2 + 16;
}

class FrameRing {
 public:
  static constexpr int kWords = 5;
  explicit FrameRing(size_t capacity);
  size_t capacity() const { return capacity_; }

  // Frame thread only.
  void push(const FramePoints& p) {
    const uint64_t h = head_.load(std::memory_order_relaxed);
    std::atomic<uint64_t>* w = &words_[(h % capacity_) * kWords];
    w[0].store(p.deadline_ns, std::memory_order_relaxed);
    w[1].store(static_cast<uint64_t>(p.woke) | static_cast<uint64_t>(p.captured) << 32, std::memory_order_relaxed);
    w[2].store(static_cast<uint64_t>(p.submitted) | static_cast<uint64_t>(p.encoded) << 32, std::memory_order_relaxed);
    w[3].store(static_cast<uint64_t>(p.packetized) | static_cast<uint64_t>(p.sent) << 32, std::memory_order_relaxed);
    w[4].store(static_cast<uint64_t>(p.bytes) | static_cast<uint64_t>(p.packets) << 32 |
                   static_cast<uint64_t>(p.dropped_before) << 48 | static_cast<uint64_t>(p.key) << 56 |
                   static_cast<uint64_t>(p.repeat) << 57,
               std::memory_order_relaxed);
    head_.store(h + 1, std::memory_order_release);
  }

  // Any thread: the records whose deadline lies in [from_ns, to_ns], oldest first, into `out`
  // (room for `max` records). Returns how many were written.
  size_t copy(uint64_t from_ns, uint64_t to_ns, FramePoints* out, size_t max) const;

  // Clamp helper for the writer.
  static uint32_t offset(uint64_t t, uint64_t deadline) {
    if (t <= deadline) return 0;
    const uint64_t d = t - deadline;
    return d > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(d);
  }

 private:
  size_t capacity_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
  std::atomic<uint64_t> head_{0};
};

}  // namespace pf
