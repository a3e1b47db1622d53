# The media plane of punktfunk/1 as its own module: the receiver (FEC, AES-GCM opening,
# decoding) the client runs. The host's frame loop links the sender's sources (media_sender.cc,
# the pacer) so the send stage runs natively; the sender driven from JavaScript is the test-only
# addon's (testing/media_hooks.cc).
{
  "targets": [
    {
      "target_name": "punktfunk_media",
      "sources": [
        "../gf256/gf256.cc",
        "reed_solomon.cc",
        "seal.cc",
        "media_receiver.cc",
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
