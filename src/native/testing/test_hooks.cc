// Test and benchmark aids (see test_hooks.h):
// - x11FillRect / x11Grab: draw a rectangle on an X display's root window and read back what
//   the XShm capture sees, so the x11 test checks real pixels without extra X tools;
// - writePatternFrames: the synthetic pattern as raw BGRX frames on disk, the shared input of
//   "our encode vs the ffmpeg command line";
// - encodeRawFrames: our submit + encode over those frames, back to back, timed — the same
//   Encoder class the frame loop uses, so the comparison measures what the pipeline adds;
// - measurementCostNs: the per-frame cost of measuring alone, free of the encoder's noise;
// - convertBgrxToI420: the submit stage's colour conversion on a given picture, by the path this
//   CPU takes or by the portable code, so a test can hold the SIMD path to the portable one and
//   both to known BT.601 values.
#include "testing/test_hooks.h"

#include <X11/Xlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "capture.h"
#include "clock.h"
#include "colour_convert.h"
#include "encoder.h"
#include "encoder_plan.h"
#include "frame_ring.h"
#include "window_stats.h"

namespace pf {

namespace {

Napi::Value X11FillRect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string display = info[0].As<Napi::String>().Utf8Value();
  const int x = info[1].As<Napi::Number>().Int32Value(), y = info[2].As<Napi::Number>().Int32Value();
  const unsigned w = info[3].As<Napi::Number>().Uint32Value(), h = info[4].As<Napi::Number>().Uint32Value();
  const unsigned long rgb = info[5].As<Napi::Number>().Uint32Value();
  Display* dpy = XOpenDisplay(display.c_str());
  if (dpy == nullptr) {
    Napi::Error::New(env, "cannot open X display '" + display + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const Window root = DefaultRootWindow(dpy);
  GC gc = XCreateGC(dpy, root, 0, nullptr);
  XSetForeground(dpy, gc, rgb);
  XSetSubwindowMode(dpy, gc, IncludeInferiors);
  XFillRectangle(dpy, root, gc, x, y, w, h);
  XSync(dpy, False);
  XFreeGC(dpy, gc);
  XCloseDisplay(dpy);
  return env.Undefined();
}

Napi::Value X11Grab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string display = info[0].As<Napi::String>().Utf8Value();
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  std::string error;
  std::unique_ptr<Capture> capture = open_x11(display, w, h, &error);
  if (capture == nullptr) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  FrameView frame;
  capture->grab(&frame);
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  for (int row = 0; row < h; row++)
    std::memcpy(out.Data() + static_cast<size_t>(row) * static_cast<size_t>(w) * 4,
                frame.data + static_cast<size_t>(row) * static_cast<size_t>(frame.stride), static_cast<size_t>(w) * 4);
  return out;
}

Napi::Value WritePatternFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  const int count = info[3].As<Napi::Number>().Int32Value();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    Napi::Error::New(env, "cannot write '" + path + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint8_t> frame(static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  for (int i = 0; i < count; i++) {
    draw_pattern(frame.data(), w, h, w * 4, static_cast<uint64_t>(i));
    std::fwrite(frame.data(), 1, frame.size(), f);
  }
  std::fclose(f);
  return env.Undefined();
}

// encodeRawFrames(path, options, loops) → { wall_ns, frames, bytes, encoder_backend }
Napi::Value EncodeRawFrames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const Napi::Object o = info[1].As<Napi::Object>();
  const int loops = info[2].As<Napi::Number>().Int32Value();
  PipelineOptions p;
  p.width = o.Get("width").As<Napi::Number>().Int32Value();
  p.height = o.Get("height").As<Napi::Number>().Int32Value();
  p.fps = o.Get("fps").As<Napi::Number>().Int32Value();
  p.codec = o.Get("codec").As<Napi::String>().Utf8Value();
  p.encoder = o.Get("encoder").As<Napi::String>().Utf8Value();
  p.preset = o.Get("preset").As<Napi::String>().Utf8Value();
  p.tune = o.Get("tune").As<Napi::String>().Utf8Value();
  p.bitrate_kbps = o.Get("bitrate_kbps").As<Napi::Number>().Int32Value();
  const std::string invalid = validate(p);
  if (!invalid.empty()) {
    Napi::Error::New(env, invalid).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    Napi::Error::New(env, "cannot read '" + path + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const size_t frame_bytes = static_cast<size_t>(p.width) * static_cast<size_t>(p.height) * 4;
  std::vector<uint8_t> raw;
  std::vector<uint8_t> chunk(frame_bytes);
  while (std::fread(chunk.data(), 1, frame_bytes, f) == frame_bytes) raw.insert(raw.end(), chunk.begin(), chunk.end());
  std::fclose(f);
  const size_t count = raw.size() / frame_bytes;
  std::string backend, note, error;
  std::unique_ptr<Encoder> enc = Encoder::open(p, nvidia_gpu_present(), &backend, &note, &error);
  if (enc == nullptr || count == 0) {
    Napi::Error::New(env, count == 0 ? "no frames in '" + path + "'" : error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  EncodedFrame out;
  uint64_t bytes = 0, frames = 0;
  const uint64_t start = now_ns();
  for (int l = 0; l < loops; l++) {
    for (size_t i = 0; i < count; i++) {
      FrameView view{raw.data() + i * frame_bytes, p.width * 4};
      enc->submit(view, true);
      if (!enc->encode(&out, &error)) {
        Napi::Error::New(env, error).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      bytes += out.bytes;
      frames += static_cast<uint64_t>(out.count);
      enc->release(&out);
    }
  }
  while (enc->flush(&out)) {
    bytes += out.bytes;
    frames += static_cast<uint64_t>(out.count);
    enc->release(&out);
  }
  const uint64_t wall = now_ns() - start;
  Napi::Object r = Napi::Object::New(env);
  r.Set("wall_ns", static_cast<double>(wall));
  r.Set("frames", static_cast<double>(frames));
  r.Set("bytes", static_cast<double>(bytes));
  r.Set("encoder_backend", backend);
  return r;
}

// measurementCostNs(frames, flight) → ns per frame of exactly what an armed frame adds: the
// clock reads (capture, submit, encode, send ends) and the store into the window buffers, with a
// window summarised every 120 frames as in a 2 s window at 60 fps; with `flight`, also the
// flight recorder's record (frame_ring.h) into a ring of 10 s at 60 fps, as the frame loop does.
Napi::Value MeasurementCostNs(const Napi::CallbackInfo& info) {
  const int frames = info[0].As<Napi::Number>().Int32Value();
  const bool flight = info.Length() > 1 && info[1].ToBoolean().Value();
  WindowStats window(4, 256);
  WindowSummary summary;
  FrameRing ring(flight_capacity(60));
  uint64_t stage[4];
  const uint64_t start = now_ns();
  for (int i = 0; i < frames; i++) {
    const uint64_t deadline = start + static_cast<uint64_t>(i);
    const uint64_t a = now_ns(), b = now_ns(), c = now_ns(), d = now_ns();
    stage[0] = a - deadline, stage[1] = b - a, stage[2] = c - b, stage[3] = d - c;
    window.add(stage, d - deadline);
    if (flight) {
      FramePoints p;
      p.deadline_ns = deadline;
      p.woke = FrameRing::offset(a, deadline);
      p.captured = FrameRing::offset(a, deadline);
      p.submitted = FrameRing::offset(b, deadline);
      p.encoded = p.packetized = FrameRing::offset(c, deadline);
      p.sent = FrameRing::offset(d, deadline);
      p.bytes = static_cast<uint32_t>(i);
      p.packets = 3;
      p.key = i % 120 == 0;
      ring.push(p);
    }
    if (i % 120 == 119) window.summarise(&summary);
  }
  const double per = static_cast<double>(now_ns() - start) / (frames > 0 ? frames : 1);
  return Napi::Number::New(info.Env(), per);
}

// flightRingStress(fps, frames) → { capacity, copies, torn, gaps, first_ms, last_ms, kept }: a
// writer thread pushes `frames` records on a frame clock of `fps` (deadline k / fps s, every field
// derived from k) as fast as it can, into a ring sized as a session of `fps` gets it, while this
// thread copies the whole ring out again and again. `torn` counts copied records whose fields do
// not belong to one frame, `gaps` non-consecutive neighbours; the last copy, after the writer
// finished, gives the span kept (`first_ms`..`last_ms`, `kept` records).
Napi::Value FlightRingStress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fps = info[0].As<Napi::Number>().Int32Value();
  const uint64_t frames = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  if (fps <= 0 || fps > 1000) {
    Napi::RangeError::New(env, "fps from 1 to 1000").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  FrameRing ring(flight_capacity(fps));
  const uint64_t interval = 1000000000ull / static_cast<uint64_t>(fps);
  auto points_of = [&](uint64_t k) {
    FramePoints p;
    p.deadline_ns = (k + 1) * interval;
    p.woke = static_cast<uint32_t>(k % 1000);
    p.captured = static_cast<uint32_t>(k % 1000 + 1);
    p.submitted = static_cast<uint32_t>(k % 1000 + 2);
    p.encoded = static_cast<uint32_t>(k % 1000 + 3);
    p.packetized = static_cast<uint32_t>(k % 1000 + 4);
    p.sent = static_cast<uint32_t>(k % 1000 + 5);
    p.bytes = static_cast<uint32_t>(k);
    p.packets = static_cast<uint16_t>(k % 7);
    p.key = k % 60 == 0;
    return p;
  };
  auto check = [&](const FramePoints& p) {
    const uint64_t k = p.deadline_ns / interval - 1;
    const FramePoints want = points_of(k);
    return p.woke == want.woke && p.captured == want.captured && p.submitted == want.submitted && p.encoded == want.encoded &&
           p.packetized == want.packetized && p.sent == want.sent && p.bytes == want.bytes && p.packets == want.packets &&
           p.key == want.key && p.deadline_ns == want.deadline_ns;
  };
  std::thread writer([&] {
    for (uint64_t k = 0; k < frames; k++) ring.push(points_of(k));
  });
  std::vector<FramePoints> out(ring.capacity());
  uint64_t copies = 0, torn = 0, gaps = 0;
  auto scan = [&](size_t n) {
    for (size_t i = 0; i < n; i++) {
      if (!check(out[i])) torn++;
      if (i > 0 && out[i].deadline_ns != out[i - 1].deadline_ns + interval) gaps++;
    }
  };
  // A few copies at least, even when the writer is done before the first one.
  for (int i = 0; i < 3 || copies < 200; i++) {
    scan(ring.copy(0, UINT64_MAX, out.data(), out.size()));
    copies++;
  }
  writer.join();
  const size_t n = ring.copy(0, UINT64_MAX, out.data(), out.size());
  scan(n);
  Napi::Object r = Napi::Object::New(env);
  r.Set("capacity", static_cast<double>(ring.capacity()));
  r.Set("copies", static_cast<double>(copies));
  r.Set("torn", static_cast<double>(torn));
  r.Set("gaps", static_cast<double>(gaps));
  r.Set("kept", static_cast<double>(n));
  r.Set("first_ms", n > 0 ? static_cast<double>(out[0].deadline_ns) / 1e6 : 0);
  r.Set("last_ms", n > 0 ? static_cast<double>(out[n - 1].deadline_ns) / 1e6 : 0);
  return r;
}

// convertBgrxToI420(bgrx, width, height, portable) → { y, u, v, path } (planes packed, no padding)
Napi::Value ConvertBgrxToI420(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Buffer<uint8_t> in = info[0].As<Napi::Buffer<uint8_t>>();
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  const bool portable = info[3].As<Napi::Boolean>().Value();
  if (w <= 0 || h <= 0 || w % 2 != 0 || h % 2 != 0 || in.Length() != static_cast<size_t>(w) * static_cast<size_t>(h) * 4) {
    Napi::Error::New(env, "need an even width×height BGRX picture").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> y = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(w) * static_cast<size_t>(h));
  Napi::Buffer<uint8_t> u = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(w / 2) * static_cast<size_t>(h / 2));
  Napi::Buffer<uint8_t> v = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(w / 2) * static_cast<size_t>(h / 2));
  const PlanesI420 planes{y.Data(), w, u.Data(), w / 2, v.Data(), w / 2};
  if (portable) bgrx_to_i420_portable(in.Data(), w * 4, w, 0, h, planes);
  else bgrx_to_i420(in.Data(), w * 4, w, 0, h, planes);
  Napi::Object r = Napi::Object::New(env);
  r.Set("y", y);
  r.Set("u", u);
  r.Set("v", v);
  r.Set("path", portable ? "portable" : colour_convert_path());
  return r;
}

}  // namespace

void register_test_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("x11FillRect", Napi::Function::New(env, X11FillRect));
  exports.Set("x11Grab", Napi::Function::New(env, X11Grab));
  register_x11_test_hooks(env, exports);
  exports.Set("writePatternFrames", Napi::Function::New(env, WritePatternFrames));
  exports.Set("encodeRawFrames", Napi::Function::New(env, EncodeRawFrames));
  exports.Set("measurementCostNs", Napi::Function::New(env, MeasurementCostNs));
  exports.Set("flightRingStress", Napi::Function::New(env, FlightRingStress));
  exports.Set("convertBgrxToI420", Napi::Function::New(env, ConvertBgrxToI420));
}

}  // namespace pf
