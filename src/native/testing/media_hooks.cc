// The media plane driven from JavaScript, exported by the test-only addon (never by
// punktfunk_media): `MediaSender` (the punktfunk/1 sender the frame loop runs natively, here fed
// one frame per call, for the media-plane tests and benchmarks), `Decoder` (a standalone
// libavcodec decoder, one access unit per call, for the GameStream test receiver) and
// `monotonicUs` (the senders' clock). Same sources as the host's (media/), compiled into this module.
#include <arpa/inet.h>
#include <napi.h>
#include <netdb.h>

#include <cstring>
#include <memory>
#include <string>

#include "media/media_sender.h"
#include "media/napi_options.h"
#include "media/video_decoder.h"
#include "testing/test_hooks.h"

namespace pf {
namespace {
using pf::media::MediaSender;
using pf::media::napi_options::num;
using pf::media::napi_options::parse_key;
using pf::media::napi_options::str;

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

Napi::Value MonotonicUs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(pf::media::monotonic_us()));
}

}  // namespace

void register_media_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("MediaSender", Sender::Define(env));
  exports.Set("Decoder", Decoder::Define(env));
  exports.Set("monotonicUs", Napi::Function::New(env, MonotonicUs));
}

}  // namespace pf
