# Input injection for the GameStream path (module `punktfunk_input`): Moonlight's mouse and
# keyboard replayed on the captured X display through the XTEST extension. Its own module so
# only it links libXtst (Debian's libxtst-dev, found through pkg-config). Built by
# `npm run build:native`.
{
  "targets": [
    {
      "target_name": "punktfunk_input",
      "sources": ["x11_injector.cc", "input_binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags x11 xtst)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs x11 xtst)", "-lpthread"]
    }
  ]
}
