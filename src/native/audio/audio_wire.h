// The GameStream audio wire format, as Moonlight's audio receiver (moonlight-common-c
// RtpAudioQueue) parses it. Written from the protocol description, not from any implementation:
//
//   data packet:  RTP header (12 bytes) | Opus packet (AES-128-CBC ciphertext when encrypted)
//   FEC packet:   RTP header (12 bytes) | audio FEC header (12 bytes) | parity shard
//
// RTP header: byte 0 = 0x80 (version 2, no padding/extension/CSRC), byte 1 = payload type (97
// audio, 127 FEC, marker bit clear), sequence number (16 bit BE), timestamp (32 bit BE), SSRC
// (32 bit BE, 0). The audio timestamp advances by the packet duration in *milliseconds*, not in
// samples: the client rebuilds a lost packet's timestamp as base + index × packetDuration(ms).
//
// FEC: every 4 consecutive data packets whose first sequence number is a multiple of 4 form a
// block; after its 4th data packet the host sends 2 parity packets. The FEC header holds the
// shard index (0 or 1), the data payload type (97), the block's base sequence number and base
// timestamp (BE), and the SSRC. All 4 data payloads of a block must have the same length (the
// client sizes the block from the first packet it sees), which is why the Opus packets are
// padded to a constant size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pf::audio::wire {
constexpr size_t kRtpHeaderBytes = 12;
constexpr size_t kFecHeaderBytes = 12;
constexpr uint8_t kRtpVersion2 = 0x80;
constexpr uint8_t kPayloadTypeAudio = 97;
constexpr uint8_t kPayloadTypeFec = 127;
constexpr int kDataShards = 4;
constexpr int kParityShards = 2;
// Moonlight's receive buffer for one audio datagram.
constexpr size_t kMaxDatagram = 1400;
// SS_PING: 16 bytes of X-SS-Ping-Payload, then a 32-bit BE ping counter.
constexpr size_t kPingPayloadBytes = 16;
constexpr size_t kPingBytes = 20;

inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

inline void write_rtp(uint8_t* p, uint8_t payload_type, uint16_t seq, uint32_t timestamp, uint32_t ssrc) {
  p[0] = kRtpVersion2;
  p[1] = payload_type;
  put16(p + 2, seq);
  put32(p + 4, timestamp);
  put32(p + 8, ssrc);
}

inline void write_fec_header(uint8_t* p, uint8_t shard_index, uint16_t base_seq, uint32_t base_timestamp,
                             uint32_t ssrc) {
  p[0] = shard_index;
  p[1] = kPayloadTypeAudio;
  put16(p + 2, base_seq);
  put32(p + 4, base_timestamp);
  put32(p + 8, ssrc);
}
}  // namespace pf::audio::wire
