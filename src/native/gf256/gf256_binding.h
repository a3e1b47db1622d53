// The one N-API hook every module that links gf256 exports (as `fecKernel`): each .node file has
// its own copy of the tables and of the kernel choice, so tests and the bench pick the kernel per
// module. fecKernel() → { kernel, kernels } (the one in use, and those this CPU has);
// fecKernel(name) switches to it first, and throws a RangeError naming the choices when the name
// is unknown or this CPU lacks it.
#pragma once
#include <napi.h>

#include <string>

#include "gf256/gf256.h"

namespace pf::gf256 {
inline Napi::Value FecKernelHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  init();
  Napi::Array kernels = Napi::Array::New(env);
  std::string list;
  for (int i = 0; i < kKernels; i++) {
    const Kernel k = static_cast<Kernel>(i);
    if (!supported(k)) continue;
    kernels.Set(kernels.Length(), kernel_name(k));
    list += (list.empty() ? "" : ", ") + std::string(kernel_name(k));
  }
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "fecKernel(name?: string)");
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    if (!set_kernel_by_name(name.c_str()))
      throw Napi::RangeError::New(env, "unknown or unsupported FEC kernel \"" + name + "\" (this CPU has: " + list + ")");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", kernel_name(kernel()));
  o.Set("kernels", kernels);
  return o;
}
}  // namespace pf::gf256
