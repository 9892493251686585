#!/usr/bin/env bash
# Soak: switchyard at a steady rate for minutes, with faults injected, checking that its memory
# does not grow and that the ledger holds exactly one row per request it was sent.
#
#   bash bench/soak/run.sh [MINUTES [RATE]] [--no-build]     (default: 10 minutes at 200 req/s)
#
# Two mock upstreams and an upstream nobody listens on sit behind switchyard (2 workers, client
# keys, budgets, a ledger and an access log in a temp dir):
#   cloud  healthy: gpt-4o-mini (tier 2) and gpt-4o (tier 3)
#   flaky  llama3.2-3b (tier 1, where `auto` sends easy prompts), a mock that by itself resets
#          2% of the requests before answering, answers 500 to 2%, 503 to 1%, stalls 0.5% past
#          the first-byte timeout (504, not retried), cuts 1% mid-answer, truncates 1% of the
#          streams and reports no usage for 1% (estimated): `auto` falls back to the cloud models
#   down   legacy-model: connection refused (502), then the open circuit breaker (503)
# switchyard-load (rate mode, open loop) sends the requests of bench/soak/requests.txt in turn:
# `auto` and explicit models, streaming and not, two tenants' keys, upstream errors asked for
# with x-mock-* headers (500, truncated and usage-less streams), and the proxy's own refusals
# (unknown model, malformed JSON, a wrong key). The proxy's RSS and open descriptors are
# sampled after the warm-up and every SAMPLE_S seconds; after the load, switchyard gets SIGTERM
# (a clean shutdown flushes the ledger) and `switchyard spend --json` counts the rows.
#
# PASS when: RSS at the end <= RSS after the warm-up + RSS_SLACK_PCT% (default 10); ledger rows
# == requests sent (every request whose bytes were written, warm-up included); switchyard exits
# 0 on SIGTERM; no ledger write error; the proxy's stderr holds no unexpected line.
# Prints the RSS samples, responses by status and transport errors (per request kind and in
# total), the ledger's rows by status (with sqlite3, if installed) and the summary. Exit 0 on
# PASS, 1 on FAIL, 2 on a setup error.
#
# Knobs (environment): WARMUP_S (60, at most a quarter of the run), SAMPLE_S (30), THREADS (2,
# proxy workers), RSS_SLACK_PCT (10), BUILD_DIR (<repo>/build), KEEP_WORK=1 (keep the temp dir:
# config, logs, ledger, LOADJSON). --no-build uses the binaries in BUILD_DIR as they are.
# Needs: bash, jq, curl, cmake + g++ to build (sqlite3 optional).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/soak"
BUILD=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option: $arg (see --help)" >&2; exit 2 ;;
    *) args+=("$arg") ;;
  esac
done
MINUTES="${args[0]:-10}"
RATE="${args[1]:-200}"
[[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "run.sh: MINUTES must be a number" >&2; exit 2; }
[[ "$RATE" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "run.sh: RATE must be a number" >&2; exit 2; }
DURATION_S="$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 + 0.5 }')"
((DURATION_S >= 20)) || { echo "run.sh: run at least 20 seconds (MINUTES >= 0.34)" >&2; exit 2; }
WARMUP_S="${WARMUP_S:-60}"
((WARMUP_S > DURATION_S / 4)) && WARMUP_S=$((DURATION_S / 4))
SAMPLE_S="${SAMPLE_S:-30}"
THREADS="${THREADS:-2}"
RSS_SLACK_PCT="${RSS_SLACK_PCT:-10}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
readonly STARTUP_TIMEOUT_S=15  # read by wait_for_line (tests/process_helpers.sh)
readonly DRAIN_S=15 SHUTDOWN_GRACE_S=10

exec 7>&2
log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&7; }
die() { log "ERROR: $*"; exit 2; }
for tool in jq curl; do command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"; done

# ---- cleanup on every path ----
WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-soak.XXXXXX")" || die "mktemp failed"
pids=()  # "name:pid", stopped in reverse order
forget_last() { pids=("${pids[@]:0:${#pids[@]}-1}"); }  # the last one started has ended
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---- binaries ----
if ((BUILD)); then
  log "building switchyard, switchyard-mock, switchyard-load in $BUILD_DIR"
  if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
         cmake --build "$BUILD_DIR" -j2 --target switchyard switchyard-mock switchyard-load; } \
       >"$WORK/build.log" 2>&1; then
    tail -n 20 "$WORK/build.log" >&2
    die "build failed"
  fi
fi
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
SWITCHYARD="$BUILD_DIR/switchyard" MOCK="$BUILD_DIR/switchyard-mock" LOAD="$BUILD_DIR/switchyard-load"
for b in "$SWITCHYARD" "$MOCK" "$LOAD"; do [[ -x "$b" ]] || die "missing $b (build it, or drop --no-build)"; done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# wait_for_line FILE SED_EXPR PID WHAT (shared with the test scripts)
source "$ROOT/tests/process_helpers.sh"

# ---- upstreams ----
start_mock() {  # start_mock NAME ARGS...: sets mock_port and mock_pid
  local name="$1"
  shift
  "$MOCK" --address 127.0.0.1 --port 0 --threads 1 "$@" >"$WORK/$name.out" 2>&1 &
  mock_pid=$!
  pids+=("$name:$mock_pid")
  mock_port="$(wait_for_line "$WORK/$name.out" \
    's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$mock_pid" "$name")" || exit 2
}
start_mock cloud --latency-ms 5 --ttfb-ms 5 --gap-ms 2 --tokens 20
cloud_port="$mock_port"
start_mock flaky --latency-ms 2 --ttfb-ms 2 --gap-ms 1 --tokens 12 \
  --random-fault 0.02:reset-before --random-fault 0.02:500 --random-fault 0.01:503 \
  --random-fault 0.005:stall-before --random-fault 0.01:reset-mid --random-fault 0.01:truncate \
  --random-fault 0.01:no-usage
flaky_port="$mock_port"
start_mock port-finder  # a port that was just free: a mock binds it and exits
down_port="$mock_port"
stop port-finder "$mock_pid"
forget_last
log "mocks: cloud on :$cloud_port, flaky on :$flaky_port; :$down_port is down"

# ---- proxy ----
export SOAK_CLOUD_PORT="$cloud_port" SOAK_FLAKY_PORT="$flaky_port" SOAK_DOWN_PORT="$down_port"
export SOAK_LEDGER="$WORK/ledger.db" SOAK_GRACE="${SHUTDOWN_GRACE_S}s"
export SOAK_UPSTREAM_KEY="sk-soak-upstream-$$" SOAK_ADMIN_KEY="sk-soak-admin-$$"
export SOAK_WEB_KEY="sk-soak-web-$$" SOAK_BATCH_KEY="sk-soak-batch-$$"
"$SWITCHYARD" check-config "$HERE/switchyard.yaml" >"$WORK/check-config.out" 2>&1 ||
  { cat "$WORK/check-config.out" >&2; die "switchyard check-config bench/soak/switchyard.yaml"; }
"$SWITCHYARD" serve --config "$HERE/switchyard.yaml" --threads "$THREADS" \
  --access-log "$WORK/access.log" >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
proxy_pid=$!
pids+=("switchyard:$proxy_pid")
proxy_addr="$(wait_for_line "$WORK/proxy.err" \
  's|^switchyard listening on http://\([^ ]*:[0-9][0-9]*\).*|\1|p' "$proxy_pid" switchyard)" || exit 2
proxy="http://$proxy_addr"

# The request mix, with the keys filled in.
sed -e "s|\${SOAK_WEB_KEY}|$SOAK_WEB_KEY|g" -e "s|\${SOAK_BATCH_KEY}|$SOAK_BATCH_KEY|g" \
  "$HERE/requests.txt" >"$WORK/requests.txt"
kinds="$(grep -c '^{' "$WORK/requests.txt")"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$proxy_pid/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$proxy_pid/status" 2>/dev/null || echo 0; }
fds() { local f=(/proc/"$proxy_pid"/fd/*); echo "${#f[@]}"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$proxy_pid/status" 2>/dev/null || echo 0; }
idle_rss="$(rss_kb)"
log "switchyard on $proxy ($THREADS workers), RSS idle $((idle_rss / 1024)) MB; load: $RATE req/s for" \
    "${DURATION_S}s ($kinds request kinds in turn), RSS after ${WARMUP_S}s of warm-up, then every ${SAMPLE_S}s"

# ---- load, and RSS samples while it runs ----
"$LOAD" rate --url "$proxy/v1/chat/completions" --requests-file "$WORK/requests.txt" \
  --rate "$RATE" --warmup 0 --duration "$DURATION_S" --drain "$DRAIN_S" --connections 512 \
  >"$WORK/load.out" 2>"$WORK/load.err" &
load_pid=$!
pids+=("switchyard-load:$load_pid")
load_start=$SECONDS
printf '%s\t%s\t%s\t%s\n' t_s rss_kb fds threads >"$WORK/rss.tsv"
sample_at=()  # after the warm-up, every SAMPLE_S, and one second before the last request is due
for ((t = WARMUP_S; t < DURATION_S - 1; t += SAMPLE_S)); do sample_at+=("$t"); done
sample_at+=($((DURATION_S - 1)))
i=0
while kill -0 "$load_pid" 2>/dev/null; do
  t=$((SECONDS - load_start))
  if ! kill -0 "$proxy_pid" 2>/dev/null; then
    stop switchyard-load "$load_pid"
    break
  fi
  if ((i < ${#sample_at[@]} && t >= sample_at[i])); then
    printf '%s\t%s\t%s\t%s\n' "$t" "$(rss_kb)" "$(fds)" "$(threads)" >>"$WORK/rss.tsv"
    log "t=${t}s RSS $(rss_kb) kB, $(fds) descriptors"
    i=$((i + 1))
  fi
  sleep 0.2
done
wait "$load_pid"
load_rc=$?
forget_last
if ! kill -0 "$proxy_pid" 2>/dev/null; then
  wait "$proxy_pid"
  proxy_rc=$?
  log "SOAK FAIL: switchyard died $((SECONDS - load_start))s into the load (exit status $proxy_rc);" \
      "its stderr ends with:"
  tail -n 5 "$WORK/proxy.err" >&2
  exit 1
fi
loadjson="$(sed -n 's/^LOADJSON //p' "$WORK/load.out")"
[[ -n "$loadjson" ]] || { cat "$WORK/load.err" >&2; die "switchyard-load printed no result (exit $load_rc)"; }

# ---- after the load: metrics, the flaky mock's count, a clean shutdown ----
sleep 1  # requests the client gave up on end in the proxy too
curl -sS --max-time 10 "$proxy/metrics" >"$WORK/metrics.txt" || true
metric_sum() {  # metric_sum REGEX: the sum of the samples whose line matches REGEX
  awk -v re="$1" '$0 ~ re && $1 !~ /^#/ { s += $NF } END { printf "%d", s }' "$WORK/metrics.txt"
}
write_errors="$(metric_sum '^switchyard_ledger_write_errors_total')"
flaky_stats="$(curl -sS --max-time 5 "http://127.0.0.1:$flaky_port/mock/stats" || echo '{}')"
end_rss="$(rss_kb)"
peak_rss="$(hwm_kb)"
stop_started=$SECONDS
kill -TERM "$proxy_pid"
while kill -0 "$proxy_pid" 2>/dev/null && ((SECONDS - stop_started <= SHUTDOWN_GRACE_S + 10)); do
  sleep 0.1
done
kill -0 "$proxy_pid" 2>/dev/null && { log "switchyard still running after SIGTERM: SIGKILL"; kill -KILL "$proxy_pid"; }
wait "$proxy_pid"
proxy_rc=$?
forget_last
stop_s=$((SECONDS - stop_started))

# ---- the ledger ----
spend="$("$SWITCHYARD" spend --db "$SOAK_LEDGER" --json 2>"$WORK/spend.err")" ||
  die "switchyard spend failed: $(cat "$WORK/spend.err")"
rows="$(jq -r '.total.requests' <<<"$spend")"
ledger_by_status=""
if command -v sqlite3 >/dev/null; then
  ledger_by_status="$(sqlite3 -readonly "$SOAK_LEDGER" \
    "SELECT status || ':' || count(*) FROM requests GROUP BY status ORDER BY status;" | tr '\n' ' ')"
fi

# ---- report ----
J() { jq -r "$1" <<<"$loadjson"; }
counts() {  # counts JQ_PATH [FILTER]: the object at JQ_PATH as "key value, key value"
  J "$1 | to_entries | ${2:-.} | map(\"\(.key) \(.value)\") | join(\", \") |
     if . == \"\" then \"none\" else . end"
}
sent="$(J .sent_total)"
unsent="$(J .unsent_total)"
transport_errors="$(J .errors_total)"
answered="$(J '[.status_total[]] | add // 0')"
planned="$(awk -v r="$RATE" -v d="$DURATION_S" 'BEGIN { printf "%d", r * d + 0.5 }')"
start_line="$(awk -F'\t' 'NR == 2' "$WORK/rss.tsv")"
end_line="$(tail -n 1 "$WORK/rss.tsv")"
start_rss="$(cut -f2 <<<"$start_line")" start_t="$(cut -f1 <<<"$start_line")"
last_rss="$(cut -f2 <<<"$end_line")" last_t="$(cut -f1 <<<"$end_line")"
[[ -n "$start_rss" && "$start_rss" != rss_kb ]] || die "no RSS sample was taken"
limit_rss=$((start_rss + start_rss * RSS_SLACK_PCT / 100))
unexpected_err="$(grep -v -e '^switchyard listening on ' -e '^switchyard stopped$' "$WORK/proxy.err" |
  head -n 5)"

echo
echo "== switchyard soak: ${DURATION_S}s at $RATE req/s, $THREADS workers," \
     "$kinds request kinds in turn =="
echo "load: $sent sent of $planned planned ($unsent could not be sent), $answered answered," \
     "$transport_errors ended by a transport error; latency p50 $(J .latency_us.p50) us," \
     "p99 $(J .latency_us.p99) us, max $(J .latency_us.max) us;" \
     "client connections at most $(J .connections_max)"
echo "responses by status: $(counts .status_total)"
echo "transport errors: $(counts .error_kinds)"
echo "per request kind (sent: responses by status, transport errors):"
J '.by_request[] | "  \(.label | . + " " * (30 - length)) \(.sent): "
   + (.status | to_entries | map("\(.key) \(.value)") | join(", "))
   + (if .errors > 0 then ", transport errors \(.errors)" else "" end)'
echo "flaky upstream: $(jq -r '"\(.requests_served) requests, \(.faults_injected) faults injected"' \
  <<<"$flaky_stats" 2>/dev/null)"
failures_seen="$(awk '/^switchyard_upstream_failures_total\{/ && $NF > 0 {
  match($0, /upstream="[^"]*"/); u = substr($0, RSTART + 10, RLENGTH - 11)
  match($0, /kind="[^"]*"/); k = substr($0, RSTART + 6, RLENGTH - 7)
  printf "%s%s %s %d", n++ ? ", " : "", u, k, $NF }' "$WORK/metrics.txt")"
echo "upstream failures seen by the proxy: ${failures_seen:-none}"
echo "RSS (kB) at t=seconds since the load started (idle before it: $idle_rss):"
awk -F'\t' 'NR > 1 { printf "  t=%-5s %7d kB  %4d descriptors  %2d threads\n", $1, $2, $3, $4 }' \
  "$WORK/rss.tsv"
echo "RSS after the load: $end_rss kB; peak (VmHWM): $peak_rss kB"
echo "ledger: $rows rows for $sent requests sent${ledger_by_status:+; by status: $ledger_by_status}"
echo "ledger write errors: $write_errors; switchyard exited $proxy_rc ${stop_s}s after SIGTERM"

failures=()
((last_rss <= limit_rss)) || failures+=("RSS grew from $start_rss kB (t=${start_t}s) to $last_rss kB"\
" (t=${last_t}s), over the ${RSS_SLACK_PCT}% bound ($limit_rss kB)")
((rows == sent)) || failures+=("ledger rows ($rows) != requests sent ($sent)")
((proxy_rc == 0)) || failures+=("switchyard exited $proxy_rc on SIGTERM")
((write_errors == 0)) || failures+=("$write_errors ledger write errors")
[[ -z "$unexpected_err" ]] || failures+=("switchyard's stderr: $unexpected_err")
((sent > 0)) || failures+=("nothing was sent")
growth_pct="$(awk -v a="$start_rss" -v b="$last_rss" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')"
echo
if ((${#failures[@]} == 0)); then
  echo "SOAK PASS: RSS $start_rss kB after warm-up -> $last_rss kB at the end ($growth_pct%," \
       "bound +${RSS_SLACK_PCT}%); ledger rows $rows == sent $sent; errors by status:" \
       "$(counts .status_total 'map(select(.key | startswith("2") | not))'), transport $transport_errors"
  exit 0
fi
echo "SOAK FAIL ($growth_pct% RSS, rows $rows, sent $sent):"
printf '  - %s\n' "${failures[@]}"
exit 1
