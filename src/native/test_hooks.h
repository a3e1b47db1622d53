// Test and benchmark aids exported by the addon. None of these is used by the host.
#pragma once
#include <napi.h>

namespace pf {

void register_test_hooks(Napi::Env env, Napi::Object exports);

}  // namespace pf
