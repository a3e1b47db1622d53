# GameStream audio (Opus over RTP with Moonlight's audio FEC) as its own module, so only this
# module links libopus, libcrypto (AES-128-CBC for encrypted audio) and libpulse (the desktop's
# sound, see pulse_capture.h). Built by scripts/build-native.sh like every directory under
# src/native with a binding.gyp.
{
  "targets": [
    {
      "target_name": "punktfunk_audio",
      "sources": [
        "../gf256/gf256.cc",
        "../pacing/pacer.cc",
        "audio_fec.cc",
        "audio_cipher.cc",
        "opus_packets.cc",
        "pulse_capture.cc",
        "audio_stream.cc",
        "audio_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", ".."],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags opus libcrypto libpulse)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs opus libcrypto libpulse)"]
    }
  ]
}
