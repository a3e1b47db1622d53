// The JavaScript face of the ENet service (module `punktfunk_enet`): `new EnetHost(options,
// onEvents)` binds and starts the service thread; `onEvents(batch)` is called on the JavaScript
// thread with every event queued since the last call (a thread-safe function woken once per
// batch, so a burst of packets costs one crossing); `send` and `disconnect` queue commands to
// the service thread; `close()` joins it.
//
// Teardown: `close()`, the object's destructor and the environment's cleanup hook all end in
// the same idempotent close. After the cleanup hook has fired, the destructor must not remove
// it again (double free at exit), hence `hooked_` cleared when it fires.
#include <napi.h>

#include <memory>
#include <string>

#include "enet_service.h"

namespace {
using pf::enet::Event;
using pf::enet::Service;

struct Bridge {
  std::shared_ptr<Service> service;
};

void CallJs(Napi::Env env, Napi::Function callback, Bridge* bridge, void*) {
  if (env == nullptr || bridge == nullptr || !bridge->service) return;
  std::vector<Event> events = bridge->service->drain();
  if (events.empty()) return;
  Napi::Array batch = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); i++) {
    Event& e = events[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("peer", Napi::Number::New(env, e.peer));
    switch (e.type) {
      case Event::Type::Connect:
        o.Set("type", "connect");
        o.Set("data", Napi::Number::New(env, e.data));
        o.Set("address", e.address);
        o.Set("port", Napi::Number::New(env, e.port));
        break;
      case Event::Type::Receive:
        o.Set("type", "receive");
        o.Set("channel", Napi::Number::New(env, e.channel));
        o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, e.bytes.data(), e.bytes.size()));
        break;
      case Event::Type::Disconnect:
        o.Set("type", "disconnect");
        o.Set("data", Napi::Number::New(env, e.data));
        o.Set("reason", e.cause == Event::Cause::Host              ? "host"
                        : e.cause == Event::Cause::Unauthenticated ? "unauthenticated"
                        : e.cause == Event::Cause::Evicted         ? "evicted"
                                                                   : "peer");
        break;
    }
    batch.Set(static_cast<uint32_t>(i), o);
  }
  try {
    callback.Call({batch});
  } catch (const Napi::Error& error) {
    error.ThrowAsJavaScriptException();  // reported by Node as an uncaught exception
  }
}

using Tsfn = Napi::TypedThreadSafeFunction<Bridge, void, CallJs>;

std::string str(const Napi::Object& o, const char* name, const std::string& fallback) {
  return o.Has(name) && o.Get(name).IsString() ? o.Get(name).As<Napi::String>().Utf8Value() : fallback;
}
double num(const Napi::Object& o, const char* name, double fallback) {
  return o.Has(name) && o.Get(name).IsNumber() ? o.Get(name).As<Napi::Number>().DoubleValue() : fallback;
}

class Host : public Napi::ObjectWrap<Host> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EnetHost",
                       {InstanceAccessor<&Host::Port>("port"), InstanceMethod<&Host::Send>("send"),
                        InstanceMethod<&Host::Disconnect>("disconnect"),
                        InstanceMethod<&Host::Authenticated>("authenticated"), InstanceMethod<&Host::Counters>("counters"),
                        InstanceMethod<&Host::Close>("close")});
  }

  explicit Host(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Host>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "EnetHost(options, onEvents) needs an options object and a function")
          .ThrowAsJavaScriptException();
      return;
    }
    const Napi::Object o = info[0].As<Napi::Object>();
    pf::enet::Config c;
    c.bind = str(o, "bind", "0.0.0.0");
    c.port = static_cast<int>(num(o, "port", 0));
    c.peers = static_cast<int>(num(o, "peers", 32));
    c.channels = static_cast<int>(num(o, "channels", 0x30));
    c.timeout_ms = static_cast<uint32_t>(num(o, "timeoutMs", 10000));
    c.max_packet = static_cast<uint32_t>(num(o, "maxPacket", 64 * 1024));
    c.duplicate_peers = static_cast<int>(num(o, "duplicatePeers", 0));
    c.auth_timeout_ms = static_cast<uint32_t>(num(o, "authTimeoutMs", 0));

    Bridge* bridge = new Bridge();
    tsfn_ = Tsfn::New(env, info[1].As<Napi::Function>(), "punktfunk_enet", 2, 1, bridge,
                      [](Napi::Env, void*, Bridge* b) { delete b; });
    Tsfn tsfn = tsfn_;
    std::string error;
    try {
      service_ = Service::open(c, [tsfn]() mutable { return tsfn.NonBlockingCall() == napi_ok; }, &error);
    } catch (const std::exception& e) {  // e.g. the thread could not be started
      error = e.what();
      service_.reset();
    }
    if (!service_) {
      tsfn_.Release();
      released_ = true;
      Napi::Error::New(env, "enet: " + error).ThrowAsJavaScriptException();
      return;
    }
    bridge->service = service_;
    env_ = env;
    napi_add_env_cleanup_hook(env, &Host::OnEnvCleanup, this);
    hooked_ = true;
  }

  ~Host() override {
    if (hooked_) napi_remove_env_cleanup_hook(env_, &Host::OnEnvCleanup, this);
    hooked_ = false;
    Shutdown();
  }

 private:
  static void OnEnvCleanup(void* arg) {
    Host* self = static_cast<Host*>(arg);
    self->hooked_ = false;  // fired: never remove it again
    self->Shutdown();
  }

  void Shutdown() {
    if (service_) service_->close();  // joins the service thread: no wake after this
    if (!released_) {
      released_ = true;
      tsfn_.Release();
    }
  }

  Napi::Value Port(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), service_ ? service_->port() : 0);
  }

  // send(peer, channel, bytes, reliable) → queued?
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
      Napi::TypeError::New(env, "send(peer, channel, Uint8Array, reliable)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint32_t channel = info[1].As<Napi::Number>().Uint32Value();
    auto bytes = info[2].As<Napi::Uint8Array>();
    if (!service_ || channel > 254) return Napi::Boolean::New(env, false);
    std::vector<uint8_t> copy(bytes.Data(), bytes.Data() + bytes.ByteLength());
    const bool reliable = info.Length() < 4 || info[3].ToBoolean();
    return Napi::Boolean::New(env, service_->send(info[0].As<Napi::Number>().Uint32Value(),
                                                  static_cast<uint8_t>(channel), std::move(copy), reliable));
  }

  // disconnect(peer, later): later waits for what is queued to be acknowledged.
  Napi::Value Disconnect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(env, "disconnect(peer, later)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const bool later = info.Length() > 1 && info[1].ToBoolean();
    return Napi::Boolean::New(env, service_ && service_->disconnect(info[0].As<Napi::Number>().Uint32Value(), later));
  }

  // authenticated(peer): the owner verified the peer; limits for strangers no longer apply to it.
  Napi::Value Authenticated(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(env, "authenticated(peer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Boolean::New(env, service_ && service_->authenticated(info[0].As<Napi::Number>().Uint32Value()));
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!service_) return o;
    const auto c = service_->counters();
    auto set = [&](const char* k, uint64_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
    set("connects", c.connects);
    set("disconnects", c.disconnects);
    set("packets_received", c.packets_received);
    set("packets_dropped", c.packets_dropped);
    set("packets_sent", c.packets_sent);
    set("sends_refused", c.sends_refused);
    set("service_errors", c.service_errors);
    set("unauthenticated_dropped", c.unauthenticated_dropped);
    set("handshakes_dropped", c.handshakes_dropped);
    set("evicted", c.evicted);
    set("peers_connected", c.peers_connected);
    set("peers_handshaking", c.peers_handshaking);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  std::shared_ptr<Service> service_;
  Tsfn tsfn_;
  bool released_ = false;
  napi_env env_ = nullptr;
  bool hooked_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("EnetHost", Host::Define(env));
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_enet, Init)
