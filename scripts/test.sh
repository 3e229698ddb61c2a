#!/usr/bin/env bash
# Runs the whole test suite twice: on the normal build (scripts/setup.sh
# builds it), then on an AddressSanitizer + UndefinedBehaviorSanitizer build
# of the same tree (configured and built here, into build-asan), so every
# run also checks for leaks, overflows and undefined behaviour.
# SKIP_SANITIZE=1 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ctest --test-dir "$BUILD" --output-on-failure -j2 --timeout 600
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  ASAN="$BUILD-asan"
  cmake -S . -B "$ASAN" -DEVT_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ASAN" -j"$(nproc)" >/dev/null
  # One at a time: sanitizers slow the timing-sensitive integration tests.
  ctest --test-dir "$ASAN" --output-on-failure -j1 --timeout 900
fi
