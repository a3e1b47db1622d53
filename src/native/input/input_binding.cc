// The JavaScript face of the XTEST injector (module `punktfunk_input`): `new XInjector(display)`
// opens the display (throws with the reason when it cannot) and starts the injection thread;
// `push(op, a, b)` queues one operation and never waits for X; `counters()`; `close()` releases
// what is held and joins the thread (also run by the destructor and at environment cleanup).
// `XProbe` is for tests: a second connection that asks where the pointer is and which keys are
// down, and can hold the input focus with a window that records the key and button events it
// receives.
#include <napi.h>

#include <memory>
#include <string>

#include "x11_injector.h"

namespace {
using pf::input::Injector;
using pf::input::Op;
using pf::input::Probe;

std::string display_arg(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(what) + "(display) needs a display string").ThrowAsJavaScriptException();
    return "";
  }
  return info[0].As<Napi::String>().Utf8Value();
}

class JsInjector : public Napi::ObjectWrap<JsInjector> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "XInjector",
                       {InstanceMethod<&JsInjector::Push>("push"), InstanceMethod<&JsInjector::Counters>("counters"),
                        InstanceMethod<&JsInjector::Close>("close")});
  }

  explicit JsInjector(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsInjector>(info) {
    const std::string display = display_arg(info, "XInjector");
    if (info.Env().IsExceptionPending()) return;
    std::string error;
    injector_ = Injector::open(display, &error);
    if (!injector_) {
      Napi::Error::New(info.Env(), "input: " + error).ThrowAsJavaScriptException();
      return;
    }
    env_ = info.Env();
    napi_add_env_cleanup_hook(env_, &JsInjector::OnEnvCleanup, this);
    hooked_ = true;
  }

  ~JsInjector() override {
    if (hooked_) napi_remove_env_cleanup_hook(env_, &JsInjector::OnEnvCleanup, this);
    hooked_ = false;
    if (injector_) injector_->close();
  }

 private:
  static void OnEnvCleanup(void* arg) {
    JsInjector* self = static_cast<JsInjector*>(arg);
    self->hooked_ = false;
    if (self->injector_) self->injector_->close();
  }

  // push(op, a, b) → queued?
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "push(op, a, b) takes three numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint32_t op = info[0].As<Napi::Number>().Uint32Value();
    if (!injector_ || op > static_cast<uint32_t>(Op::Text)) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, injector_->push(static_cast<Op>(op), info[1].As<Napi::Number>().Int32Value(),
                                                   info[2].As<Napi::Number>().Int32Value()));
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!injector_) return o;
    const auto c = injector_->counters();
    auto set = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    set("applied", c.applied);
    set("refused", c.refused);
    set("unmapped", c.unmapped);
    set("x_errors", c.x_errors);
    o.Set("lost", Napi::Boolean::New(env, c.lost));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (injector_) injector_->close();
    return info.Env().Undefined();
  }

  std::unique_ptr<Injector> injector_;
  napi_env env_ = nullptr;
  bool hooked_ = false;
};

class JsProbe : public Napi::ObjectWrap<JsProbe> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "XProbe",
                       {InstanceMethod<&JsProbe::Pointer>("pointer"), InstanceMethod<&JsProbe::KeyDown>("keyDown"),
                        InstanceMethod<&JsProbe::KeycodeOf>("keycodeOf"), InstanceMethod<&JsProbe::WatchKeys>("watchKeys"),
                        InstanceMethod<&JsProbe::KeyEvents>("events"), InstanceMethod<&JsProbe::Close>("close")});
  }

  explicit JsProbe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsProbe>(info) {
    const std::string display = display_arg(info, "XProbe");
    if (info.Env().IsExceptionPending()) return;
    std::string error;
    probe_ = Probe::open(display, &error);
    if (!probe_) Napi::Error::New(info.Env(), "input: " + error).ThrowAsJavaScriptException();
  }

 private:
  Napi::Value Pointer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    const auto s = probe_ ? probe_->pointer() : pf::input::PointerState{};
    o.Set("x", Napi::Number::New(env, s.x));
    o.Set("y", Napi::Number::New(env, s.y));
    o.Set("mask", Napi::Number::New(env, s.mask));
    return o;
  }

  uint32_t keysym_arg(const Napi::CallbackInfo& info) {
    return info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  }

  Napi::Value KeyDown(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), probe_ && probe_->key_down(keysym_arg(info)));
  }

  Napi::Value KeycodeOf(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), probe_ ? probe_->keycode_of(keysym_arg(info)) : 0);
  }

  Napi::Value WatchKeys(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), probe_ && probe_->watch_keys());
  }

  Napi::Value KeyEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto events = probe_ ? probe_->key_events() : std::vector<Probe::InputRecord>{};
    Napi::Array out = Napi::Array::New(env, events.size());
    for (size_t i = 0; i < events.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", events[i].key ? "key" : "button");
      o.Set("code", Napi::Number::New(env, events[i].code));
      o.Set("down", Napi::Boolean::New(env, events[i].down));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (probe_) probe_->close();
    return info.Env().Undefined();
  }

  std::unique_ptr<Probe> probe_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("XInjector", JsInjector::Define(env));
  exports.Set("XProbe", JsProbe::Define(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_input, Init)
