#!/usr/bin/env bash
# Builds every native addon: each directory under src/native with a binding.gyp is one module
# (the frame loop, the punktfunk/1 media plane, and the GameStream modules beside them). Why
# several small modules rather than one: each links only what it needs (libenet, libopus), and
# a module is added by adding its directory, with no shared list to edit.
set -euo pipefail
cd "$(dirname "$0")/.."
for gyp in $(find src/native -name binding.gyp -not -path '*/build/*' -not -path '*/node_modules/*' | sort); do
  dir=$(dirname "$gyp")
  echo "== node-gyp $dir"
  npx --no-install node-gyp rebuild --nodedir=/usr --directory="$dir"
done
