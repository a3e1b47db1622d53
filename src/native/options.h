// What a session is asked to be, as plain C++ values (parsed from JavaScript in
// session_binding.cc), and the checks that refuse a bad configuration before any thread,
// encoder or X connection exists.
#pragma once
#include <string>
#include <vector>

namespace pf {

struct MediaTarget {
  bool enabled = false;
  std::string host;
  int port = 0;
  std::string key_hex;
  int mtu = 1400;
  int fec_percent = 20;
};

// A GameStream session's video destination: the host's video port (its socket is borrowed, not
// owned), whose pings to accept, and how to cut frames (Moonlight's packetSize, FEC share and
// minimum parity per block).
struct GameStreamTarget {
  bool enabled = false;
  int video_fd = -1;
  std::string client_host;
  std::string ping_payload;  // 16 characters, or "" (legacy "PING")
  int packet_size = 1392;
  int fec_percent = 20;
  int min_required_fec_packets = 0;
  // The launch's rikey (32 hex digits) when the client asked for encrypted video; "" = plain.
  std::string key_hex;
};

struct PipelineOptions {
  // The path's stages in critical-path order, named as src/api/Paths.ts names them
  // ("capture", "submit", "encode", "packetize", "send"): the loop reports exactly these spans.
  std::vector<std::string> stages;
  std::string source = "synthetic";  // "synthetic" | "static" | "x11"
  std::string display;               // X display for x11, e.g. ":99"
  int width = 1280;
  int height = 720;
  int fps = 60;
  std::string codec = "h264";   // "h264" | "hevc"
  std::string encoder = "auto";  // "auto" | "libx264" | "libx265" | "h264_nvenc" | "hevc_nvenc"
  std::string preset = "ultrafast";
  std::string tune = "zerolatency";
  int bitrate_kbps = 10000;
  bool perf = false;
  // "normal" | "realtime": the frame thread and the encoder's workers under SCHED_RR while the
  // loop keeps up (thread_priority.h). Paced sessions only: an unpaced loop never sleeps.
  std::string priority = "normal";
  // Benchmarks only: run frames back to back instead of on the frame clock.
  bool paced = true;
  // Aggregation window, ms: the path's (src/api/Paths.ts) unless a test or benchmark says.
  int window_ms = 0;
  // Tests only: append the encoded bitstream here (Annex B), to decode it afterwards.
  std::string dump_path;
  // Tests only: behave as if an NVIDIA GPU were present (exercises auto's NVENC attempt).
  bool assume_gpu = false;
  MediaTarget media;
  GameStreamTarget gamestream;
};

constexpr int kMaxWidth = 7680;  // 8K UHD: anything larger is refused
constexpr int kMaxHeight = 4320;
constexpr int kMaxFps = 240;

// Empty when the options are acceptable; otherwise one sentence naming the problem.
std::string validate(const PipelineOptions& o);

// The frame loop's timestamps, in the order a frame passes them. A stage is the span from the
// boundary of the stage before it (or the deadline) to its own boundary.
enum Boundary { kDeadline = 0, kCaptured, kSubmitted, kEncoded, kPacketized, kSent, kBoundaryCount };

// The boundary a stage name ends at; kDeadline for an unknown name.
Boundary stage_boundary(const std::string& name);

}  // namespace pf
