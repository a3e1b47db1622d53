// Reed-Solomon known answers, exported by the test-only addon (never by a production addon):
// punktfunk/1's parity and decoder (`fecEncode`, `fecReconstruct`, `gfMul`, `fecCoefficient`),
// GameStream audio's parity (`audioFecParity`) and `fecKernel`, the GF(2^8) multiply kernel in
// use and a way to switch it. GameStream video's parity is `gsFecEncode` (gamestream_hooks.cc).
//
// Why one `fecKernel` here rather than one per production module: every code above is compiled
// into this module with its own copy of gf256, so switching the kernel here switches it for every
// hook of this module (and for its MediaSender, media_hooks.cc) — which is what the known-answer
// tests and the FEC bench compare. The production modules keep the kernel the CPU gets at init.
#include <napi.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "audio/audio_fec.h"
#include "gf256/gf256_binding.h"
#include "media/reed_solomon.h"
#include "testing/test_hooks.h"

namespace pf {
namespace {

Napi::Value GfMul(const Napi::CallbackInfo& info) {
  pf::fec::init();
  return Napi::Number::New(info.Env(), pf::fec::mul(info[0].As<Napi::Number>().Uint32Value() & 0xff,
                                                    info[1].As<Napi::Number>().Uint32Value() & 0xff));
}

Napi::Value Coefficient(const Napi::CallbackInfo& info) {
  pf::fec::init();
  return Napi::Number::New(info.Env(), pf::fec::coefficient(info[0].As<Napi::Number>().Int32Value(),
                                                            info[1].As<Napi::Number>().Int32Value(),
                                                            info[2].As<Napi::Number>().Int32Value()));
}

// Equal-length, non-empty shards from a JavaScript array (undefined/null entries allowed when
// `holes`, for the lost shards of fecReconstruct); copies, so the caller's arrays are never written.
std::vector<std::vector<uint8_t>> shards_arg(Napi::Env env, const Napi::Value& v, bool holes, size_t* size,
                                             std::vector<bool>* present) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, "shards must be an array");
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<std::vector<uint8_t>> out(a.Length());
  *size = 0;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Value s = a.Get(i);
    if (holes && (s.IsUndefined() || s.IsNull())) {
      present->push_back(false);
      continue;
    }
    if (!s.IsTypedArray() || s.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "shards must be Uint8Arrays");
    const Napi::Uint8Array u = s.As<Napi::Uint8Array>();
    if (u.ByteLength() == 0 || (*size != 0 && u.ByteLength() != *size))
      throw Napi::RangeError::New(env, "shards must be non-empty and of one length");
    *size = u.ByteLength();
    out[i].assign(u.Data(), u.Data() + u.ByteLength());
    if (holes) present->push_back(true);
  }
  return out;
}

Napi::Array to_js(Napi::Env env, const std::vector<std::vector<uint8_t>>& shards, size_t from, size_t n) {
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    const auto& s = shards[from + i];
    Napi::Uint8Array u = Napi::Uint8Array::New(env, s.size());
    std::copy(s.begin(), s.end(), u.Data());
    out.Set(static_cast<uint32_t>(i), u);
  }
  return out;
}

// fecEncode(data: Uint8Array[], parityCount) → Uint8Array[]: punktfunk/1's parity (known answers).
Napi::Value FecEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "fecEncode(shards, parityCount)");
  size_t size = 0;
  auto data = shards_arg(env, info[0], false, &size, nullptr);
  const int k = static_cast<int>(data.size());
  const double mv = info[1].As<Napi::Number>().DoubleValue();
  if (!(mv >= 1) || mv != static_cast<int>(mv) || k < 1 || k + mv > pf::fec::kMaxShards)
    throw Napi::RangeError::New(env, "need 1 ≤ data, 1 ≤ parity, data + parity ≤ 255");
  const int m = static_cast<int>(mv);
  std::vector<std::vector<uint8_t>> parity(static_cast<size_t>(m), std::vector<uint8_t>(size));
  std::vector<const uint8_t*> dp;
  std::vector<uint8_t*> pp;
  for (auto& d : data) dp.push_back(d.data());
  for (auto& p : parity) pp.push_back(p.data());
  pf::fec::encode(dp.data(), k, pp.data(), m, size);
  return to_js(env, parity, 0, parity.size());
}

// fecReconstruct(shards: (Uint8Array | undefined)[], dataCount) → Uint8Array[] (the data shards)
// or null when fewer than dataCount shards are present: punktfunk/1's decoder (known answers).
Napi::Value FecReconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "fecReconstruct(shards, dataCount)");
  size_t size = 0;
  std::vector<bool> present;
  auto shards = shards_arg(env, info[0], true, &size, &present);
  const int n = static_cast<int>(shards.size());
  const double kv = info[1].As<Napi::Number>().DoubleValue();
  if (!(kv >= 1) || kv != static_cast<int>(kv) || kv >= n || n > pf::fec::kMaxShards || size == 0)
    throw Napi::RangeError::New(env, "need 1 ≤ data < shards ≤ 255 and one shard present");
  const int k = static_cast<int>(kv);
  for (auto& s : shards) s.resize(size);  // lost shards: room for the rebuilt bytes
  std::vector<uint8_t*> ptr;
  for (auto& s : shards) ptr.push_back(s.data());
  std::unique_ptr<bool[]> flags(new bool[static_cast<size_t>(n)]);
  for (int i = 0; i < n; i++) flags[static_cast<size_t>(i)] = present[static_cast<size_t>(i)];
  std::vector<uint8_t> work(static_cast<size_t>(2 * k * k));
  if (pf::fec::reconstruct(ptr.data(), flags.get(), k, n - k, size, work.data()) < 0) return env.Null();
  return to_js(env, shards, 0, static_cast<size_t>(k));
}

// audioFecParity([d0, d1, d2, d3]) → [p0, p1]: the parity the send thread computes (known answers).
Napi::Value AudioFecParity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray() || info[0].As<Napi::Array>().Length() != 4) {
    Napi::TypeError::New(env, "audioFecParity(shards: 4 Uint8Arrays of equal length)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array in = info[0].As<Napi::Array>();
  const uint8_t* data[4];
  size_t len = 0;
  for (uint32_t i = 0; i < 4; i++) {
    Napi::Value v = in.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        (i > 0 && v.As<Napi::Uint8Array>().ByteLength() != len)) {
      Napi::TypeError::New(env, "audioFecParity(shards: 4 Uint8Arrays of equal length)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    data[i] = v.As<Napi::Uint8Array>().Data();
    len = v.As<Napi::Uint8Array>().ByteLength();
  }
  Napi::Uint8Array p0 = Napi::Uint8Array::New(env, len);
  Napi::Uint8Array p1 = Napi::Uint8Array::New(env, len);
  uint8_t* const out[2] = {p0.Data(), p1.Data()};
  pf::audio::fec::encode(data, out, len);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, p0);
  result.Set(1u, p1);
  return result;
}

}  // namespace

void register_fec_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("gfMul", Napi::Function::New(env, GfMul));
  exports.Set("fecCoefficient", Napi::Function::New(env, Coefficient));
  exports.Set("fecEncode", Napi::Function::New(env, FecEncode));
  exports.Set("fecReconstruct", Napi::Function::New(env, FecReconstruct));
  exports.Set("audioFecParity", Napi::Function::New(env, AudioFecParity));
  exports.Set("fecKernel", Napi::Function::New(env, pf::gf256::FecKernelHook));
}

}  // namespace pf
