// GameStream video encryption (moonlight-common-c's ENCFLG_VIDEO; bit 0x02 of the
// `x-ss-general.encryption*` SDP attributes): what a sealed datagram looks like is in
// video_wire.h; this is the sealing itself, on the frame thread.
//
// Why the whole datagram, parity included, after the parity is computed: that is what the
// client decrypts (each datagram on arrival, before its FEC queue sees it), so parity is over
// the plain datagrams and each parity datagram is sealed like a data one.
//
// Why no allocation per packet: the AES context is keyed once per session (seal::Sealer) and
// each datagram is encrypted in place in its ring slot, behind the 32 bytes left free for the
// prefix; only the nonce changes per packet.
//
// What it protects: the picture, against anyone on the path without the launch key, and each
// datagram's integrity (a forged or altered datagram fails the client's tag check). What it does
// not: the datagrams' sizes and timing, and replay (a client drops a replayed datagram as a
// duplicate or stale packet in its RTP queue, not by cryptography).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "seal.h"
#include "video_wire.h"

namespace pf::gs {

constexpr size_t kVideoKeyBytes = 16;

// 32 hex digits → 16 key bytes; false (out untouched) for anything else.
bool parse_video_key(const std::string& hex, uint8_t* out);

// A fresh number for each sealed video stream of this process (the nonce's fixed field, 24 bits).
uint32_t next_video_stream();

class VideoSealer {
 public:
  // `first_counter`: the first packet's invocation counter (0 for a session; known-answer tests
  // start elsewhere).
  VideoSealer(const uint8_t* key, uint32_t stream, uint64_t first_counter = 0);
  VideoSealer(const VideoSealer&) = delete;
  VideoSealer& operator=(const VideoSealer&) = delete;
  bool ok() const { return sealer_.ok(); }

  // `datagram` is a slot of kEncPrefixBytes + `plain_len` bytes whose plain datagram starts at
  // kEncPrefixBytes: encrypts it in place and writes the prefix. On failure the plain bytes
  // are wiped (never sent in the clear) and false is returned.
  bool seal(uint8_t* datagram, size_t plain_len, uint32_t frame_index);
  uint64_t sealed() const { return counter_; }

 private:
  seal::Sealer sealer_;
  uint32_t stream_;
  uint64_t counter_ = 0;
};

}  // namespace pf::gs
