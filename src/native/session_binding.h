// The JavaScript class `NativeSession`: opens a frame loop, delivers its windows to a callback
// through a thread-safe function, and closes (stop + join + free) on `close()`, on garbage
// collection, or when the Node environment shuts down.
#pragma once
#include <napi.h>

namespace pf {

Napi::Function define_native_session(Napi::Env env);

}  // namespace pf
