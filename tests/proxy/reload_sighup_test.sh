#!/usr/bin/env bash
# SIGHUP on the real binary: a valid file is swapped in (its models listed at once), a bad one
# is rejected with every problem logged while the old config keeps serving, and a changed
# listen port is reported as needing a restart. Usage: reload_sighup_test.sh BUILD_DIR
set -euo pipefail
BIN="$1/switchyard"
STARTUP_TIMEOUT_S=20
log() { echo "reload_sighup_test: $*" >&2; }
source "$(dirname "$0")/../process_helpers.sh"
command -v curl >/dev/null || { log "SKIP: curl is not installed"; exit 77; }

work="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

write_config() {  # write_config PORT MODEL...
  local port="$1"
  shift
  {
    printf 'listen:\n  address: 127.0.0.1\n  port: %s\n  threads: 2\n' "$port"
    printf 'accounting:\n  ledger: off\n'
    printf 'upstreams:\n  - name: local\n    base_url: http://127.0.0.1:9/v1\n'
    printf 'models:\n'
    for m in "$@"; do printf '  - name: %s\n    upstream: local\n' "$m"; done
  } >"$work/next.yaml"
  mv "$work/next.yaml" "$work/switchyard.yaml"  # as editors and config managers do: whole
}

models() { curl -sf "http://127.0.0.1:$port/v1/models"; }
# Sends SIGHUP and waits for the log line that says how it ended.
hangup() {
  local before
  before="$(grep -c -e 'config reloaded' -e 'reload rejected' -e 'reload failed' "$work/err" || true)"
  kill -HUP "$pid"
  for _ in $(seq 200); do
    local now
    now="$(grep -c -e 'config reloaded' -e 'reload rejected' -e 'reload failed' "$work/err" || true)"
    ((now > before)) && return 0
    sleep 0.05
  done
  log "FAIL: no reload outcome logged after SIGHUP"
  cat "$work/err" >&2
  exit 1
}

write_config 0 alpha
"$BIN" serve -c "$work/switchyard.yaml" --access-log off 2>"$work/err" &
pid=$!
port="$(wait_for_line "$work/err" 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$pid" switchyard)"
models | grep -q '"id":"alpha"' || { log "FAIL: alpha not served at start"; exit 1; }

# A valid file: the new model is listed, the removed one is gone.
write_config 0 alpha beta
hangup
models | grep -q '"id":"beta"' || { log "FAIL: beta not served after a reload"; exit 1; }

# A bad file: every problem is logged and the previous config keeps serving.
cat >"$work/switchyard.yaml" <<'EOF'
upstreams:
  - name: local
    base_url: ftp://nowhere
models:
  - name: gamma
    upstream: missing
EOF
hangup
grep -q 'reload rejected, still serving the previous config' "$work/err" || { log "FAIL: no rejection logged"; exit 1; }
grep -q 'base_url' "$work/err" || { log "FAIL: the base_url problem is not logged"; cat "$work/err" >&2; exit 1; }
grep -q 'missing' "$work/err" || { log "FAIL: the unknown upstream is not logged"; cat "$work/err" >&2; exit 1; }
models | grep -q '"id":"beta"' || { log "FAIL: the previous config stopped serving"; exit 1; }
models | grep -q '"id":"gamma"' && { log "FAIL: a rejected config was applied"; exit 1; }

# A new listen port needs a restart: said, and the proxy stays where it is.
write_config 1 alpha
hangup
grep -q 'take effect at the next restart' "$work/err" || { log "FAIL: no restart warning"; exit 1; }
models | grep -q '"id":"beta"' && { log "FAIL: beta still listed after a reload removed it"; exit 1; }

kill -TERM "$pid"
wait "$pid" || { log "FAIL: switchyard exited with an error"; exit 1; }
pid=""
log "ok"
