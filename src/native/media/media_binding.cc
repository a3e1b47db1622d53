// The media plane's JavaScript face (module `punktfunk_media`): the receiver the client runs
// (and tests). It only creates, queries and closes — no per-packet call crosses into JavaScript.
// In the host the sender is driven by the frame loop natively; the sender driven from JavaScript,
// the standalone decoder and the FEC arithmetic for known answers are exports of the test-only
// addon (testing/media_hooks.cc, testing/fec_hooks.cc), not of this module.
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "media_receiver.h"
#include "napi_options.h"

namespace {
using pf::media::MediaReceiver;
using pf::media::napi_options::num;
using pf::media::napi_options::parse_key;
using pf::media::napi_options::str;

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MediaReceiver", Receiver::Define(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_media, Init)
