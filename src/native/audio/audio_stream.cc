// The audio send thread: wait (ppoll) for the next packet deadline, a datagram, or the stop
// signal; read pings to learn where the client listens; at each deadline encode a packet of
// captured sound (or silence when the capture has none), encrypt it if asked, send it, and after
// every 4th data packet send the block's 2 parity packets. Everything the loop touches is
// allocated before it starts.
#include "audio_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "audio_cipher.h"
#include "audio_fec.h"
#include "audio_wire.h"
#include "opus_packets.h"
#include "pacing/pacer.h"

namespace pf::audio {
namespace {
int64_t now_ns() { return static_cast<int64_t>(pacing::mono_ns()); }

bool to_v6(const std::string& host, in6_addr* out) {
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    std::memset(out, 0, sizeof *out);
    out->s6_addr[10] = 0xff;
    out->s6_addr[11] = 0xff;
    std::memcpy(out->s6_addr + 12, &v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, host.c_str(), out) == 1;
}

bool sockaddr_to_v6(const sockaddr_storage& s, in6_addr* out) {
  if (s.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&s);
    std::memset(out, 0, sizeof *out);
    out->s6_addr[10] = 0xff;
    out->s6_addr[11] = 0xff;
    std::memcpy(out->s6_addr + 12, &a->sin_addr, 4);
    return true;
  }
  if (s.ss_family == AF_INET6) {
    *out = reinterpret_cast<const sockaddr_in6*>(&s)->sin6_addr;
    return true;
  }
  return false;
}

// A stray datagram must not stall the loop: how many we read per wake-up before sending again.
constexpr int kReadBurst = 64;
// Re-anchor the clock when this far behind (see audio_stream.h).
constexpr int64_t kResyncNs = 250'000'000;
// Wait this long for a ping before checking again (the stop signal wakes us anyway).
constexpr int64_t kIdleWaitNs = 200'000'000;
}  // namespace

AudioStream::~AudioStream() { close(); }

std::unique_ptr<AudioStream> AudioStream::open(const std::string& bind, int port, std::string* error) {
  if (port < 0 || port > 65535) {
    *error = "audio port must be from 0 to 65535";
    return nullptr;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (getaddrinfo(bind.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    *error = "cannot parse the audio bind address '" + bind + "' (a numeric IPv4 or IPv6 address)";
    return nullptr;
  }
  std::unique_ptr<AudioStream> s(new AudioStream());
  s->fd_ = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) {
    *error = std::string("cannot open a UDP socket: ") + strerror(errno);
    freeaddrinfo(res);
    return nullptr;
  }
  if (res->ai_family == AF_INET6) {
    int off = 0;  // "::" also accepts IPv4 clients (as v4-mapped addresses)
    setsockopt(s->fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  const int rc = ::bind(s->fd_, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    *error = "cannot bind UDP " + bind + ":" + std::to_string(port) + ": " + strerror(errno);
    return nullptr;
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(s->fd_, reinterpret_cast<sockaddr*>(&local), &len);
  s->port_ = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  s->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->wake_fd_ < 0) {
    *error = std::string("eventfd: ") + strerror(errno);
    return nullptr;
  }
  return s;
}

bool AudioStream::start(const StartOptions& options, std::string* error) {
  if (fd_ < 0) {
    *error = "the audio stream is closed";
    return false;
  }
  if (thread_.joinable()) {
    *error = "the audio stream is already running; stop() it first";
    return false;
  }
  if (!options.ping_payload.empty() && options.ping_payload.size() != wire::kPingPayloadBytes) {
    *error = "pingPayload must be 16 characters (X-SS-Ping-Payload) or empty (legacy PING)";
    return false;
  }
  if (!to_v6(options.client_host, &client_)) {
    *error = "clientHost must be a numeric IPv4 or IPv6 address, got '" + options.client_host + "'";
    return false;
  }
  if (options.first_sequence % wire::kDataShards != 0) {
    *error = "the first sequence number must start an FEC block (a multiple of 4)";
    return false;
  }
  // Refuse a layout or duration libopus would refuse, here rather than on the thread.
  std::unique_ptr<OpusPacketEncoder> probe(OpusPacketEncoder::open(options.channels, options.packet_ms, error));
  if (!probe) return false;
  if (options.source != "silence" && options.source != "pulse") {
    *error = "source must be \"silence\" or \"pulse\", got '" + options.source + "'";
    return false;
  }
  options_ = options;
  capture_.reset();
  last_source_ = options.source;
  last_capture_ = CaptureStatus{};
  last_underruns_ = last_dropped_ = last_reconnects_ = 0;
  // The capture starts now, not at the first ping, so its ring is primed when packets are due.
  if (options.source == "pulse") capture_ = std::make_unique<PulseCapture>(options.device, options.channels);
  uint64_t drain;
  while (read(wake_fd_, &drain, sizeof drain) > 0) {
  }
  packets_sent_ = fec_packets_sent_ = pings_ = send_errors_ = ignored_ = resyncs_ = 0;
  captured_packets_ = silence_packets_ = 0;
  thread_ = std::thread([this] { run(); });
  return true;
}

void AudioStream::stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    ssize_t w = write(wake_fd_, &one, sizeof one);
    (void)w;
    thread_.join();
  }
  if (capture_) {
    last_capture_ = capture_->status();
    last_underruns_ = capture_->underruns();
    last_dropped_ = capture_->dropped_frames();
    last_reconnects_ = capture_->reconnects();
    capture_->stop();
    capture_.reset();
  }
}

SourceStatus AudioStream::source_status() const {
  SourceStatus s;
  s.source = last_source_.empty() ? "silence" : last_source_;
  if (s.source == "silence") {
    s.state = "off";
    return s;
  }
  const CaptureStatus c = capture_ ? capture_->status() : last_capture_;
  s.state = c.state;
  s.detail = c.detail;
  s.device = c.device;
  return s;
}

void AudioStream::close() {
  stop();
  if (fd_ >= 0) ::close(fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  fd_ = wake_fd_ = -1;
}

Counters AudioStream::counters() const {
  Counters c;
  c.packets_sent = packets_sent_.load(std::memory_order_relaxed);
  c.fec_packets_sent = fec_packets_sent_.load(std::memory_order_relaxed);
  c.pings = pings_.load(std::memory_order_relaxed);
  c.send_errors = send_errors_.load(std::memory_order_relaxed);
  c.ignored = ignored_.load(std::memory_order_relaxed);
  c.resyncs = resyncs_.load(std::memory_order_relaxed);
  c.captured_packets = captured_packets_.load(std::memory_order_relaxed);
  c.silence_packets = silence_packets_.load(std::memory_order_relaxed);
  c.capture_underruns = capture_ ? capture_->underruns() : last_underruns_;
  c.capture_dropped_frames = capture_ ? capture_->dropped_frames() : last_dropped_;
  c.capture_reconnects = capture_ ? capture_->reconnects() : last_reconnects_;
  return c;
}

bool AudioStream::from_client(const sockaddr_storage& from) const {
  in6_addr a;
  return sockaddr_to_v6(from, &a) && std::memcmp(&a, &client_, sizeof a) == 0;
}

bool AudioStream::is_ping(const uint8_t* p, size_t n) const {
  if (options_.ping_payload.empty()) return n == 4 && std::memcmp(p, "PING", 4) == 0;
  return n >= wire::kPingBytes && std::memcmp(p, options_.ping_payload.data(), wire::kPingPayloadBytes) == 0;
}

void AudioStream::run() {
  // Named so a test (and an operator's `top -H`) can see whether the thread is still there.
  pthread_setname_np(pthread_self(), "pf-gs-audio");
  std::string error;
  std::unique_ptr<OpusPacketEncoder> encoder(OpusPacketEncoder::open(options_.channels, options_.packet_ms, &error));
  std::unique_ptr<AudioCipher> cipher;
  if (options_.encrypt) cipher = std::make_unique<AudioCipher>(options_.key, options_.key_id);
  if (!encoder || (cipher && !cipher->ok())) {
    send_errors_++;
    return;
  }
  const size_t opus_bytes = encoder->packet_bytes();
  const size_t shard_bytes = cipher ? AudioCipher::sealed_size(opus_bytes) : opus_bytes;
  // Data packets of the current block are kept whole: the parity is computed over their payloads.
  std::vector<uint8_t> block(wire::kDataShards * (wire::kRtpHeaderBytes + shard_bytes));
  std::vector<uint8_t> fec(wire::kRtpHeaderBytes + wire::kFecHeaderBytes + shard_bytes);
  std::vector<uint8_t> parity(wire::kParityShards * shard_bytes);
  std::vector<uint8_t> in(2048);
  std::vector<float> pcm(static_cast<size_t>(encoder->frame_samples()) * options_.channels);
  PulseCapture* const capture = capture_.get();
  const int64_t period_ns = static_cast<int64_t>(options_.packet_ms) * 1000000;

  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  bool have_peer = false;
  // One packet per period on an absolute deadline, re-anchored when far behind (pacing/pacer.h).
  pacing::PacketClock clock(period_ns, kResyncNs);
  uint16_t seq = options_.first_sequence;
  uint32_t timestamp = 0;
  uint16_t block_base = 0;
  uint32_t block_ts = 0;

  auto send = [&](const uint8_t* p, size_t n) {
    if (sendto(fd_, p, n, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&peer), peer_len) != static_cast<ssize_t>(n)) {
      send_errors_++;
      return false;
    }
    return true;
  };

  for (;;) {
    const int64_t now = now_ns();
    const int64_t wait = have_peer ? clock.wait_ns(now) : kIdleWaitNs;
    timespec ts{static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = ppoll(fds, 2, &ts, nullptr);
    if (ready < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;  // stop()
    if (fds[0].revents & POLLIN) {
      for (int i = 0; i < kReadBurst; i++) {
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        const ssize_t n = recvfrom(fd_, in.data(), in.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) break;  // EAGAIN: drained (or a queued ICMP error, which says nothing about pings)
        if (!from_client(from) || !is_ping(in.data(), static_cast<size_t>(n) > in.size() ? in.size() : n)) {
          ignored_++;
          continue;
        }
        pings_++;
        // Follow the latest ping: a NAT may move the client's port during a session.
        std::memcpy(&peer, &from, from_len);
        peer_len = from_len;
        if (!have_peer) {
          have_peer = true;
          clock.start(now_ns());
        }
      }
    }
    if (!have_peer) continue;
    bool resynced = false;
    if (!clock.due(now_ns(), &resynced)) continue;
    if (resynced) resyncs_++;

    const bool captured = capture != nullptr && capture->pull(pcm.data(), static_cast<size_t>(encoder->frame_samples()));
    const uint8_t* opus = captured ? encoder->encode(pcm.data()) : encoder->encode();
    (captured ? captured_packets_ : silence_packets_)++;
    if (opus == nullptr) {
      send_errors_++;
      continue;
    }
    const int index = seq % wire::kDataShards;
    if (index == 0) {
      block_base = seq;
      block_ts = timestamp;
    }
    uint8_t* packet = block.data() + index * (wire::kRtpHeaderBytes + shard_bytes);
    wire::write_rtp(packet, wire::kPayloadTypeAudio, seq, timestamp, 0);
    if (cipher) {
      if (!cipher->encrypt(seq, opus, opus_bytes, packet + wire::kRtpHeaderBytes)) {
        send_errors_++;
        continue;
      }
    } else {
      std::memcpy(packet + wire::kRtpHeaderBytes, opus, opus_bytes);
    }
    if (send(packet, wire::kRtpHeaderBytes + shard_bytes)) packets_sent_++;

    if (index == wire::kDataShards - 1) {
      const uint8_t* data[4];
      for (int i = 0; i < 4; i++) data[i] = block.data() + i * (wire::kRtpHeaderBytes + shard_bytes) + wire::kRtpHeaderBytes;
      uint8_t* const out[2] = {parity.data(), parity.data() + shard_bytes};
      fec::encode(data, out, shard_bytes);
      for (int j = 0; j < wire::kParityShards; j++) {
        // The FEC packets' own RTP sequence numbers continue after the block (base + 4 + j), as
        // GameStream hosts number them; clients place them by the FEC header, not by this.
        wire::write_rtp(fec.data(), wire::kPayloadTypeFec, static_cast<uint16_t>(block_base + wire::kDataShards + j), 0, 0);
        wire::write_fec_header(fec.data() + wire::kRtpHeaderBytes, static_cast<uint8_t>(j), block_base, block_ts, 0);
        std::memcpy(fec.data() + wire::kRtpHeaderBytes + wire::kFecHeaderBytes, out[j], shard_bytes);
        if (send(fec.data(), fec.size())) fec_packets_sent_++;
      }
    }
    seq++;
    timestamp += static_cast<uint32_t>(options_.packet_ms);
  }
}
}  // namespace pf::audio
