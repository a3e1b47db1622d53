# The host's per-frame pipeline (capture → submit → encode → send on a native thread), built by
# `npm run build:native` against the local Node headers. FFmpeg and X11 come from pkg-config so
# a fresh Debian machine with scripts/setup.sh builds it unchanged. The send stage links the
# punktfunk/1 media sender from media/ so a streaming session seals and sends natively, and the
# GameStream video sender from gamestream/ (packetizer, nanors-compatible parity, sealing, pacer).
{
  "targets": [
    {
      "target_name": "punktfunk_native",
      "sources": [
        "addon.cc",
        "armed.cc",
        "options.cc",
        "capture_synthetic.cc",
        "capture_x11.cc",
        "encoder_plan.cc",
        "encoder.cc",
        "colour_convert.cc",
        "av_log_capture.cc",
        "sink.cc",
        "window_stats.cc",
        "frame_ring.cc",
        "frame_loop.cc",
        "thread_priority.cc",
        "session_binding.cc",
        "gf256/gf256.cc",
        "pacing/pacer.cc",
        "media/reed_solomon.cc",
        "media/seal.cc",
        "media/media_sender.cc",
        "gamestream/gs_fec.cc",
        "gamestream/video_wire.cc",
        "gamestream/video_seal.cc",
        "gamestream/video_packetizer.cc",
        "gamestream/video_sender.cc",
        "gamestream/video_port.cc",
        "gamestream/gs_video_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "media", "."],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libavcodec libavutil x11 xext xdamage)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil x11 xext xdamage)", "-lpthread"]
    }
  ]
}
