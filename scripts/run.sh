#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what it needs at run time (scripts/deps.sh run: no
# test-only package), build, and train the default small model on the built-in ALFWorld with HiPER
# (extra arguments go to `hiper train`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run
BUILD_DIR=build scripts/build.sh
exec build/hiper train "$@"
