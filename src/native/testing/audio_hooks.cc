// GameStream audio known answers, exported by the test-only addon (never by punktfunk_audio):
// `decodeOpus` / `decodeOpusSequence` (the packets the send thread makes are valid Opus, and what
// they sound like) and `opusLayout` (the layouts the encoder uses, which RTSP's DESCRIBE answer
// must announce). The same opus_packets.cc the audio module runs, compiled into this module.
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "audio/opus_packets.h"
#include "testing/test_hooks.h"

namespace pf {
namespace {

// decodeOpus(packet, channels) → { samples, peak } (samples per channel).
Napi::Value DecodeOpus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "decodeOpus(packet: Uint8Array, channels: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  double peak = 0;
  std::string error;
  const int n = pf::audio::decode_opus(bytes.Data(), bytes.ByteLength(), info[1].As<Napi::Number>().Int32Value(), &peak, &error);
  if (n < 0) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("samples", Napi::Number::New(env, n));
  o.Set("peak", Napi::Number::New(env, peak));
  return o;
}

// decodeOpusSequence([packets], channels) → Float32Array: consecutive packets through one decoder,
// interleaved PCM (tests: what the captured sound sounds like).
Napi::Value DecodeOpusSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "decodeOpusSequence(packets: Uint8Array[], channels: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array in = info[0].As<Napi::Array>();
  std::vector<std::vector<uint8_t>> packets;
  for (uint32_t i = 0; i < in.Length(); i++) {
    Napi::Value v = in.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "decodeOpusSequence: every packet must be a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto b = v.As<Napi::Uint8Array>();
    packets.emplace_back(b.Data(), b.Data() + b.ByteLength());
  }
  std::vector<float> pcm;
  std::string error;
  if (!pf::audio::decode_opus_sequence(packets, info[1].As<Napi::Number>().Int32Value(), &pcm, &error)) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, pcm.size());
  std::copy(pcm.begin(), pcm.end(), out.Data());
  return out;
}

// opusLayout(channels) → { channels, streams, coupledStreams, mapping, bitrate } or undefined.
Napi::Value OpusLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pf::audio::OpusLayout l;
  if (info.Length() < 1 || !info[0].IsNumber() || !pf::audio::opus_layout(info[0].As<Napi::Number>().Int32Value(), &l)) {
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("channels", Napi::Number::New(env, l.channels));
  o.Set("streams", Napi::Number::New(env, l.streams));
  o.Set("coupledStreams", Napi::Number::New(env, l.coupled));
  Napi::Array mapping = Napi::Array::New(env, l.channels);
  for (int i = 0; i < l.channels; i++) mapping.Set(static_cast<uint32_t>(i), Napi::Number::New(env, l.mapping[i]));
  o.Set("mapping", mapping);
  o.Set("bitrate", Napi::Number::New(env, l.bitrate));
  return o;
}

}  // namespace

void register_audio_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeOpus", Napi::Function::New(env, DecodeOpus));
  exports.Set("decodeOpusSequence", Napi::Function::New(env, DecodeOpusSequence));
  exports.Set("opusLayout", Napi::Function::New(env, OpusLayout));
}

}  // namespace pf
