#!/usr/bin/env bash
# Runs the whole test suite on a built tree (scripts/setup.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ctest --test-dir "$BUILD" --output-on-failure -j2 --timeout 600
