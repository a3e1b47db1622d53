// The media plane's JavaScript face (module `punktfunk_media`): a receiver for the client and
// for tests, a sender for tests and benchmarks driven from JavaScript, and the FEC arithmetic
// for known-answer tests. In the host the sender is driven by the frame loop natively; these
// wrappers only create, query and close — no per-packet call crosses into JavaScript.
#include <arpa/inet.h>
#include <napi.h>
#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media_receiver.h"
#include "media_sender.h"
#include "gf256/gf256_binding.h"
#include "reed_solomon.h"
#include "video_decoder.h"

namespace {
using pf::media::MediaReceiver;
using pf::media::MediaSender;

bool parse_key(const std::string& hex, pf::seal::Key* key) {
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

std::string str(const Napi::Object& o, const char* name, const std::string& fallback) {
  return o.Has(name) && o.Get(name).IsString() ? o.Get(name).As<Napi::String>().Utf8Value() : fallback;
}
double num(const Napi::Object& o, const char* name, double fallback) {
  return o.Has(name) && o.Get(name).IsNumber() ? o.Get(name).As<Napi::Number>().DoubleValue() : fallback;
}

class Receiver : public Napi::ObjectWrap<Receiver> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MediaReceiver",
                       {InstanceAccessor<&Receiver::Port>("port"), InstanceMethod<&Receiver::Counters>("counters"),
                        InstanceMethod<&Receiver::Latencies>("latenciesSince"), InstanceMethod<&Receiver::ClockUs>("clockUs"),
                        InstanceMethod<&Receiver::Start>("start"),
                        InstanceMethod<&Receiver::Close>("close")});
  }
  explicit Receiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Receiver>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "MediaReceiver(options) needs an options object").ThrowAsJavaScriptException();
      return;
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    pf::media::ReceiverConfig c;
    c.has_key = o.Has("keyHex") && !o.Get("keyHex").IsUndefined();
    if (c.has_key && !parse_key(str(o, "keyHex", ""), &c.key)) {
      Napi::TypeError::New(env, "keyHex must be 40 hex digits (16 key bytes, 4 salt bytes)").ThrowAsJavaScriptException();
      return;
    }
    c.bind = str(o, "bind", "127.0.0.1");
    c.port = static_cast<int>(num(o, "port", 0));
    c.codec = str(o, "codec", "h264");
    c.simulate_loss = num(o, "simulateLoss", 0);
    c.save_path = str(o, "savePath", "");
    c.mtu = static_cast<int>(num(o, "mtu", 1400));
    c.clock_shift_us = static_cast<int64_t>(num(o, "clockShiftUs", 0));
    std::string error;
    receiver_ = MediaReceiver::open(c, &error);
    if (!receiver_) Napi::Error::New(env, "media receiver: " + error).ThrowAsJavaScriptException();
  }

 private:
  Napi::Value Port(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), receiver_ ? receiver_->port() : 0);
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!receiver_) return o;
    const auto c = receiver_->counters();
    auto set = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    set("packets_received", c.packets_received);
    set("packets_lost", c.packets_lost);
    set("packets_malformed", c.packets_malformed);
    set("packets_tampered", c.packets_tampered);
    set("packets_replayed", c.packets_replayed);
    set("packets_simulated_lost", c.packets_simulated_lost);
    set("fec_recovered", c.fec_recovered);
    set("frames_complete", c.frames_complete);
    set("keyframes", c.keyframes);
    set("frames_dropped", c.frames_dropped);
    set("frames_decoded", c.frames_decoded);
    set("decode_errors", c.decode_errors);
    set("decode_us", c.decode_ns / 1000);
    set("bytes", c.bytes);
    set("latency_count", c.latency_count);
    return o;
  }
  Napi::Value Latencies(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t since = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : 0;
    if (!receiver_) return Napi::Array::New(env);
    const auto values = receiver_->latencies_since(since);
    Napi::Array out = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(values[i])));
    return out;
  }
  Napi::Value ClockUs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), receiver_ ? static_cast<double>(receiver_->clock_us()) : 0);
  }
  // start(keyHex): begin receiving on the port already bound (see MediaReceiver::start).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    pf::seal::Key key;
    if (!receiver_ || info.Length() < 1 || !info[0].IsString() || !parse_key(info[0].As<Napi::String>().Utf8Value(), &key)) {
      Napi::TypeError::New(env, "start(keyHex) on an open receiver; keyHex is 40 hex digits").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string error;
    if (!receiver_->start(key, &error)) Napi::Error::New(env, "media receiver: " + error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    receiver_.reset();  // joins the receive thread
    return info.Env().Undefined();
  }
  std::unique_ptr<MediaReceiver> receiver_;
};

class Sender : public Napi::ObjectWrap<Sender> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MediaSender",
                       {InstanceMethod<&Sender::SendFrame>("sendFrame"), InstanceMethod<&Sender::Counters>("counters"),
                        InstanceMethod<&Sender::Close>("close")});
  }
  explicit Sender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sender>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "MediaSender(options) needs an options object").ThrowAsJavaScriptException();
      return;
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    pf::media::SenderConfig c;
    if (!parse_key(str(o, "keyHex", ""), &c.key)) {
      Napi::TypeError::New(env, "keyHex must be 40 hex digits (16 key bytes, 4 salt bytes)").ThrowAsJavaScriptException();
      return;
    }
    const std::string host = str(o, "host", "127.0.0.1");
    const int port = static_cast<int>(num(o, "port", 0));
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (port <= 0 || port > 65535 || getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 ||
        res == nullptr) {
      Napi::Error::New(env, "media sender: cannot resolve " + host + ":" + std::to_string(port)).ThrowAsJavaScriptException();
      return;
    }
    std::memcpy(&c.dest, res->ai_addr, res->ai_addrlen);
    c.dest_len = res->ai_addrlen;
    freeaddrinfo(res);
    c.mtu = static_cast<int>(num(o, "mtu", 1400));
    c.fec_percent = static_cast<int>(num(o, "fecPercent", 20));
    c.fps = static_cast<int>(num(o, "fps", 60));
    std::string error;
    sender_ = MediaSender::open(c, &error);
    if (!sender_) Napi::Error::New(env, "media sender: " + error).ThrowAsJavaScriptException();
  }

 private:
  // sendFrame(bytes, keyframe, captureUs?) → { fec_us, seal_us, packets } (tests and benchmarks).
  Napi::Value SendFrame(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!sender_ || info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "sendFrame(Uint8Array, keyframe) on an open sender").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto bytes = info[0].As<Napi::Uint8Array>();
    const bool keyframe = info.Length() > 1 && info[1].ToBoolean();
    const uint64_t capture = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int64Value()
                                                                     : pf::media::monotonic_us();
    pf::media::SendSplit split;
    if (!sender_->send_frame(bytes.Data(), bytes.ByteLength(), keyframe, capture, &split)) {
      Napi::RangeError::New(env, "frame is empty or larger than the sender's maximum").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("fec_us", Napi::Number::New(env, split.fec_ns / 1000.0));
    o.Set("seal_us", Napi::Number::New(env, split.seal_ns / 1000.0));
    o.Set("packets", Napi::Number::New(env, split.packets));
    return o;
  }
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!sender_) return o;
    const auto c = sender_->counters();
    o.Set("frames", Napi::Number::New(env, static_cast<double>(c.frames)));
    o.Set("packets_sent", Napi::Number::New(env, static_cast<double>(c.packets_sent)));
    o.Set("bytes_sent", Napi::Number::New(env, static_cast<double>(c.bytes_sent)));
    o.Set("send_dropped", Napi::Number::New(env, static_cast<double>(c.send_dropped)));
    o.Set("sock_us", Napi::Number::New(env, c.sock_ns / 1000.0));
    return o;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    sender_.reset();  // joins the pacer
    return info.Env().Undefined();
  }
  std::unique_ptr<MediaSender> sender_;
};

// new Decoder(codec: "h264" | "hevc"); decode(accessUnit) → { ok, frames, width, height,
// framesDecoded, errors }; close(). For tests: one call per access unit, on the JavaScript thread.
class Decoder : public Napi::ObjectWrap<Decoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Decoder", {InstanceMethod<&Decoder::Decode>("decode"), InstanceMethod<&Decoder::Close>("close")});
  }
  explicit Decoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Decoder>(info) {
    Napi::Env env = info.Env();
    const std::string codec = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "h264";
    std::string error;
    decoder_ = pf::media::VideoDecoder::open(codec, &error);
    if (decoder_ == nullptr) Napi::Error::New(env, "Decoder: " + error).ThrowAsJavaScriptException();
  }

 private:
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (decoder_ == nullptr) {
      Napi::Error::New(env, "Decoder is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsTypedArray()) {
      Napi::TypeError::New(env, "decode(accessUnit: Uint8Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const Napi::Uint8Array au = info[0].As<Napi::Uint8Array>();
    const pf::media::DecodeResult r = decoder_->decode(au.Data(), au.ByteLength());
    Napi::Object o = Napi::Object::New(env);
    o.Set("ok", r.ok);
    o.Set("frames", r.frames);
    o.Set("width", decoder_->width());
    o.Set("height", decoder_->height());
    o.Set("framesDecoded", static_cast<double>(decoder_->frames_decoded()));
    o.Set("errors", static_cast<double>(decoder_->errors()));
    return o;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    decoder_.reset();
    return info.Env().Undefined();
  }
  std::unique_ptr<pf::media::VideoDecoder> decoder_;
};

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

Napi::Value MonotonicUs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pf::media::monotonic_us()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MediaReceiver", Receiver::Define(env));
  exports.Set("MediaSender", Sender::Define(env));
  exports.Set("Decoder", Decoder::Define(env));
  exports.Set("gfMul", Napi::Function::New(env, GfMul));
  exports.Set("fecKernel", Napi::Function::New(env, pf::gf256::FecKernelHook));
  exports.Set("fecEncode", Napi::Function::New(env, FecEncode));
  exports.Set("fecReconstruct", Napi::Function::New(env, FecReconstruct));
  exports.Set("fecCoefficient", Napi::Function::New(env, Coefficient));
  exports.Set("monotonicUs", Napi::Function::New(env, MonotonicUs));
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_media, Init)
