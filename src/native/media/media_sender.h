// The native path's media sender: cuts each encoded frame into MTU-sized shards, adds
// Reed-Solomon parity, seals every packet with AES-128-GCM, and hands the packets to a pacer
// thread that spreads them across the frame interval and sends them with sendmmsg.
//
// Why a pacer thread: a 60 KB keyframe sent as one burst overflows switch and NIC queues and is
// lost where a paced one arrives; and pacing on the frame thread would charge its sleeps to the
// frame. The frame thread only seals and publishes into a lock-free single-producer ring and
// pokes an eventfd; it never blocks on the socket. A full ring or EAGAIN/ENOBUFS drops packets
// and counts them (`send_dropped`) instead of stalling the next frame.
#pragma once
#include <netinet/in.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "seal.h"

namespace pf::media {

struct SenderConfig {
  sockaddr_storage dest{};
  socklen_t dest_len = 0;
  seal::Key key{};
  int mtu = 1400;
  int fec_percent = 20;  // parity shards per 100 data shards (0..100)
  int fps = 60;
  size_t max_frame_bytes = 4u << 20;
  int ring_packets = 8192;
};

// Time the frame thread spent on one frame, split as the stats record it.
struct SendSplit {
  uint64_t fec_ns = 0;
  uint64_t seal_ns = 0;
  uint32_t packets = 0;
};

struct SenderCounters {
  uint64_t frames = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t send_dropped = 0;  // ring full, EAGAIN, ENOBUFS, refused
  uint64_t sock_ns = 0;       // time inside sendmmsg (the pacer's waits excluded)
};

class MediaSender {
 public:
  static std::unique_ptr<MediaSender> open(const SenderConfig& config, std::string* error);
  ~MediaSender();
  MediaSender(const MediaSender&) = delete;
  MediaSender& operator=(const MediaSender&) = delete;

  // Frame thread only. Returns false when the frame is larger than max_frame_bytes.
  bool send_frame(const uint8_t* data, size_t len, bool keyframe, uint64_t capture_us, SendSplit* split);
  SenderCounters counters() const;
  size_t shard_bytes() const { return shard_bytes_; }

 private:
  explicit MediaSender(const SenderConfig& config);
  void pace();
  uint8_t* claim();  // a free ring slot, or nullptr when full

  SenderConfig config_;
  seal::Sealer sealer_;
  size_t shard_bytes_;
  size_t slot_bytes_;
  int fd_ = -1;
  int event_fd_ = -1;
  std::vector<uint8_t> ring_;
  std::vector<uint16_t> ring_len_;
  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> tail_{0};
  uint64_t claimed_ = 0;  // producer-side head before publishing
  std::vector<uint8_t> scratch_;  // last padded data shard + parity shards of one block
  uint64_t seq_ = 0;
  uint32_t frame_id_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> frames_{0}, packets_sent_{0}, bytes_sent_{0}, send_dropped_{0}, sock_ns_{0};
  std::thread pacer_;
};

uint64_t monotonic_us();

}  // namespace pf::media
