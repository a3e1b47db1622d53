// Frame thread: one encoded access unit → the GameStream datagrams of one video frame, written in
// place into the packet ring (layout in video_wire.h), parity included.
//
// Numbering, as a Moonlight client checks it: frame indices start at 1 (its queue starts there
// and rejects anything before) and advance for every frame handed in, even one the ring had no
// room for — the client then sees the gap and asks for a key frame. RTP sequence numbers run
// over data and parity packets alike and are contiguous within a block (the client finds a
// block's first packet as seq − shard index). streamPacketIndex counts data packets only, so
// within a block it is consecutive, as the client's depacketizer requires.
//
// Encrypted video (`encrypt`): each ring slot holds the 32-byte prefix and then the datagram as
// above; the packetizer writes the plain datagram behind the prefix, computes parity over the
// plain datagrams, and seals every datagram of the frame last (video_seal.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "packet_ring.h"
#include "video_seal.h"
#include "video_wire.h"

namespace pf::gs {

struct PacketizerConfig {
  int packet_size = 1392;  // Moonlight's packetSize: video header + payload per datagram
  int fec_percent = 20;
  int min_parity = 0;
  bool hevc = false;       // the access units are HEVC (else H.264): which NAL types are SEI
  bool encrypt = false;    // seal every datagram under `key` (the client asked for encrypted video)
  uint8_t key[kVideoKeyBytes] = {};
  uint32_t nonce_stream = 0;  // the nonce's stream number (next_video_stream() for a session)
};

// A key frame without the SEI NAL units in front of its first slice, written to `out`; false
// (and `out` untouched) when there are none. Why: Moonlight recognises a key frame only when its
// first slice starts in the frame's first packet, after the parameter sets — an encoder's SEI
// there (libx264 writes its ~600-byte version string into its first frame, libx265 its options
// into every key frame unless told not to) can push the slice into the second packet, and the
// client then drops the key frame and waits for another (moonlight-common-c's debug build aborts).
// The SEI carries nothing a decoder needs.
bool without_leading_sei(const uint8_t* data, size_t len, bool hevc, std::vector<uint8_t>* out);

struct PacketizeResult {
  uint32_t packets = 0;       // packets written (data + parity)
  uint32_t parity = 0;        // of which parity
  uint32_t dropped = 0;       // packets that did not fit the ring
  uint32_t blocks = 0;
  bool fec = true;            // false when the frame was too large for parity
  bool frame_dropped = false;
  uint64_t fec_ns = 0;        // time in parity arithmetic
  uint64_t seal_ns = 0;       // time sealing (encrypted video only)
  uint32_t seal_failed = 0;   // datagrams that could not be sealed (wiped, so the client drops them)
};

class VideoPacketizer {
 public:
  VideoPacketizer(const PacketizerConfig& config, PacketRing* ring);

  // False when encryption was asked for and the cipher could not be set up.
  bool ok() const { return !config_.encrypt || (sealer_ != nullptr && sealer_->ok()); }
  // The datagram before sealing (what parity covers), and as it leaves (the ring's slot size).
  size_t plain_bytes() const { return static_cast<size_t>(config_.packet_size) + wire::kRtpBytes; }
  size_t datagram_bytes() const { return plain_bytes() + prefix_; }
  size_t payload_bytes() const { return static_cast<size_t>(config_.packet_size) - wire::kVideoHeaderBytes; }

  PacketizeResult packetize(const uint8_t* data, size_t len, bool idr, uint32_t rtp_timestamp, uint16_t latency_tenth_ms);

 private:
  // Copies bytes [offset, offset + payload) of (frame header ++ frame) into `out`, zero-padded.
  void copy_payload(uint8_t* out, size_t offset, const uint8_t* header, const uint8_t* data, size_t len) const;

  PacketizerConfig config_;
  PacketRing* ring_;
  size_t prefix_ = 0;  // kEncPrefixBytes when encrypting, else 0
  std::unique_ptr<VideoSealer> sealer_;
  uint16_t seq_ = 0;
  uint32_t frame_index_ = 1;
  uint32_t stream_index_ = 0;
  std::vector<uint8_t> key_frame_;  // a key frame's bytes without its leading SEI, when it had one
};

}  // namespace pf::gs
