// GameStream video header layout and block planning (see video_wire.h for the format).
#include "video_wire.h"

#include <algorithm>
#include <cstring>

namespace pf::gs::wire {
namespace {
void be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
void le16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
int ceil_div(int a, int b) { return (a + b - 1) / b; }
uint8_t multi_fec_blocks(const PacketFields& f) { return static_cast<uint8_t>((f.block << 4) | (f.last_block << 6)); }
}  // namespace

uint32_t fec_info(int shard_index, int data_shards, int fec_percent) {
  return (static_cast<uint32_t>(shard_index) << 12) | (static_cast<uint32_t>(data_shards) << 22) |
         (static_cast<uint32_t>(fec_percent) << 4);
}

void write_data_headers(uint8_t* p, const PacketFields& f) {
  std::memset(p, 0, kHeadersBytes);
  p[0] = kRtpFlags;
  be16(p + 2, f.seq);
  be32(p + 4, f.rtp_timestamp);
  uint8_t* v = p + kRtpBytes;
  le32(v, (f.stream_packet_index & 0xFFFFFF) << 8);
  le32(v + 4, f.frame_index);
  v[8] = f.flags;
  v[10] = kMultiFecFlags;
  v[11] = multi_fec_blocks(f);
  le32(v + 12, fec_info(f.shard_index, f.data_shards, f.fec_percent));
}

void write_parity_headers(uint8_t* p, const PacketFields& f) {
  p[0] = kRtpFlags;
  be16(p + 2, f.seq);
  be32(p + 4, f.rtp_timestamp);
  uint8_t* v = p + kRtpBytes;
  le32(v + 4, f.frame_index);
  v[11] = multi_fec_blocks(f);
  le32(v + 12, fec_info(f.shard_index, f.data_shards, f.fec_percent));
}

void write_frame_header(uint8_t* out, uint8_t frame_type, uint16_t latency_tenth_ms, uint16_t last_payload_len) {
  out[0] = 0x01;
  le16(out + 1, latency_tenth_ms);
  out[3] = frame_type;
  le16(out + 4, last_payload_len);
  out[6] = 0;
  out[7] = 0;
}

void video_nonce(uint64_t counter, uint32_t stream, uint8_t* nonce) {
  for (int i = 0; i < 8; i++) nonce[i] = static_cast<uint8_t>(counter >> (8 * i));
  for (int i = 0; i < 3; i++) nonce[8 + i] = static_cast<uint8_t>(stream >> (8 * i));
  nonce[11] = kEncNonceMarker;
}

BlockParity parity_for(int data, int percent, int min_parity) {
  BlockParity r;
  if (percent <= 0 || data <= 0) return r;
  const int wanted = ceil_div(data * percent, 100);
  const int room = kMaxShardsPerBlock - data;
  if (wanted >= min_parity && wanted <= room) {
    r.parity = wanted;
    r.percent = percent;
    return r;
  }
  // The client derives the count from the percentage, so only counts some 8-bit percentage
  // yields are possible. Take the smallest such count ≥ the target that still fits, else the
  // largest that fits.
  const int target = std::min(std::max(wanted, min_parity), room);
  for (int pct = 1; pct <= 255; pct++) {
    const int m = ceil_div(data * pct, 100);
    if (m > room) break;
    r.parity = m;
    r.percent = pct;
    if (m >= target) return r;
  }
  return r;
}

bool plan_blocks(int total_data, int percent, int min_parity, BlockPlan* plan) {
  *plan = BlockPlan{};
  if (total_data <= 0) return false;
  int per_block = kMaxDataShardsNoFec;
  if (percent > 0) {
    per_block = kMaxShardsPerBlock * 100 / (100 + percent);
    while (per_block > 1 && per_block + std::max(ceil_div(per_block * percent, 100), min_parity) > kMaxShardsPerBlock)
      per_block--;
  }
  int blocks = ceil_div(total_data, per_block);
  if (blocks > kMaxBlocks) {
    plan->fec = false;  // too large for parity: send it bare rather than not at all
    percent = 0;
    blocks = ceil_div(total_data, kMaxDataShardsNoFec);
    if (blocks > kMaxBlocks) return false;
  }
  const int even = ceil_div(total_data, blocks);
  int left = total_data;
  plan->blocks = blocks;
  for (int b = 0; b < blocks; b++) {
    plan->data[b] = std::min(even, left);
    left -= plan->data[b];
    plan->parity[b] = parity_for(plan->data[b], percent, min_parity);
  }
  return left == 0 && plan->data[blocks - 1] > 0;
}

}  // namespace pf::gs::wire
