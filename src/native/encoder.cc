// libavcodec encoder setup and the per-frame submit/encode calls (see encoder.h).
//
// Settings chosen for a low-latency stream: no B-frames, one-frame VBV (the rate controller
// never banks bits for a later burst that would arrive late), constant frame rate time base.
// NVENC names libx264's preset/tune in its own words (p1..p7, ull/ll).
#include "encoder.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
}

#include "av_log_capture.h"
#include "colour_convert.h"
#include "encoder_plan.h"

namespace pf {

namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

bool is_nvenc(const std::string& name) { return name.find("nvenc") != std::string::npos; }

std::string nvenc_preset(const std::string& preset) {
  if (preset == "ultrafast" || preset == "superfast" || preset == "veryfast") return "p1";
  if (preset == "faster" || preset == "fast") return "p3";
  if (preset == "medium") return "p4";
  if (preset.size() == 2 && preset[0] == 'p') return preset;
  return "p5";
}

}  // namespace

std::unique_ptr<Encoder> Encoder::open(const PipelineOptions& o, bool nvidia_gpu, std::string* backend,
                                       std::string* note, std::string* error) {
  const EncoderPlan plan = plan_encoders(o.codec, o.encoder, nvidia_gpu);
  std::string tried;
  for (const std::string& name : plan.names) {
    std::unique_ptr<Encoder> enc(new Encoder());
    std::string why;
    if (enc->open_one(name, o, &why)) {
      *backend = name;
      if (!tried.empty()) *note = tried + "; fell back to " + name;
      else if (o.encoder == "auto" && !nvidia_gpu) *note = "no NVIDIA GPU found; using software encoder " + name;
      return enc;
    }
    tried += (tried.empty() ? "" : "; ") + name + " failed: " + why;
  }
  *error = "no encoder could open for " + o.codec + " (tried " + tried + ")";
  return nullptr;
}

bool Encoder::open_one(const std::string& name, const PipelineOptions& o, std::string* why) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (codec == nullptr) {
    *why = "not in this FFmpeg build";
    return false;
  }
  ctx_ = avcodec_alloc_context3(codec);
  if (ctx_ == nullptr) {
    *why = "out of memory";
    return false;
  }
  width_ = o.width;
  height_ = o.height;
  ctx_->width = o.width;
  ctx_->height = o.height;
  ctx_->time_base = AVRational{1, o.fps};
  ctx_->framerate = AVRational{o.fps, 1};
  ctx_->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx_->bit_rate = static_cast<int64_t>(o.bitrate_kbps) * 1000;
  ctx_->rc_max_rate = ctx_->bit_rate;
  ctx_->rc_buffer_size = static_cast<int>(ctx_->bit_rate / o.fps);
  ctx_->gop_size = o.fps * 4;
  ctx_->max_b_frames = 0;
  // 0 = the encoder picks (libx264 with zerolatency: sliced threads, which cut a frame's
  // latency instead of queueing frames). AVCodecContext's default is 1; the ffmpeg command
  // line also asks for "auto", so the benchmark compares like with like.
  ctx_->thread_count = 0;
  if (is_nvenc(name)) {
    av_opt_set(ctx_->priv_data, "preset", nvenc_preset(o.preset).c_str(), 0);
    av_opt_set(ctx_->priv_data, "tune", o.tune == "zerolatency" ? "ull" : o.tune.c_str(), 0);
    av_opt_set(ctx_->priv_data, "zerolatency", "1", 0);
  } else {
    if (av_opt_set(ctx_->priv_data, "preset", o.preset.c_str(), 0) < 0) {
      *why = "unknown preset '" + o.preset + "'";
      return false;
    }
    if (av_opt_set(ctx_->priv_data, "tune", o.tune.c_str(), 0) < 0) {
      *why = "unknown tune '" + o.tune + "'";
      return false;
    }
    // info=0: without it libx265 puts a ~2 KB SEI (its version and every option) in front of the
    // slice of every keyframe. Moonlight recognises an IDR only when the slice starts in the
    // frame's first packet (after VPS/SPS/PPS); behind that SEI it never does, so it waits for
    // an IDR forever and gives up on the stream (moonlight-common-c, seen in
    // test/streaming/gamestream-moonlight.test.ts).
    if (name == "libx265") av_opt_set(ctx_->priv_data, "x265-params", "log-level=error:info=0", 0);
  }
  // libx264, libx265 and NVENC all know "forced-idr"; a build without it just ignores the request.
  av_opt_set(ctx_->priv_data, "forced-idr", "1", 0);
  clear_last_av_error();
  const int rc = avcodec_open2(ctx_, codec, nullptr);
  if (rc < 0) {
    const std::string detail = last_av_error();
    *why = av_error(rc) + (detail.empty() ? "" : " (" + detail + ")");
    return false;
  }
  frame_ = av_frame_alloc();
  if (frame_ == nullptr) {
    *why = "out of memory";
    return false;
  }
  frame_->format = ctx_->pix_fmt;
  frame_->width = o.width;
  frame_->height = o.height;
  if (av_frame_get_buffer(frame_, 0) < 0) {
    *why = "cannot allocate the input frame";
    return false;
  }
  for (AVPacket*& p : packets_) {
    p = av_packet_alloc();
    if (p == nullptr) {
      *why = "out of memory";
      return false;
    }
  }
  return true;
}

Encoder::~Encoder() {
  for (AVPacket*& p : packets_) av_packet_free(&p);
  av_frame_free(&frame_);
  avcodec_free_context(&ctx_);
}

void Encoder::set_bitrate(int kbps) {
  const int fps = ctx_->framerate.num > 0 ? ctx_->framerate.num : 60;
  ctx_->bit_rate = static_cast<int64_t>(kbps) * 1000;
  ctx_->rc_max_rate = ctx_->bit_rate;
  ctx_->rc_buffer_size = static_cast<int>(ctx_->bit_rate / fps);
}

void Encoder::submit(const FrameView& frame, bool fresh, bool force_idr) {
  if (fresh) {
    // The encoder may still reference the previous picture's buffer; make it ours to overwrite.
    av_frame_make_writable(frame_);
    const PlanesI420 planes{frame_->data[0], frame_->linesize[0], frame_->data[1],
                            frame_->linesize[1], frame_->data[2], frame_->linesize[2]};
    bgrx_to_i420(frame.data, frame.stride, width_, 0, height_, planes);
  }
  frame_->pts = pts_++;
  // With "forced-idr" set at open, an I picture requested here is an IDR: a decoder that lost
  // its references (a client that joined late or dropped frames) starts clean from it.
  frame_->pict_type = force_idr ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
}

bool Encoder::encode(EncodedFrame* out, std::string* error) {
  out->count = 0;
  out->bytes = 0;
  int rc = avcodec_send_frame(ctx_, frame_);
  if (rc < 0) {
    *error = "avcodec_send_frame: " + av_error(rc);
    return false;
  }
  while (out->count < kMaxPacketsPerFrame) {
    AVPacket* p = packets_[out->count];
    rc = avcodec_receive_packet(ctx_, p);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
    if (rc < 0) {
      *error = "avcodec_receive_packet: " + av_error(rc);
      return false;
    }
    out->packets[out->count++] = p;
    out->bytes += static_cast<uint64_t>(p->size);
  }
  return true;
}

void Encoder::release(EncodedFrame* out) {
  for (int i = 0; i < out->count; i++) av_packet_unref(out->packets[i]);
  out->count = 0;
}

bool Encoder::flush(EncodedFrame* out) {
  out->count = 0;
  out->bytes = 0;
  if (!flushed_) {
    flushed_ = true;
    if (avcodec_send_frame(ctx_, nullptr) < 0) return false;
  }
  while (out->count < kMaxPacketsPerFrame) {
    AVPacket* p = packets_[out->count];
    if (avcodec_receive_packet(ctx_, p) < 0) break;
    out->packets[out->count++] = p;
    out->bytes += static_cast<uint64_t>(p->size);
  }
  return out->count > 0;
}

}  // namespace pf
