// GameStream video sender (see video_sender.h for who owns what and why).
#include "video_sender.h"

#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "armed.h"
#include "pacing/pacer.h"

namespace pf::gs {
namespace {
using pacing::kBurst;
using pacing::mono_ns;
constexpr size_t kPingBytes = 16 + 4;  // payload + big-endian sequence number
constexpr char kLegacyPing[4] = {'P', 'I', 'N', 'G'};

std::string numeric_host(const sockaddr_storage& a, socklen_t len, int* port) {
  char host[NI_MAXHOST] = {};
  char serv[NI_MAXSERV] = {};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "";
  *port = std::atoi(serv);
  return host;
}

PacketizerConfig packetizer_config(const VideoSenderConfig& c) {
  PacketizerConfig p;
  p.packet_size = c.packet_size;
  p.fec_percent = c.fec_percent;
  p.min_parity = c.min_parity;
  p.hevc = c.hevc;
  p.encrypt = c.encrypt;
  if (c.encrypt) {
    std::memcpy(p.key, c.key, sizeof p.key);
    p.nonce_stream = next_video_stream();
  }
  return p;
}
}  // namespace

std::string plain_host(const std::string& host) {
  static const char kMapped[] = "::ffff:";
  if (host.size() > sizeof kMapped - 1 && strncasecmp(host.c_str(), kMapped, sizeof kMapped - 1) == 0 &&
      host.find('.') != std::string::npos)
    return host.substr(sizeof kMapped - 1);
  return host;
}

VideoSender::VideoSender(const VideoSenderConfig& config)
    : config_(config),
      client_host_(plain_host(config.client_host)),
      ring_(config.ring_packets,
            static_cast<size_t>(config.packet_size) + wire::kRtpBytes + (config.encrypt ? wire::kEncPrefixBytes : 0)),
      packetizer_(packetizer_config(config), &ring_) {}

std::unique_ptr<VideoSender> VideoSender::open(const VideoSenderConfig& config, std::string* error) {
  if (config.fd < 0) {
    *error = "no video socket";
    return nullptr;
  }
  if (config.fps < 1 || config.fps > 240) {
    *error = "fps must be from 1 to 240";
    return nullptr;
  }
  // A descriptor that is not a UDP socket (closed, reused, or a file) would make the pacer send
  // video somewhere else entirely; refuse it here, where the session can still say why.
  int type = 0;
  socklen_t type_len = sizeof type;
  if (getsockopt(config.fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_DGRAM) {
    *error = "videoFd " + std::to_string(config.fd) + " is not an open UDP socket";
    return nullptr;
  }
  std::unique_ptr<VideoSender> s(new VideoSender(config));
  if (!s->packetizer_.ok()) {
    *error = "cannot set up AES-128-GCM for encrypted video";
    return nullptr;
  }
  s->event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->event_fd_ < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  s->epoch_ns_ = mono_ns();
  g_active_threads.fetch_add(1);
  s->pacer_ = std::thread([p = s.get()] {
    p->pace();
    g_active_threads.fetch_sub(1);
  });
  return s;
}

void VideoSender::stop() {
  stop_.store(true, std::memory_order_release);
  if (event_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }
  if (pacer_.joinable()) pacer_.join();
}

VideoSender::~VideoSender() {
  stop();
  if (event_fd_ >= 0) close(event_fd_);
}

bool VideoSender::begin_frame(bool* want_idr) {
  sending_ = peer_known_.load(std::memory_order_acquire);
  *want_idr = sending_ && idr_wanted_.exchange(false, std::memory_order_relaxed);
  return sending_;
}

uint32_t VideoSender::packetize(const uint8_t* data, size_t len, bool idr, uint64_t capture_ns) {
  if (!sending_) return 0;
  const uint64_t now = mono_ns();
  // RTP video clock: 90 kHz from the session's start, taken at the frame's capture deadline.
  const uint64_t since = capture_ns > epoch_ns_ ? capture_ns - epoch_ns_ : 0;
  const uint32_t rtp_ts = static_cast<uint32_t>(since / 1000 * 90 / 1000);
  const uint64_t latency = capture_ns != 0 && now > capture_ns ? (now - capture_ns + 50000) / 100000 : 0;
  const PacketizeResult r = packetizer_.packetize(data, len, idr, rtp_ts, static_cast<uint16_t>(std::min<uint64_t>(latency, 0xFFFF)));
  fec_ns_.fetch_add(r.fec_ns, std::memory_order_relaxed);
  if (config_.encrypt && !r.frame_dropped) {
    seal_ns_.fetch_add(r.seal_ns, std::memory_order_relaxed);
    packets_sealed_.fetch_add(r.packets - r.seal_failed, std::memory_order_relaxed);
    seal_failed_.fetch_add(r.seal_failed, std::memory_order_relaxed);
  }
  if (r.frame_dropped) {
    frames_dropped_.fetch_add(1, std::memory_order_relaxed);
    send_dropped_.fetch_add(r.dropped, std::memory_order_relaxed);
    return 0;
  }
  frames_sent_.fetch_add(1, std::memory_order_relaxed);
  parity_sent_.fetch_add(r.parity, std::memory_order_relaxed);
  return r.packets;
}

void VideoSender::publish() {
  if (!sending_) return;
  ring_.publish();
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
}

void VideoSender::read_pings() {
  uint8_t buf[64];
  for (;;) {
    sockaddr_storage src{};
    socklen_t src_len = sizeof src;
    const ssize_t n = recvfrom(config_.fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&src), &src_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: drained (ICMP errors surface here too and are nothing to act on)
    }
    bool payload_ok;
    if (config_.ping_payload.empty()) {
      payload_ok = n == static_cast<ssize_t>(sizeof kLegacyPing) && std::memcmp(buf, kLegacyPing, sizeof kLegacyPing) == 0;
    } else {
      payload_ok = n == static_cast<ssize_t>(kPingBytes) && config_.ping_payload.size() == 16 &&
                   std::memcmp(buf, config_.ping_payload.data(), 16) == 0;
    }
    int port = 0;
    const std::string host = payload_ok ? plain_host(numeric_host(src, src_len, &port)) : "";
    if (!payload_ok || host != client_host_) {
      pings_ignored_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    pings_accepted_.fetch_add(1, std::memory_order_relaxed);
    const bool changed = peer_len_ != src_len || std::memcmp(&peer_, &src, src_len) != 0;
    if (!changed) continue;
    peer_ = src;
    peer_len_ = src_len;
    {
      std::lock_guard<std::mutex> lock(peer_text_lock_);
      peer_text_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
    // A new destination cannot decode anything before a key frame.
    idr_wanted_.store(true, std::memory_order_relaxed);
    peer_known_.store(true, std::memory_order_release);
  }
}

void VideoSender::pace() {
  // A backlog of more than a quarter ring is already late: sent without gaps (pacing/pacer.h).
  pacing::BurstPacer pacer(config_.fps, ring_.slots() / 4);
  mmsghdr msgs[kBurst];
  iovec iov[kBurst];
  const size_t bytes = ring_.slot_bytes();
  bool port_open = true;  // false once the port was closed under the session (POLLNVAL)
  while (!stop_.load(std::memory_order_acquire)) {
    pollfd p[2] = {{event_fd_, POLLIN, 0}, {port_open ? config_.fd : -1, POLLIN, 0}};
    poll(p, 2, 100);
    if (p[1].revents & POLLNVAL) port_open = false;  // never spin on a dead descriptor
    if (p[1].revents & (POLLIN | POLLERR)) read_pings();
    uint64_t drained;
    (void)!read(event_fd_, &drained, sizeof drained);
    uint64_t tail = ring_.tail();
    const uint64_t head = ring_.head();
    if (head == tail) continue;
    pacer.begin(head - tail);
    while (tail != head && !stop_.load(std::memory_order_relaxed)) {
      const int n = pacing::BurstPacer::burst(head - tail);
      for (int i = 0; i < n; i++) {
        iov[i].iov_base = ring_.slot(tail + static_cast<uint64_t>(i));
        iov[i].iov_len = bytes;
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_name = &peer_;
        msgs[i].msg_hdr.msg_namelen = peer_len_;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const uint64_t t0 = mono_ns();
      const int sent = sendmmsg(config_.fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
      sock_ns_.fetch_add(mono_ns() - t0, std::memory_order_relaxed);
      if (sent < 0) {
        send_dropped_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      } else {
        packets_sent_.fetch_add(static_cast<uint64_t>(sent), std::memory_order_relaxed);
        if (sent < n) send_dropped_.fetch_add(static_cast<uint64_t>(n - sent), std::memory_order_relaxed);
      }
      tail += static_cast<uint64_t>(n);
      ring_.release_to(tail);
      pacer.between_bursts(head - tail);
    }
  }
}

VideoCounters VideoSender::counters() const {
  VideoCounters c;
  c.frames_sent = frames_sent_.load(std::memory_order_relaxed);
  c.frames_unsent = frames_unsent_.load(std::memory_order_relaxed);
  c.frames_dropped = frames_dropped_.load(std::memory_order_relaxed);
  c.packets_sent = packets_sent_.load(std::memory_order_relaxed);
  c.parity_sent = parity_sent_.load(std::memory_order_relaxed);
  c.send_dropped = send_dropped_.load(std::memory_order_relaxed);
  c.sock_ns = sock_ns_.load(std::memory_order_relaxed);
  c.fec_ns = fec_ns_.load(std::memory_order_relaxed);
  c.seal_ns = seal_ns_.load(std::memory_order_relaxed);
  c.packets_sealed = packets_sealed_.load(std::memory_order_relaxed);
  c.seal_failed = seal_failed_.load(std::memory_order_relaxed);
  c.pings_accepted = pings_accepted_.load(std::memory_order_relaxed);
  c.pings_ignored = pings_ignored_.load(std::memory_order_relaxed);
  return c;
}

std::string VideoSender::peer() const {
  std::lock_guard<std::mutex> lock(peer_text_lock_);
  return peer_text_;
}

}  // namespace pf::gs
