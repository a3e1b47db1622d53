// AES-128-CBC with PKCS#7 padding for encrypted GameStream audio. The key is the launch's
// `rikey`; the IV is 16 bytes whose first 4 are BE32(rikeyid + RTP sequence number) and the rest
// zero, so each packet decrypts on its own (a lost packet does not break the next one's IV).
// The client decides: Moonlight asks for it with x-nv-general.featureFlags bit 0x20 or
// x-ss-general.encryptionEnabled bit 0x04 (SS_ENC_AUDIO).
#pragma once

#include <cstddef>
#include <cstdint>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace pf::audio {
class AudioCipher {
 public:
  AudioCipher(const uint8_t key[16], uint32_t key_id);
  ~AudioCipher();
  AudioCipher(const AudioCipher&) = delete;
  AudioCipher& operator=(const AudioCipher&) = delete;
  bool ok() const { return ctx_ != nullptr; }
  // Ciphertext length for `len` plaintext bytes (PKCS#7 always adds 1..16 bytes).
  static size_t sealed_size(size_t len) { return (len / 16 + 1) * 16; }
  // Writes sealed_size(len) bytes to `out`; false if OpenSSL refuses.
  bool encrypt(uint16_t seq, const uint8_t* in, size_t len, uint8_t* out);

 private:
  uint8_t key_[16];
  uint32_t key_id_;
  EVP_CIPHER_CTX* ctx_;
};
}  // namespace pf::audio
