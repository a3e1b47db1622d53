// The libavcodec encoder of one session and the colour conversion in front of it.
//
// Stage split (ARCHITECTURE.md "What each stage means"): `submit` converts BGRX into the
// encoder's YUV 4:2:0 input frame (colour_convert.h) and stamps it; `encode` is
// avcodec_send_frame + avcodec_receive_packet, which for libx264 does the whole encode
// synchronously. A repeat frame skips the conversion (its pixels are already in the input
// frame) and is encoded again.
//
// Invariant: after `open`, nothing here allocates on our side — the input frame and the packet
// slots exist already. (libavcodec hands out reference-counted packet buffers internally; that
// is inside the encoder and is the same for the ffmpeg command line.)
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstdint>
#include <memory>
#include <string>

#include "capture.h"
#include "options.h"

namespace pf {

constexpr int kMaxPacketsPerFrame = 4;

struct EncodedFrame {
  AVPacket* packets[kMaxPacketsPerFrame] = {};
  int count = 0;
  uint64_t bytes = 0;
};

class Encoder {
 public:
  // Tries each encoder of the plan; on failure `error` names every encoder tried and why.
  // `note` tells a fallback (auto only), e.g. "h264_nvenc failed (...); using libx264".
  static std::unique_ptr<Encoder> open(const PipelineOptions& o, bool nvidia_gpu, std::string* backend,
                                       std::string* note, std::string* error);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Frame thread. `fresh` false = repeat: the input frame keeps the previous pixels.
  // `force_idr`: this frame is a keyframe the decoder can start from (a client's IDR request).
  void submit(const FrameView& frame, bool fresh, bool force_idr = false);
  // Frame thread, between frames: a new bitrate target. libx264/libx265 reconfigure in place
  // at their next frame; the rate-control buffer follows (one frame's worth, as at open).
  void set_bitrate(int kbps);
  // Frame thread. Fills `out` with the packets of this frame (references, unref'd by release).
  // Returns false with `error` filled on an encoder failure.
  bool encode(EncodedFrame* out, std::string* error);
  void release(EncodedFrame* out);
  // Drains delayed packets at the end of a session (none with zerolatency, some with others).
  bool flush(EncodedFrame* out);

 private:
  Encoder() = default;
  bool open_one(const std::string& name, const PipelineOptions& o, std::string* why);

  AVCodecContext* ctx_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packets_[kMaxPacketsPerFrame] = {};
  int64_t pts_ = 0;
  int width_ = 0, height_ = 0;
  bool flushed_ = false;
};

}  // namespace pf
