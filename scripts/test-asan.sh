#!/usr/bin/env bash
# `npm run test:asan`: the C++ receive paths under AddressSanitizer and UBSan.
#   1. builds every addon with -fsanitize=address,undefined into build/asan/native
#      (scripts/build-native-asan.sh; the normal build in src/native is not touched);
#   2. compiles the TypeScript (tests that spawn a host run dist/, and it must find the same
#      instrumented modules through PUNKTFUNK_NATIVE_BUILD_DIR);
#   3. runs the streaming project — the real sessions plus the datagram fuzz driver
#      (test/streaming/native-datagram-fuzz.test.ts) with many iterations — with the sanitizer
#      runtime preloaded;
#   4. fails if any process wrote a sanitizer report, and prints each one.
#
# Extra arguments replace the default selection and go to vitest (e.g. a file name, to run one
# test under ASan: `npm run test:asan -- test/streaming/native-datagram-fuzz.test.ts`).
# PUNKTFUNK_FUZZ_ITERATIONS (default 20000) and PUNKTFUNK_FUZZ_SEED tune the driver.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/build-native-asan.sh || exit 1
npm run --silent build:ts || exit 1

reports="$root/build/asan/reports"
rm -rf "$reports"
mkdir -p "$reports"

# Node itself is not instrumented, so the ASan runtime must be in the process before anything
# else (an instrumented .node loaded later cannot bring it: ASan has to intercept malloc from
# the first allocation). libubsan is a dependency of each instrumented addon and loads with it.
# Hosts the tests spawn (Node) inherit it too; other programs do not (NODE_OPTIONS below).
preload="$(gcc -print-file-name=libasan.so)"
# detect_leaks=0: LeakSanitizer would report what V8, libuv and the uninstrumented libraries keep
#   until exit (isolates, code space, OpenSSL tables) — none of it ours, and a process that exits
#   with reachable memory is not a receive-path bug. Use-after-free, overflows and double frees
#   are still reported.
# halt_on_error=1, abort_on_error=1: the first report stops the process (a test fails with it)
#   rather than continuing in a corrupted state.
# log_path: every report also goes to a file named by the process id, so a report from a child
#   process (a spawned host) cannot hide in output nobody reads; the check below reads them.
# allocator_may_return_null=1: libavcodec and V8 probe with huge allocations and handle failure.
# handle_abort=1: UBSan (beside ASan, gcc 12) prints its "runtime error" line to stderr only and
#   ignores log_path; it then aborts (abort_on_error), and this makes ASan write that abort, with
#   the stack through __ubsan_handle_<kind> to the offending line, into the report files too.
# handle_segv=1 (default): a crash prints a stack instead of a bare signal.
asan_options() {
  echo "detect_leaks=0:halt_on_error=1:abort_on_error=1:handle_abort=1:allocator_may_return_null=1:log_path=$1/asan"
}
ubsan_options() {
  echo "halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$1/ubsan"
}

# The positive control: one heap overflow and one signed overflow, each in a module built with
# these flags and called in a process set up as below, must each leave its report. If not, the
# preload or the report path is broken and a clean run below would prove nothing.
selfcheck="$root/build/asan/selfcheck"
rm -rf "$selfcheck"
mkdir -p "$selfcheck"
gcc -shared -fPIC -fsanitize=address,undefined -fno-sanitize=object-size -fno-sanitize-recover=all -g -O1 \
  -I/usr/include/node scripts/asan-selfcheck.c -o "$selfcheck/selfcheck.node" || exit 1
for bug in "overflow:heap-buffer-overflow" "signedOverflow:__ubsan_handle_add_overflow"; do
  fn=${bug%%:*}
  want=${bug#*:}
  dir="$selfcheck/$fn"
  mkdir -p "$dir"
  # In a subshell whose stderr is discarded: the deliberate report and bash's "Aborted" notice.
  (LD_PRELOAD="$preload" ASAN_OPTIONS="$(asan_options "$dir")" UBSAN_OPTIONS="$(ubsan_options "$dir")" \
    node -e "require('$selfcheck/selfcheck.node').$fn()") 2>/dev/null && {
    echo "test:asan self-check: a deliberate $want did not stop the process"
    exit 1
  }
  grep -qs "$want" "$dir"/* || {
    echo "test:asan self-check: a deliberate $want left no report in $dir"
    exit 1
  }
done
echo "== self-check: a deliberate heap overflow and a signed overflow were both reported"

export ASAN_OPTIONS="$(asan_options "$reports")"
export UBSAN_OPTIONS="$(ubsan_options "$reports")"
export PUNKTFUNK_NATIVE_BUILD_DIR="$root/build/asan/native"
# Tells the one test with a frame-rate floor (punktfunk1-e2e) that the pipeline runs instrumented.
export PUNKTFUNK_SANITIZED=1
export PUNKTFUNK_FUZZ_ITERATIONS="${PUNKTFUNK_FUZZ_ITERATIONS:-20000}"
# Only Node processes keep the preload; other programs the tests start run without it
# (scripts/asan-child-env.cjs says why). vitest is started with node directly, not through npx,
# whose shell would lose the preload before vitest starts.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $root/scripts/asan-child-env.cjs"

status=0
vitest() { LD_PRELOAD="$preload" node node_modules/vitest/vitest.mjs run "$@"; }
if [ $# -gt 0 ]; then
  vitest "$@" || status=1
else
  vitest --project streaming || status=1
  # The tests outside the streaming project that drive the ENet host, the GameStream video and
  # input modules natively: the ENet peer handling, floods and limits, replayed control messages.
  vitest --project gamestream test/gamestream/control-enet.test.ts test/gamestream/control-replay.test.ts \
    test/gamestream/video-encryption.test.ts test/gamestream/input-x11.test.ts || status=1
  vitest --project faults test/faults/gamestream-enet-limits.test.ts test/faults/gamestream-replay.test.ts || status=1
  # The FEC known answers under every GF(2^8) kernel this CPU has (src/native/gf256): the SIMD
  # kernels read and write whole vectors and step back for a shard's last partial one, at every
  # length from 1 to 300 bytes here.
  vitest test/fec-known-answers.test.ts test/gamestream/video-known-answers.test.ts \
    test/gamestream/audio-known-answers.test.ts || status=1
fi

shopt -s nullglob
found=("$reports"/*)
if [ ${#found[@]} -gt 0 ]; then
  echo
  echo "== ${#found[@]} sanitizer report(s) in $reports:"
  for f in "${found[@]}"; do
    echo "---- $f"
    cat "$f"
  done
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "== no sanitizer report, but tests failed (see above)"
  exit 1
fi
echo "== test:asan: no sanitizer report; the datagram driver ran ${PUNKTFUNK_FUZZ_ITERATIONS} iterations per path"
