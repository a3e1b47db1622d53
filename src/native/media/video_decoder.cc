// Standalone decoder (see video_decoder.h). The input is copied into a buffer with
// AV_INPUT_BUFFER_PADDING_SIZE zero bytes after it, as libavcodec's parsers may read past the end.
#include "video_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <cstring>

namespace pf::media {

std::unique_ptr<VideoDecoder> VideoDecoder::open(const std::string& codec_name, std::string* error) {
  if (codec_name != "h264" && codec_name != "hevc") {
    *error = "codec must be h264 or hevc";
    return nullptr;
  }
  const AVCodec* codec = avcodec_find_decoder(codec_name == "hevc" ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
  if (codec == nullptr) {
    *error = "no " + codec_name + " decoder in this libavcodec";
    return nullptr;
  }
  std::unique_ptr<VideoDecoder> d(new VideoDecoder());
  d->ctx_ = avcodec_alloc_context3(codec);
  d->packet_ = av_packet_alloc();
  d->frame_ = av_frame_alloc();
  if (d->ctx_ == nullptr || d->packet_ == nullptr || d->frame_ == nullptr) {
    *error = "out of memory";
    return nullptr;
  }
  d->ctx_->thread_count = 1;
  d->ctx_->flags |= AV_CODEC_FLAG_LOW_DELAY;
  if (avcodec_open2(d->ctx_, codec, nullptr) < 0) {
    *error = "cannot open the " + codec_name + " decoder";
    return nullptr;
  }
  return d;
}

VideoDecoder::~VideoDecoder() {
  av_frame_free(&frame_);
  av_packet_free(&packet_);
  avcodec_free_context(&ctx_);
}

DecodeResult VideoDecoder::decode(const uint8_t* data, size_t len) {
  DecodeResult r;
  buffer_.assign(len + AV_INPUT_BUFFER_PADDING_SIZE, 0);
  if (len > 0) std::memcpy(buffer_.data(), data, len);
  packet_->data = buffer_.data();
  packet_->size = static_cast<int>(len);
  if (avcodec_send_packet(ctx_, packet_) < 0) {
    errors_++;
    return r;
  }
  r.ok = true;
  while (avcodec_receive_frame(ctx_, frame_) == 0) {
    r.frames++;
    decoded_++;
    width_ = frame_->width;
    height_ = frame_->height;
    av_frame_unref(frame_);
  }
  return r;
}

}  // namespace pf::media
