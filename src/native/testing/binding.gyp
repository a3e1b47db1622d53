# The test-only addon (punktfunk_native_test, see addon.cc here): the test and benchmark hooks
# that used to be exports of punktfunk_native. It compiles the pipeline sources the hooks call
# (capture, encoder, colour conversion, window statistics) into its own module, so the
# production addon links none of the hooks. Built by `npm run build:native` like every
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
        "../capture_synthetic.cc",
        "../capture_x11.cc",
        "../options.cc",
        "../encoder_plan.cc",
        "../encoder.cc",
        "../colour_convert.cc",
        "../av_log_capture.cc",
        "../window_stats.cc",
        "../frame_ring.cc",
        "../gamestream/video_wire.cc",
        "../gamestream/video_seal.cc",
        "../media/seal.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "..", "../media"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libavcodec libavutil x11 xext xdamage)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil x11 xext xdamage)", "-lpthread"]
    }
  ]
}
