# The media plane of punktfunk/1 (FEC, AES-GCM sealing, paced sending, receiving and decoding)
# as its own module, built by `npm run build:media`. The host's frame loop links the same sources
# so the send stage runs natively without crossing into JavaScript.
{
  "targets": [
    {
      "target_name": "punktfunk_media",
      "sources": [
        "../gf256/gf256.cc",
        "../pacing/pacer.cc",
        "reed_solomon.cc",
        "seal.cc",
        "media_sender.cc",
        "media_receiver.cc",
        "video_decoder.cc",
        "media_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", ".."],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libavcodec libavutil)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil)"]
    }
  ]
}
