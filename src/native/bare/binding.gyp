# The bare libavcodec loop of `npm run bench -- native-realtime` (bare_encode.cc): a command-line
# program, not an addon, so nothing of it is in the module the host loads. Built with the addons
# by `npm run build:native` (scripts/build-native.sh builds every directory with a binding.gyp).
{
  "targets": [
    {
      "target_name": "bare_encode",
      "type": "executable",
      "sources": ["bare_encode.cc", "../capture_synthetic.cc", "../colour_convert.cc"],
      "include_dirs": [".."],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "<!@(pkg-config --cflags libavcodec libavutil)"],
      "libraries": ["<!@(pkg-config --libs libavcodec libavutil)"]
    }
  ]
}
