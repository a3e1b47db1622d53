#!/usr/bin/env bash
# Builds every native addon with AddressSanitizer and UndefinedBehaviorSanitizer, for
# `npm run test:asan` (scripts/test-asan.sh). The normal build is left alone: the sources of
# src/native are copied to build/asan/native (same layout, so each binding.gyp and its relative
# paths work unchanged) and node-gyp builds there. PUNKTFUNK_NATIVE_BUILD_DIR=build/asan/native
# then makes the TypeScript loaders (src/native/addonPath.ts) pick these modules up.
#
# Why the flags go in through CFLAGS/CXXFLAGS/LDFLAGS rather than a variable in each binding.gyp:
# gyp's make generator appends them after each target's own cflags, so -O1 overrides the -O2
# there and every addon gets them without a line in its binding.gyp (several engineers edit
# those files). The flags:
#   -fsanitize=address,undefined   out-of-bounds, use-after-free, double free; signed overflow,
#                                  misaligned or null access, bad shifts, out-of-range casts
#   -fno-sanitize-recover=all      an undefined-behaviour report aborts the process like an ASan
#                                  one, so a report cannot scroll by in a passing run
#   -fno-omit-frame-pointer -g -O1 readable stacks with file:line in a report
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/asan/native
mkdir -p "$out"
# A fresh copy each time (build output excluded), so a file deleted from src/native does not
# linger in the copy; tar keeps the files' times.
find "$out" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
tar -C src/native --exclude=build --exclude='*.ts' -cf - . | tar -C "$out" -xf -

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
export CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined"
for gyp in $(find "$out" -name binding.gyp -not -path '*/build/*' | sort); do
  dir=$(dirname "$gyp")
  echo "== node-gyp (asan) $dir"
  npx --no-install node-gyp rebuild --nodedir=/usr --directory="$dir" >"$dir/node-gyp.log" 2>&1 || {
    cat "$dir/node-gyp.log"
    exit 1
  }
done
echo "built with ASan+UBSan into $out"
