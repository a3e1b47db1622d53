#include "media_receiver.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cerrno>
#include <cstring>
#include <ctime>

#include "reed_solomon.h"
#include "wire.h"

namespace pf::media {
namespace {
constexpr int kSlots = 8;
constexpr uint64_t kReplayWindow = 4096;
constexpr size_t kLatencyRing = 8192;
constexpr int kBatch = 32;

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

enum class SlotState { Empty, Active, Done };

struct Block {
  uint8_t k = 0;
  uint8_t m = 0;
  uint8_t have = 0;
  bool done = false;
  bool present[2 * wire::kMaxDataShardsPerBlock] = {};
};
}  // namespace

struct MediaReceiver::Slot {
  SlotState state = SlotState::Empty;
  uint32_t frame_id = 0;
  uint32_t frame_bytes = 0;
  uint64_t capture_us = 0;
  bool keyframe = false;
  int block_count = 0;
  int blocks_done = 0;
  std::vector<uint8_t> data;
  std::vector<uint8_t> parity;
  std::vector<Block> blocks;
};

MediaReceiver::MediaReceiver(const ReceiverConfig& config)
    : config_(config),
      shard_bytes_(static_cast<size_t>(config.mtu) - wire::kIpUdpBytes - wire::kOverhead),
      latencies_(kLatencyRing) {}

std::unique_ptr<MediaReceiver> MediaReceiver::open(const ReceiverConfig& config, std::string* error) {
  if (config.mtu < 576 || config.mtu > 9000) {
    *error = "mtu must be from 576 to 9000 bytes";
    return nullptr;
  }
  if (config.simulate_loss < 0 || config.simulate_loss >= 1) {
    *error = "simulated loss must be from 0 to below 1";
    return nullptr;
  }
  fec::init();
  std::unique_ptr<MediaReceiver> r(new MediaReceiver(config));
  const size_t S = r->shard_bytes_;
  const size_t per_block = wire::kMaxDataShardsPerBlock * S;
  const size_t max_blocks = (config.max_frame_bytes + per_block - 1) / per_block;
  if (max_blocks > 255) {
    *error = "max frame size needs more than 255 FEC blocks";
    return nullptr;
  }
  r->slots_.resize(kSlots);
  for (auto& s : r->slots_) {
    s.data.assign(max_blocks * per_block + AV_INPUT_BUFFER_PADDING_SIZE, 0);
    s.parity.assign(max_blocks * per_block, 0);
    s.blocks.resize(max_blocks);
  }
  r->plain_.assign(S, 0);
  r->work_.assign(2 * wire::kMaxDataShardsPerBlock * wire::kMaxDataShardsPerBlock, 0);
  r->window_.assign(kReplayWindow / 64, 0);

  if (config.codec != "none") {
    const AVCodec* codec = avcodec_find_decoder(config.codec == "hevc" ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    if (codec == nullptr) {
      *error = "no " + config.codec + " decoder in this libavcodec";
      return nullptr;
    }
    r->decoder_ = avcodec_alloc_context3(codec);
    r->decoder_->thread_count = 1;
    r->decoder_->flags |= AV_CODEC_FLAG_LOW_DELAY;
    if (avcodec_open2(r->decoder_, codec, nullptr) < 0) {
      *error = "cannot open the " + config.codec + " decoder";
      return nullptr;
    }
    r->packet_ = av_packet_alloc();
    r->frame_ = av_frame_alloc();
  }
  if (!config.save_path.empty()) {
    r->save_ = std::fopen(config.save_path.c_str(), "wb");
    if (r->save_ == nullptr) {
      *error = "cannot write " + config.save_path + ": " + strerror(errno);
      return nullptr;
    }
  }

  r->fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (r->fd_ < 0) {
    *error = std::string("cannot open a UDP socket: ") + strerror(errno);
    return nullptr;
  }
  // A deep receive buffer rides out a receive thread that the scheduler parks for a while
  // (a busy client machine): without it a 10 Mb/s stream overflows the default ~200 KB in
  // ~150 ms. SO_RCVBUFFORCE passes net.core.rmem_max when permitted; otherwise the capped request.
  int rcvbuf = 8 << 20;
  if (setsockopt(r->fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    setsockopt(r->fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(config.port));
  if (inet_pton(AF_INET, config.bind.c_str(), &addr.sin_addr) != 1) {
    *error = "bad bind address " + config.bind;
    return nullptr;
  }
  if (bind(r->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::string("cannot bind UDP ") + config.bind + ":" + std::to_string(config.port) + ": " + strerror(errno);
    return nullptr;
  }
  socklen_t len = sizeof addr;
  getsockname(r->fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  r->port_ = ntohs(addr.sin_port);
  if (config.has_key && !r->start(config.key, error)) return nullptr;
  return r;
}

bool MediaReceiver::start(const seal::Key& key, std::string* error) {
  if (thread_.joinable()) {
    *error = "the receiver is already started";
    return false;
  }
  opener_ = std::make_unique<seal::Opener>(key);
  if (!opener_->ok()) {
    *error = "cannot set up AES-128-GCM";
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

MediaReceiver::~MediaReceiver() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
  if (save_ != nullptr) std::fclose(save_);
  av_frame_free(&frame_);
  av_packet_free(&packet_);
  avcodec_free_context(&decoder_);
}

void MediaReceiver::run() {
  std::vector<uint8_t> buffers(kBatch * 65536);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  while (!stop_.load(std::memory_order_acquire)) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    for (int i = 0; i < kBatch; i++) {
      iov[i].iov_base = &buffers[i * 65536];
      iov[i].iov_len = 65536;
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < n; i++) handle(&buffers[i * 65536], msgs[i].msg_len);
  }
}

void MediaReceiver::handle(const uint8_t* p, size_t len) {
  if (config_.simulate_loss > 0) {
    // xorshift64: a reproducible, allocation-free coin for simulated loss.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    if (static_cast<double>(rng_ >> 11) / 9007199254740992.0 < config_.simulate_loss) {
      simulated_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  const size_t S = shard_bytes_;
  if (len != wire::kOverhead + S) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const wire::Header h = wire::read_header(p);
  const int k = h.data_shards, m = h.parity_shards;
  const size_t total_data = (static_cast<size_t>(h.frame_bytes) + S - 1) / S;
  const size_t blocks = (total_data + wire::kMaxDataShardsPerBlock - 1) / wire::kMaxDataShardsPerBlock;
  const size_t expected_k =
      h.block_index + 1u < blocks ? wire::kMaxDataShardsPerBlock : total_data - h.block_index * wire::kMaxDataShardsPerBlock;
  if (h.version != wire::kVersion || h.shard_bytes != S || h.frame_bytes == 0 ||
      h.frame_bytes > config_.max_frame_bytes || h.block_count != blocks || h.block_index >= h.block_count ||
      k < 1 || k > wire::kMaxDataShardsPerBlock || m > k || h.shard_index >= k + m ||
      static_cast<size_t>(k) != expected_k) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Replay: a circular bitmap over the last kReplayWindow sequence numbers. "Older than the
  // window" is written as a difference: `h.seq + kReplayWindow` wraps for a sequence number near
  // 2^64 and made every new packet up there look old.
  if (any_) {
    if ((h.seq < highest_ && highest_ - h.seq >= kReplayWindow) ||
        (h.seq <= highest_ && (window_[(h.seq % kReplayWindow) / 64] >> (h.seq % 64) & 1))) {
      replayed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (!opener_->open(h.seq, p, wire::kHeaderBytes, p + wire::kHeaderBytes, S, p + wire::kHeaderBytes + S,
                    plain_.data())) {
    tampered_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!any_) {
    any_ = true;
    highest_ = h.seq;
    first_seq_ = h.seq;
  } else if (h.seq > highest_) {
    if (h.seq - highest_ >= kReplayWindow) {
      std::fill(window_.begin(), window_.end(), 0);
    } else {
      // Counts up to h.seq without `s <= h.seq` as the test: at h.seq == 2^64 - 1 that never
      // fails and the receive thread spun for ever (a key holder could stop the client).
      for (uint64_t s = highest_; s != h.seq;) {
        ++s;
        window_[(s % kReplayWindow) / 64] &= ~(1ull << (s % 64));
      }
    }
    highest_ = h.seq;
  }
  window_[(h.seq % kReplayWindow) / 64] |= 1ull << (h.seq % 64);
  span_.store(highest_ - first_seq_ + 1, std::memory_order_relaxed);
  received_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(len, std::memory_order_relaxed);

  // Place the shard.
  const int index = static_cast<int>(h.frame_id % kSlots);
  Slot& slot = slots_[index];
  if (slot.state != SlotState::Empty && slot.frame_id != h.frame_id) {
    if (static_cast<int32_t>(h.frame_id - slot.frame_id) < 0) return;  // late shard of an older frame
    if (slot.state == SlotState::Active) dropped_.fetch_add(1, std::memory_order_relaxed);
    slot.state = SlotState::Empty;
  }
  if (slot.state == SlotState::Done) return;  // parity that arrived after the frame was whole
  if (slot.state == SlotState::Empty) {
    if (have_frame_ && static_cast<int32_t>(h.frame_id - highest_frame_) > 1) {
      // Frames between the newest seen and this one never showed a single shard.
      dropped_.fetch_add(h.frame_id - highest_frame_ - 1, std::memory_order_relaxed);
    }
    if (!have_frame_ || static_cast<int32_t>(h.frame_id - highest_frame_) > 0) highest_frame_ = h.frame_id;
    have_frame_ = true;
    slot.state = SlotState::Active;
    slot.frame_id = h.frame_id;
    slot.frame_bytes = h.frame_bytes;
    slot.capture_us = h.capture_us;
    slot.keyframe = (h.flags & wire::kFlagKeyframe) != 0;
    slot.block_count = h.block_count;
    slot.blocks_done = 0;
    for (int b = 0; b < slot.block_count; b++) slot.blocks[b] = Block{};
  }
  if (h.frame_bytes != slot.frame_bytes || h.block_count != slot.block_count) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Block& block = slot.blocks[h.block_index];
  if (block.done || block.present[h.shard_index]) return;
  if (block.have == 0) {
    block.k = static_cast<uint8_t>(k);
    block.m = static_cast<uint8_t>(m);
  } else if (block.k != k || block.m != m) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t base = static_cast<size_t>(h.block_index) * wire::kMaxDataShardsPerBlock * S;
  uint8_t* dest = h.shard_index < k ? &slot.data[base + h.shard_index * S] : &slot.parity[base + (h.shard_index - k) * S];
  std::memcpy(dest, plain_.data(), S);
  block.present[h.shard_index] = true;
  block.have++;
  if (block.have < k) return;

  uint8_t* shards[2 * wire::kMaxDataShardsPerBlock];
  for (int j = 0; j < k; j++) shards[j] = &slot.data[base + j * S];
  for (int i = 0; i < m; i++) shards[k + i] = &slot.parity[base + i * S];
  const int rebuilt = fec::reconstruct(shards, block.present, k, m, S, work_.data());
  if (rebuilt < 0) return;
  recovered_.fetch_add(rebuilt, std::memory_order_relaxed);
  block.done = true;
  if (++slot.blocks_done == slot.block_count) finish_frame(index);
}

void MediaReceiver::finish_frame(int index) {
  Slot& slot = slots_[index];
  slot.state = SlotState::Done;
  complete_.fetch_add(1, std::memory_order_relaxed);
  if (slot.keyframe) keyframes_.fetch_add(1, std::memory_order_relaxed);
  std::memset(&slot.data[slot.frame_bytes], 0, AV_INPUT_BUFFER_PADDING_SIZE);
  if (save_ != nullptr) std::fwrite(slot.data.data(), 1, slot.frame_bytes, save_);
  decode(slot.data.data(), slot.frame_bytes, slot.capture_us);
}

void MediaReceiver::decode(const uint8_t* data, size_t len, uint64_t capture_us) {
  if (decoder_ == nullptr) return;
  const uint64_t t0 = now_ns();
  packet_->data = const_cast<uint8_t*>(data);
  packet_->size = static_cast<int>(len);
  if (avcodec_send_packet(decoder_, packet_) < 0) {
    decode_errors_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  while (avcodec_receive_frame(decoder_, frame_) == 0) {
    decoded_.fetch_add(1, std::memory_order_relaxed);
    const int64_t raw = clock_us() - static_cast<int64_t>(capture_us);
    const uint64_t n = latency_count_.load(std::memory_order_relaxed);
    latencies_[n % kLatencyRing].store(raw, std::memory_order_relaxed);
    latency_count_.store(n + 1, std::memory_order_release);
    av_frame_unref(frame_);
  }
  decode_ns_.fetch_add(now_ns() - t0, std::memory_order_relaxed);
}

ReceiverCounters MediaReceiver::counters() const {
  ReceiverCounters c;
  c.packets_received = received_.load(std::memory_order_relaxed);
  const uint64_t span = span_.load(std::memory_order_relaxed);
  c.packets_lost = span > c.packets_received ? span - c.packets_received : 0;
  c.packets_malformed = malformed_.load(std::memory_order_relaxed);
  c.packets_tampered = tampered_.load(std::memory_order_relaxed);
  c.packets_replayed = replayed_.load(std::memory_order_relaxed);
  c.packets_simulated_lost = simulated_.load(std::memory_order_relaxed);
  c.fec_recovered = recovered_.load(std::memory_order_relaxed);
  c.frames_complete = complete_.load(std::memory_order_relaxed);
  c.keyframes = keyframes_.load(std::memory_order_relaxed);
  c.frames_dropped = dropped_.load(std::memory_order_relaxed);
  c.frames_decoded = decoded_.load(std::memory_order_relaxed);
  c.decode_errors = decode_errors_.load(std::memory_order_relaxed);
  c.decode_ns = decode_ns_.load(std::memory_order_relaxed);
  c.bytes = bytes_.load(std::memory_order_relaxed);
  c.latency_count = latency_count_.load(std::memory_order_acquire);
  return c;
}

int64_t MediaReceiver::clock_us() const { return static_cast<int64_t>(now_ns() / 1000) + config_.clock_shift_us; }

std::vector<int64_t> MediaReceiver::latencies_since(uint64_t since) const {
  const uint64_t n = latency_count_.load(std::memory_order_acquire);
  std::vector<int64_t> out;
  if (n <= since) return out;
  const uint64_t from = n - since > kLatencyRing ? n - kLatencyRing : since;
  out.reserve(n - from);
  for (uint64_t i = from; i < n; i++) out.push_back(latencies_[i % kLatencyRing].load(std::memory_order_relaxed));
  return out;
}

}  // namespace pf::media
