// The PulseAudio reader thread: a private pa_mainloop driven with bounded polls, a context that
// never autospawns a server, a FLOAT32 record stream at 48 kHz in the GameStream channel order,
// and the ring the send thread pulls from. See pulse_capture.h for why it is built this way.
#include "pulse_capture.h"

#include <pthread.h>
#include <pulse/pulseaudio.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace pf::audio {
namespace {
constexpr int kSampleRate = 48000;
constexpr int kRingMs = 250;
constexpr int kPollUs = 50'000;

// Moonlight's channel order (FL FR C LFE RL RR [SL SR]) as PulseAudio positions; the server
// remixes whatever the source has into it.
pa_channel_map channel_map(int channels) {
  pa_channel_map m;
  pa_channel_map_init(&m);
  static const pa_channel_position_t order[8] = {
      PA_CHANNEL_POSITION_FRONT_LEFT, PA_CHANNEL_POSITION_FRONT_RIGHT, PA_CHANNEL_POSITION_FRONT_CENTER,
      PA_CHANNEL_POSITION_LFE,        PA_CHANNEL_POSITION_REAR_LEFT,   PA_CHANNEL_POSITION_REAR_RIGHT,
      PA_CHANNEL_POSITION_SIDE_LEFT,  PA_CHANNEL_POSITION_SIDE_RIGHT};
  m.channels = static_cast<uint8_t>(channels);
  if (channels == 2) {
    m.map[0] = PA_CHANNEL_POSITION_FRONT_LEFT;
    m.map[1] = PA_CHANNEL_POSITION_FRONT_RIGHT;
  } else {
    for (int i = 0; i < channels; i++) m.map[i] = order[i];
  }
  return m;
}

void on_read(pa_stream* s, size_t, void* userdata) {
  auto* self = static_cast<PulseCapture*>(userdata);
  const void* data = nullptr;
  size_t n = 0;
  // Drain everything readable now; each peek must be matched by a drop (except when empty).
  while (pa_stream_readable_size(s) > 0) {
    if (pa_stream_peek(s, &data, &n) < 0) return;
    if (n == 0) return;
    const size_t frame_bytes = pa_frame_size(pa_stream_get_sample_spec(s));
    if (data == nullptr) {
      // A hole in the stream: that much silence.
      std::vector<float> zero((n / frame_bytes) * pa_stream_get_sample_spec(s)->channels, 0.0f);
      self->push(zero.data(), n / frame_bytes);
    } else {
      self->push(static_cast<const float*>(data), n / frame_bytes);
    }
    pa_stream_drop(s);
  }
}
}  // namespace

PulseCapture::PulseCapture(std::string device, int channels) : device_(std::move(device)), channels_(channels) {
  ring_.assign(static_cast<size_t>(kSampleRate) * kRingMs / 1000 * channels, 0.0f);
  thread_ = std::thread([this] { run(); });
}

PulseCapture::~PulseCapture() { stop(); }

void PulseCapture::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

CaptureStatus PulseCapture::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void PulseCapture::set_status(const std::string& state, const std::string& detail, const std::string& device) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_.state = state;
  status_.detail = detail;
  status_.device = device;
}

void PulseCapture::push(const float* data, size_t frames) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t cap = ring_.size();
  size_t n = frames * channels_;
  if (n > cap) {  // more than the whole ring at once: keep the newest
    dropped_frames_ += (n - cap) / channels_;
    data += n - cap;
    n = cap;
  }
  if (size_ + n > cap) {  // full: drop the oldest
    const size_t drop = size_ + n - cap;
    head_ = (head_ + drop) % cap;
    size_ -= drop;
    dropped_frames_ += drop / channels_;
  }
  size_t tail = (head_ + size_) % cap;
  const size_t first = std::min(n, cap - tail);
  std::memcpy(ring_.data() + tail, data, first * sizeof(float));
  std::memcpy(ring_.data(), data + first, (n - first) * sizeof(float));
  size_ += n;
}

bool PulseCapture::pull(float* out, size_t frames) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t cap = ring_.size();
  const size_t n = frames * channels_;
  const size_t prime = static_cast<size_t>(kSampleRate) * kPrimeMs / 1000 * channels_ + n;
  const size_t backlog = static_cast<size_t>(kSampleRate) * kMaxBacklogMs / 1000 * channels_;
  if (!primed_) {
    if (size_ < prime) return false;
    primed_ = true;
  }
  if (size_ < n) {
    primed_ = false;
    underruns_++;
    return false;
  }
  if (size_ > backlog) {  // ran ahead: drop down to the priming level
    const size_t drop = ((size_ - prime) / channels_) * channels_;
    head_ = (head_ + drop) % cap;
    size_ -= drop;
    dropped_frames_ += drop / channels_;
  }
  const size_t first = std::min(n, cap - head_);
  std::memcpy(out, ring_.data() + head_, first * sizeof(float));
  std::memcpy(out + first, ring_.data(), (n - first) * sizeof(float));
  head_ = (head_ + n) % cap;
  size_ -= n;
  return true;
}

void PulseCapture::run() {
  pthread_setname_np(pthread_self(), "pf-gs-pulse");
  bool ever = false;
  while (!stop_) {
    std::string why;
    ever = connection(&why) || ever;
    if (stop_) break;
    // A server that was never there is not waited for ("auto" then means silence). One that was
    // (restarted, or PipeWire reloaded) is tried again every second while the stream runs.
    if (!ever) {
      set_status("failed", why, "");
      return;
    }
    reconnects_++;
    set_status("failed", why + " (trying again every second)", "");
    for (int i = 0; i < kRetryMs / 50 && !stop_; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  set_status("stopped", "", "");
}

bool PulseCapture::connection(std::string* why) {
  pa_mainloop* ml = pa_mainloop_new();
  if (ml == nullptr) {
    *why = "cannot create a PulseAudio mainloop";
    return false;
  }
  pa_proplist* props = pa_proplist_new();
  pa_proplist_sets(props, PA_PROP_APPLICATION_NAME, "punktfunk");
  pa_proplist_sets(props, PA_PROP_MEDIA_ROLE, "production");
  pa_context* ctx = pa_context_new_with_proplist(pa_mainloop_get_api(ml), "punktfunk GameStream audio", props);
  pa_proplist_free(props);
  pa_stream* stream = nullptr;
  const auto started = std::chrono::steady_clock::now();
  std::string failure;
  bool capturing = false;

  // Never start a server of our own: "auto" means "use one if one is there".
  if (ctx == nullptr || pa_context_connect(ctx, nullptr, PA_CONTEXT_NOAUTOSPAWN, nullptr) < 0) {
    failure = std::string("no PulseAudio server reachable: ") + (ctx ? pa_strerror(pa_context_errno(ctx)) : "cannot create a context");
  }
  while (failure.empty() && !stop_) {
    if (pa_mainloop_prepare(ml, kPollUs) < 0 || pa_mainloop_poll(ml) < 0 || pa_mainloop_dispatch(ml) < 0) {
      failure = "the PulseAudio mainloop failed";
      break;
    }
    const pa_context_state_t cs = pa_context_get_state(ctx);
    if (cs == PA_CONTEXT_FAILED || cs == PA_CONTEXT_TERMINATED) {
      failure = std::string(capturing ? "PulseAudio connection lost: " : "no PulseAudio server reachable: ") +
                pa_strerror(pa_context_errno(ctx));
      break;
    }
    if (cs == PA_CONTEXT_READY && stream == nullptr) {
      const pa_sample_spec spec{PA_SAMPLE_FLOAT32LE, kSampleRate, static_cast<uint8_t>(channels_)};
      const pa_channel_map map = channel_map(channels_);
      stream = pa_stream_new(ctx, "GameStream capture", &spec, &map);
      if (stream == nullptr) {
        failure = std::string("cannot create a record stream: ") + pa_strerror(pa_context_errno(ctx));
        break;
      }
      pa_stream_set_read_callback(stream, on_read, this);
      // Small fragments (5 ms) so the ring sees audio about as often as the send thread pulls.
      pa_buffer_attr attr;
      attr.maxlength = static_cast<uint32_t>(-1);
      attr.fragsize = static_cast<uint32_t>(pa_usec_to_bytes(5000, &spec));
      attr.tlength = attr.prebuf = attr.minreq = static_cast<uint32_t>(-1);
      const char* dev = device_.empty() ? "@DEFAULT_MONITOR@" : device_.c_str();
      if (pa_stream_connect_record(stream, dev, &attr, PA_STREAM_ADJUST_LATENCY) < 0) {
        failure = std::string("cannot record from ") + dev + ": " + pa_strerror(pa_context_errno(ctx));
        break;
      }
    }
    if (stream != nullptr) {
      const pa_stream_state_t ss = pa_stream_get_state(stream);
      if (ss == PA_STREAM_FAILED || ss == PA_STREAM_TERMINATED) {
        failure = std::string(capturing ? "the PulseAudio record stream ended: " : "cannot record from ") +
                  (device_.empty() ? "@DEFAULT_MONITOR@" : device_) + ": " + pa_strerror(pa_context_errno(ctx));
        break;
      }
      if (ss == PA_STREAM_READY && !capturing) {
        capturing = true;
        const char* name = pa_stream_get_device_name(stream);
        const char* server = pa_context_get_server(ctx);
        set_status("capturing", std::string("PulseAudio ") + (server ? server : "?") + ", source " + (name ? name : "?"),
                   name ? name : "");
      }
    }
    if (!capturing && std::chrono::steady_clock::now() - started > std::chrono::milliseconds(kConnectTimeoutMs)) {
      failure = "PulseAudio did not answer within " + std::to_string(kConnectTimeoutMs) + " ms";
      break;
    }
  }
  *why = failure;
  if (stream != nullptr) {
    pa_stream_set_read_callback(stream, nullptr, nullptr);
    pa_stream_disconnect(stream);
    pa_stream_unref(stream);
  }
  if (ctx != nullptr) {
    pa_context_disconnect(ctx);
    pa_context_unref(ctx);
  }
  pa_mainloop_free(ml);
  return capturing;
}
}  // namespace pf::audio
