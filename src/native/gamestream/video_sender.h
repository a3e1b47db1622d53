// The GameStream video send path of one session: the packetizer on the frame thread, a pacer
// thread that sends, and the client's pings that tell the pacer where to send.
//
// Where video goes: nowhere until the client pings. A Moonlight client sends a 20-byte ping
// (its 16-byte `X-SS-Ping-Payload` + a big-endian counter) every 500 ms to the host's video port
// from the socket it receives video on; an old client sends the 4 bytes "PING". The pacer reads
// them off the shared video port and takes the source address of a ping only if it comes from
// the client's host and carries this session's payload ("PING" when the session has none).
// Anything else on the port is counted and ignored. Until then frames are not packetized, only
// counted (`frames_unsent`); the first frame after the peer is learned (or changes) is asked to
// be an IDR, since the client can decode nothing before one.
//
// Threads: the frame thread calls begin_frame / packetize / publish; the pacer thread alone
// reads the socket and owns the peer address; they share only the ring and a few atomics.
// Pacing as in the punktfunk/1 media sender: a frame's packets are spread over 80% of the frame
// interval in bursts of sendmmsg, so a key frame does not leave as one burst; ring-full and
// EAGAIN/ENOBUFS are counted as `send_dropped`, never waited on.
//
// The socket belongs to the GameStreamVideoPort (it outlives sessions); this class never
// closes it.
#pragma once
#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "packet_ring.h"
#include "video_packetizer.h"

namespace pf::gs {

struct VideoSenderConfig {
  int fd = -1;
  std::string client_host;
  std::string ping_payload;  // 16 characters, or "" for the legacy "PING"
  int packet_size = 1392;
  int fec_percent = 20;
  int min_parity = 0;
  int fps = 60;
  size_t ring_packets = 4096;
  bool hevc = false;  // the session's codec (else H.264), for the packetizer's key-frame SEI rule
  // The client asked for encrypted video: every datagram sealed under `key` (the launch's rikey).
  bool encrypt = false;
  uint8_t key[kVideoKeyBytes] = {};
};

struct VideoCounters {
  uint64_t frames_sent = 0;      // frames packetized and handed to the pacer
  uint64_t frames_unsent = 0;    // frames produced before the client's first valid ping
  uint64_t frames_dropped = 0;   // frames the ring had no room for, or too large to send
  uint64_t packets_sent = 0;
  uint64_t parity_sent = 0;      // parity packets queued
  uint64_t send_dropped = 0;     // packets: ring full, EAGAIN, ENOBUFS, refused
  uint64_t sock_ns = 0;          // time inside sendmmsg
  uint64_t fec_ns = 0;           // frame thread: parity arithmetic
  uint64_t seal_ns = 0;          // frame thread: sealing (encrypted video only)
  uint64_t packets_sealed = 0;   // datagrams sealed (every one queued, when encrypted)
  uint64_t seal_failed = 0;      // datagrams the cipher refused (wiped, never sent in the clear)
  uint64_t pings_accepted = 0;
  uint64_t pings_ignored = 0;    // wrong payload, wrong host, or not a ping at all
};

// Normalises an address for comparison: an IPv4-mapped IPv6 address becomes its IPv4 form.
std::string plain_host(const std::string& host);

class VideoSender {
 public:
  static std::unique_ptr<VideoSender> open(const VideoSenderConfig& config, std::string* error);
  ~VideoSender();
  VideoSender(const VideoSender&) = delete;
  VideoSender& operator=(const VideoSender&) = delete;

  // Frame thread, before encoding: whether this frame will be sent, and whether it must be an
  // IDR (first frame to a newly learned peer).
  bool begin_frame(bool* want_idr);
  // Frame thread: packetizes one access unit (headers + parity into the ring); not yet visible.
  // Returns the datagrams queued for it (0 when dropped or no peer is known).
  uint32_t packetize(const uint8_t* data, size_t len, bool idr, uint64_t capture_ns);
  // Frame thread: hands everything packetized to the pacer. Never blocks.
  void publish();
  // Frame thread: a frame produced while no peer is known.
  void count_unsent() { frames_unsent_.fetch_add(1, std::memory_order_relaxed); }

  // Stops and joins the pacer (what is still queued is not sent). Idempotent; the destructor
  // calls it. Counters read after it are final.
  void stop();
  VideoCounters counters() const;
  // "host:port" of the learned peer, or "" (any thread; for tests and logs).
  std::string peer() const;

 private:
  explicit VideoSender(const VideoSenderConfig& config);
  void pace();
  void read_pings();

  VideoSenderConfig config_;
  std::string client_host_;  // plain_host(config.client_host)
  PacketRing ring_;
  VideoPacketizer packetizer_;
  int event_fd_ = -1;
  uint64_t epoch_ns_ = 0;
  bool sending_ = false;  // frame thread: a peer was known at the last begin_frame
  std::atomic<bool> peer_known_{false};
  std::atomic<bool> idr_wanted_{false};
  std::atomic<bool> stop_{false};
  sockaddr_storage peer_{};  // pacer thread only
  socklen_t peer_len_ = 0;
  mutable std::mutex peer_text_lock_;  // taken only when the peer changes and by peer()
  std::string peer_text_;
  std::atomic<uint64_t> frames_sent_{0}, frames_unsent_{0}, frames_dropped_{0}, packets_sent_{0}, parity_sent_{0},
      send_dropped_{0}, sock_ns_{0}, fec_ns_{0}, seal_ns_{0}, packets_sealed_{0}, seal_failed_{0}, pings_accepted_{0},
      pings_ignored_{0};
  std::thread pacer_;
};

}  // namespace pf::gs
