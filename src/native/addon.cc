// Module `punktfunk_native`: the host's per-frame pipeline. Exports the armed flag
// (`setArmed`/`getArmed`, one atomic the frame loops read relaxed), the live frame-loop thread
// count, the config check and encoder plan (pure, for tests), the NativeSession class, the
// GameStream video port and its known-answer hooks (the test hooks are a module of their own,
// testing/). Nothing here runs per frame.
#include <napi.h>

#include "armed.h"
#include "av_log_capture.h"
#include "encoder_plan.h"
#include "gamestream/gs_video_binding.h"
#include "options.h"
#include "session_binding.h"

namespace {

Napi::Value SetArmed(const Napi::CallbackInfo& info) {
  pf::g_armed.store(info.Length() > 0 && info[0].ToBoolean().Value(), std::memory_order_relaxed);
  return info.Env().Undefined();
}

Napi::Value GetArmed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), pf::g_armed.load(std::memory_order_relaxed));
}

Napi::Value ActiveThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), pf::g_active_threads.load());
}

// planEncoders(codec, choice, nvidiaGpu) → names tried in order
Napi::Value PlanEncoders(const Napi::CallbackInfo& info) {
  const pf::EncoderPlan plan = pf::plan_encoders(info[0].As<Napi::String>().Utf8Value(),
                                                 info[1].As<Napi::String>().Utf8Value(), info[2].ToBoolean().Value());
  Napi::Array names = Napi::Array::New(info.Env(), plan.names.size());
  for (size_t i = 0; i < plan.names.size(); i++) names.Set(static_cast<uint32_t>(i), plan.names[i]);
  return names;
}

Napi::Value NvidiaGpuPresent(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), pf::nvidia_gpu_present());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pf::install_av_log_capture();
  exports.Set("setArmed", Napi::Function::New(env, SetArmed));
  exports.Set("getArmed", Napi::Function::New(env, GetArmed));
  exports.Set("activeThreads", Napi::Function::New(env, ActiveThreads));
  exports.Set("planEncoders", Napi::Function::New(env, PlanEncoders));
  exports.Set("nvidiaGpuPresent", Napi::Function::New(env, NvidiaGpuPresent));
  exports.Set("NativeSession", pf::define_native_session(env));
  pf::gs::register_gamestream_video(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(punktfunk_native, Init)
