// JavaScript face of the GameStream video pieces in the main addon: `GameStreamVideoPort`, the
// host-lifetime UDP socket (see video_port.h). Not on a per-frame path; the session's sender runs
// natively (video_sender.h). The known-answer hooks (packetizing, parity, headers, sealing one
// datagram) are exports of the test-only addon (testing/gamestream_hooks.cc), not of this one.
#include "gs_video_binding.h"

#include <unistd.h>

#include "video_port.h"

namespace pf::gs {
namespace {

class VideoPort : public Napi::ObjectWrap<VideoPort> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GameStreamVideoPort",
                       {InstanceAccessor<&VideoPort::Port>("port"), InstanceAccessor<&VideoPort::Fd>("fd"),
                        InstanceMethod<&VideoPort::Close>("close")});
  }

  // new GameStreamVideoPort(bind, port)
  explicit VideoPort(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoPort>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "GameStreamVideoPort(bind: string, port: number)").ThrowAsJavaScriptException();
      return;
    }
    const double port = info[1].As<Napi::Number>().DoubleValue();
    if (!(port >= 0 && port <= 65535) || port != static_cast<int>(port)) {
      Napi::RangeError::New(env, "GameStreamVideoPort: port must be an integer from 0 to 65535").ThrowAsJavaScriptException();
      return;
    }
    std::string error;
    bound_ = bind_video_port(info[0].As<Napi::String>().Utf8Value(), static_cast<int>(port), &error);
    if (bound_.fd < 0) Napi::Error::New(env, error).ThrowAsJavaScriptException();
  }

  ~VideoPort() override {
    if (bound_.fd >= 0) ::close(bound_.fd);
  }

 private:
  Napi::Value Port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), bound_.port); }
  // -1 once closed.
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), bound_.fd); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (bound_.fd >= 0) ::close(bound_.fd);
    bound_.fd = -1;
    return info.Env().Undefined();
  }
  BoundPort bound_;
};

}  // namespace

void register_gamestream_video(Napi::Env env, Napi::Object exports) {
  exports.Set("GameStreamVideoPort", VideoPort::Define(env));
}

}  // namespace pf::gs
