// A standalone libavcodec decoder for tests and tools: one Annex B access unit in, the frames it
// completes counted, the picture size reported. Used by the GameStream test client, which
// reassembles frames in TypeScript and needs a real decoder (not our code) to judge them.
//
// Why its own class next to the punktfunk/1 receiver's decoder: that one is fused with the
// receive thread; this one is driven call by call from JavaScript, with low-delay flags so each
// access unit yields its picture at once (no frame held back for reordering).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct AVCodecContext;
struct AVPacket;
struct AVFrame;

namespace pf::media {

struct DecodeResult {
  bool ok = false;   // the decoder accepted the access unit
  int frames = 0;    // pictures this call completed
};

class VideoDecoder {
 public:
  // codec: "h264" | "hevc". Null with `error` when libavcodec has no such decoder.
  static std::unique_ptr<VideoDecoder> open(const std::string& codec, std::string* error);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  DecodeResult decode(const uint8_t* data, size_t len);
  int width() const { return width_; }
  int height() const { return height_; }
  uint64_t frames_decoded() const { return decoded_; }
  uint64_t errors() const { return errors_; }

 private:
  VideoDecoder() = default;
  AVCodecContext* ctx_ = nullptr;
  AVPacket* packet_ = nullptr;
  AVFrame* frame_ = nullptr;
  std::vector<uint8_t> buffer_;  // the access unit plus libavcodec's zeroed input padding
  int width_ = 0, height_ = 0;
  uint64_t decoded_ = 0, errors_ = 0;
};

}  // namespace pf::media
