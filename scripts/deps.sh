#!/usr/bin/env bash
# Install on Debian 12 what hiper needs (sudo if not root; packages already present are skipped):
#   scripts/deps.sh run    the main job (scripts/run.sh): gcc/make (build-essential, whose libgomp is the
#                          OpenMP runtime), CMake, pkg-config, OpenBLAS, PCRE2, cJSON and utf8proc
#   scripts/deps.sh test   the same plus what only the tests use (scripts/test.sh): clang, its OpenMP
#                          (libomp-dev) and libFuzzer (libclang-rt-dev, for tests/fuzz/run.sh), cmocka,
#                          Open MPI, python3 with PyTorch 1.13 and NumPy, Node.js and npm, the JavaScript
#                          tokenizer references (npm ci in tests/ref), and Chromium (report.html loaded
#                          in a headless browser)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  run|test) what=$1 ;;
  *) echo "usage: scripts/deps.sh run|test" >&2; exit 2 ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PKGS=(build-essential cmake pkg-config libopenblas-dev libpcre2-dev libcjson-dev libutf8proc-dev)
if [ "$what" = test ]; then
  PKGS+=(clang libclang-rt-dev libomp-dev libcmocka-dev libopenmpi-dev openmpi-bin python3 python3-torch
         python3-numpy nodejs npm chromium)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # node may come from elsewhere than Debian's package; only ask apt for it if there is none at all
  if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  fi
  read -r -a missing <<< "${missing[*]}"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps ($what): installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# JavaScript references used by the tests only (installed from the lock file, nothing at run time).
if [ "$what" = test ] && [ -f tests/ref/package.json ] && [ ! -d tests/ref/node_modules ]; then
  (cd tests/ref && npm ci --no-audit --no-fund --loglevel=error)
fi
