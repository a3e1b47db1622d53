#!/usr/bin/env bash
# Sets everything up and runs the host on its embedded defaults (synthetic capture, software
# encoder) with the bundled client streaming to it over loopback (`--demo`). Extra arguments
# are host flags, e.g. `bash scripts/run.sh --port 47990 --perf`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/main.js --demo "$@"
