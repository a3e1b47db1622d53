// The client's media receiver: takes sealed shards off a UDP socket, drops what is malformed,
// forged or replayed (and counts each), rebuilds lost shards with Reed-Solomon, reassembles
// frames, and decodes them with libavcodec — all on one receive thread of its own.
//
// Why the replay window is updated only after the tag verifies: otherwise a forged packet with a
// far-future sequence number would slide the window and make every genuine packet look old.
// Why frames are kept in a small ring of slots: shards of a few frames interleave on the wire
// (pacing, reordering); a slot that a newer frame needs while its own frame is still incomplete
// is given up and that frame counted as dropped.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "seal.h"

struct AVCodecContext;
struct AVPacket;
struct AVFrame;

namespace pf::media {

struct ReceiverConfig {
  std::string bind = "127.0.0.1";
  int port = 0;
  seal::Key key{};
  bool has_key = true;  // false: bind only, `start` later
  std::string codec = "h264";  // "h264", "hevc", or "none" (reassemble only)
  double simulate_loss = 0;    // drop this share of arriving packets before anything else
  std::string save_path;       // append each reassembled frame (Annex B) here when set
  size_t max_frame_bytes = 4u << 20;
  int mtu = 1400;
  // Added to every reading of this receiver's clock (CLOCK_MONOTONIC µs). Two machines' monotonic
  // clocks share no origin; a shift makes one machine behave like two, so a test can show that
  // the latency the client reports does not depend on where either clock started.
  int64_t clock_shift_us = 0;
};

struct ReceiverCounters {
  uint64_t packets_received = 0;   // authenticated and placed
  uint64_t packets_lost = 0;       // sequence numbers never seen
  uint64_t packets_malformed = 0;
  uint64_t packets_tampered = 0;   // tag did not verify
  uint64_t packets_replayed = 0;
  uint64_t packets_simulated_lost = 0;
  uint64_t fec_recovered = 0;      // data shards rebuilt from parity
  uint64_t frames_complete = 0;
  uint64_t keyframes = 0;          // complete frames the sender flagged as keyframes
  uint64_t frames_dropped = 0;     // never completed
  uint64_t frames_decoded = 0;
  uint64_t decode_errors = 0;
  uint64_t decode_ns = 0;
  uint64_t bytes = 0;
  uint64_t latency_count = 0;      // capture→decoded samples written so far
};

class MediaReceiver {
 public:
  static std::unique_ptr<MediaReceiver> open(const ReceiverConfig& config, std::string* error);
  ~MediaReceiver();
  MediaReceiver(const MediaReceiver&) = delete;
  MediaReceiver& operator=(const MediaReceiver&) = delete;

  int port() const { return port_; }
  // Starts receiving with the session's key. `open` binds first, so the port can go into the
  // handshake before the key exists; datagrams that arrive meanwhile wait in the socket buffer.
  bool start(const seal::Key& key, std::string* error);
  ReceiverCounters counters() const;
  // Per decoded frame, this receiver's clock at decode minus the frame's capture stamp (the
  // host's clock), in µs, recorded since `since` (a latency_count value), newest last. Signed and
  // unclamped: on one machine it is the capture→decoded latency; across machines the caller
  // subtracts the clocks' offset (src/client/ClockOffset.ts) to get it.
  std::vector<int64_t> latencies_since(uint64_t since) const;
  // This receiver's clock now (µs, with the configured shift): the clock its latencies use.
  int64_t clock_us() const;

 private:
  explicit MediaReceiver(const ReceiverConfig& config);
  void run();
  void handle(const uint8_t* p, size_t len);
  void finish_frame(int slot);
  void decode(const uint8_t* data, size_t len, uint64_t capture_us);

  struct Slot;
  ReceiverConfig config_;
  std::unique_ptr<seal::Opener> opener_;
  size_t shard_bytes_;
  int fd_ = -1;
  int port_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint8_t> plain_;
  std::vector<uint8_t> work_;
  // Replay window: bit i of `window_` is seq (highest_ - i).
  uint64_t highest_ = 0;
  bool any_ = false;
  uint64_t first_seq_ = 0;
  std::vector<uint64_t> window_;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  bool have_frame_ = false;
  uint32_t highest_frame_ = 0;
  AVCodecContext* decoder_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  FILE* save_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0}, malformed_{0}, tampered_{0}, replayed_{0}, simulated_{0}, recovered_{0},
      complete_{0}, keyframes_{0}, dropped_{0}, decoded_{0}, decode_errors_{0}, decode_ns_{0}, bytes_{0}, latency_count_{0}, span_{0};
  std::vector<std::atomic<int64_t>> latencies_;
  std::thread thread_;
};

}  // namespace pf::media
