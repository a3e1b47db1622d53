// Test and benchmark aids, exported by the test-only addon (testing/binding.gyp). None of these is used
// by the host, and the production addon (punktfunk_native) carries none of them.
#pragma once
#include <napi.h>

namespace pf {

void register_test_hooks(Napi::Env env, Napi::Object exports);
// The X11 drawing aids of the damage tests and benchmark (test_hooks_x11.cc).
void register_x11_test_hooks(Napi::Env env, Napi::Object exports);
// Known answers of the wire codes the production modules carry (fec_hooks.cc, audio_hooks.cc,
// media_hooks.cc, gamestream_hooks.cc).
void register_fec_hooks(Napi::Env env, Napi::Object exports);
void register_audio_hooks(Napi::Env env, Napi::Object exports);
void register_media_hooks(Napi::Env env, Napi::Object exports);
namespace gs {
void register_gamestream_hooks(Napi::Env env, Napi::Object exports);
}

}  // namespace pf
