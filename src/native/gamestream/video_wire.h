// The GameStream video datagram as a Moonlight client (appversion 7.1.431 hosts) parses it, and
// how a frame is cut into FEC blocks. Pure functions: no socket, no clock, no allocation, so the
// known-answer tests can check the bytes.
//
// One datagram = one FEC shard of `packet_size + 16` bytes:
//   [0..16)  RTP: 0x90 (version 2 + extension bit), payload type 0, sequence number (big-endian),
//            90 kHz timestamp (big-endian), SSRC 0, then 4 extension bytes left 0
//   [16..32) video header, little-endian: streamPacketIndex << 8, frameIndex, flags
//            (CONTAINS_PIC_DATA | SOF on a block's first data packet | EOF on its last),
//            extraFlags 0, multiFecFlags 0x10, multiFecBlocks (block << 4 | lastBlock << 6),
//            fecInfo (shardIndex << 12 | dataShards << 22 | fecPercent << 4)
//   [32..)   payload: the frame's bytes, the first packet of a frame starting with the 8-byte
//            frame header (0x01, processing latency in 0.1 ms LE16, frame type 1 P / 2 IDR,
//            last packet's payload length LE16, 2 zero bytes). The last data shard is zero-padded.
// So Moonlight's `packetSize` counts the video header and the payload, not the RTP header.
//
// Why the client reads parity from `fecInfo` only as a percentage: it recomputes the parity count
// as ceil(data · percent / 100). A block that needs more parity than the configured share
// (minRequiredFecPackets) therefore advertises a raised percentage that yields exactly its count.
//
// Which header bytes a parity packet carries: parity covers the whole shard, headers included,
// and a rebuilt data packet gets back from the client only the RTP fields, frameIndex and
// multiFecBlocks (it rewrites those itself). So a parity packet overwrites exactly those
// positions plus fecInfo and leaves the rest as parity; the data packet's flags and
// streamPacketIndex then come back intact from the decode.
//
// Encrypted video (a client that asked for it: `x-ss-general.encryptionEnabled` bit 0x02, see
// video_seal.h): each datagram above, unchanged and parity included, is AES-128-GCM-encrypted
// whole under the launch's `rikey`, and 32 bytes go in front of it (moonlight-common-c's
// ENC_VIDEO_HEADER, read by its VideoStream.c):
//   [0..12)  the 12-byte GCM nonce (any layout; the client takes it as sent; ours is below)
//   [12..16) frameIndex, little-endian: lets the client skip a stale frame before decrypting
//   [16..32) the 16-byte GCM tag (no additional authenticated data)
//   [32..)   the ciphertext, as long as the plain datagram (packet_size + 16)
// A client asking for encryption announces a packetSize 32 bytes smaller than it otherwise
// would, so the datagram stays the size it would have been.
//
// The nonce, NIST SP 800-38D §8.2.1's deterministic construction: the invocation field is the
// session's packet counter (bytes 0..7, little-endian, from 0), the fixed field names the use of
// the key: bytes 8..10 the process's video stream number (little-endian, 24 bits) and byte 11
// 'V'. The control stream's V2 nonces under the same key end in 'C' (moonlight-common-c's
// ControlStream.c), so the two never meet; the stream number keeps two video sessions under one
// key (a client that plays twice under one launch) from reusing a nonce.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pf::gs::wire {

constexpr size_t kRtpBytes = 16;          // fixed 12 + 4 extension bytes
constexpr size_t kVideoHeaderBytes = 16;  // NV video packet header
constexpr size_t kHeadersBytes = kRtpBytes + kVideoHeaderBytes;
constexpr size_t kFrameHeaderBytes = 8;
constexpr uint8_t kRtpFlags = 0x90;  // version 2, extension
constexpr uint8_t kFlagPicData = 0x1, kFlagEof = 0x2, kFlagSof = 0x4;
constexpr uint8_t kMultiFecFlags = 0x10;
constexpr int kMaxBlocks = 4;                // two bits of block number
constexpr int kMaxShardsPerBlock = 255;      // nanors: data + parity
constexpr int kMaxDataShardsNoFec = 1023;    // ten bits of shard index
constexpr uint8_t kFrameTypeP = 1, kFrameTypeIdr = 2;
constexpr size_t kEncPrefixBytes = 32;  // nonce 12, frameIndex 4, tag 16
constexpr size_t kEncNonceBytes = 12;
constexpr size_t kEncFrameOffset = 12;
constexpr size_t kEncTagOffset = 16;
constexpr uint8_t kEncNonceMarker = 'V';

struct PacketFields {
  uint16_t seq = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t stream_packet_index = 0;  // 24 bits
  uint32_t frame_index = 0;
  uint8_t flags = 0;
  int block = 0;
  int last_block = 0;
  int shard_index = 0;
  int data_shards = 0;
  int fec_percent = 0;
};

uint32_t fec_info(int shard_index, int data_shards, int fec_percent);
// All 32 header bytes of a data packet.
void write_data_headers(uint8_t* packet, const PacketFields& f);
// Only the positions a client needs in a parity packet (see the note above).
void write_parity_headers(uint8_t* packet, const PacketFields& f);
void write_frame_header(uint8_t* out, uint8_t frame_type, uint16_t latency_tenth_ms, uint16_t last_payload_len);
// The encrypted datagram's nonce (see above).
void video_nonce(uint64_t counter, uint32_t stream, uint8_t* nonce);

struct BlockParity {
  int parity = 0;   // parity shards of the block
  int percent = 0;  // what fecInfo advertises: ceil(data · percent / 100) == parity
};
// Parity for a block of `data` shards: max(ceil(data · percent / 100), min_parity), kept within
// data + parity ≤ 255 and an 8-bit advertised percentage. percent 0 means no parity at all.
BlockParity parity_for(int data, int percent, int min_parity);

struct BlockPlan {
  int blocks = 0;
  int data[kMaxBlocks] = {};
  BlockParity parity[kMaxBlocks];
  bool fec = true;  // false: the frame was too large for FEC within four blocks
};
// Splits `total_data` shards into at most four blocks. False when the frame cannot be sent at
// all (more than four blocks even without parity).
bool plan_blocks(int total_data, int percent, int min_parity, BlockPlan* plan);

}  // namespace pf::gs::wire
