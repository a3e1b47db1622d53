// Registers the GameStream video exports of the main addon (the `GameStreamVideoPort` class and
// the known-answer hooks; see gs_video_binding.cc).
#pragma once
#include <napi.h>

namespace pf::gs {

void register_gamestream_video(Napi::Env env, Napi::Object exports);

}  // namespace pf::gs
