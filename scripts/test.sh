#!/usr/bin/env bash
# Sets everything up and runs every test: host core, native streaming, web console (unit and
# end to end in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== tests"
npm test
