#!/usr/bin/env bash
# switchyard's two set-up commands (see README.md), each starting from a fresh Debian 12:
#   bash dev.sh run    install what is missing, build (Release), run the proxy in front of
#                      local mock upstreams with config/examples/local.yaml
#   bash dev.sh test   install what is missing, build, run every test (ctest)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(cmake g++ make pkg-config libboost1.81-dev libssl-dev libsimdjson-dev prometheus-cpp-dev
  libyaml-cpp-dev libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev)
TEST_DEPS=(openssl curl)

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
    trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
    build/switchyard-mock --port 9101 >/dev/null &
    build/switchyard-mock --port 9102 --ttfb-ms 20 --gap-ms 10 >/dev/null &
    cat >&2 <<'TXT'

Try it (Ctrl-C stops):
  curl -s localhost:8080/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
  curl -sN localhost:8080/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model":"llama3.2-3b","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
  curl -s localhost:8080/v1/models
  curl -s localhost:8080/metrics | grep switchyard_
  export OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=unused   # for any OpenAI SDK

TXT
    build/switchyard serve --config config/examples/local.yaml
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
