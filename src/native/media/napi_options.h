// Reading a JavaScript options object into the media plane's C++ configs: the AES key and salt
// as hex, and string or number fields with a fallback. Shared by the receiver's binding
// (media_binding.cc) and the test-only addon's sender (testing/media_hooks.cc).
#pragma once
#include <napi.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "seal.h"

namespace pf::media::napi_options {

inline bool parse_key(const std::string& hex, pf::seal::Key* key) {
  if (hex.size() != 2 * (pf::seal::kKeyBytes + pf::seal::kSaltBytes)) return false;
  uint8_t bytes[pf::seal::kKeyBytes + pf::seal::kSaltBytes];
  for (size_t i = 0; i < sizeof bytes; i++) {
    unsigned v;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    bytes[i] = static_cast<uint8_t>(v);
  }
  std::memcpy(key->key, bytes, pf::seal::kKeyBytes);
  std::memcpy(key->salt, bytes + pf::seal::kKeyBytes, pf::seal::kSaltBytes);
  return true;
}

inline std::string str(const Napi::Object& o, const char* name, const std::string& fallback) {
  return o.Has(name) && o.Get(name).IsString() ? o.Get(name).As<Napi::String>().Utf8Value() : fallback;
}
inline double num(const Napi::Object& o, const char* name, double fallback) {
  return o.Has(name) && o.Get(name).IsNumber() ? o.Get(name).As<Napi::Number>().DoubleValue() : fallback;
}

}  // namespace pf::media::napi_options
