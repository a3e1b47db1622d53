// Where the `send` stage delivers encoded frames.
//
// With a media target (a punktfunk/1 client negotiated by the control plane) frames go through
// the media sender: FEC + seal on this thread, paced sendmmsg on the sender's own thread (its
// split fec/seal/sock is reported). Without one the session encodes for measurement only: the
// bytes are counted and, for tests, appended to a dump file; nothing leaves the process, and the
// window says so (no send counters in `measured`).
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "encoder.h"
#include "media_sender.h"
#include "options.h"

namespace pf {

struct SinkCounters {
  uint64_t send_dropped = 0;  // media: packets dropped (ring full, EAGAIN, ENOBUFS)
  uint64_t fec_ns = 0;        // media: time in FEC on the frame thread
  uint64_t seal_ns = 0;       // media: time sealing on the frame thread
  uint64_t sock_ns = 0;       // media: time inside sendmmsg (pacer thread)
  uint64_t frames = 0;        // frames handed to the media sender
};

class Sink {
 public:
  static std::unique_ptr<Sink> open(const PipelineOptions& o, std::string* error);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Frame thread: delivers every packet of one encoded frame.
  void send(const EncodedFrame& frame, uint64_t capture_us);
  bool has_media() const { return media_ != nullptr; }
  SinkCounters counters() const;

 private:
  Sink() = default;
  FILE* dump_ = nullptr;
  std::unique_ptr<media::MediaSender> media_;
  uint64_t fec_ns_ = 0, seal_ns_ = 0;
};

}  // namespace pf
