// NativeSession (see session_binding.h).
//
// How a window crosses threads without a lock or a stall: the frame thread copies the summary
// into one of a few preallocated slots and posts the slot with NonBlockingCall on a thread-safe
// function whose queue holds only a couple of windows. When no slot is free or the queue is
// full the window is dropped and counted (`windows_dropped` rides on the next window that
// arrives); the frame loop never waits for JavaScript.
//
// Lifetime: the slots live in a Mailbox owned by the thread-safe function's finalizer, because
// queued windows may still be delivered after `close()` returned. `close()` joins the frame
// thread before releasing the function, so nothing posts after the release. A per-session
// environment cleanup hook, registered after the function (hooks run in reverse order, so it
// fires before Node tears the function down), closes a session JavaScript forgot; once it has
// fired it is never removed again (removing a fired hook is a double free at exit).
#include "session_binding.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "frame_loop.h"

namespace pf {

namespace {

constexpr int kSlots = 4;
constexpr size_t kQueue = 2;

struct Mailbox;

struct Slot {
  WindowSummary summary;
  std::atomic<bool> busy{false};
};

struct Mailbox {
  Slot slots[kSlots];
  std::atomic<uint64_t> dropped{0};
  SessionInfo info;
};

void call_js(Napi::Env env, Napi::Function callback, Mailbox* box, Slot* slot);
using WindowTsfn = Napi::TypedThreadSafeFunction<Mailbox, Slot, call_js>;

Napi::Object window_object(Napi::Env env, const Mailbox& box, const WindowSummary& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", static_cast<double>(s.index));
  o.Set("t_ms", s.t_ms);
  o.Set("duration_ms", s.duration_ms);
  o.Set("frames", s.frames);
  o.Set("repeats", s.repeats);
  o.Set("encoded", s.encoded);
  o.Set("measured_frames", s.measured_frames);
  o.Set("frames_dropped", s.frames_dropped);
  o.Set("overflow", s.overflow);
  o.Set("bytes", static_cast<double>(s.bytes));
  Napi::Array stages = Napi::Array::New(env, static_cast<size_t>(s.stage_count));
  for (int i = 0; i < s.stage_count; i++) {
    Napi::Object st = Napi::Object::New(env);
    st.Set("name", box.info.stages[i]);
    st.Set("p50_us", s.stages[i].p50_us);
    st.Set("p99_us", s.stages[i].p99_us);
    st.Set("max_us", s.stages[i].max_us);
    st.Set("mean_us", s.stages[i].mean_us);
    stages.Set(static_cast<uint32_t>(i), st);
  }
  o.Set("stages", stages);
  o.Set("host_p50_us", s.host_p50_us);
  o.Set("host_p99_us", s.host_p99_us);
  o.Set("realtime", s.realtime);
  o.Set("sending", s.sending);
  o.Set("send_dropped", static_cast<double>(s.send_dropped));
  o.Set("fec_us", s.fec_us);
  o.Set("seal_us", s.seal_us);
  o.Set("sock_us", s.sock_us);
  o.Set("frames_unsent", static_cast<double>(s.frames_unsent));
  o.Set("windows_dropped", static_cast<double>(s.windows_dropped));
  if (s.failed) o.Set("error", s.error);
  return o;
}

void call_js(Napi::Env env, Napi::Function callback, Mailbox* box, Slot* slot) {
  if (slot == nullptr) return;
  if (env != nullptr && !callback.IsEmpty()) {
    Napi::Object o = window_object(env, *box, slot->summary);
    slot->busy.store(false, std::memory_order_release);
    callback.Call({o});
    return;
  }
  slot->busy.store(false, std::memory_order_release);
}

// The frame thread's side of the mailbox.
class TsfnOutlet final : public WindowOutlet {
 public:
  TsfnOutlet(Mailbox* box, WindowTsfn* tsfn, const std::atomic<bool>* closing) : box_(box), tsfn_(tsfn), closing_(closing) {}

  void deliver(const WindowSummary& summary) override {
    // A failure is the loop's last word: keep offering it until JavaScript takes it or the
    // session is closing (then nobody is listening). Never a blocking call: close() joins this
    // thread from the JavaScript thread, which would then never drain the queue.
    do {
      if (try_post(summary)) return;
      if (!summary.failed) {
        box_->dropped.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (!closing_->load(std::memory_order_acquire));
  }

 private:
  bool try_post(const WindowSummary& summary) {
    for (Slot& slot : box_->slots) {
      bool expected = false;
      if (!slot.busy.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
      std::memcpy(&slot.summary, &summary, sizeof summary);
      slot.summary.windows_dropped = box_->dropped.exchange(0, std::memory_order_relaxed);
      if (tsfn_->NonBlockingCall(&slot) == napi_ok) return true;
      box_->dropped.fetch_add(slot.summary.windows_dropped, std::memory_order_relaxed);
      slot.busy.store(false, std::memory_order_release);
      return false;
    }
    return false;
  }

  Mailbox* box_;
  WindowTsfn* tsfn_;
  const std::atomic<bool>* closing_;
};

PipelineOptions parse_options(const Napi::Object& o) {
  auto str = [&](const char* k, const std::string& d) {
    return o.Has(k) && o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : d;
  };
  auto num = [&](const char* k, double d) {
    return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : d;
  };
  auto flag = [&](const char* k, bool d) {
    return o.Has(k) && o.Get(k).IsBoolean() ? o.Get(k).As<Napi::Boolean>().Value() : d;
  };
  // Non-integers become 1 (odd), so they are refused by validate() rather than truncated.
  auto integer = [&](const char* k, double d) {
    const double v = num(k, d);
    if (v != static_cast<double>(static_cast<long long>(v)) || v > 1e9 || v < -1e9) return 1;
    return static_cast<int>(v);
  };
  PipelineOptions p;
  // The path's stage names (src/api/Paths.ts); anything not a string array is left empty, which
  // validate() refuses by name.
  if (o.Has("stages") && o.Get("stages").IsArray()) {
    const Napi::Array a = o.Get("stages").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && i <= static_cast<uint32_t>(kMaxStages); i++) {
      if (!a.Get(i).IsString()) {
        p.stages.clear();
        break;
      }
      p.stages.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  p.source = str("source", p.source);
  p.display = str("display", p.display);
  p.width = integer("width", p.width);
  p.height = integer("height", p.height);
  p.fps = integer("fps", p.fps);
  p.codec = str("codec", p.codec);
  p.encoder = str("encoder", p.encoder);
  p.preset = str("preset", p.preset);
  p.tune = str("tune", p.tune);
  p.priority = str("priority", p.priority);
  p.bitrate_kbps = integer("bitrate_kbps", p.bitrate_kbps);
  p.perf = flag("perf", p.perf);
  p.paced = flag("paced", p.paced);
  p.window_ms = integer("window_ms", p.window_ms);
  p.dump_path = str("dump_path", p.dump_path);
  p.assume_gpu = flag("assume_gpu", p.assume_gpu);
  if (o.Has("media") && o.Get("media").IsObject()) {
    const Napi::Object m = o.Get("media").As<Napi::Object>();
    p.media.enabled = true;
    p.media.host = m.Get("host").IsString() ? m.Get("host").As<Napi::String>().Utf8Value() : "";
    p.media.port = m.Get("port").IsNumber() ? m.Get("port").As<Napi::Number>().Int32Value() : 0;
    p.media.key_hex = m.Get("key_hex").IsString() ? m.Get("key_hex").As<Napi::String>().Utf8Value() : "";
    p.media.mtu = m.Get("mtu").IsNumber() ? m.Get("mtu").As<Napi::Number>().Int32Value() : 1400;
    p.media.fec_percent = m.Get("fec_percent").IsNumber() ? m.Get("fec_percent").As<Napi::Number>().Int32Value() : 20;
  }
  if (o.Has("gamestream") && o.Get("gamestream").IsObject()) {
    const Napi::Object g = o.Get("gamestream").As<Napi::Object>();
    // Missing or non-integer numbers become -1, which validate() refuses with the field's name.
    auto gint = [&](const char* k) {
      if (!g.Get(k).IsNumber()) return -1;
      const double v = g.Get(k).As<Napi::Number>().DoubleValue();
      return v == static_cast<double>(static_cast<int>(v)) ? static_cast<int>(v) : -1;
    };
    auto gstr = [&](const char* k) { return g.Get(k).IsString() ? g.Get(k).As<Napi::String>().Utf8Value() : std::string(); };
    p.gamestream.enabled = true;
    p.gamestream.video_fd = gint("videoFd");
    p.gamestream.client_host = gstr("clientHost");
    p.gamestream.ping_payload = gstr("pingPayload");
    p.gamestream.packet_size = gint("packetSize");
    p.gamestream.fec_percent = gint("fecPercent");
    p.gamestream.min_required_fec_packets = gint("minRequiredFecPackets");
    // Absent: plain video. Present but not a string: "?" so validate() refuses it by name.
    if (g.Has("keyHex") && !g.Get("keyHex").IsUndefined()) p.gamestream.key_hex = g.Get("keyHex").IsString() ? gstr("keyHex") : "?";
  }
  return p;
}

class NativeSession : public Napi::ObjectWrap<NativeSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeSession",
                       {InstanceMethod<&NativeSession::Close>("close"), InstanceMethod<&NativeSession::Totals>("totals"),
                        InstanceMethod<&NativeSession::Info>("info"),
                        InstanceMethod<&NativeSession::RequestIdr>("requestIdr"),
                        InstanceMethod<&NativeSession::SetBitrate>("setBitrate"),
                        InstanceMethod<&NativeSession::VideoCounters>("videoCounters"),
                        InstanceMethod<&NativeSession::Frames>("frames")});
  }

  // new NativeSession(options, onWindow). Throws an Error whose `configError` says whether a
  // retry could help; no thread exists unless the constructor returns.
  explicit NativeSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSession>(info), env_(info.Env()) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "NativeSession(options, onWindow)").ThrowAsJavaScriptException();
      return;
    }
    const PipelineOptions options = parse_options(info[0].As<Napi::Object>());
    std::string error;
    bool config_error = false;
    loop_ = FrameLoop::open(options, &error, &config_error);
    if (loop_ == nullptr) {
      Napi::Error e = Napi::Error::New(env, error);
      e.Set("configError", Napi::Boolean::New(env, config_error));
      e.ThrowAsJavaScriptException();
      return;
    }
    info_ = loop_->info();
    box_ = new Mailbox();
    box_->info = info_;
    tsfn_ = WindowTsfn::New(env, info[1].As<Napi::Function>(), "punktfunk-native-windows", kQueue, 1, box_,
                            [](Napi::Env, void*, Mailbox* box) { delete box; });
    napi_add_env_cleanup_hook(env, &NativeSession::OnEnvCleanup, this);
    hooked_ = true;
    outlet_ = std::make_unique<TsfnOutlet>(box_, &tsfn_, &closing_);
    loop_->start(outlet_.get());
  }

  ~NativeSession() override { Shutdown(); }

 private:
  static void OnEnvCleanup(void* arg) {
    NativeSession* self = static_cast<NativeSession*>(arg);
    self->hooked_ = false;  // fired: never remove it again
    self->Shutdown();
  }

  void Shutdown() {
    if (loop_ == nullptr) return;
    closing_.store(true, std::memory_order_release);
    loop_->stop();
    totals_ = loop_->totals();
    video_ = loop_->video_counters();
    peer_ = loop_->video_peer();
    loop_.reset();
    tsfn_.Release();
    if (hooked_) {
      napi_remove_env_cleanup_hook(env_, &NativeSession::OnEnvCleanup, this);
      hooked_ = false;
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // requestIdr(): the next frame is an IDR. No-op on a closed session.
  Napi::Value RequestIdr(const Napi::CallbackInfo& info) {
    if (loop_ != nullptr) loop_->request_idr();
    return info.Env().Undefined();
  }

  // setBitrate(kbps): a new target from the next frame on. Refuses what the session's own
  // configuration check would refuse.
  Napi::Value SetBitrate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const double kbps = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(kbps >= 100 && kbps <= 500000) || kbps != static_cast<int>(kbps)) {
      Napi::RangeError::New(env, "setBitrate(kbps): an integer from 100 to 500000").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (loop_ != nullptr) loop_->set_bitrate(static_cast<int>(kbps));
    return env.Undefined();
  }

  Napi::Value Totals(const Napi::CallbackInfo& info) {
    const LoopTotals t = loop_ != nullptr ? loop_->totals() : totals_;
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("frames", static_cast<double>(t.frames));
    o.Set("repeats", static_cast<double>(t.repeats));
    o.Set("encoded", static_cast<double>(t.encoded));
    o.Set("bytes", static_cast<double>(t.bytes));
    o.Set("windows", static_cast<double>(t.windows));
    o.Set("frames_dropped", static_cast<double>(t.frames_dropped));
    o.Set("running", loop_ != nullptr);
    return o;
  }

  // videoCounters(): the GameStream video sender's counters (zeros without a video target).
  Napi::Value VideoCounters(const Napi::CallbackInfo& info) {
    const gs::VideoCounters c = loop_ != nullptr ? loop_->video_counters() : video_;
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("frames_sent", static_cast<double>(c.frames_sent));
    o.Set("frames_unsent", static_cast<double>(c.frames_unsent));
    o.Set("frames_dropped", static_cast<double>(c.frames_dropped));
    o.Set("packets_sent", static_cast<double>(c.packets_sent));
    o.Set("parity_sent", static_cast<double>(c.parity_sent));
    o.Set("send_dropped", static_cast<double>(c.send_dropped));
    o.Set("pings_accepted", static_cast<double>(c.pings_accepted));
    o.Set("pings_ignored", static_cast<double>(c.pings_ignored));
    o.Set("packets_sealed", static_cast<double>(c.packets_sealed));
    o.Set("seal_failed", static_cast<double>(c.seal_failed));
    o.Set("peer", loop_ != nullptr ? loop_->video_peer() : peer_);
    return o;
  }

  // frames(fromMs, toMs) → { stride, data: Float64Array }: the flight recorder's records whose
  // deadline (monotonic ms, the windows' clock) lies in [fromMs, toMs], oldest first, `stride`
  // numbers each: deadline_ms, then woke/captured/submitted/encoded/packetized/sent in µs after
  // the deadline, bytes, packets, dropped_before, key (0/1), repeat (0/1). Called only when a
  // span is kept (a breach, a marker), never per frame; empty on a closed session.
  Napi::Value Frames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    constexpr size_t kStride = 12;
    const double from = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    const double to = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
    std::vector<FramePoints> points;
    size_t n = 0;
    if (loop_ != nullptr && from >= 0 && to >= from) {
      points.resize(loop_->frames().capacity());
      // ms → ns, saturating (a double past 2^64 ns does not convert to an integer).
      auto ns = [](double ms) { return ms * 1e6 >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(ms * 1e6); };
      n = loop_->frames().copy(ns(from), ns(to), points.data(), points.size());
    }
    Napi::Float64Array data = Napi::Float64Array::New(env, n * kStride);
    for (size_t i = 0; i < n; i++) {
      const FramePoints& p = points[i];
      double* row = data.Data() + i * kStride;
      row[0] = static_cast<double>(p.deadline_ns) / 1e6;
      row[1] = p.woke / 1e3, row[2] = p.captured / 1e3, row[3] = p.submitted / 1e3;
      row[4] = p.encoded / 1e3, row[5] = p.packetized / 1e3, row[6] = p.sent / 1e3;
      row[7] = p.bytes, row[8] = p.packets, row[9] = p.dropped_before, row[10] = p.key ? 1 : 0, row[11] = p.repeat ? 1 : 0;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("stride", static_cast<double>(kStride));
    o.Set("data", data);
    return o;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SessionInfo& s = info_;
    Napi::Object o = Napi::Object::New(env);
    o.Set("encoder_backend", s.backend);
    o.Set("note", s.note);
    o.Set("gpu", s.gpu);
    o.Set("priority", s.priority);
    o.Set("priority_note", s.priority_note);
    Napi::Array stages = Napi::Array::New(env, static_cast<size_t>(s.stage_count));
    for (int i = 0; i < s.stage_count; i++) stages.Set(static_cast<uint32_t>(i), s.stages[i]);
    o.Set("stages", stages);
    return o;
  }

  napi_env env_;
  std::unique_ptr<FrameLoop> loop_;
  Mailbox* box_ = nullptr;  // owned by the thread-safe function's finalizer
  WindowTsfn tsfn_;
  std::unique_ptr<TsfnOutlet> outlet_;
  std::atomic<bool> closing_{false};
  bool hooked_ = false;
  LoopTotals totals_;
  gs::VideoCounters video_;
  std::string peer_;
  SessionInfo info_;
};

}  // namespace

Napi::Function define_native_session(Napi::Env env) { return NativeSession::Define(env); }

}  // namespace pf
