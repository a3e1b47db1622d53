// The frame loop (see frame_loop.h for its invariants).
//
// Stage boundaries (options.h `Boundary`): deadline → pixels in memory (capture) → colour
// conversion + hand-off (submit) → avcodec_send_frame + receive_packet (encode) → RTP + video
// headers and parity into the sender's ring (packetize) → sink (send). The path names which
// stages it reports (src/api/Paths.ts): a stage spans from the boundary of the stage before it,
// so a path without `submit` (GameStream) counts conversion in `encode`, and one without
// `packetize` (punktfunk/1, whose FEC and sealing happen in its sender) counts it in `send`. A
// session with a packetize stage but no video target (measurement only) has no packetizer, and
// the stage reads 0: nothing is invented.
#include "frame_loop.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "armed.h"
#include "clock.h"
#include "encoder_plan.h"
#include "thread_priority.h"

namespace pf {

std::unique_ptr<FrameLoop> FrameLoop::open(const PipelineOptions& o, std::string* error, bool* config_error) {
  *config_error = true;
  *error = validate(o);
  if (!error->empty()) return nullptr;
  std::unique_ptr<FrameLoop> loop(new FrameLoop());
  loop->options_ = o;
  loop->bitrate_kbps_.store(o.bitrate_kbps, std::memory_order_relaxed);
  loop->applied_kbps_ = o.bitrate_kbps;
  if (o.source == "x11") {
    loop->capture_ = open_x11(o.display, o.width, o.height, error);
    if (loop->capture_ == nullptr) return nullptr;
  } else {
    loop->capture_ = make_synthetic(o.width, o.height, o.fps, o.source == "static");
  }
  const bool gpu = o.assume_gpu || nvidia_gpu_present();
  {
    // The encoder's worker threads are born inside Encoder::open and inherit this scope's
    // real-time lift (thread_priority.h); the opening thread gets its own scheduling back.
    RealtimeScope realtime(o.paced && o.priority == "realtime");
    loop->encoder_ = Encoder::open(o, gpu, &loop->info_.backend, &loop->info_.note, error);
    loop->encoder_threads_ = realtime.finish();
    loop->realtime_ = realtime.granted();
    loop->info_.priority = realtime.granted() ? "realtime" : "normal";
    loop->info_.priority_note = realtime.why();
  }
  if (loop->encoder_ == nullptr) return nullptr;
  loop->info_.gpu = gpu_name();
  *config_error = false;
  loop->sink_ = Sink::open(o, error);
  if (loop->sink_ == nullptr) return nullptr;
  SessionInfo& info = loop->info_;
  info.stage_count = static_cast<int>(o.stages.size());
  for (int i = 0; i < info.stage_count; i++) {
    info.stages[i] = o.stages[static_cast<size_t>(i)];  // validate() allowed at most kMaxStages
    loop->stage_end_[i] = stage_boundary(o.stages[static_cast<size_t>(i)]);
  }
  // Paced: twice the frames a window should hold, for a window that runs long. Unpaced
  // (benchmarks) runs as fast as the encoder allows, so leave room for a few thousand.
  const size_t per_window = static_cast<size_t>(o.fps) * static_cast<size_t>(o.window_ms) / 1000;
  const size_t capacity = o.paced ? per_window * 2 + 64 : 16384;
  loop->window_ = std::make_unique<WindowStats>(info.stage_count, capacity);
  loop->ring_ = std::make_unique<FrameRing>(flight_capacity(o.fps));
  // A repeat that codes to under 1/64 of a frame's share of the bitrate (at least 512 bytes)
  // added next to nothing: the picture has converged (still_policy.h, reason 2).
  const uint64_t frame_budget = static_cast<uint64_t>(o.bitrate_kbps) * 1000 / 8 / static_cast<uint64_t>(o.fps);
  loop->still_ = std::make_unique<StillPolicy>(loop->sink_->still_keepalive_ns(), std::max<uint64_t>(512, frame_budget / 64), o.fps);
  return loop;
}

FrameLoop::~FrameLoop() { stop(); }

void FrameLoop::start(WindowOutlet* outlet) {
  outlet_ = outlet;
  started_ = true;
  g_active_threads.fetch_add(1);
  thread_ = std::thread([this] {
    // Named, so an operator (`top -H`, `ps -L`) and the idle-host test can see whether a source
    // and encoder are running at all: the thread exists exactly while a session streams.
    pthread_setname_np(pthread_self(), "pf-frame");
    if (realtime_) {
      std::string why;
      if (!raise_current_thread(&why)) {
        demote_threads(encoder_threads_);
        realtime_ = false;
      }
    }
    run();
    g_active_threads.fetch_sub(1);
  });
}

void FrameLoop::stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  if (encoder_ != nullptr && sink_ != nullptr && started_) {
    EncodedFrame tail;
    while (encoder_->flush(&tail)) {
      sink_->packetize(tail, now_ns());
      sink_->send(tail, 0);
      frames_.fetch_add(static_cast<uint64_t>(tail.count), std::memory_order_relaxed);
      encoded_.fetch_add(static_cast<uint64_t>(tail.count), std::memory_order_relaxed);
      encoder_->release(&tail);
    }
  }
  started_ = false;
  if (sink_ != nullptr && sink_->packetizes()) {
    sink_->stop_video();
    final_video_ = sink_->video_counters();
    final_peer_ = sink_->video_peer();
  }
  sink_.reset();  // closes the dump and the media / video sender's pacer thread
  encoder_.reset();
  capture_.reset();
}

gs::VideoCounters FrameLoop::video_counters() const {
  // The sink lives until stop(), which runs on the JavaScript thread that also calls this.
  return sink_ != nullptr ? sink_->video_counters() : final_video_;
}

std::string FrameLoop::video_peer() const { return sink_ != nullptr ? sink_->video_peer() : final_peer_; }

LoopTotals FrameLoop::totals() const {
  LoopTotals t;
  t.frames = frames_.load();
  t.repeats = repeats_.load();
  t.encoded = encoded_.load();
  t.bytes = bytes_.load();
  t.windows = windows_.load();
  t.frames_dropped = frames_dropped_.load();
  return t;
}

void FrameLoop::run() {
  const PipelineOptions& o = options_;
  const uint64_t interval = 1000000000ull / static_cast<uint64_t>(o.fps);
  const uint64_t window_ns = static_cast<uint64_t>(o.window_ms) * 1000000ull;
  uint64_t next = now_ns();
  uint64_t window_start = next;
  uint64_t window_boundary = next;
  EncodedFrame encoded;
  uint64_t stage_ns[kMaxStages] = {};
  uint64_t at[kBoundaryCount] = {};  // this frame's boundary timestamps
  std::string error;
  // The boundary is judged on the frame clock's deadline, so a disarmed frame reads no clock
  // beyond the pacing sleep; the window's true length is read once, when it closes.
  auto close_window_if_due = [&](uint64_t deadline) {
    if (deadline - window_boundary >= window_ns) {
      window_boundary = deadline;
      emit_window(now_ns(), &window_start);
    }
  };

  while (!stop_.load(std::memory_order_acquire)) {
    uint64_t deadline, woke;
    uint64_t missed = 0;
    if (o.paced) {
      sleep_until_ns(next);
      deadline = next;
      next += interval;
      // More than a whole interval late: skip the deadlines already missed instead of
      // bursting to catch up, and count them.
      const uint64_t now = now_ns();
      woke = now;
      if (now > next + interval) {
        missed = (now - next) / interval;
        next += missed * interval;
        window_->count_dropped(static_cast<uint32_t>(missed));
        frames_dropped_.fetch_add(missed, std::memory_order_relaxed);
      }
    } else {
      deadline = woke = now_ns();
    }
    const bool measure = o.perf || g_armed.load(std::memory_order_relaxed);

    FrameView frame;
    const bool fresh = capture_->grab(&frame);
    if (const char* why = capture_->failure()) {
      summary_.failed = true;
      std::snprintf(summary_.error, sizeof summary_.error, "capture: %s", why);
      outlet_->deliver(summary_);
      return;
    }
    const uint64_t t_captured = measure ? now_ns() : 0;
    // A client's IDR request and bitrate change: one relaxed load each per frame, acted on
    // only when set (an IDR is rare; a bitrate change rarer).
    bool idr = false;
    if (idr_requested_.load(std::memory_order_relaxed)) {
      idr_requested_.store(false, std::memory_order_relaxed);
      idr = true;
    }
    // GameStream: a client learned since the last frame gets an IDR first (also on a still
    // screen); before any client, a new picture is encoded (the stream stays warm) but not
    // packetized.
    bool sink_idr = false;
    sink_->begin_frame(&sink_idr);
    if (sink_idr) idr = true;
    const int kbps = bitrate_kbps_.load(std::memory_order_relaxed);
    // An unchanged picture goes to the encoder only for a reason (still_policy.h). A skipped
    // frame is a repeat in the counters but adds no stage times: those describe frames that went
    // through the stages, and a still screen must not make `encode` look fast.
    if (!fresh && !still_->encode_repeat(idr, deadline)) {
      window_->count_frame(true, 0, false);
      frames_.fetch_add(1, std::memory_order_relaxed);
      repeats_.fetch_add(1, std::memory_order_relaxed);
      close_window_if_due(deadline);
      continue;
    }
    if (kbps != applied_kbps_) {
      encoder_->set_bitrate(kbps);
      applied_kbps_ = kbps;
    }
    encoder_->submit(frame, fresh, idr);
    const uint64_t t_submitted = measure ? now_ns() : 0;
    if (!encoder_->encode(&encoded, &error)) {
      summary_.failed = true;
      std::snprintf(summary_.error, sizeof summary_.error, "%s: %s", info_.backend.c_str(), error.c_str());
      outlet_->deliver(summary_);
      return;
    }
    const uint64_t t_encoded = measure ? now_ns() : 0;
    sink_->packetize(encoded, deadline);
    const uint64_t t_packetized = measure && sink_->packetizes() ? now_ns() : t_encoded;
    sink_->send(encoded, deadline / 1000);
    const uint64_t t_sent = measure ? now_ns() : 0;

    // The flight recorder reads the frame's key flag before the packets go back to the encoder.
    bool key = false;
    if (measure)
      for (int i = 0; i < encoded.count; i++) key = key || (encoded.packets[i]->flags & AV_PKT_FLAG_KEY) != 0;
    still_->encoded(fresh, idr, encoded.bytes, deadline);
    window_->count_frame(!fresh, encoded.bytes, true);
    frames_.fetch_add(1, std::memory_order_relaxed);
    encoded_.fetch_add(1, std::memory_order_relaxed);
    if (!fresh) repeats_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(encoded.bytes, std::memory_order_relaxed);
    const uint64_t encoded_bytes = encoded.bytes;
    encoder_->release(&encoded);

    if (measure) {
      at[kDeadline] = deadline, at[kCaptured] = t_captured, at[kSubmitted] = t_submitted;
      at[kEncoded] = t_encoded, at[kPacketized] = t_packetized, at[kSent] = t_sent;
      uint64_t from = deadline;
      for (int i = 0; i < info_.stage_count; i++) {
        stage_ns[i] = at[stage_end_[i]] - from;
        from = at[stage_end_[i]];
      }
      window_->add(stage_ns, t_sent - deadline);
      FramePoints p;
      p.deadline_ns = deadline;
      p.woke = FrameRing::offset(woke, deadline);
      p.captured = FrameRing::offset(t_captured, deadline);
      p.submitted = FrameRing::offset(t_submitted, deadline);
      p.encoded = FrameRing::offset(t_encoded, deadline);
      p.packetized = FrameRing::offset(t_packetized, deadline);
      p.sent = FrameRing::offset(t_sent, deadline);
      p.bytes = encoded_bytes > 0xffffffffull ? 0xffffffffu : static_cast<uint32_t>(encoded_bytes);
      p.packets = static_cast<uint16_t>(std::min<uint32_t>(sink_->frame_packets(), 0xffff));
      p.dropped_before = static_cast<uint8_t>(std::min<uint64_t>(missed, 255));
      p.key = key;
      p.repeat = !fresh;
      ring_->push(p);
    }
    close_window_if_due(deadline);
  }
}

void FrameLoop::emit_window(uint64_t now, uint64_t* window_start) {
  WindowSummary& s = summary_;
  window_->summarise(&s);
  // A real-time loop that keeps skipping deadlines cannot keep up at any priority; holding on
  // would only starve Node (thread_priority.h). Give it up for the rest of the session.
  late_windows_ = s.frames_dropped > 0 ? late_windows_ + 1 : 0;
  if (realtime_ && late_windows_ >= kLateWindows) {
    std::vector<pid_t> threads = encoder_threads_;
    threads.push_back(0);  // this, the frame thread
    demote_threads(threads);
    realtime_ = false;
  }
  s.realtime = realtime_;
  s.index = window_index_++;
  s.t_ms = static_cast<double>(now) / 1e6;
  s.duration_ms = static_cast<double>(now - *window_start) / 1e6;
  s.sending = sink_->sends();
  if (s.sending) {
    const SinkCounters c = sink_->counters();
    const double frames = static_cast<double>(c.frames - last_sink_.frames);
    s.send_dropped = c.send_dropped - last_sink_.send_dropped;
    s.fec_us = frames > 0 ? static_cast<double>(c.fec_ns - last_sink_.fec_ns) / 1000.0 / frames : 0;
    s.seal_us = frames > 0 ? static_cast<double>(c.seal_ns - last_sink_.seal_ns) / 1000.0 / frames : 0;
    s.sock_us = frames > 0 ? static_cast<double>(c.sock_ns - last_sink_.sock_ns) / 1000.0 / frames : 0;
    s.frames_unsent = c.frames_unsent - last_sink_.frames_unsent;
    last_sink_ = c;
  }
  *window_start = now;
  windows_.fetch_add(1, std::memory_order_relaxed);
  outlet_->deliver(s);
}

}  // namespace pf
