// One GameStream audio endpoint: the UDP socket (bound when the host starts, so RTSP SETUP can
// announce its port) and, per session, a send thread.
//
// Why the thread learns the client's address from pings: the client's audio port is ephemeral
// and behind NAT it is only visible as the source of its pings (X-SS-Ping-Payload, or legacy
// "PING"). Only datagrams from the launching client's host count, so another host on the LAN
// cannot redirect the stream to itself by pinging.
//
// Why an absolute-deadline clock: packets go out every packet duration measured from the first
// ping, not "duration after the previous send", so encode and send time do not accumulate into
// drift. If the thread falls far behind (stopped in a debugger, machine suspended) it re-anchors
// instead of bursting the backlog: late audio has no value, and the capture ring (when there is
// one) drops what it holds beyond its bound anyway.
//
// Where the sound comes from: `source` "silence" encodes silence; "pulse" starts a PulseCapture
// (its own reader thread) at start(), and at each deadline the packet is the captured audio when
// the ring has a packet's worth, else silence — the send clock never waits for the capture.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "pulse_capture.h"

namespace pf::audio {
struct StartOptions {
  std::string client_host;   // numeric IPv4 or IPv6 address of the launching client
  std::string ping_payload;  // 16 characters, or "" for legacy "PING"
  int packet_ms = 5;
  int channels = 2;
  bool encrypt = false;
  uint8_t key[16] = {0};
  uint32_t key_id = 0;
  // Tests only: where the sequence starts (a session starts at 0), to see the 16-bit wrap
  // without streaming for five minutes. Must be a multiple of 4 (an FEC block boundary).
  uint16_t first_sequence = 0;
  // "silence" or "pulse" (the desktop's sound through PulseAudio, silence while there is none).
  std::string source = "silence";
  // PulseAudio source name; "" = the default sink's monitor.
  std::string device;
};

struct SourceStatus {
  std::string source;  // as started: "silence" or "pulse"
  std::string state;   // "off" (silence), "connecting", "capturing", "failed" (after stop(): as it was)
  std::string detail;  // why it failed, or what it records
  std::string device;  // the source recorded, once capturing
};

struct Counters {
  uint64_t packets_sent = 0;
  uint64_t fec_packets_sent = 0;
  uint64_t pings = 0;
  uint64_t send_errors = 0;
  uint64_t ignored = 0;     // datagrams that were not a valid ping from the client's host
  uint64_t resyncs = 0;     // times the clock re-anchored after falling far behind
  uint64_t captured_packets = 0;   // data packets carrying captured sound
  uint64_t silence_packets = 0;    // data packets of silence (source "silence", or the capture had none)
  uint64_t capture_underruns = 0;  // times the capture ring ran dry while capturing
  uint64_t capture_dropped_frames = 0;  // captured frames dropped to bound latency
  uint64_t capture_reconnects = 0;      // times the capture lost its server and tried again
};

class AudioStream {
 public:
  ~AudioStream();
  AudioStream(const AudioStream&) = delete;
  AudioStream& operator=(const AudioStream&) = delete;
  static std::unique_ptr<AudioStream> open(const std::string& bind, int port, std::string* error);
  int port() const { return port_; }
  bool running() const { return thread_.joinable(); }
  // Starts the send thread; false with `error` if the options are refused or it already runs.
  bool start(const StartOptions& options, std::string* error);
  // Stops and joins the send thread (idempotent).
  void stop();
  // stop() and release the socket (idempotent).
  void close();
  Counters counters() const;
  SourceStatus source_status() const;

 private:
  AudioStream() = default;
  void run();
  bool from_client(const sockaddr_storage& from) const;
  bool is_ping(const uint8_t* p, size_t n) const;

  int fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  StartOptions options_;
  in6_addr client_{};  // client_host as IPv6 (IPv4 as v4-mapped)
  std::unique_ptr<PulseCapture> capture_;  // while started with source "pulse"
  std::string last_source_;
  CaptureStatus last_capture_;  // the capture's status when it was stopped

  std::atomic<uint64_t> packets_sent_{0};
  std::atomic<uint64_t> fec_packets_sent_{0};
  std::atomic<uint64_t> pings_{0};
  std::atomic<uint64_t> send_errors_{0};
  std::atomic<uint64_t> ignored_{0};
  std::atomic<uint64_t> resyncs_{0};
  std::atomic<uint64_t> captured_packets_{0};
  std::atomic<uint64_t> silence_packets_{0};
  uint64_t last_underruns_ = 0;
  uint64_t last_dropped_ = 0;
  uint64_t last_reconnects_ = 0;
};
}  // namespace pf::audio
