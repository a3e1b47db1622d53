#include "media_sender.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "pacing/pacer.h"
#include "reed_solomon.h"
#include "wire.h"

namespace pf::media {
namespace {
using pacing::kBurst;
uint64_t now_ns() { return pacing::mono_ns(); }
}  // namespace

uint64_t monotonic_us() { return now_ns() / 1000; }

MediaSender::MediaSender(const SenderConfig& config)
    : config_(config),
      sealer_(config.key),
      shard_bytes_(static_cast<size_t>(config.mtu) - wire::kIpUdpBytes - wire::kOverhead),
      slot_bytes_(static_cast<size_t>(config.mtu) - wire::kIpUdpBytes) {}

std::unique_ptr<MediaSender> MediaSender::open(const SenderConfig& config, std::string* error) {
  if (config.mtu < 576 || config.mtu > 9000) {
    *error = "mtu must be from 576 to 9000 bytes";
    return nullptr;
  }
  if (config.fec_percent < 0 || config.fec_percent > 100) {
    *error = "FEC share must be from 0 to 100 percent";
    return nullptr;
  }
  if (config.fps < 1 || config.fps > 240) {
    *error = "fps must be from 1 to 240";
    return nullptr;
  }
  fec::init();
  std::unique_ptr<MediaSender> s(new MediaSender(config));
  if (!s->sealer_.ok()) {
    *error = "cannot set up AES-128-GCM";
    return nullptr;
  }
  s->fd_ = socket(config.dest.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) {
    *error = std::string("cannot open a UDP socket: ") + strerror(errno);
    return nullptr;
  }
  int sndbuf = 4 << 20;
  if (setsockopt(s->fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0) {
    setsockopt(s->fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  if (connect(s->fd_, reinterpret_cast<const sockaddr*>(&config.dest), config.dest_len) != 0) {
    *error = std::string("cannot address the client: ") + strerror(errno);
    close(s->fd_);
    s->fd_ = -1;
    return nullptr;
  }
  s->event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // Everything the frame thread touches is allocated here, once.
  s->ring_.assign(static_cast<size_t>(config.ring_packets) * s->slot_bytes_, 0);
  s->ring_len_.assign(static_cast<size_t>(config.ring_packets), 0);
  s->scratch_.assign((1 + wire::kMaxDataShardsPerBlock) * s->shard_bytes_, 0);
  s->pacer_ = std::thread([p = s.get()] { p->pace(); });
  return s;
}

MediaSender::~MediaSender() {
  stop_.store(true, std::memory_order_release);
  if (event_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }
  if (pacer_.joinable()) pacer_.join();
  if (fd_ >= 0) close(fd_);
  if (event_fd_ >= 0) close(event_fd_);
}

uint8_t* MediaSender::claim() {
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  if (claimed_ - tail >= static_cast<uint64_t>(config_.ring_packets)) return nullptr;
  return &ring_[(claimed_ % config_.ring_packets) * slot_bytes_];
}

bool MediaSender::send_frame(const uint8_t* data, size_t len, bool keyframe, uint64_t capture_us, SendSplit* split) {
  if (len == 0 || len > config_.max_frame_bytes) return false;
  const size_t S = shard_bytes_;
  const size_t total_data = (len + S - 1) / S;
  const size_t per_block = wire::kMaxDataShardsPerBlock;
  const size_t blocks = (total_data + per_block - 1) / per_block;
  const uint32_t frame_id = frame_id_++;
  uint64_t fec_ns = 0, seal_ns = 0;
  uint32_t packets = 0;
  claimed_ = head_.load(std::memory_order_relaxed);

  const uint8_t* shard_ptr[wire::kMaxDataShardsPerBlock];
  uint8_t* parity_ptr[wire::kMaxDataShardsPerBlock];
  for (size_t b = 0; b < blocks; b++) {
    const size_t first = b * per_block;
    const int k = static_cast<int>(std::min(per_block, total_data - first));
    int m = (k * config_.fec_percent + 99) / 100;
    if (config_.fec_percent > 0 && m == 0) m = 1;
    m = std::min(m, k);
    // Data shards point into the frame; only the frame's last, partial shard is copied and padded.
    for (int j = 0; j < k; j++) {
      const size_t offset = (first + j) * S;
      if (offset + S <= len) {
        shard_ptr[j] = data + offset;
      } else {
        std::memset(scratch_.data(), 0, S);
        std::memcpy(scratch_.data(), data + offset, len - offset);
        shard_ptr[j] = scratch_.data();
      }
    }
    for (int i = 0; i < m; i++) parity_ptr[i] = scratch_.data() + (1 + i) * S;
    const uint64_t t0 = now_ns();
    if (m > 0) fec::encode(shard_ptr, k, parity_ptr, m, S);
    const uint64_t t1 = now_ns();
    fec_ns += t1 - t0;

    for (int s = 0; s < k + m; s++) {
      const uint64_t seq = seq_++;
      uint8_t* slot = claim();
      if (slot == nullptr) {
        send_dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      wire::Header h{};
      h.seq = seq;
      h.version = wire::kVersion;
      h.flags = static_cast<uint8_t>((s >= k ? wire::kFlagParity : 0) | (keyframe ? wire::kFlagKeyframe : 0));
      h.shard_bytes = static_cast<uint16_t>(S);
      h.frame_id = frame_id;
      h.block_index = static_cast<uint8_t>(b);
      h.block_count = static_cast<uint8_t>(blocks);
      h.shard_index = static_cast<uint8_t>(s);
      h.data_shards = static_cast<uint8_t>(k);
      h.parity_shards = static_cast<uint8_t>(m);
      h.frame_bytes = static_cast<uint32_t>(len);
      h.capture_us = capture_us;
      wire::write_header(slot, h);
      const uint8_t* plain = s < k ? shard_ptr[s] : parity_ptr[s - k];
      if (!sealer_.seal(seq, slot, wire::kHeaderBytes, plain, S, slot + wire::kHeaderBytes)) {
        send_dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      ring_len_[claimed_ % config_.ring_packets] = static_cast<uint16_t>(wire::kOverhead + S);
      claimed_++;
      packets++;
    }
    seal_ns += now_ns() - t1;
  }
  head_.store(claimed_, std::memory_order_release);
  uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
  frames_.fetch_add(1, std::memory_order_relaxed);
  if (split != nullptr) {
    split->fec_ns = fec_ns;
    split->seal_ns = seal_ns;
    split->packets = packets;
  }
  return true;
}

void MediaSender::pace() {
  // A backlog larger than a frame's worth is not paced: it is already late (pacing/pacer.h).
  pacing::BurstPacer pacer(config_.fps, static_cast<uint64_t>(config_.ring_packets) / 4);
  mmsghdr msgs[kBurst];
  iovec iov[kBurst];
  while (!stop_.load(std::memory_order_acquire)) {
    pollfd p{event_fd_, POLLIN, 0};
    poll(&p, 1, 100);
    uint64_t drained;
    (void)!read(event_fd_, &drained, sizeof drained);
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    if (head == tail) continue;
    pacer.begin(head - tail);
    while (tail != head && !stop_.load(std::memory_order_relaxed)) {
      const int n = pacing::BurstPacer::burst(head - tail);
      for (int i = 0; i < n; i++) {
        const uint64_t idx = (tail + i) % config_.ring_packets;
        iov[i].iov_base = &ring_[idx * slot_bytes_];
        iov[i].iov_len = ring_len_[idx];
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      const uint64_t t0 = now_ns();
      const int sent = sendmmsg(fd_, msgs, n, MSG_DONTWAIT);
      sock_ns_.fetch_add(now_ns() - t0, std::memory_order_relaxed);
      if (sent < 0) {
        send_dropped_.fetch_add(n, std::memory_order_relaxed);
      } else {
        uint64_t bytes = 0;
        for (int i = 0; i < sent; i++) bytes += iov[i].iov_len;
        packets_sent_.fetch_add(sent, std::memory_order_relaxed);
        bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
        if (sent < n) send_dropped_.fetch_add(n - sent, std::memory_order_relaxed);
      }
      tail += n;
      tail_.store(tail, std::memory_order_release);
      pacer.between_bursts(head - tail);
    }
  }
}

SenderCounters MediaSender::counters() const {
  SenderCounters c;
  c.frames = frames_.load(std::memory_order_relaxed);
  c.packets_sent = packets_sent_.load(std::memory_order_relaxed);
  c.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  c.send_dropped = send_dropped_.load(std::memory_order_relaxed);
  c.sock_ns = sock_ns_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace pf::media
