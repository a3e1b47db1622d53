// Test and benchmark aids, exported by the test-only addon (testing/binding.gyp). None of these is used
// by the host, and the production addon (punktfunk_native) carries none of them.
#pragma once
#include <napi.h>

namespace pf {

void register_test_hooks(Napi::Env env, Napi::Object exports);
// The X11 drawing aids of the damage tests and benchmark (test_hooks_x11.cc).
void register_x11_test_hooks(Napi::Env env, Napi::Object exports);

}  // namespace pf
