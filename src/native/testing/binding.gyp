# The test-only addon (punktfunk_native_test, see addon.cc here): the test and benchmark hooks
# that used to be exports of the production addons (punktfunk_native, punktfunk_media,
# punktfunk_audio). It compiles the sources the hooks call (capture, encoder, colour conversion,
# window statistics, FEC, packetizer, sealing, Opus) into its own module, so no production addon
# links a hook. Built by `npm run build:native` like every
# directory with a binding.gyp; the packed package leaves this directory out, so a user's
# install neither builds nor needs it.
{
  "targets": [
    {
      "target_name": "punktfunk_native_test",
      "sources": [
        "addon.cc",
        "test_hooks.cc",
        "test_hooks_x11.cc",
        "fec_hooks.cc",
        "audio_hooks.cc",
        "media_hooks.cc",
        "gamestream_hooks.cc",
        "../capture_synthetic.cc",
        "../capture_x11.cc",
        "../options.cc",
        "../encoder_plan.cc",
        "../encoder.cc",
        "../colour_convert.cc",
        "../av_log_capture.cc",
        "../window_stats.cc",
        "../frame_ring.cc",
        "../gf256/gf256.cc",
        "../pacing/pacer.cc",
        "../media/reed_solomon.cc",
        "../media/media_sender.cc",
        "../media/video_decoder.cc",
        "../gamestream/gs_fec.cc",
        "../gamestream/video_wire.cc",
        "../gamestream/video_seal.cc",
        "../gamestream/video_packetizer.cc",
        "../audio/audio_fec.cc",
        "../audio/opus_packets.cc",
        "../media/seal.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "..", "../media"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libavcodec libavutil x11 xext xdamage opus)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil x11 xext xdamage opus)", "-lpthread"]
    }
  ]
}
