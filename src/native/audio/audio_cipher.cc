// AES-128-CBC through OpenSSL's EVP interface; one context reused for every packet (re-keyed
// with the per-packet IV), so the send thread allocates nothing per packet.
#include "audio_cipher.h"

#include <openssl/evp.h>

#include <cstring>

#include "audio_wire.h"

namespace pf::audio {
AudioCipher::AudioCipher(const uint8_t key[16], uint32_t key_id) : key_id_(key_id), ctx_(EVP_CIPHER_CTX_new()) {
  std::memcpy(key_, key, sizeof key_);
}

AudioCipher::~AudioCipher() {
  if (ctx_ != nullptr) EVP_CIPHER_CTX_free(ctx_);
}

bool AudioCipher::encrypt(uint16_t seq, const uint8_t* in, size_t len, uint8_t* out) {
  uint8_t iv[16] = {0};
  wire::put32(iv, key_id_ + seq);  // wraps modulo 2^32, as the client computes it
  if (EVP_EncryptInit_ex(ctx_, EVP_aes_128_cbc(), nullptr, key_, iv) != 1) return false;
  int n = 0;
  int tail = 0;
  if (EVP_EncryptUpdate(ctx_, out, &n, in, static_cast<int>(len)) != 1) return false;
  if (EVP_EncryptFinal_ex(ctx_, out + n, &tail) != 1) return false;
  return static_cast<size_t>(n + tail) == sealed_size(len);
}
}  // namespace pf::audio
