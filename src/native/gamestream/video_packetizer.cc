// Frame → GameStream datagrams (see video_packetizer.h). Every packet of the frame is claimed
// from the ring at once, so a frame is either queued whole or dropped whole: half a frame only
// costs the client a key-frame request later, and the bandwidth is better spent on the next one.
#include "video_packetizer.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "gs_fec.h"

namespace pf::gs {
namespace {
uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Length of the Annex-B start code at d[i] (3 or 4 bytes), or 0.
size_t start_code_at(const uint8_t* d, size_t len, size_t i) {
  if (i + 3 <= len && d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) return 3;
  if (i + 4 <= len && d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 0 && d[i + 3] == 1) return 4;
  return 0;
}

// Offset of the next start code at or after `from`, or `len`.
size_t next_start_code(const uint8_t* d, size_t len, size_t from) {
  for (size_t i = from; i + 3 <= len; i++) {
    if (d[i] == 0 && d[i + 1] == 0) {
      if (d[i + 2] == 1) return i;
      if (i + 4 <= len && d[i + 2] == 0 && d[i + 3] == 1) return i;
    }
  }
  return len;
}
}  // namespace

bool without_leading_sei(const uint8_t* data, size_t len, bool hevc, std::vector<uint8_t>* out) {
  // Walk the NAL units up to the first slice; note where SEI ones are.
  size_t pos = 0;
  size_t dropped = 0;
  size_t ranges[2 * 16];  // [begin, end) of up to 16 SEI units
  size_t n = 0;
  while (pos < len) {
    const size_t sc = start_code_at(data, len, pos);
    if (sc == 0 || pos + sc >= len) return false;  // not Annex-B as expected: leave it alone
    const uint8_t header = data[pos + sc];
    const int type = hevc ? (header >> 1) & 0x3f : header & 0x1f;
    const bool slice = hevc ? type < 32 : type >= 1 && type <= 5;
    if (slice) break;
    const size_t end = next_start_code(data, len, pos + sc);
    const bool sei = hevc ? type == 39 : type == 6;
    if (sei) {
      if (n == 16) return false;
      ranges[2 * n] = pos;
      ranges[2 * n + 1] = end;
      n++;
      dropped += end - pos;
    }
    pos = end;
  }
  if (n == 0) return false;
  out->clear();
  out->reserve(len - dropped);
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    out->insert(out->end(), data + from, data + ranges[2 * i]);
    from = ranges[2 * i + 1];
  }
  out->insert(out->end(), data + from, data + len);
  return true;
}

VideoPacketizer::VideoPacketizer(const PacketizerConfig& config, PacketRing* ring)
    : config_(config), ring_(ring), prefix_(config.encrypt ? wire::kEncPrefixBytes : 0) {
  fec::init();
  if (config_.encrypt) sealer_ = std::make_unique<VideoSealer>(config_.key, config_.nonce_stream);
}

void VideoPacketizer::copy_payload(uint8_t* out, size_t offset, const uint8_t* header, const uint8_t* data,
                                   size_t len) const {
  const size_t P = payload_bytes();
  size_t written = 0;
  if (offset < wire::kFrameHeaderBytes) {
    const size_t n = std::min(P, wire::kFrameHeaderBytes - offset);
    std::memcpy(out, header + offset, n);
    written = n;
  }
  const size_t data_offset = offset + written - wire::kFrameHeaderBytes;
  if (written < P && data_offset < len) {
    const size_t n = std::min(P - written, len - data_offset);
    std::memcpy(out + written, data + data_offset, n);
    written += n;
  }
  if (written < P) std::memset(out + written, 0, P - written);
}

PacketizeResult VideoPacketizer::packetize(const uint8_t* data, size_t len, bool idr, uint32_t rtp_timestamp,
                                           uint16_t latency_tenth_ms) {
  PacketizeResult r;
  if (idr && without_leading_sei(data, len, config_.hevc, &key_frame_)) {
    data = key_frame_.data();
    len = key_frame_.size();
  }
  const uint32_t frame_index = frame_index_++;
  const size_t P = payload_bytes();
  const size_t stream_bytes = len + wire::kFrameHeaderBytes;
  const int total_data = static_cast<int>((stream_bytes + P - 1) / P);
  wire::BlockPlan plan;
  if (len == 0 || !wire::plan_blocks(total_data, config_.fec_percent, config_.min_parity, &plan)) {
    r.frame_dropped = true;
    return r;
  }
  size_t total_packets = 0;
  for (int b = 0; b < plan.blocks; b++) total_packets += static_cast<size_t>(plan.data[b] + plan.parity[b].parity);
  // Claims accumulate until the caller publishes: an encoded frame with several access units
  // is packetized unit by unit and handed to the pacer once.
  if (!ring_->claim(total_packets)) {
    r.frame_dropped = true;
    r.dropped = static_cast<uint32_t>(total_packets);
    return r;
  }
  r.fec = plan.fec;
  r.blocks = static_cast<uint32_t>(plan.blocks);

  uint8_t frame_header[wire::kFrameHeaderBytes];
  const size_t last = stream_bytes % P;
  wire::write_frame_header(frame_header, idr ? wire::kFrameTypeIdr : wire::kFrameTypeP, latency_tenth_ms,
                           static_cast<uint16_t>(last == 0 ? P : last));

  const uint8_t* shards[wire::kMaxShardsPerBlock];
  uint8_t* parity[wire::kMaxShardsPerBlock];
  size_t slot = 0;      // index into the claim
  size_t offset = 0;    // into (frame header ++ frame)
  for (int b = 0; b < plan.blocks; b++) {
    const int k = plan.data[b];
    const int m = plan.parity[b].parity;
    wire::PacketFields f;
    f.rtp_timestamp = rtp_timestamp;
    f.frame_index = frame_index;
    f.block = b;
    f.last_block = plan.blocks - 1;
    f.data_shards = k;
    f.fec_percent = plan.parity[b].percent;
    for (int s = 0; s < k; s++) {
      uint8_t* p = ring_->claimed_slot(slot++) + prefix_;
      f.seq = seq_++;
      f.shard_index = s;
      f.stream_packet_index = stream_index_++;
      f.flags = static_cast<uint8_t>(wire::kFlagPicData | (s == 0 ? wire::kFlagSof : 0) | (s == k - 1 ? wire::kFlagEof : 0));
      wire::write_data_headers(p, f);
      copy_payload(p + wire::kHeadersBytes, offset, frame_header, data, len);
      offset += P;
      if (s < wire::kMaxShardsPerBlock) shards[s] = p;
    }
    if (m > 0) {
      for (int i = 0; i < m; i++) parity[i] = ring_->claimed_slot(slot + static_cast<size_t>(i)) + prefix_;
      const uint64_t t0 = mono_ns();
      fec::encode(shards, k, parity, m, plain_bytes());
      r.fec_ns += mono_ns() - t0;
      for (int i = 0; i < m; i++) {
        f.seq = seq_++;
        f.shard_index = k + i;
        wire::write_parity_headers(parity[i], f);
      }
      slot += static_cast<size_t>(m);
      r.parity += static_cast<uint32_t>(m);
    }
  }
  // Sealed last, in send order: parity above was computed over the plain datagrams.
  if (sealer_ != nullptr) {
    const uint64_t t0 = mono_ns();
    for (size_t i = 0; i < total_packets; i++) {
      if (!sealer_->seal(ring_->claimed_slot(i), plain_bytes(), frame_index)) r.seal_failed++;
    }
    r.seal_ns = mono_ns() - t0;
  }
  r.packets = static_cast<uint32_t>(total_packets);
  return r;
}

}  // namespace pf::gs
