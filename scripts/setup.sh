#!/usr/bin/env bash
# Installs everything punktfunk needs on Debian 12 with Node 20 and builds it (addon included).
# Safe to run again: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ make python3 pkg-config
  libavcodec-dev libavutil-dev libswscale-dev libavformat-dev ffmpeg
  libx11-dev libxext-dev libxtst-dev libxdamage-dev xvfb x11-xserver-utils libssl-dev
  libenet-dev libopus-dev libpulse-dev pulseaudio pulseaudio-utils prometheus
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "punktfunk needs Node 20.19 or newer (found $(node --version))" >&2
  exit 1
fi

echo "== npm ci"
npm ci --no-audit --no-fund
echo "== build (native addon, TypeScript, web console)"
npm run build
