// The punktfunk/1 media packet, one UDP datagram:
//
//   offset  size  field (big-endian)
//   0       8     seq            packet counter of this session; the AES-GCM nonce's low 8 bytes
//   8       1     version        1
//   9       1     flags          bit 0: parity shard; bit 1: keyframe
//   10      2     shard_bytes    payload size of every shard in this block
//   12      4     frame_id
//   16      1     block_index
//   17      1     block_count
//   18      1     shard_index    0..k-1 data, k..k+m-1 parity
//   19      1     data_shards    k
//   20      1     parity_shards  m
//   21      3     reserved       0
//   24      4     frame_bytes    the whole encoded frame's size (the last data shard is padded)
//   28      8     capture_us     CLOCK_MONOTONIC µs at the frame's deadline (latency on one machine)
//   36      n     payload        AES-128-GCM ciphertext of the shard
//   36+n    16    tag            GCM tag over bytes 0..35 (additional data) and the payload
//
// Why the header is authenticated but not encrypted: the receiver must place a shard before it
// decrypts anything, and nothing in it is secret; authenticating it means a forged header is
// dropped like a forged payload. Why the sequence number is the nonce: it never repeats within a
// session (a new session gets a new key), and the receiver's replay window keys on it too.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::wire {

constexpr uint8_t kVersion = 1;
constexpr size_t kSeqBytes = 8;
constexpr size_t kHeaderBytes = 36;  // including seq
constexpr size_t kTagBytes = 16;
constexpr size_t kOverhead = kHeaderBytes + kTagBytes;
constexpr size_t kIpUdpBytes = 28;
constexpr int kMaxDataShardsPerBlock = 64;
constexpr uint8_t kFlagParity = 1;
constexpr uint8_t kFlagKeyframe = 2;

struct Header {
  uint64_t seq;
  uint8_t version;
  uint8_t flags;
  uint16_t shard_bytes;
  uint32_t frame_id;
  uint8_t block_index;
  uint8_t block_count;
  uint8_t shard_index;
  uint8_t data_shards;
  uint8_t parity_shards;
  uint32_t frame_bytes;
  uint64_t capture_us;
};

inline void put16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
inline void put32(uint8_t* p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> (24 - 8 * i)) & 0xff; }
inline void put64(uint8_t* p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (v >> (56 - 8 * i)) & 0xff; }
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = (v << 8) | p[i];
  return v;
}
inline uint64_t get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

inline void write_header(uint8_t* p, const Header& h) {
  put64(p, h.seq);
  p[8] = h.version;
  p[9] = h.flags;
  put16(p + 10, h.shard_bytes);
  put32(p + 12, h.frame_id);
  p[16] = h.block_index;
  p[17] = h.block_count;
  p[18] = h.shard_index;
  p[19] = h.data_shards;
  p[20] = h.parity_shards;
  p[21] = p[22] = p[23] = 0;
  put32(p + 24, h.frame_bytes);
  put64(p + 28, h.capture_us);
}

inline Header read_header(const uint8_t* p) {
  Header h;
  h.seq = get64(p);
  h.version = p[8];
  h.flags = p[9];
  h.shard_bytes = get16(p + 10);
  h.frame_id = get32(p + 12);
  h.block_index = p[16];
  h.block_count = p[17];
  h.shard_index = p[18];
  h.data_shards = p[19];
  h.parity_shards = p[20];
  h.frame_bytes = get32(p + 24);
  h.capture_us = get64(p + 28);
  return h;
}

}  // namespace pf::wire
