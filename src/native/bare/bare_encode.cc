// The bare libavcodec loop that `npm run bench -- native-realtime` sets beside the frame loop's
// `encode` stage (issue 12): the same frames and the same libx264 settings, with nothing around
// the encoder call — no Node, no frame loop, no window statistics, no sink.
//
//   bare_encode WIDTH HEIGHT FPS BITRATE_KBPS FRAMES paced|back-to-back [PRESET [TUNE]]
//
// Frame i is the synthetic source's pattern i (capture_synthetic.cc) converted to YUV 4:2:0 by
// the pipeline's converter (colour_convert.cc), so the encoder sees the same pictures, in the
// same order, as in a synthetic session. Drawing and conversion happen before the clock starts;
// only avcodec_send_frame + avcodec_receive_packet is timed, which is what `encode` means
// (ARCHITECTURE.md). The encoder is opened with the settings Encoder::open gives libx264,
// written out here on purpose (a bare loop must not borrow the code it is compared with).
// "paced" waits for each frame's deadline on a 1/FPS clock as the frame loop does; "back-to-back"
// encodes as fast as it can (the usual way such a figure is taken).
//
// Prints one JSON line: {"encoder":"libx264","mode":…,"frames":N,"bytes":B,"encode_us":[…]}.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
}

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "capture.h"
#include "colour_convert.h"

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void sleep_until_ns(uint64_t t) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(t / 1000000000ull);
  ts.tv_nsec = static_cast<long>(t % 1000000000ull);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

int fail(const std::string& why) {
  std::fprintf(stderr, "bare_encode: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7)
    return fail("usage: bare_encode WIDTH HEIGHT FPS BITRATE_KBPS FRAMES paced|back-to-back [PRESET [TUNE]]");
  const int width = std::atoi(argv[1]), height = std::atoi(argv[2]), fps = std::atoi(argv[3]);
  const int kbps = std::atoi(argv[4]), frames = std::atoi(argv[5]);
  const std::string mode = argv[6];
  const char* preset = argc > 7 ? argv[7] : "ultrafast";
  const char* tune = argc > 8 ? argv[8] : "zerolatency";
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0 || fps <= 0 || kbps <= 0 || frames <= 0)
    return fail("bad size, rate or count");
  if (mode != "paced" && mode != "back-to-back") return fail("mode must be paced or back-to-back");

  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) return fail("libx264 is not in this FFmpeg build");
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->width = width;
  ctx->height = height;
  ctx->time_base = AVRational{1, fps};
  ctx->framerate = AVRational{fps, 1};
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->bit_rate = static_cast<int64_t>(kbps) * 1000;
  ctx->rc_max_rate = ctx->bit_rate;
  ctx->rc_buffer_size = static_cast<int>(ctx->bit_rate / fps);
  ctx->gop_size = fps * 4;
  ctx->max_b_frames = 0;
  ctx->thread_count = 0;
  av_opt_set(ctx->priv_data, "preset", preset, 0);
  av_opt_set(ctx->priv_data, "tune", tune, 0);
  av_opt_set(ctx->priv_data, "forced-idr", "1", 0);
  av_log_set_level(AV_LOG_ERROR);
  if (avcodec_open2(ctx, codec, nullptr) < 0) return fail("libx264 did not open with these settings");

  AVFrame* frame = av_frame_alloc();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame, 0) < 0) return fail("cannot allocate the input frame");
  AVPacket* packet = av_packet_alloc();
  std::vector<uint8_t> bgrx(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
  std::vector<uint64_t> encode_ns;
  encode_ns.reserve(static_cast<size_t>(frames));
  uint64_t bytes = 0;

  const uint64_t interval = 1000000000ull / static_cast<uint64_t>(fps);
  uint64_t next = now_ns();
  for (int i = 0; i < frames; i++) {
    if (mode == "paced") {
      sleep_until_ns(next);
      next += interval;
    }
    pf::draw_pattern(bgrx.data(), width, height, width * 4, static_cast<uint64_t>(i));
    av_frame_make_writable(frame);
    const pf::PlanesI420 planes{frame->data[0], frame->linesize[0], frame->data[1],
                                frame->linesize[1], frame->data[2], frame->linesize[2]};
    pf::bgrx_to_i420(bgrx.data(), width * 4, width, 0, height, planes);
    frame->pts = i;
    const uint64_t t0 = now_ns();
    if (avcodec_send_frame(ctx, frame) < 0) return fail("avcodec_send_frame failed");
    while (avcodec_receive_packet(ctx, packet) == 0) {
      bytes += static_cast<uint64_t>(packet->size);
      av_packet_unref(packet);
    }
    encode_ns.push_back(now_ns() - t0);
  }

  std::printf("{\"encoder\":\"libx264\",\"mode\":\"%s\",\"frames\":%d,\"bytes\":%llu,\"encode_us\":[", mode.c_str(),
              frames, static_cast<unsigned long long>(bytes));
  for (size_t i = 0; i < encode_ns.size(); i++)
    std::printf("%s%.1f", i == 0 ? "" : ",", static_cast<double>(encode_ns[i]) / 1000.0);
  std::printf("]}\n");
  av_packet_free(&packet);
  av_frame_free(&frame);
  avcodec_free_context(&ctx);
  return 0;
}
