// The test-only addon (punktfunk_native_test): X11 drawing and grabbing, pattern files, the
// encoder run back to back, the cost of measuring, the colour converter on its own, and the known
// answers of the wire codes every production module carries (FEC, packetizing, sealing, Opus)
// with the media sender and decoder driven from JavaScript. Tests and benchmarks load it through
// src/native/testHooks.ts; the host never does.
//
// Why a module of its own rather than more exports of punktfunk_native: the production addon
// should carry no entry point a host does not use (each is code an attacker with a foothold in
// the process could call, and a name an operator reads in the addon's exports), and the packed
// package neither ships nor builds this directory (package.json "files", like bare/).
#include <napi.h>

#include "testing/test_hooks.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pf::register_test_hooks(env, exports);
  pf::register_fec_hooks(env, exports);
  pf::register_audio_hooks(env, exports);
  pf::register_media_hooks(env, exports);
  pf::gs::register_gamestream_hooks(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(punktfunk_native_test, Init)
