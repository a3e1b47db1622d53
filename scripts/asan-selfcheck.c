// The positive control of `npm run test:asan` (scripts/test-asan.sh): a tiny N-API module, built
// with the addons' sanitizer flags, with one bug of each kind the run is meant to catch. The
// script calls each in a Node process set up exactly as the suite's and insists that the process
// dies and leaves the matching report where the script looks for reports. Without this, a
// broken preload or report path would turn every run green.
#include <limits.h>
#include <node_api.h>
#include <stdlib.h>

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// One byte past a heap block: AddressSanitizer's heap-buffer-overflow. (The module is built
// without UBSan's object-size check, which would otherwise see this first.)
static napi_value overflow(napi_env env, napi_callback_info info) {
  (void)info;
  volatile char* block = malloc(8);
  block[8] = 1;
  free((void*)block);
  return undefined_value(env);
}

// INT_MAX + 1: UBSan's signed integer overflow.
static napi_value signed_overflow(napi_env env, napi_callback_info info) {
  (void)info;
  volatile int x = INT_MAX;
  volatile int y = x + 1;
  (void)y;
  return undefined_value(env);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "overflow", NAPI_AUTO_LENGTH, overflow, NULL, &fn);
  napi_set_named_property(env, exports, "overflow", fn);
  napi_create_function(env, "signedOverflow", NAPI_AUTO_LENGTH, signed_overflow, NULL, &fn);
  napi_set_named_property(env, exports, "signedOverflow", fn);
  return exports;
}
