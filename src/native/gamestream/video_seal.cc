// GameStream video sealing (see video_seal.h).
#include "video_seal.h"

#include <atomic>
#include <cstring>

namespace pf::gs {
namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

seal::Key key_of(const uint8_t* key) {
  seal::Key k{};
  std::memcpy(k.key, key, kVideoKeyBytes);
  return k;  // the salt stays zero: the nonce is built here, not by seal::Sealer
}

std::atomic<uint32_t> g_streams{0};
}  // namespace

bool parse_video_key(const std::string& hex, uint8_t* out) {
  if (hex.size() != 2 * kVideoKeyBytes) return false;
  uint8_t bytes[kVideoKeyBytes];
  for (size_t i = 0; i < kVideoKeyBytes; i++) {
    const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  std::memcpy(out, bytes, kVideoKeyBytes);
  return true;
}

uint32_t next_video_stream() { return g_streams.fetch_add(1, std::memory_order_relaxed) & 0xFFFFFF; }

VideoSealer::VideoSealer(const uint8_t* key, uint32_t stream, uint64_t first_counter)
    : sealer_(key_of(key)), stream_(stream & 0xFFFFFF), counter_(first_counter) {}

bool VideoSealer::seal(uint8_t* datagram, size_t plain_len, uint32_t frame_index) {
  uint8_t* plain = datagram + wire::kEncPrefixBytes;
  wire::video_nonce(counter_++, stream_, datagram);
  for (int i = 0; i < 4; i++) datagram[wire::kEncFrameOffset + i] = static_cast<uint8_t>(frame_index >> (8 * i));
  if (sealer_.seal_with_nonce(datagram, nullptr, 0, plain, plain_len, plain, datagram + wire::kEncTagOffset)) return true;
  std::memset(plain, 0, plain_len);
  return false;
}

}  // namespace pf::gs
