#!/usr/bin/env bash
# switchyard's two set-up commands (see README.md), each starting from a fresh Debian 12:
#   bash dev.sh run    install what is missing, build (Release), run `switchyard demo`: the
#                      proxy on 127.0.0.1:8080 in front of simulated upstreams
#   bash dev.sh test   install what is missing, build, run every test (ctest)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(cmake g++ make pkg-config libboost1.81-dev libssl-dev libsimdjson-dev prometheus-cpp-dev
  libyaml-cpp-dev libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev)
TEST_DEPS=(openssl curl prometheus)

install_packages() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_node() {  # Node.js and npm for the end-to-end test with the official openai SDK
  command -v node >/dev/null && command -v npm >/dev/null || install_packages nodejs npm
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build build -j"$(nproc)"
}

case "${1:-}" in
  run)
    install_packages "${BUILD_DEPS[@]}"
    build -DSWITCHYARD_TESTS=OFF
    # Simulated upstreams (edge, self-hosted, two cloud tiers) and the proxy on :8080: a mixed
    # workload through "auto", its cost report, then it serves until Ctrl-C.
    exec build/switchyard demo "${@:2}"
    ;;
  test)
    install_packages "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
    install_node
    build -DSWITCHYARD_TESTS=ON
    ctest --test-dir build --output-on-failure -j"$(nproc)"
    ;;
  *)
    echo "usage: bash dev.sh run|test" >&2
    exit 2
    ;;
esac
