#!/usr/bin/env bash
# Builds every native addon with AddressSanitizer and UndefinedBehaviorSanitizer, for
# `npm run test:asan` (scripts/test-asan.sh). The normal build is left alone: the sources of
# src/native are copied to build/asan/native (same layout, so each binding.gyp and its relative
# paths work unchanged) and node-gyp builds there. PUNKTFUNK_NATIVE_BUILD_DIR=build/asan/native
# then makes the TypeScript loader (src/native/addonLoader.ts, via addonPath.ts) pick these modules up.
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
# The sources are copied afresh each time (a file deleted from src/native must not linger), but
# the copies' build/ directories stay: tar keeps each file's time, so make recompiles only what
# changed since the last sanitizer build (a full one takes minutes on a busy 2-core machine).
find "$out" -path '*/build' -prune -o -type f -print0 | xargs -0 -r rm -f
tar -C src/native --exclude=build --exclude='*.ts' -cf - . | tar -C "$out" -xf -

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
export CFLAGS="$san" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined"
for gyp in $(cd "$out" && find . -name binding.gyp -not -path '*/build/*' | sort); do
  dir=$(realpath -m --relative-to=. "$out/$(dirname "$gyp")")
  # Configure again when the flags or the binding.gyp changed (or nothing was built yet).
  stamp="$dir/build/asan-flags"
  if [ -f "$dir/build/Makefile" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$san" ] && [ "$dir/build/Makefile" -nt "$dir/binding.gyp" ]; then
    step=build
  else
    step=rebuild
  fi
  echo "== node-gyp $step (asan) $dir"
  npx --no-install node-gyp $step --nodedir=/usr --directory="$dir" >"$dir/node-gyp.log" 2>&1 || {
    cat "$dir/node-gyp.log"
    exit 1
  }
  echo "$san" >"$stamp"
done
echo "built with ASan+UBSan into $out"
