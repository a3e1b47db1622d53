// Where the `send` stage delivers encoded frames.
//
// With a media target (a punktfunk/1 client negotiated by the control plane) frames go through
// the media sender: FEC + seal on this thread, paced sendmmsg on the sender's own thread (its
// split fec/seal/sock is reported). Without one the session encodes for measurement only: the
// bytes are counted and, for tests, appended to a dump file; nothing leaves the process, and the
// window says so (no send counters in `measured`).
//
// With a GameStream target (kind "gamestream") frames go to the GameStream video sender: the
// frame loop calls `packetize` (RTP + video headers + parity into the sender's ring: the
// `packetize` stage) and then `send` (hand-off to the pacer: the `send` stage). Before the
// client's first valid ping nothing is packetized; `begin_frame` says so before the encode, and
// asks for an IDR for the first frame a newly learned client gets.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "encoder.h"
#include "gamestream/video_sender.h"
#include "media_sender.h"
#include "options.h"

namespace pf {

struct SinkCounters {
  uint64_t send_dropped = 0;  // media: packets dropped (ring full, EAGAIN, ENOBUFS)
  uint64_t fec_ns = 0;        // media: time in FEC on the frame thread
  uint64_t seal_ns = 0;       // media: time sealing on the frame thread
  uint64_t sock_ns = 0;       // media: time inside sendmmsg (pacer thread)
  uint64_t frames = 0;        // frames handed to the media sender
  // GameStream video only.
  uint64_t frames_unsent = 0;  // frames produced before the client's first valid ping
  gs::VideoCounters video;
};

class Sink {
 public:
  static std::unique_ptr<Sink> open(const PipelineOptions& o, std::string* error);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Frame thread, before encoding: false when this frame will not leave the host (GameStream
  // before the first ping); `want_idr` asks for a key frame.
  bool begin_frame(bool* want_idr);
  // Frame thread: GameStream packetization of every packet of the frame (no-op otherwise).
  void packetize(const EncodedFrame& frame, uint64_t capture_ns);
  // Frame thread: delivers every packet of one encoded frame.
  void send(const EncodedFrame& frame, uint64_t capture_us);
  // How often a still picture is encoded and sent again (ns; 0 = never): what this path's client
  // needs while nothing changes (still_policy.h; why these values: sink.cc).
  uint64_t still_keepalive_ns() const;
  // The session has a network target (either transport): its send counters mean something.
  bool sends() const { return media_ != nullptr || video_ != nullptr; }
  // Frames are cut into datagrams on the frame thread (the `packetize` stage does real work).
  bool packetizes() const { return video_ != nullptr; }
  // Frame thread: datagrams the frame last packetized and sent became (0 when nothing was sent).
  uint32_t frame_packets() const { return frame_packets_; }
  std::string video_peer() const { return video_ != nullptr ? video_->peer() : ""; }
  // Stops the GameStream pacer so the counters read next are final (the frame loop has stopped).
  void stop_video() {
    if (video_ != nullptr) video_->stop();
  }
  // Any thread: the video sender's counters only (atomics; zeros without a video target).
  gs::VideoCounters video_counters() const { return video_ != nullptr ? video_->counters() : gs::VideoCounters{}; }
  SinkCounters counters() const;

 private:
  Sink() = default;
  FILE* dump_ = nullptr;
  std::unique_ptr<media::MediaSender> media_;
  std::unique_ptr<gs::VideoSender> video_;
  bool deliver_ = true;  // the last begin_frame's answer
  uint64_t fec_ns_ = 0, seal_ns_ = 0;
  uint32_t frame_packets_ = 0;  // datagrams the last frame became (flight recorder)
};

}  // namespace pf
