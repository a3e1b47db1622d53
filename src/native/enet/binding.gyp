# The ENet host of the GameStream control stream (UDP 47999), as its own module so only it links
# libenet (Debian's libenet-dev, found through pkg-config). Built by `npm run build:native`.
{
  "targets": [
    {
      "target_name": "punktfunk_enet",
      "sources": ["enet_service.cc", "enet_binding.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "<!@(pkg-config --cflags libenet)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libenet)"]
    }
  ]
}
