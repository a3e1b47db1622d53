#include "seal.h"

#include <openssl/evp.h>

#include <cstring>

namespace pf::seal {
namespace {
void nonce_of(const uint8_t* salt, uint64_t seq, uint8_t* iv) {
  std::memcpy(iv, salt, kSaltBytes);
  for (int i = 0; i < 8; i++) iv[kSaltBytes + i] = (seq >> (56 - 8 * i)) & 0xff;
}

EVP_CIPHER_CTX* keyed(const Key& key, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return nullptr;
  const int ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.key, nullptr)
                         : EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.key, nullptr);
  if (ok != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}
}  // namespace

Sealer::Sealer(const Key& key) : ctx_(keyed(key, true)) { std::memcpy(salt_, key.salt, kSaltBytes); }
Sealer::~Sealer() { EVP_CIPHER_CTX_free(ctx_); }

bool Sealer::seal(uint64_t seq, const uint8_t* aad, size_t aad_len, const uint8_t* plain, size_t len, uint8_t* out) {
  uint8_t iv[kNonceBytes];
  nonce_of(salt_, seq, iv);
  return seal_with_nonce(iv, aad, aad_len, plain, len, out, out + len);
}

bool Sealer::seal_with_nonce(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, const uint8_t* plain, size_t len,
                             uint8_t* out, uint8_t* tag) {
  int n = 0;
  if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, nonce) != 1) return false;
  if (aad_len > 0 && EVP_EncryptUpdate(ctx_, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (EVP_EncryptUpdate(ctx_, out, &n, plain, static_cast<int>(len)) != 1) return false;
  if (EVP_EncryptFinal_ex(ctx_, out + n, &n) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) == 1;
}

Opener::Opener(const Key& key) : ctx_(keyed(key, false)) { std::memcpy(salt_, key.salt, kSaltBytes); }
Opener::~Opener() { EVP_CIPHER_CTX_free(ctx_); }

bool Opener::open(uint64_t seq, const uint8_t* aad, size_t aad_len, const uint8_t* cipher, size_t len,
                  const uint8_t* tag, uint8_t* out) {
  uint8_t iv[12];
  nonce_of(salt_, seq, iv);
  int n = 0;
  if (EVP_DecryptInit_ex(ctx_, nullptr, nullptr, nullptr, iv) != 1) return false;
  if (EVP_DecryptUpdate(ctx_, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (EVP_DecryptUpdate(ctx_, out, &n, cipher, static_cast<int>(len)) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(tag)) != 1) return false;
  return EVP_DecryptFinal_ex(ctx_, out + n, &n) == 1;
}

}  // namespace pf::seal
