// The one pacer of the three senders: the punktfunk/1 media sender (media/media_sender.cc), the
// GameStream video sender (gamestream/video_sender.cc) and the GameStream audio sender
// (audio/audio_stream.cc). Each used to carry its own copy of the same arithmetic.
//
// Two shapes of pacing, one per kind of traffic:
// - BurstPacer (video): a frame arrives as a batch of datagrams at once. Sent back to back, a
//   1080p key frame is hundreds of datagrams in a few hundred microseconds, which overflows a
//   switch's or the client's socket buffer; spread over the frame period, it does not. So a batch
//   goes out in bursts of kBurst datagrams (one sendmmsg each) with equal gaps that together take
//   80% of a frame period, leaving the rest as slack for the next frame. A backlog of more than a
//   quarter of the sender's ring is already late: it goes out without gaps (pacing it would only
//   add latency and fill the ring).
// - PacketClock (audio): one small packet every period (5, 10 or 20 ms) on an absolute deadline,
//   so sleeping late does not drift the stream. When the thread falls more than a re-anchoring
//   limit behind (suspended, starved), the clock re-anchors to now instead of sending the missed
//   packets in a burst the client would have to drop anyway.
#pragma once
#include <cstdint>

namespace pf::pacing {

// CLOCK_MONOTONIC in nanoseconds: the senders' stage timings and the pacer share it.
uint64_t mono_ns();

// Datagrams per sendmmsg call (and per burst of a paced batch).
constexpr int kBurst = 16;

class BurstPacer {
 public:
  // `late_backlog`: a batch larger than this is sent without gaps (the senders pass ring/4).
  BurstPacer(int fps, uint64_t late_backlog);

  // A batch of `batch` datagrams is about to go out: sets the gap between its bursts.
  void begin(uint64_t batch);
  // Datagrams in the next burst when `remaining` are left (at most kBurst).
  static int burst(uint64_t remaining) { return remaining < kBurst ? static_cast<int>(remaining) : kBurst; }
  // After a burst: waits the gap when more of the batch remains.
  void between_bursts(uint64_t remaining) const;
  // The gap the current batch is sent with (0: back to back). For tests and reasoning.
  uint64_t gap_ns() const { return gap_ns_; }

 private:
  uint64_t spread_ns_;
  uint64_t late_backlog_;
  uint64_t gap_ns_ = 0;
};

class PacketClock {
 public:
  PacketClock(int64_t period_ns, int64_t resync_ns) : period_ns_(period_ns), resync_ns_(resync_ns) {}

  // The first packet is due now (the client's first ping started the stream).
  void start(int64_t now) { deadline_ = now; }
  // How long to wait from `now` until the next packet is due (0 when due already).
  int64_t wait_ns(int64_t now) const { return deadline_ > now ? deadline_ - now : 0; }
  // Whether a packet is due at `now`; if so the deadline moves one period on. Sets `*resynced`
  // when the clock had fallen more than the re-anchoring limit behind and restarted from `now`.
  bool due(int64_t now, bool* resynced);

 private:
  int64_t period_ns_;
  int64_t resync_ns_;
  int64_t deadline_ = 0;
};

}  // namespace pf::pacing
