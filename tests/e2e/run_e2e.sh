#!/usr/bin/env bash
# End-to-end test: the official `openai` npm SDK against a real switchyard proxy in front
# of the mock upstream, all on loopback with ephemeral ports.
#   usage: bash tests/e2e/run_e2e.sh BUILD_DIR   (BUILD_DIR holds switchyard, switchyard-mock)
# Exit codes: 0 passed; 77 skipped (no Node.js >= 18 or no node_modules: run `npm ci` in
# tests/e2e, as `bash dev.sh test` does); anything else failed. Every process it starts is
# stopped and its temporary directory removed on every path.
set -euo pipefail

readonly SKIP=77
readonly STARTUP_TIMEOUT_S=10   # mock / proxy print their listening line, /readyz answers
readonly SHUTDOWN_TIMEOUT_S=15  # SIGTERM -> proxy exit (it drains first)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="${1:?usage: run_e2e.sh BUILD_DIR}"
build_dir="$(cd "$build_dir" && pwd)"
proxy_bin="$build_dir/switchyard"
mock_bin="$build_dir/switchyard-mock"

log() { echo "e2e: $*" >&2; }

# ---- preconditions: what is missing and not ours to build is a skip, not a failure ----
if ! command -v node >/dev/null 2>&1; then
  log "SKIP: node is not installed (apt-get install nodejs npm; then npm ci in tests/e2e)"
  exit $SKIP
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 18)); then
  log "SKIP: Node.js $(node --version) is too old; the test needs Node.js >= 18"
  exit $SKIP
fi
if [[ ! -f "$here/node_modules/openai/package.json" ]]; then
  log "SKIP: $here/node_modules is missing: run 'npm ci' in tests/e2e (bash dev.sh test does)"
  exit $SKIP
fi
if ! command -v curl >/dev/null 2>&1; then
  log "SKIP: curl is not installed (it polls /readyz)"
  exit $SKIP
fi
for bin in "$proxy_bin" "$mock_bin"; do  # built by the default target: a missing one is a failure
  if [[ ! -x "$bin" ]]; then
    log "FAIL: $bin is not built (cmake --build $build_dir --target switchyard switchyard-mock)"
    exit 1
  fi
done

# ---- cleanup on every path ----
work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-e2e.XXXXXX")"
mock_pid=""
proxy_pid=""
node_pid=""
show_logs=0

# stop NAME PID TIMEOUT_S: SIGTERM, then SIGKILL if it is still there after TIMEOUT_S;
# returns the process's exit status. Bash reaps its children as they exit, so
# kill -0 fails once the process is gone and `wait` returns its saved status.
stop() {
  local name="$1" pid="$2" timeout="$3" rc=0
  local deadline=$((SECONDS + timeout))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name still running ${timeout}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n "$node_pid" ]] && { stop node "$node_pid" 5 || true; }
  [[ -n "$proxy_pid" ]] && { stop switchyard "$proxy_pid" 5 || true; }
  [[ -n "$mock_pid" ]] && { stop switchyard-mock "$mock_pid" 5 || true; }
  if ((rc != 0 && rc != SKIP)) || ((show_logs)); then
    for f in mock.out proxy.err access.log; do
      [[ -s "$work/$f" ]] || continue
      echo "---- $f (last 40 lines) ----" >&2
      tail -n 40 "$work/$f" >&2
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE SED_EXPR PID WHAT (shared with the other test scripts)
source "$(dirname "${BASH_SOURCE[0]}")/../process_helpers.sh"

# ---- mock upstream ----
"$mock_bin" --address 127.0.0.1 --port 0 --threads 2 >"$work/mock.out" 2>&1 &
mock_pid=$!
mock_port="$(wait_for_line "$work/mock.out" \
  's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$mock_pid" switchyard-mock)"
log "mock upstream on 127.0.0.1:$mock_port"

# ---- proxy ----
cat >"$work/e2e.yaml" <<YAML
# Written by tests/e2e/run_e2e.sh: config/examples/local.yaml's shape, one mock upstream.
listen:
  address: 127.0.0.1
  port: 0

upstreams:
  - name: mock
    base_url: http://127.0.0.1:${mock_port}/v1
    timeouts: { connect: 1s, first_byte: 10s, idle: 10s, total: 30s }

# Tiered models are routing candidates for the profiles below; openai_sdk.test.mjs relies
# on llama3.2-3b being the free tier-1 model without tools, gpt-4o-mini the cheapest with
# tools, and gpt-4o the only tier-3 model. The embedding model has no tier: by name only.
models:
  - name: gpt-4o-mini
    upstream: mock
    tier: 2
    prices: { input: 0.15, cached_input: 0.075, output: 0.60 }
    supports: { tools: true, vision: true, json_schema: true }
  - name: gpt-4o
    upstream: mock
    tier: 3
    prices: { input: 2.50, cached_input: 1.25, output: 10.00 }
    supports: { tools: true, vision: true, json_schema: true }
  - name: llama3.2-3b
    upstream: mock
    upstream_model: llama3.2:3b
    tier: 1
    kind: edge
    max_output_tokens: 2048
    prices: { input: 0, output: 0 }
    supports: { tools: false }
  - name: text-embedding-3-small
    upstream: mock
    prices: { input: 0.02 }

profiles:
  - name: auto                # defaults: thresholds [0.45, 0.75], every kind
  - name: auto-cheap
    thresholds: [0.7, 0.9]

# The SDK's key (tenant "main", no budget) and a key whose tenant's budget is too small for
# any request: openai_sdk.test.mjs checks the 401 and 429 shapes the SDK sees.
accounting:
  ledger: ${work}/ledger.db
  flush_interval: 200ms
keys:
  - { id: e2e, tenant: main, key_env: E2E_CLIENT_KEY }
  - { id: tight, tenant: tight, key_env: E2E_TIGHT_KEY }
budgets:
  - { tenant: tight, period: day, limit_usd: 0.000001 }
YAML
export E2E_CLIENT_KEY="sk-e2e-client-3b9f" E2E_TIGHT_KEY="sk-e2e-tight-77c1"

"$proxy_bin" serve --config "$work/e2e.yaml" --threads 2 --access-log "$work/access.log" \
  2>"$work/proxy.err" >/dev/null &
proxy_pid=$!
proxy_addr="$(wait_for_line "$work/proxy.err" \
  's|^switchyard listening on http://\([^ ]*:[0-9][0-9]*\).*|\1|p' "$proxy_pid" switchyard)"
log "proxy on http://$proxy_addr"

deadline=$((SECONDS + STARTUP_TIMEOUT_S))
until curl -fsS --max-time 2 -o /dev/null "http://$proxy_addr/readyz" 2>/dev/null; do
  if ! kill -0 "$proxy_pid" 2>/dev/null; then log "FAIL: switchyard exited"; exit 1; fi
  if ((SECONDS >= deadline)); then
    log "FAIL: GET /readyz did not answer 200 within ${STARTUP_TIMEOUT_S}s"
    exit 1
  fi
  sleep 0.05
done

# ---- the SDK tests ----
# In the background so a signal to this script runs its trap at once (bash defers traps
# while a foreground child runs, but `wait` returns early).
(cd "$here" && OPENAI_BASE_URL="http://$proxy_addr/v1" OPENAI_API_KEY="$E2E_CLIENT_KEY" \
  E2E_TIGHT_KEY="$E2E_TIGHT_KEY" exec node --test openai_sdk.test.mjs) &
node_pid=$!
test_rc=0
wait "$node_pid" || test_rc=$?
node_pid=""
if ((test_rc != 0)); then
  log "FAIL: node --test exited $test_rc"
  show_logs=1
fi

# ---- graceful shutdown: SIGTERM -> drain -> exit 0 ----
proxy_rc=0
stop switchyard "$proxy_pid" "$SHUTDOWN_TIMEOUT_S" || proxy_rc=$?
proxy_pid=""
if ((proxy_rc != 0)); then
  log "FAIL: switchyard exited $proxy_rc after SIGTERM (expected 0)"
  show_logs=1
else
  log "switchyard exited 0 after SIGTERM"
fi

if ((test_rc != 0 || proxy_rc != 0)); then exit 1; fi
log "PASS"
