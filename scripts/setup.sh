#!/usr/bin/env bash
# Installs what evtrace needs from Debian's packages (skipping what is
# there), then configures and builds into ./build (or $1).
# Run as root on a fresh Debian bookworm; nothing else is assumed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

PKGS=(
  build-essential cmake pkg-config         # compiler and build
  libev-dev                                # the event loop we trace
  libdeflate-dev                           # CRC-32 of the trace format
  zlib1g-dev                               # tests check CRCs with zlib's crc32, independently
  libhttp-parser-dev libjansson-dev        # HTTP parser, JSON
  libsqlite3-dev                           # crud_api sample
  libcmocka-dev valgrind                   # tests
  python3-gevent                           # a gevent program under record (test_record)
  libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev
  libfontconfig-dev fonts-dejavu-core      # viewer text: DejaVu via fontconfig
  xvfb xauth                               # the viewer's window test
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
