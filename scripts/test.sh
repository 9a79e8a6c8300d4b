#!/usr/bin/env bash
# The whole test suite, as CI runs it: install the build and test dependencies (scripts/deps.sh test),
# build with gcc and run every test, build with clang (warnings are fatal), then run the suite again
# under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

echo "== gcc release build + tests"
BUILD_DIR=build scripts/build.sh
ctest --test-dir build --output-on-failure -j2

echo "== clang build (warnings fatal)"
BUILD_DIR=build-clang scripts/build.sh -DCMAKE_C_COMPILER=clang

echo "== sanitizer build (ASan + UBSan) + tests"
BUILD_DIR=build-san BUILD_TYPE=Debug scripts/build.sh -DHP_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-san --output-on-failure -j2 -LE slow
