#!/usr/bin/env bash
# Upstream keys, client keys and the admin key never appear in what switchyard writes or
# answers, even on error paths: a run that exercises every error, then a grep of all of it.
#   usage: bash tests/security/run_secret_grep_test.sh BUILD_DIR   (BUILD_DIR holds switchyard
#          and switchyard-mock)
# Secrets: random per run, from the environment (api_key_env per upstream, key_env per client
# key, admin_key_env), plus a wrong client key and a wrong admin key that clients present.
# The run (tests/security/switchyard.yaml: two mocks, a dead upstream, keys, budgets, ledger):
# successes of every API (chat, streams, completions, embeddings, models, route explain,
# spend); no key, wrong key (Bearer and api-key), wrong admin key; malformed JSON, no model,
# unknown model, unknown URL (with a key in its query), wrong method, body and headers too
# large, a malformed HTTP request; a budget exceeded; upstream 500, 401 and 429; upstream
# resets before and mid answer, stalls before and mid stream (timeouts), malformed and
# truncated answers, usage missing; connection refused; `auto` failing on every candidate; a
# SIGHUP reload of a bad config; `check-config` and `serve` on bad configs that reference the
# secret variables. Every answer's status is checked.
# Grepped, for each secret: the value, the first 12 and last 8 characters of its random part,
# its base64 and that of "Bearer <key>" (without their last 4 characters, which depend on
# what follows), in: the proxy's stdout and stderr, the access log, every /metrics scrape,
# every response's headers and body, the ledger file with its -wal and -shm (copied while the
# proxy runs, and after it stopped), `switchyard spend --json` by every grouping and
# GET /v1/spend, and the outputs of check-config / serve / reload on the bad configs.
# Positive controls: the mocks' recorded requests (switchyard-mock --dump-requests) hold each
# upstream's key, and the same grep finds it there; no client key reached an upstream; the
# ledger has a row per API request; the access log a line per request.
# Exit codes: 0 passed; 77 skipped (no curl or jq); 1 failed. Every process it starts is
# stopped and its temporary directory removed on every path (SECRET_TEST_KEEP=1 keeps it).
set -euo pipefail

readonly SKIP=77
readonly STARTUP_TIMEOUT_S=15

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="${1:?usage: run_secret_grep_test.sh BUILD_DIR}"
build_dir="$(cd "$build_dir" && pwd)"
proxy_bin="$build_dir/switchyard"
mock_bin="$build_dir/switchyard-mock"

log() { echo "secret-grep: $*" >&2; }

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if ((${#missing[@]})); then
  log "SKIP: not installed: ${missing[*]}"
  exit $SKIP
fi
for bin in "$proxy_bin" "$mock_bin"; do
  if [[ ! -x "$bin" ]]; then
    log "FAIL: $bin is not built (cmake --build $build_dir --target switchyard switchyard-mock)"
    exit 1
  fi
done

# ---- cleanup on every path ----
work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-secrets.XXXXXX")"
out="$work/out"  # everything the proxy wrote or answered: all of it is grepped
mkdir -p "$out"
pids=()  # "name:pid", stopped in reverse order
forget() {  # forget PID: it was stopped already
  local keep=() entry
  for entry in "${pids[@]}"; do [[ "${entry##*:}" == "$1" ]] || keep+=("$entry"); done
  pids=("${keep[@]}")
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  if ((rc != 0 && rc != SKIP)); then
    for f in proxy.err cloud.out faulty.out; do
      [[ -s "$work/$f" ]] || continue
      echo "---- $f (last 20 lines) ----" >&2
      tail -n 20 "$work/$f" >&2
    done
  fi
  if [[ "${SECRET_TEST_KEEP:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE SED_EXPR PID WHAT (shared with the other test scripts)
source "$here/../process_helpers.sh"

failures=0
fail() { log "FAIL: $*"; failures=$((failures + 1)); }

# ---- the secrets: a role prefix, then 32 random letters g-v (never in hex ids or words) ----
random_part() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | tr '0-9a-f' 'g-v'; }
declare -A secret=(
  [SECRET_TEST_UPSTREAM_KEY_CLOUD]="sk-up-cloud-$(random_part)"
  [SECRET_TEST_UPSTREAM_KEY_LIMITED]="sk-up-limited-$(random_part)"
  [SECRET_TEST_UPSTREAM_KEY_FAULTY]="sk-up-faulty-$(random_part)"
  [SECRET_TEST_UPSTREAM_KEY_DOWN]="sk-up-down-$(random_part)"
  [SECRET_TEST_CLIENT_KEY_WEB]="sk-client-web-$(random_part)"
  [SECRET_TEST_CLIENT_KEY_BATCH]="sk-client-batch-$(random_part)"
  [SECRET_TEST_CLIENT_KEY_TINY]="sk-client-tiny-$(random_part)"
  [SECRET_TEST_ADMIN_KEY]="sk-admin-$(random_part)"
  [wrong_client_key]="sk-wrong-client-$(random_part)"
  [wrong_admin_key]="sk-wrong-admin-$(random_part)"
)
for name in "${!secret[@]}"; do
  [[ "$name" == SECRET_TEST_* ]] && export "$name=${secret[$name]}"
done
web="${secret[SECRET_TEST_CLIENT_KEY_WEB]}"
batch="${secret[SECRET_TEST_CLIENT_KEY_BATCH]}"
tiny="${secret[SECRET_TEST_CLIENT_KEY_TINY]}"
admin="${secret[SECRET_TEST_ADMIN_KEY]}"
wrong="${secret[wrong_client_key]}"
wrong_admin="${secret[wrong_admin_key]}"

# The patterns grep looks for, one per line, and which secret each one betrays.
declare -A pattern_of=()  # pattern -> "SECRET_NAME (form)"
b64() { printf '%s' "$1" | base64 -w0 | head -c -4; }
for name in "${!secret[@]}"; do
  value="${secret[$name]}"
  rand="${value##*-}"
  pattern_of["$value"]="$name (the value)"
  pattern_of["${rand:0:12}"]="$name (first 12 random characters)"
  pattern_of["${rand: -8}"]="$name (last 8 characters)"
  pattern_of["$(b64 "$value")"]="$name (base64)"
  pattern_of["$(b64 "Bearer $value")"]="$name (base64 of 'Bearer <key>')"
done
printf '%s\n' "${!pattern_of[@]}" >"$work/patterns.txt"
# leaks FILE_OR_DIR...: one line per secret pattern found, "file: SECRET (form)".
leaks() {
  grep -raoHF -f "$work/patterns.txt" -- "$@" 2>/dev/null | sort -u |
    while IFS= read -r hit; do
      printf '%s: %s\n' "${hit%%:*}" "${pattern_of[${hit#*:}]:-?}"
    done || true
}

# ---- mock upstreams (recording what they receive); a port nobody listens on ----
start_mock() {  # start_mock NAME: sets mock_port
  "$mock_bin" --address 127.0.0.1 --port 0 --threads 1 --tokens 12 \
    --dump-requests "$work/$1.requests" >"$work/$1.out" 2>&1 &
  local pid=$!
  pids+=("$1:$pid")
  mock_port="$(wait_for_line "$work/$1.out" \
    's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$pid" "$1")"
}
start_mock cloud
export SECRET_TEST_CLOUD_PORT="$mock_port"
start_mock faulty
export SECRET_TEST_FAULTY_PORT="$mock_port"
"$mock_bin" --address 127.0.0.1 --port 0 >"$work/down.out" 2>&1 &
down_pid=$!
SECRET_TEST_DOWN_PORT="$(wait_for_line "$work/down.out" \
  's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$down_pid" "port finder")"
export SECRET_TEST_DOWN_PORT
stop port-finder "$down_pid"

# ---- the proxy ----
export SECRET_TEST_LEDGER="$work/ledger.db"
cp "$here/switchyard.yaml" "$work/switchyard.yaml"  # SIGHUP reloads this path
"$proxy_bin" serve --config "$work/switchyard.yaml" --threads 2 --access-log "$out/access.log" \
  >"$out/proxy.out" 2>"$work/proxy.err" &
proxy_pid=$!
pids+=("switchyard:$proxy_pid")
proxy_addr="$(wait_for_line "$work/proxy.err" \
  's|^switchyard listening on http://\([^ ]*:[0-9][0-9]*\).*|\1|p' "$proxy_pid" switchyard)"
proxy="http://$proxy_addr"
log "proxy on $proxy; mocks on :$SECRET_TEST_CLOUD_PORT (cloud) and :$SECRET_TEST_FAULTY_PORT" \
    "(faulty); :$SECRET_TEST_DOWN_PORT is down"

# ---- the requests ----
requests=0 api_requests=0 unexpected=0 scrapes=0
# call NAME WANT_STATUS LEDGER_ROW CURL_ARGS...: one request; its headers and body are kept.
# LEDGER_ROW is 1 for an API request (chat, completions, embeddings), which the ledger records.
call() {
  local name="$1" want="$2" row="$3" code file
  shift 3
  requests=$((requests + 1))
  api_requests=$((api_requests + row))
  file="$out/response-$(printf '%02d' "$requests")"
  code="$(curl -sS -N --max-time 20 -D "$file.headers" -o "$file.body" -w '%{http_code}' "$@" \
    2>"$file.curl")" || true
  if [[ "$code" == "$want" ]]; then
    printf '  %-58s %s\n' "$name" "$code" >&2
  else
    printf '  %-58s %s, expected %s  <-- FAIL\n' "$name" "$code" "$want" >&2
    unexpected=$((unexpected + 1))
  fi
}
chat() {  # chat NAME WANT KEY BODY [curl args...]: POST /v1/chat/completions with Bearer KEY
  local name="$1" want="$2" key="$3" body="$4"
  shift 4
  call "$name" "$want" 1 "$proxy/v1/chat/completions" -H 'content-type: application/json' \
    -H "authorization: Bearer $key" -d "$body" "$@"
}
scrape() {
  scrapes=$((scrapes + 1))
  curl -sS --max-time 10 "$proxy/metrics" >"$out/metrics-$scrapes.txt" || fail "GET /metrics"
}
msg='"messages":[{"role":"user","content":"Hello there, how are you?"}]'
hard='"messages":[{"role":"user","content":"Prove that the square root of 2 is irrational, then write a Rust function that checks the proof step by step, with tests."}]'
usage='"stream_options":{"include_usage":true}'

log "successes:"
chat "chat gpt-4o-mini" 200 "$web" "{\"model\":\"gpt-4o-mini\",$msg}"
call "chat stream gpt-4o-mini (api-key header)" 200 1 "$proxy/v1/chat/completions" \
  -H 'content-type: application/json' -H "api-key: $batch" \
  -d "{\"model\":\"gpt-4o-mini\",\"stream\":true,$msg}"
chat "chat auto" 200 "$web" "{\"model\":\"auto\",$hard}"
chat "chat auto stream with usage" 200 "$batch" "{\"model\":\"auto\",\"stream\":true,$usage,$msg}"
call "completions" 200 1 "$proxy/v1/completions" -H 'content-type: application/json' \
  -H "authorization: Bearer $web" -d '{"model":"gpt-4o-mini","prompt":"Say hi"}'
call "embeddings (base64)" 200 1 "$proxy/v1/embeddings" -H 'content-type: application/json' \
  -H "authorization: Bearer $web" \
  -d '{"model":"text-embedding-3-small","input":"hello","encoding_format":"base64"}'
call "models" 200 0 "$proxy/v1/models" -H "authorization: Bearer $web"
call "route explain" 200 0 "$proxy/v1/route/explain" -H 'content-type: application/json' \
  -H "authorization: Bearer $batch" -d "{\"model\":\"auto\",$hard}"
call "healthz" 200 0 "$proxy/healthz"
call "readyz" 200 0 "$proxy/readyz"
scrape

log "refused by the proxy:"
chat "no key" 401 "" "{\"model\":\"gpt-4o-mini\",$msg}"
chat "wrong key" 401 "$wrong" "{\"model\":\"gpt-4o-mini\",$msg}"
call "wrong key in api-key" 401 1 "$proxy/v1/chat/completions" -H 'content-type: application/json' \
  -H "api-key: $wrong" -d "{\"model\":\"gpt-4o-mini\",$msg}"
call "wrong key without Bearer" 401 1 "$proxy/v1/chat/completions" \
  -H 'content-type: application/json' -H "authorization: $wrong" -d "{\"model\":\"auto\",$msg}"
call "wrong key, models" 401 0 "$proxy/v1/models" -H "authorization: Bearer $wrong"
call "spend, wrong admin key" 401 0 "$proxy/v1/spend" -H "authorization: Bearer $wrong_admin"
call "spend, a client key" 401 0 "$proxy/v1/spend?by=key" -H "authorization: Bearer $web"
call "spend, no key" 401 0 "$proxy/v1/spend"
chat "malformed JSON" 400 "$web" '{"model":"gpt-4o-mini","messages":['
chat "no model" 400 "$web" "{$msg}"
chat "unknown model" 404 "$batch" "{\"model\":\"no-such-model\",$msg}"
call "unknown URL with a key in its query" 404 0 \
  "$proxy/v1/nothing-here?api_key=$web&key=$wrong" -H "authorization: Bearer $web"
call "wrong method" 405 1 -X GET "$proxy/v1/chat/completions" -H "authorization: Bearer $web"
head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"model":"gpt-4o-mini","messages":[{"role":"user","content":"/; s/$/"}]}/' \
  >"$work/big.json"
call "body too large" 413 0 "$proxy/v1/chat/completions" -H 'content-type: application/json' \
  -H "authorization: Bearer $web" --data-binary "@$work/big.json"
call "headers too large" 431 0 "$proxy/v1/chat/completions" -H 'content-type: application/json' \
  -H "authorization: Bearer $web" -H "x-filler: $(head -c 10000 /dev/zero | tr '\0' 'b')" \
  -d "{\"model\":\"gpt-4o-mini\",$msg}"
# A request line and headers Beast rejects (a bad Content-Length), the key among them.
requests=$((requests + 1))
exec 3<>"/dev/tcp/127.0.0.1/${proxy_addr##*:}"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1x\r\n\r\n' \
  "$web" >&3
timeout 5 cat <&3 >"$out/response-malformed-http.raw" || true
exec 3<&-
code="$(head -n 1 "$out/response-malformed-http.raw" | cut -d' ' -f2)"
if [[ "$code" == 400 ]]; then
  printf '  %-58s %s\n' "malformed HTTP request" "$code" >&2
else
  printf '  %-58s %s, expected 400  <-- FAIL\n' "malformed HTTP request" "${code:-none}" >&2
  unexpected=$((unexpected + 1))
fi
chat "budget exceeded" 429 "$tiny" "{\"model\":\"gpt-4o-mini\",$msg}"
scrape

log "upstream errors:"
chat "upstream 500" 500 "$web" "{\"model\":\"gpt-4o-mini\",$msg}" -H 'x-mock-status: 500'
chat "upstream 401" 502 "$batch" "{\"model\":\"gpt-4o\",$msg}" -H 'x-mock-status: 401'
chat "upstream 429" 429 "$web" "{\"model\":\"limited-model\",$msg}" -H 'x-mock-status: 429'
chat "auto, every candidate 500" 500 "$batch" "{\"model\":\"auto\",$msg}" -H 'x-mock-status: 500'
call "embeddings, upstream 500" 500 1 "$proxy/v1/embeddings" -H 'content-type: application/json' \
  -H "authorization: Bearer $web" -H 'x-mock-status: 500' \
  -d '{"model":"text-embedding-3-small","input":"hello"}'
chat "reset before the answer" 502 "$web" "{\"model\":\"small-model\",$msg}" \
  -H 'x-mock-fault: reset-before'
chat "reset mid answer" 502 "$web" "{\"model\":\"small-model\",$msg}" -H 'x-mock-fault: reset-mid'
chat "reset mid stream" 200 "$batch" "{\"model\":\"small-model\",\"stream\":true,$msg}" \
  -H 'x-mock-fault: reset-mid'
chat "stall before the answer (first-byte timeout)" 504 "$web" "{\"model\":\"small-model\",$msg}" \
  -H 'x-mock-fault: stall-before'
chat "stall mid stream (idle timeout)" 200 "$batch" \
  "{\"model\":\"small-model\",\"stream\":true,$usage,$msg}" -H 'x-mock-fault: stall-mid'
chat "malformed answer (relayed as is)" 200 "$web" "{\"model\":\"small-model\",$msg}" -H 'x-mock-fault: malformed'
chat "malformed stream" 200 "$batch" "{\"model\":\"small-model\",\"stream\":true,$msg}" \
  -H 'x-mock-fault: malformed'
chat "truncated answer" 502 "$web" "{\"model\":\"small-model\",$msg}" -H 'x-mock-fault: truncate'
chat "truncated stream" 200 "$batch" "{\"model\":\"small-model\",\"stream\":true,$msg}" \
  -H 'x-mock-fault: truncate'
chat "stream without usage" 200 "$web" "{\"model\":\"gpt-4o-mini\",\"stream\":true,$msg}" \
  -H 'x-mock-fault: no-usage'
chat "connection refused" 502 "$web" "{\"model\":\"legacy-model\",$msg}"
chat "connection refused, stream" 502 "$batch" "{\"model\":\"legacy-model\",\"stream\":true,$msg}"
chat "auto, reset on the first candidate" 502 "$web" "{\"model\":\"auto\",$msg}" \
  -H 'x-mock-fault: reset-before'
scrape

# ---- a reload of a bad config (SIGHUP), then the good one back ----
reloads() { grep -c -e 'config reloaded' -e 'reload rejected' -e 'reload failed' "$work/proxy.err" || true; }
reload() {  # reload FILE WHAT: swap FILE in, SIGHUP, wait for the verdict
  local before deadline
  cp "$1" "$work/next.yaml" && mv "$work/next.yaml" "$work/switchyard.yaml"
  before="$(reloads)"
  kill -HUP "$proxy_pid"
  deadline=$((SECONDS + STARTUP_TIMEOUT_S))
  while (($(reloads) == before)); do
    ((SECONDS < deadline)) || { fail "no reload verdict within ${STARTUP_TIMEOUT_S}s ($2)"; return; }
    sleep 0.05
  done
}
reload "$here/bad_config.yaml" "bad config"
grep -q 'reload rejected' "$work/proxy.err" || fail "the bad config's reload was not rejected"
reload "$here/switchyard.yaml" "good config"
chat "after the reloads" 200 "$web" "{\"model\":\"gpt-4o-mini\",$msg}"

# ---- spend, the ledger as it is while the proxy runs ----
call "spend with the admin key" 200 0 "$proxy/v1/spend?by=key&since=24h" \
  -H "authorization: Bearer $admin"
sleep 0.3  # two flush intervals: the rows of the last requests are committed
mkdir -p "$out/ledger-live"
cp "$work"/ledger.db* "$out/ledger-live/"
for by in key tenant model upstream day; do
  "$proxy_bin" spend --db "$work/ledger.db" --by "$by" --json >"$out/spend-live-$by.json" 2>&1 ||
    fail "switchyard spend --by $by (proxy running)"
done
scrape

# ---- clean shutdown, then the mocks (which write what they received) ----
kill -TERM "$proxy_pid"
proxy_rc=0
wait "$proxy_pid" || proxy_rc=$?
forget "$proxy_pid"
((proxy_rc == 0)) || fail "switchyard exited $proxy_rc on SIGTERM"
cp "$work/proxy.err" "$out/proxy.err"
for entry in "${pids[@]}"; do stop "${entry%%:*}" "${entry##*:}"; done
pids=()
cp "$work"/ledger.db* "$out/"
for by in key tenant model upstream day; do
  "$proxy_bin" spend --db "$work/ledger.db" --by "$by" --json >"$out/spend-$by.json" 2>&1 ||
    fail "switchyard spend --by $by"
done
"$proxy_bin" spend --db "$work/ledger.db" --by key >"$out/spend-table.txt" 2>&1 || fail "switchyard spend"

# ---- bad configs: check-config and serve ----
check_bad() {  # check_bad NAME FILE: both commands must refuse it (exit 2)
  local rc=0
  "$proxy_bin" check-config "$2" >"$out/check-config-$1.out" 2>&1 || rc=$?
  ((rc == 2)) || fail "check-config on the $1 config exited $rc, not 2"
  rc=0
  timeout 10 "$proxy_bin" serve --config "$2" --port 0 >"$out/serve-$1.out" 2>&1 || rc=$?
  ((rc == 2)) || fail "serve on the $1 config exited $rc, not 2"
}
check_bad bad "$here/bad_config.yaml"
problems="$(sed -n 's/.*: \([0-9][0-9]*\) problems:$/\1/p' "$out/check-config-bad.out")"
((${problems:-0} >= 20)) || fail "check-config listed ${problems:-no} problems in bad_config.yaml, expected 20+"
printf 'upstreams:\n  - { name: "${SECRET_TEST_UPSTREAM_KEY_CLOUD}", base_url: [ "${SECRET_TEST_ADMIN_KEY}"\n' \
  >"$work/unparsable.yaml"
check_bad unparsable "$work/unparsable.yaml"

# ---- positive controls ----
((unexpected == 0)) || fail "$unexpected of $requests requests had an unexpected status"
rows="$(jq -r '.total.requests' "$out/spend-key.json" 2>/dev/null || echo none)"
[[ "$rows" == "$api_requests" ]] || fail "the ledger has $rows rows, expected $api_requests (one per API request)"
access_lines="$(wc -l <"$out/access.log")"
((access_lines == requests + scrapes)) ||
  fail "the access log has $access_lines lines for $requests requests and $scrapes scrapes"
for upstream in CLOUD LIMITED FAULTY; do
  key="${secret[SECRET_TEST_UPSTREAM_KEY_$upstream]}"
  dump="$work/cloud.requests"
  [[ "$upstream" == FAULTY ]] && dump="$work/faulty.requests"
  grep -qxF "authorization: Bearer $key" "$dump" ||
    fail "the mock never received upstream ${upstream,,}'s key (positive control)"
  leaks "$dump" | grep -q "SECRET_TEST_UPSTREAM_KEY_$upstream (the value)" ||
    fail "the grep does not find upstream ${upstream,,}'s key where it is (positive control)"
done
client_at_upstream="$(leaks "$work/cloud.requests" "$work/faulty.requests" |
  grep -v 'SECRET_TEST_UPSTREAM_KEY_' || true)"
[[ -z "$client_at_upstream" ]] || fail "client or admin keys reached an upstream: $client_at_upstream"
metric_lines="$(cat "$out"/metrics-*.txt | grep -c '^switchyard_' || true)"
((scrapes == 4 && metric_lines > 100)) || fail "only $metric_lines metric samples in $scrapes scrapes"

# ---- the grep ----
files="$(find "$out" -type f | wc -l)"
bytes="$(du -sk "$out" | cut -f1)"
found="$(leaks "$out")"
if [[ -n "$found" ]]; then
  fail "secrets found in what switchyard wrote or answered:"
  sed "s|^$out/|  |" <<<"$found" >&2
else
  log "no secret in $files files (${bytes} kB): logs, access log, $scrapes /metrics scrapes, $requests" \
      "responses, ledger ($rows rows; db, wal, shm, live and after shutdown), spend, bad-config outputs"
fi

if ((failures)); then
  log "FAIL ($failures problems)"
  exit 1
fi
log "PASS"
