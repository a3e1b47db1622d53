// AES-128-GCM sealing of media packets with OpenSSL's EVP interface (the OpenSSL Node itself
// links, so the addon adds no crypto library of its own).
//
// Why one context per direction, keyed once: EVP_CIPHER_CTX_new and key expansion allocate and
// cost microseconds; per packet only the nonce changes, so the frame thread neither allocates nor
// re-expands the key. A Sealer/Opener is used by one thread at a time.
#pragma once
#include <cstddef>
#include <cstdint>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace pf::seal {

constexpr size_t kKeyBytes = 16;
constexpr size_t kSaltBytes = 4;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

// The session's media key material: 16 bytes of AES key, then 4 bytes of nonce salt.
struct Key {
  uint8_t key[kKeyBytes];
  uint8_t salt[kSaltBytes];
};

class Sealer {
 public:
  explicit Sealer(const Key& key);
  ~Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;
  bool ok() const { return ctx_ != nullptr; }
  // Encrypts `len` bytes of `plain` into `out` and writes the 16-byte tag after them.
  bool seal(uint64_t seq, const uint8_t* aad, size_t aad_len, const uint8_t* plain, size_t len, uint8_t* out);
  // The same with a nonce the caller built (a protocol with its own nonce layout, such as
  // GameStream video; the key's salt is then unused) and the tag written to `tag`. `out` may be
  // `plain` (in place).
  bool seal_with_nonce(const uint8_t* nonce, const uint8_t* aad, size_t aad_len, const uint8_t* plain, size_t len,
                       uint8_t* out, uint8_t* tag);

 private:
  EVP_CIPHER_CTX* ctx_;
  uint8_t salt_[kSaltBytes];
};

class Opener {
 public:
  explicit Opener(const Key& key);
  ~Opener();
  Opener(const Opener&) = delete;
  Opener& operator=(const Opener&) = delete;
  bool ok() const { return ctx_ != nullptr; }
  // Decrypts and verifies; false when the tag does not match (tampered, wrong key).
  bool open(uint64_t seq, const uint8_t* aad, size_t aad_len, const uint8_t* cipher, size_t len, const uint8_t* tag,
            uint8_t* out);

 private:
  EVP_CIPHER_CTX* ctx_;
  uint8_t salt_[kSaltBytes];
};

}  // namespace pf::seal
