// The JavaScript face of the audio module (`punktfunk_audio`): the GameStreamAudio class the
// GameStream layer creates at host start and starts/stops per session. No per-packet call
// crosses into JavaScript. The helpers that prove the packets are valid Opus and the parity is
// what a Moonlight client inverts are the test-only addon's (testing/audio_hooks.cc, fec_hooks.cc).
#include <napi.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "audio_stream.h"

namespace {
using pf::audio::AudioStream;

bool parse_key(const std::string& hex, uint8_t out[16]) {
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; i++) {
    unsigned v;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}

class GameStreamAudio : public Napi::ObjectWrap<GameStreamAudio> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GameStreamAudio",
                       {InstanceAccessor<&GameStreamAudio::Port>("port"),
                        InstanceAccessor<&GameStreamAudio::Running>("running"),
                        InstanceMethod<&GameStreamAudio::Start>("start"), InstanceMethod<&GameStreamAudio::Stop>("stop"),
                        InstanceMethod<&GameStreamAudio::Counters>("counters"),
                        InstanceMethod<&GameStreamAudio::Source>("source"),
                        InstanceMethod<&GameStreamAudio::Close>("close")});
  }

  // new GameStreamAudio(bind, port): binds now, so the port can be announced before a session.
  explicit GameStreamAudio(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GameStreamAudio>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "GameStreamAudio(bind: string, port: number)").ThrowAsJavaScriptException();
      return;
    }
    std::string error;
    stream_ = AudioStream::open(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(), &error);
    if (!stream_) {
      Napi::Error::New(env, "gamestream audio: " + error).ThrowAsJavaScriptException();
      return;
    }
    // A host that exits without close() must not leave the send thread running into teardown.
    napi_add_env_cleanup_hook(env, &GameStreamAudio::OnEnvCleanup, this);
    hooked_ = true;
  }

  ~GameStreamAudio() override { Shutdown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<GameStreamAudio*>(arg);
    self->hooked_ = false;  // fired: never remove it again
    self->Shutdown();
  }

  void Shutdown() {
    if (stream_) {
      stream_->close();
      stream_.reset();
    }
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, &GameStreamAudio::OnEnvCleanup, this);
      hooked_ = false;
    }
  }

  Napi::Value Port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), stream_ ? stream_->port() : 0); }
  Napi::Value Running(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), stream_ && stream_->running());
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!stream_) {
      Napi::Error::New(env, "gamestream audio: closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "start(options) needs an options object").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    auto string_of = [&](const char* k) {
      return o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : std::string();
    };
    auto int_of = [&](const char* k, int fallback) {
      return o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Int32Value() : fallback;
    };
    pf::audio::StartOptions s;
    s.client_host = string_of("clientHost");
    s.ping_payload = string_of("pingPayload");
    s.packet_ms = int_of("packetDurationMs", 5);
    s.channels = int_of("channels", 2);
    s.first_sequence = static_cast<uint16_t>(int_of("testFirstSequence", 0));
    if (o.Get("source").IsString()) s.source = string_of("source");
    s.device = string_of("device");
    const Napi::Value enc = o.Get("encryption");
    if (enc.IsObject()) {
      const Napi::Object e = enc.As<Napi::Object>();
      const std::string hex = e.Get("keyHex").IsString() ? e.Get("keyHex").As<Napi::String>().Utf8Value() : "";
      if (!parse_key(hex, s.key) || !e.Get("keyId").IsNumber()) {
        Napi::TypeError::New(env, "encryption needs keyHex (32 hex digits) and keyId (the launch's rikeyid)")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      // rikeyid may arrive signed; the IV arithmetic is modulo 2^32 either way.
      s.key_id = static_cast<uint32_t>(e.Get("keyId").As<Napi::Number>().Int64Value());
      s.encrypt = true;
    } else if (!enc.IsUndefined()) {
      Napi::TypeError::New(env, "encryption must be an object or undefined").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string error;
    if (!stream_->start(s, &error)) Napi::Error::New(env, "gamestream audio: " + error).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (stream_) stream_->stop();
    return info.Env().Undefined();
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const pf::audio::Counters c = stream_ ? stream_->counters() : pf::audio::Counters{};
    auto set = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    set("packets_sent", c.packets_sent);
    set("fec_packets_sent", c.fec_packets_sent);
    set("pings", c.pings);
    set("send_errors", c.send_errors);
    set("ignored", c.ignored);
    set("resyncs", c.resyncs);
    set("captured_packets", c.captured_packets);
    set("silence_packets", c.silence_packets);
    set("capture_underruns", c.capture_underruns);
    set("capture_dropped_frames", c.capture_dropped_frames);
    set("capture_reconnects", c.capture_reconnects);
    return o;
  }

  // source() → { source, state, detail, device }: where this (or the last) session's sound comes from.
  Napi::Value Source(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const pf::audio::SourceStatus st = stream_ ? stream_->source_status() : pf::audio::SourceStatus{"silence", "off", "", ""};
    Napi::Object o = Napi::Object::New(env);
    o.Set("source", st.source);
    o.Set("state", st.state);
    o.Set("detail", st.detail);
    o.Set("device", st.device);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  napi_env env_;
  bool hooked_ = false;
  std::unique_ptr<AudioStream> stream_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("GameStreamAudio", GameStreamAudio::Define(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_audio, Init)
