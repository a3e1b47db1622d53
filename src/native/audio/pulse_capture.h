// The desktop's sound as GameStream audio: a PulseAudio record stream (PipeWire's PulseAudio
// server works the same) on the default sink's monitor, or a named source, read on its own
// thread into a bounded ring the audio send thread pulls one packet from at each deadline.
//
// Why the asynchronous libpulse API on a private mainloop rather than pa_simple: pa_simple has no
// time-outs. Connecting to a server that accepts but never answers, or reading a monitor whose
// sink the server suspended (no data ever arrives), would block pa_simple_* forever, and with it
// stop(). Here every wait is a poll of at most 50 ms, connecting gives up after kConnectTimeoutMs,
// and stop() always joins. A capture whose server goes away (restarted, PipeWire reloaded) tries
// again every second, sending silence meanwhile; a server that was never there is not waited for.
//
// Why a ring with priming: the server delivers in fragments whose size and timing it chooses, the
// send thread pulls exactly one packet duration on its own clock. The ring starts handing out
// audio only once it holds a little more than a packet (kPrimeMs); when it runs dry the packet is
// silence and it primes again; when it holds more than kMaxBacklogMs (the capture clock ran ahead,
// or the client stopped pinging) the oldest audio is dropped, so latency stays bounded.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pf::audio {
struct CaptureStatus {
  // "connecting" until the record stream runs ("capturing") or it gave up ("failed").
  std::string state = "connecting";
  // Why it failed, or (capturing) what it records: server and source name.
  std::string detail;
  std::string device;
};

class PulseCapture {
 public:
  static constexpr int kConnectTimeoutMs = 3000;
  static constexpr int kPrimeMs = 20;
  static constexpr int kMaxBacklogMs = 80;
  static constexpr int kRetryMs = 1000;

  // device: a PulseAudio source name, or "" for the default sink's monitor. Starts the reader
  // thread; never blocks on the server.
  PulseCapture(std::string device, int channels);
  ~PulseCapture();
  PulseCapture(const PulseCapture&) = delete;
  PulseCapture& operator=(const PulseCapture&) = delete;

  // Copies `frames` interleaved frames into `out` when the ring has them (and has primed);
  // false (out untouched) otherwise: the caller sends silence for this packet.
  bool pull(float* out, size_t frames);
  CaptureStatus status() const;
  uint64_t dropped_frames() const { return dropped_frames_.load(std::memory_order_relaxed); }
  uint64_t underruns() const { return underruns_.load(std::memory_order_relaxed); }
  // Times a capture that ran lost its server and started trying again.
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  // Stops and joins the reader thread (idempotent).
  void stop();

  // Called from the reader thread's libpulse callbacks.
  void push(const float* data, size_t frames);
  void set_status(const std::string& state, const std::string& detail, const std::string& device);

 private:
  void run();
  // One connection: connect, record until it fails or stop(); true if it reached "capturing".
  bool connection(std::string* why);

  const std::string device_;
  const int channels_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  mutable std::mutex mutex_;  // ring, status
  std::vector<float> ring_;   // capacity kRingMs of interleaved frames
  size_t head_ = 0;           // index (in floats) of the oldest sample
  size_t size_ = 0;           // floats held
  bool primed_ = false;
  CaptureStatus status_;
  std::atomic<uint64_t> dropped_frames_{0};
  std::atomic<uint64_t> underruns_{0};
  std::atomic<uint64_t> reconnects_{0};
};
}  // namespace pf::audio
