#!/usr/bin/env bash
# Side-by-side proxy benchmark: the mock upstream directly, nginx (a plain reverse proxy with an
# upstream keepalive pool, proxy_buffering off), the Portkey AI gateway (Node.js) and switchyard
# (an explicit model, and `model: "auto"`: classify + route + account to a SQLite ledger +
# metrics), all in ONE run against the same mock process, on the same machine.
#
#   bash bench/compare/run.sh [--quick] [--no-build]
#
# Layout (2+ cores): the load generator (wrk, or switchyard-load) pinned to CPU 0; the proxy
# under test and the mock pinned to CPU 1. One worker each (switchyard --threads 1, nginx
# worker_processes 1, Node is single-threaded, mock --threads 1); access logs off. Each
# measurement is preceded by a warm-up; each is repeated REPS times with the setups interleaved
# (mock, nginx, portkey, switchyard, auto, mock, ...) and the median run (by req/s) is reported.
# The proxy's CPU time per request comes from /proc/PID/stat (utime+stime), RSS from
# /proc/PID/status (VmRSS). On a shared machine, run it while nothing else is busy: the report
# records the load average and warns when it was high.
#
# Setups (SETUPS, space-separated; default all):
#   mock        the mock upstream directly (the baseline; "added latency" is relative to it)
#   nginx       nginx-light (apt), keepalive 64 to the mock, proxy_buffering off
#   portkey     @portkey-ai/gateway (npm, pinned in bench/compare/portkey/, installed into
#               bench/.peers/portkey), `node build/start-server.js --headless`, NODE_ENV=production;
#               skipped with a message when it cannot be installed or started
#   switchyard  switchyard, "model": "gpt-4o-mini" (no classification)
#   auto        the same switchyard process, "model": "auto"
# Scenarios (SCENARIOS, space-separated; default all, in this order):
#   latency     non-streaming chat, 1 connection (wrk): added latency = setup - mock direct
#   chat        non-streaming chat, CONNS connections (wrk)
#   stream      streaming chat, STREAM_TOKENS tokens with STREAM_GAP_MS between events, CONNS
#               connections (wrk)
#   rate        non-streaming chat at a fixed arrival rate RATE (switchyard-load, open loop,
#               every latency recorded from the moment the request was due)
#   long8k      non-streaming chat with a ~8k-token prompt, CONNS connections (wrk)
#   long32k     the same with a ~32k-token prompt
#   streams     STREAMS concurrent slow streams (switchyard-load: SLOW_TOKENS tokens,
#               SLOW_GAP_MS apart, opened over RAMP seconds): events delayed > 5 ms beyond the
#               upstream's gap, the max delay, the proxy's RSS with all streams open. Once per
#               setup (STREAMS_REPS). The client asks for the usage chunk (include_usage), so
#               every upstream event reaches it and the gaps compare one to one.
#
# Writes bench/results/proxy-compare.md and bench/results/proxy-compare.json (the report is made
# by bench/compare/report.py from the raw runs).
# Knobs (environment): SETUPS, SCENARIOS, REPS (3), WARMUP (2 s), DURATION (5 s), CONNS (64),
# TOKENS (20, non-streaming completion length), STREAM_TOKENS (100), STREAM_GAP_MS (1; 0 makes
# `stream` a saturation test), RATE (250 req/s: below what every setup, Portkey included,
# sustains on one core), STREAMS (1000), SLOW_TOKENS (50), SLOW_GAP_MS (100), RAMP (1 s),
# STREAMS_REPS (1), BUILD_DIR (<repo>/build), RESULTS_DIR (<repo>/bench/results),
# NICE (-10; 0: do not raise the priority), KEEP_WORK=1 (keep the temp dir: configs, raw output).
# --quick: REPS=1, WARMUP=1, DURATION=2, STREAMS=200 (a smoke run of the harness, not numbers).
# Needs: bash, taskset, python3, wrk, nginx (both installed with apt-get when missing), node +
# npm for Portkey (skipped without them), cmake + g++ to build.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
QUICK=0
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,51p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument: $arg (use --quick, --no-build)" >&2; exit 2 ;;
  esac
done

if (( QUICK )); then
  REPS="${REPS:-1}"; WARMUP="${WARMUP:-1}"; DURATION="${DURATION:-2}"; STREAMS="${STREAMS:-200}"
else
  REPS="${REPS:-3}"; WARMUP="${WARMUP:-2}"; DURATION="${DURATION:-5}"; STREAMS="${STREAMS:-1000}"
fi
CONNS="${CONNS:-64}"
TOKENS="${TOKENS:-20}"
STREAM_TOKENS="${STREAM_TOKENS:-100}"
STREAM_GAP_MS="${STREAM_GAP_MS:-1}"
RATE="${RATE:-250}"
SLOW_TOKENS="${SLOW_TOKENS:-50}"
SLOW_GAP_MS="${SLOW_GAP_MS:-100}"
RAMP="${RAMP:-1}"
STREAMS_REPS="${STREAMS_REPS:-1}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
PEERS_DIR="${PEERS_DIR:-$ROOT/bench/.peers}"

ALL_SETUPS=(mock nginx portkey switchyard auto)
ALL_SCENARIOS=(latency chat stream rate long8k long32k streams)
read -r -a SETUPS <<<"${SETUPS:-${ALL_SETUPS[*]}}"
read -r -a SCENARIOS <<<"${SCENARIOS:-${ALL_SCENARIOS[*]}}"

# The log goes to the script's stderr even from a trap that runs inside a redirected call.
exec 7>&2
log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&7; }
die() { log "ERROR: $*"; exit 1; }
has() { local x="$1"; shift; for y in "$@"; do [[ "$x" == "$y" ]] && return 0; done; return 1; }

for s in "${SETUPS[@]}"; do has "$s" "${ALL_SETUPS[@]}" || die "unknown setup '$s' (SETUPS: ${ALL_SETUPS[*]})"; done
for s in "${SCENARIOS[@]}"; do has "$s" "${ALL_SCENARIOS[@]}" || die "unknown scenario '$s' (SCENARIOS: ${ALL_SCENARIOS[*]})"; done
# Keep the documented order whatever order they were given in.
ordered=(); for s in "${ALL_SETUPS[@]}"; do has "$s" "${SETUPS[@]}" && ordered+=("$s"); done; SETUPS=("${ordered[@]}")
ordered=(); for s in "${ALL_SCENARIOS[@]}"; do has "$s" "${SCENARIOS[@]}" && ordered+=("$s"); done; SCENARIOS=("${ordered[@]}")
(( ${#SETUPS[@]} > 0 && ${#SCENARIOS[@]} > 0 )) || die "nothing selected"
awk -v t="$SLOW_TOKENS" -v g="$SLOW_GAP_MS" -v r="$RAMP" 'BEGIN { exit !(t * g > r * 1000 + 500) }' ||
  die "SLOW_TOKENS x SLOW_GAP_MS must exceed the RAMP by 0.5 s, or the streams are never all open at once"

# ---------------------------------------------------------------------------------------------
# Cleanup: everything started here is stopped on exit, even on failure or Ctrl-C.
WORK="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-compare.XXXXXX")" || die "mktemp failed"
STARTED_PIDS=()

children() {  # direct children of $1, from /proc (no procps needed)
  local f s state ppid
  for f in /proc/[0-9]*/stat; do
    read -r s 2>/dev/null <"$f" || continue
    s="${s##*) }"
    read -r state ppid _ <<<"$s"
    if [[ "$ppid" == "$1" ]]; then f="${f#/proc/}"; echo "${f%/stat}"; fi
  done
}

stop_pid() {  # TERM, wait up to 5 s, then KILL (the pid and its children)
  local pid="$1" kids i
  kill -0 "$pid" 2>/dev/null || return 0
  kids="$(children "$pid")"
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop on SIGTERM within 5 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  for i in $kids; do kill -KILL "$i" 2>/dev/null; done
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED_PIDS[i]}"; done
  # Any load generator still running (interrupted mid-measurement) is a child of this shell.
  for i in $(children $$); do kill -TERM "$i" 2>/dev/null; done
  if [[ -n "${KEEP_WORK:-}" ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Tools.
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
APT_UPDATED=0
apt_install() {  # packages...: install with apt-get (update once if the first try fails)
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y "$@" >>"$WORK/apt.log" 2>&1 && return 0
  (( APT_UPDATED )) && return 1
  APT_UPDATED=1
  as_root apt-get update >>"$WORK/apt.log" 2>&1 && as_root apt-get install -y "$@" >>"$WORK/apt.log" 2>&1
}

NEED_WRK=0
for sc in "${SCENARIOS[@]}"; do has "$sc" latency chat stream long8k long32k streams && NEED_WRK=1; done
if (( NEED_WRK )) && ! command -v wrk >/dev/null; then
  log "installing wrk (apt-get)"
  apt_install wrk || die "cannot install wrk (see $WORK/apt.log)"
fi
NGINX_BIN="$(command -v nginx || true)"
[[ -z "$NGINX_BIN" && -x /usr/sbin/nginx ]] && NGINX_BIN=/usr/sbin/nginx
if has nginx "${SETUPS[@]}" && [[ -z "$NGINX_BIN" ]]; then
  log "installing nginx-light (apt-get)"
  apt_install nginx-light || apt_install nginx || die "cannot install nginx-light (see $WORK/apt.log)"
  NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
fi
if ! command -v python3 >/dev/null; then
  log "installing python3 (apt-get; it writes the report)"
  apt_install python3 || die "cannot install python3"
fi
command -v taskset >/dev/null || die "taskset (util-linux) not found"

if (( BUILD )); then
  built=0
  for attempt in 1 2 3; do
    if cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$WORK/build.log" 2>&1 &&
       cmake --build "$BUILD_DIR" -j2 --target switchyard switchyard-mock switchyard-load >>"$WORK/build.log" 2>&1; then
      built=1; break
    fi
    log "build attempt $attempt failed (a file may be mid-edit); retrying in 20 s"
    tail -n 15 "$WORK/build.log" >&2
    sleep 20
  done
  if (( ! built )); then
    for b in switchyard switchyard-mock switchyard-load; do
      [[ -x "$BUILD_DIR/$b" ]] || die "build failed and no $b in $BUILD_DIR"
    done
    log "build failed; using the existing binaries in $BUILD_DIR"
  fi
fi
SWITCHYARD="$BUILD_DIR/switchyard"
MOCK="$BUILD_DIR/switchyard-mock"
LOAD="$BUILD_DIR/switchyard-load"
for b in "$SWITCHYARD" "$MOCK" "$LOAD"; do [[ -x "$b" ]] || die "missing $b (build first)"; done

# More descriptors than the usual 1024: 1,000 streams need ~2,000 in a proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= 4 * STREAMS + 256 )) || log "WARNING: open-file limit $(ulimit -n) may be too low for $STREAMS streams"

NPROC="$(nproc)"
if (( NPROC >= 2 )); then
  CPU_LOAD=0; CPU_SUT=1
  PIN_LOAD=(taskset -c "$CPU_LOAD"); PIN_SUT=(taskset -c "$CPU_SUT")
  LAYOUT="load generator on CPU $CPU_LOAD; proxy + mock on CPU $CPU_SUT"
else
  PIN_LOAD=(); PIN_SUT=()
  LAYOUT="single CPU: nothing pinned (numbers are not comparable with 2-core runs)"
  log "WARNING: only 1 CPU; running unpinned"
fi
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"

# On a shared machine, other work (compilers, tests) competes for both CPUs and the Linux
# scheduler splits a CPU by runnable threads, which skews the comparison. A raised priority
# (nice -10, when allowed: root or CAP_SYS_NICE) gives every benchmark process ~90% of its
# CPU against nice-0 work, the same for all setups. NICE=0 disables it.
NICE="${NICE:--10}"
if [[ "$NICE" != 0 ]] && [[ "$(nice -n "$NICE" nice 2>/dev/null)" == "$NICE" ]]; then
  PIN_LOAD=(nice -n "$NICE" "${PIN_LOAD[@]}"); PIN_SUT=(nice -n "$NICE" "${PIN_SUT[@]}")
  LAYOUT="$LAYOUT; all at nice $NICE"
else
  NICE=0
fi

# ---------------------------------------------------------------------------------------------
# Helpers.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}
wait_for_line() {  # file regex pid [tenths] -> prints the first match, waiting up to 10 s
  local i m
  for ((i = 0; i < ${4:-100}; i++)); do
    m="$(grep -m1 -oE "$2" "$1" 2>/dev/null)" && { echo "$m"; return 0; }
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
wait_for_port() {  # port pid [tenths]
  local i
  for ((i = 0; i < ${3:-100}; i++)); do
    port_in_use "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
proc_ticks() {  # utime+stime of one process (all its threads), in clock ticks
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
  s="${s##*) }"
  set -- $s
  echo $(( ${12} + ${13} ))
}
tree_ticks() {  # a process and its direct children (nginx master + workers)
  local t=0 p
  for p in "$1" $(children "$1"); do t=$((t + $(proc_ticks "$p"))); done
  echo "$t"
}
tree_rss_kb() {  # VmRSS of a process and its direct children, kB
  local t=0 p v
  for p in "$1" $(children "$1"); do
    v="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$p/status" 2>/dev/null)"
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
json_str() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; s="${s//$'\n'/\\n}"; s="${s//$'\t'/ }"; printf '"%s"' "$s"; }

# ---------------------------------------------------------------------------------------------
# Request bodies: one file per kind and model ("auto" for the auto setup).
SYSTEM_MSG='You are a helpful assistant that answers briefly.'
USER_MSG='Summarize in two sentences why connection pooling lowers the latency of an HTTP reverse proxy.'
PROSE="The committee reviewed the quarterly report and asked why the shipping costs rose by 14% while volumes fell; explain the likely causes, compare them with last year's figures, and suggest three concrete steps that could reduce costs without hurting delivery times. "
long_text() {  # tokens -> ~4 bytes per token of prose, then the question
  local bytes=$(( $1 * 4 )) s="" chunk="$PROSE$PROSE$PROSE$PROSE$PROSE$PROSE$PROSE$PROSE"
  while (( ${#s} + ${#chunk} < bytes )); do s+="$chunk"; done
  while (( ${#s} < bytes )); do s+="$PROSE"; done
  printf '%s%s' "$s" "$USER_MSG"
}
write_body() {  # file model stream(true|false|usage) user-text
  local extra=""
  [[ "$3" == true ]] && extra=',"stream":true'
  # The slow streams ask for the usage chunk themselves: a proxy that asks for it upstream and
  # hides it from a client that did not (switchyard) would otherwise turn two of the
  # upstream's gaps into one the client sees, before [DONE].
  [[ "$3" == usage ]] && extra=',"stream":true,"stream_options":{"include_usage":true}'
  printf '{"model":"%s","messages":[{"role":"system","content":"%s"},{"role":"user","content":"%s"}],"temperature":0.2,"max_tokens":256%s}' \
    "$2" "$SYSTEM_MSG" "$4" "$extra" >"$1"
}
LONG8K_TEXT="$(long_text 8000)"
LONG32K_TEXT="$(long_text 32000)"
for model in gpt-4o-mini auto; do
  write_body "$WORK/body-chat-$model.json" "$model" false "$USER_MSG"
  write_body "$WORK/body-stream-$model.json" "$model" true "$USER_MSG"
  write_body "$WORK/body-slowstream-$model.json" "$model" usage "$USER_MSG"
  write_body "$WORK/body-long8k-$model.json" "$model" false "$LONG8K_TEXT"
  write_body "$WORK/body-long32k-$model.json" "$model" false "$LONG32K_TEXT"
done
model_of() { [[ "$1" == auto ]] && echo auto || echo gpt-4o-mini; }
body_kind() {  # scenario -> body kind
  case "$1" in
    latency|chat|rate) echo chat ;;
    stream) echo stream ;;
    streams) echo slowstream ;;
    *) echo "$1" ;;
  esac
}
scenario_headers() {  # scenario -> extra request headers, one per line
  case "$1" in
    stream) printf 'x-mock-tokens: %s\nx-mock-gap-ms: %s\n' "$STREAM_TOKENS" "$STREAM_GAP_MS" ;;
    streams) printf 'x-mock-tokens: %s\nx-mock-gap-ms: %s\n' "$SLOW_TOKENS" "$SLOW_GAP_MS" ;;
  esac
}
declare -A SETUP_HEADERS=()  # setup -> headers every request to it carries, one per line

# A wrk script: the body, the headers and a done() hook printing the summary as one JSON line.
write_lua() {  # file body-file headers
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    local name value
    while IFS= read -r h; do
      [[ -z "$h" ]] && continue
      name="${h%%:*}"; value="${h#*: }"
      printf 'wrk.headers["%s"] = "%s"\n' "$name" "$value"
    done <<<"$3"
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$2")"
    cat <<'EOF'

-- wrk corrects its latency histogram for coordinated omission (stats_correct: each sample
-- longer than 2x the mean per-connection interval adds synthetic samples) before done()
-- sees it. At 1 connection one 4 ms scheduler stall becomes ~30 samples, so those numbers
-- mostly measure machine noise. This undoes the correction exactly (the interval is
-- recomputed as wrk does) and reports the measured per-request latencies; wrk's own
-- corrected values are kept as wrk_*. raw_count equals requests when the undo is exact.
done = function(summary, latency, requests)
  local conns = tonumber(os.getenv("WRK_CONNECTIONS") or "") or 1
  local n = #latency
  local vals, cnts = {}, {}
  for i = 1, n do vals[i], cnts[i] = latency(i) end
  local per_conn = math.floor(summary.requests / conns)
  local interval = per_conn > 0 and math.floor(summary.duration / per_conn) or 0
  local added, orig = {}, {}
  for i = n, 1, -1 do  -- descending: a value's synthetic samples land on smaller values
    local v = vals[i]
    local o = cnts[i] - (added[v] or 0)
    orig[i] = o
    if interval > 0 and v >= 2 * interval and o > 0 then
      local m = v - interval
      while m > interval do added[m] = (added[m] or 0) + o; m = m - interval end
    end
  end
  local total, sum = 0, 0
  for i = 1, n do total = total + orig[i]; sum = sum + orig[i] * vals[i] end
  local function pct(p)  -- wrk's rank rule (stats_percentile) on the measured histogram
    local rank = math.floor(p / 100 * total + 0.5 + 0.5)
    local acc = 0
    for i = 1, n do acc = acc + orig[i]; if acc >= rank then return vals[i] end end
    return vals[n] or 0
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.2f,' ..
    '"lat_mean_us":%.1f,"lat_min_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"lat_max_us":%d,"raw_count":%d,"wrk_mean_us":%.1f,"wrk_p50_us":%d,"wrk_p99_us":%d,' ..
    '"wrk_interval_us":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
    '"errors_timeout":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    sum / math.max(total, 1), latency.min, pct(50), pct(90), pct(99), pct(99.9), latency.max,
    total, latency.mean, latency:percentile(50), latency:percentile(99), interval,
    e.connect, e.read, e.write, e.timeout, e.status))
end
EOF
  } >"$1"
}

http_status() {  # port body-file headers -> the status code of one POST (no curl needed)
  local line body
  body="$(cat "$2")"
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  {
    printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
    while IFS= read -r h; do [[ -n "$h" ]] && printf '%s\r\n' "$h"; done <<<"$3"
    printf 'Content-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
  } >&3
  IFS= read -r -t 10 line <&3
  exec 3<&- 3>&-
  line="${line#* }"; echo "${line%% *}"
}

declare -A PORT=() PID=() SKIP=() DEAD=() RSS_IDLE=() RSS_BEFORE_STREAMS=() VERSION=()

# ---------------------------------------------------------------------------------------------
# The peers. Portkey first (an npm install may take a while, and may fail: then it is skipped).
PORTKEY_SRC="$ROOT/bench/compare/portkey"
PORTKEY_DIR="$PEERS_DIR/portkey"
PORTKEY_JS="$PORTKEY_DIR/node_modules/@portkey-ai/gateway/build/start-server.js"
install_portkey() {  # -> 0, or 1 with SKIP[portkey] set
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing nodejs and npm (apt-get) for Portkey"
    apt_install nodejs npm || { SKIP[portkey]="node/npm not available and apt-get could not install them"; return 1; }
  fi
  if [[ -f "$PORTKEY_JS" ]] && cmp -s "$PORTKEY_SRC/package.json" "$PORTKEY_DIR/package.json" &&
     cmp -s "$PORTKEY_SRC/package-lock.json" "$PORTKEY_DIR/package-lock.json"; then
    return 0
  fi
  log "installing the Portkey gateway into $PORTKEY_DIR (npm ci, pinned by bench/compare/portkey/package-lock.json)"
  mkdir -p "$PORTKEY_DIR"
  rm -rf "$PORTKEY_DIR/node_modules"
  cp "$PORTKEY_SRC/package.json" "$PORTKEY_SRC/package-lock.json" "$PORTKEY_DIR/"
  if ! (cd "$PORTKEY_DIR" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund \
        --fetch-retries=2 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000) >"$WORK/npm.log" 2>&1 ||
     [[ ! -f "$PORTKEY_JS" ]]; then
    SKIP[portkey]="npm ci failed (registry unreachable?): $(grep -m 3 -E 'npm (error|ERR)' "$WORK/npm.log" | tr '\n' ' ')"
    rm -f "$PORTKEY_DIR/package-lock.json"  # try again next time
    return 1
  fi
}
if has portkey "${SETUPS[@]}" && install_portkey; then
  VERSION[portkey]="@portkey-ai/gateway $(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PORTKEY_DIR/node_modules/@portkey-ai/gateway/package.json" | head -n1) on node $(node --version)"
fi
[[ -n "${SKIP[portkey]:-}" ]] && log "SKIP portkey: ${SKIP[portkey]}"

log "starting the mock (1 thread, $TOKENS tokens by default)"
"${PIN_SUT[@]}" "$MOCK" --address 127.0.0.1 --port 0 --threads 1 --tokens "$TOKENS" \
  >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!; STARTED_PIDS+=("$MOCK_PID")
MOCK_PORT="$(wait_for_line "$WORK/mock.out" 'listening on [0-9.]+:[0-9]+' "$MOCK_PID")" ||
  { cat "$WORK/mock.err" >&2; die "the mock did not start"; }
MOCK_PORT="${MOCK_PORT##*:}"
PORT[mock]="$MOCK_PORT"; PID[mock]="$MOCK_PID"

AUTH='Authorization: Bearer sk-bench-not-a-real-key'
for s in "${ALL_SETUPS[@]}"; do SETUP_HEADERS[$s]="$AUTH"; done
# Portkey: the OpenAI provider at a custom host (the mock); it forwards the mock's knobs only
# when told to.
SETUP_HEADERS[portkey]="$AUTH
x-portkey-provider: openai
x-portkey-custom-host: http://127.0.0.1:$MOCK_PORT/v1
x-portkey-forward-headers: x-mock-tokens,x-mock-gap-ms"

NGINX_DIR="$WORK/nginx"
start_nginx() {
  local attempt port pid
  mkdir -p "$NGINX_DIR/tmp"
  chmod 755 "$WORK" "$NGINX_DIR" "$NGINX_DIR/tmp"  # workers may run as nobody when root
  for attempt in 1 2 3 4 5; do
    port="$(free_port)" || break
    cat >"$NGINX_DIR/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR/tmp/client_body;
  client_max_body_size 16m;
  client_body_buffer_size 1m;  # a 32k-token prompt stays in memory, as in the others
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  keepalive_requests 1000000;  # as switchyard: no forced reconnects of wrk's connections
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
    : >"$NGINX_DIR/error.log"
    "${PIN_SUT[@]}" "$NGINX_BIN" -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" -c "$NGINX_DIR/nginx.conf" \
      >"$WORK/nginx.out" 2>&1 &
    pid=$!
    if wait_for_port "$port" "$pid"; then
      STARTED_PIDS+=("$pid"); PORT[nginx]="$port"; PID[nginx]="$pid"
      return 0
    fi
    stop_pid "$pid"
    log "nginx did not start on port $port (attempt $attempt):"
    cat "$WORK/nginx.out" "$NGINX_DIR/error.log" >&2
  done
  return 1
}
if has nginx "${SETUPS[@]}"; then
  log "starting nginx (worker_processes 1, keepalive 64, proxy_buffering off)"
  start_nginx || SKIP[nginx]="nginx did not start (see the log above)"
  VERSION[nginx]="$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //') (worker_processes 1, upstream keepalive 64, proxy_buffering off, HTTP/1.1 upstream)"
fi

if has switchyard "${SETUPS[@]}" || has auto "${SETUPS[@]}"; then
  # Three tiers on the one mock, so `auto` classifies and routes as in production, and a
  # ledger in the temp dir, so every request is accounted (priced, written in batches).
  cat >"$WORK/switchyard.yaml" <<EOF
listen:
  address: 127.0.0.1
  port: 0
  max_body_bytes: 16MiB
upstreams:
  - name: mock
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    max_connections: $(( STREAMS + 128 ))
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
  - name: llama-3.1-8b
    upstream: mock
    tier: 1
    prices: { input: 0.05, output: 0.08 }
profiles:
  - name: auto
accounting:
  ledger: $WORK/ledger.db
EOF
  log "starting switchyard (--threads 1, access log off, ledger $WORK/ledger.db)"
  "${PIN_SUT[@]}" "$SWITCHYARD" serve --config "$WORK/switchyard.yaml" --port 0 --threads 1 \
    --access-log off >"$WORK/switchyard.out" 2>"$WORK/switchyard.err" &
  pid=$!
  if port="$(wait_for_line "$WORK/switchyard.err" 'listening on http://[0-9.]+:[0-9]+' "$pid")"; then
    STARTED_PIDS+=("$pid")
    PORT[switchyard]="${port##*:}"; PID[switchyard]="$pid"
    PORT[auto]="${port##*:}"; PID[auto]="$pid"
  else
    cat "$WORK/switchyard.err" >&2
    SKIP[switchyard]="switchyard did not start: $(tail -n 3 "$WORK/switchyard.err" | tr '\n' ' ')"
    SKIP[auto]="${SKIP[switchyard]}"
  fi
  VERSION[switchyard]="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$ROOT" diff --quiet HEAD -- proxy config classifiers 2>/dev/null ||
    VERSION[switchyard]="${VERSION[switchyard]} (+ uncommitted changes in proxy/, config/ or classifiers/)"
fi

if has portkey "${SETUPS[@]}" && [[ -z "${SKIP[portkey]:-}" ]]; then
  log "starting the Portkey gateway (node, --headless)"
  started=0
  for attempt in 1 2 3; do
    port="$(free_port)" || break
    NODE_ENV=production "${PIN_SUT[@]}" node "$PORTKEY_JS" --port="$port" --headless >"$WORK/portkey.out" 2>"$WORK/portkey.err" &
    pid=$!
    if wait_for_port "$port" "$pid" 300; then
      STARTED_PIDS+=("$pid"); PORT[portkey]="$port"; PID[portkey]="$pid"; started=1
      break
    fi
    stop_pid "$pid"
  done
  (( started )) || SKIP[portkey]="the gateway did not start: $(tail -n 3 "$WORK/portkey.err" | tr '\n' ' ')"
fi

# Smoke test: each setup answers a chat request with 200 and relays a whole stream (the event
# count shows that the x-mock-* headers reached the mock).
smoke() {  # setup
  local s="$1" model st out events
  model="$(model_of "$s")"
  st="$(http_status "${PORT[$s]}" "$WORK/body-chat-$model.json" "${SETUP_HEADERS[$s]}")"
  [[ "$st" == 200 ]] || { SKIP[$s]="answered '$st' to a chat request (expected 200)"; return 1; }
  local -a hdr=()
  while IFS= read -r h; do [[ -n "$h" ]] && hdr+=(-H "$h"); done <<<"${SETUP_HEADERS[$s]}"
  out="$("$LOAD" streams --url "http://127.0.0.1:${PORT[$s]}/v1/chat/completions" \
    --body-file "$WORK/body-stream-$model.json" "${hdr[@]}" -H 'x-mock-tokens: 5' -H 'x-mock-gap-ms: 1' \
    --streams 2 --gap-ms 1 --ramp 0 --timeout 10 2>&1)"
  events="$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' <<<"$out")"
  # role + 5 content + finish + [DONE] per stream, + a usage chunk if the setup asks for it
  # (without x-mock-tokens reaching the mock, a stream has $TOKENS tokens)
  if [[ -z "$events" ]] || (( events < 16 || events > 18 )); then
    SKIP[$s]="a 5-token stream did not arrive whole (events: ${events:-none}, expected 16): $(head -c 300 <<<"$out")"
    return 1
  fi
}
for s in "${SETUPS[@]}"; do
  [[ -n "${SKIP[$s]:-}" ]] && continue
  smoke "$s" || log "SKIP $s: ${SKIP[$s]}"
done
ACTIVE=()
for s in "${SETUPS[@]}"; do [[ -z "${SKIP[$s]:-}" ]] && ACTIVE+=("$s"); done
(( ${#ACTIVE[@]} > 0 )) || die "no setup is usable"
log "ports: $(for s in "${ACTIVE[@]}"; do printf '%s %s  ' "$s" "${PORT[$s]}"; done)"
for s in "${ACTIVE[@]}"; do [[ "$s" != mock ]] && RSS_IDLE[$s]="$(tree_rss_kb "${PID[$s]}")"; done

# ---------------------------------------------------------------------------------------------
# Measurements.
RUNS="$WORK/runs.jsonl"  # one JSON object per run
: >"$RUNS"
n_wrk=0; n_rate=0; n_streams=0
for sc in "${SCENARIOS[@]}"; do
  case "$sc" in
    streams) n_streams=$(( ${#ACTIVE[@]} * STREAMS_REPS )) ;;
    rate) n_rate=$(( ${#ACTIVE[@]} * REPS )) ;;
    *) n_wrk=$(( n_wrk + ${#ACTIVE[@]} * REPS )) ;;
  esac
done
est=$(( (n_wrk + n_rate) * (WARMUP + DURATION + 1) + n_streams * (WARMUP + ${RAMP%.*} + SLOW_TOKENS * SLOW_GAP_MS / 1000 + 4) ))
log "$((n_wrk + n_rate + n_streams)) measurements (${WARMUP}s warm-up + ${DURATION}s each, $REPS reps): about $((est / 60))m$((est % 60))s"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
T_START=$(date +%s)

# Runs a load generator in the background and waits for it: a trapped signal interrupts `wait`
# at once (a foreground command would first run to its end).
run_bg() { "$@" & wait $!; }
lua_for() {  # scenario setup -> the wrk script (written once)
  local f="$WORK/$1-$2.lua"
  [[ -f "$f" ]] || write_lua "$f" "$WORK/body-$(body_kind "$1")-$(model_of "$2").json" \
    "${SETUP_HEADERS[$2]}
$(scenario_headers "$1")"
  echo "$f"
}
run_wrk() {  # setup lua conns seconds outfile
  local url="http://127.0.0.1:${PORT[$1]}/v1/chat/completions"
  WRK_CONNECTIONS="$3" run_bg timeout $(( $4 + 30 )) "${PIN_LOAD[@]}" wrk -t1 -c"$3" -d"$4"s --timeout 10s --latency -s "$2" "$url" \
    >"$5" 2>&1
}
load_args() {  # scenario setup -> the common switchyard-load arguments, one per line
  local s="$2"
  echo "--url"; echo "http://127.0.0.1:${PORT[$s]}/v1/chat/completions"
  echo "--body-file"; echo "$WORK/body-$(body_kind "$1")-$(model_of "$s").json"
  while IFS= read -r h; do [[ -n "$h" ]] && { echo "-H"; echo "$h"; }; done <<<"${SETUP_HEADERS[$s]}
$(scenario_headers "$1")"
  [[ "$s" != mock ]] && { echo "--watch"; echo "proxy=${PID[$s]}"; }
  echo "--watch"; echo "mock=$MOCK_PID"
}
check_alive() {  # setup scenario rep
  local s="$1" st=0
  kill -0 "${PID[$s]}" 2>/dev/null && return 0
  wait "${PID[$s]}" 2>/dev/null || st=$?
  local why="died during $2 run $3 (exit status $st$( ((st > 128)) && echo ", signal $(kill -l $((st - 128)) 2>/dev/null)"))"
  log "ERROR: $s $why; its stderr:"
  tail -n 30 "$WORK/$s.err" "$NGINX_DIR/error.log" 2>/dev/null >&2
  DEAD[$s]="$why"
  [[ "$s" == switchyard ]] && DEAD[auto]="$why"
  [[ "$s" == auto ]] && DEAD[switchyard]="$why"
  return 1
}
record() { printf '%s\n' "$1" >>"$RUNS"; }

measure_wrk() {  # scenario setup rep
  local sc="$1" s="$2" rep="$3" lua conns out json t0 t1 m0 m1 tm
  conns="$CONNS"; [[ "$sc" == latency ]] && conns=1
  lua="$(lua_for "$sc" "$s")"
  out="$WORK/wrk-$sc-$s-$rep.txt"
  run_wrk "$s" "$lua" "$conns" "$WARMUP" "$WORK/warmup.txt"
  t0=$(tree_ticks "${PID[$s]}"); m0=$(proc_ticks "$MOCK_PID")
  # bash's time reports wrk's CPU (user+sys) and wall time: near 100% means wrk is the limit.
  { TIMEFORMAT='%U %S %R'; time run_wrk "$s" "$lua" "$conns" "$DURATION" "$out"; } 2>"$out.time"
  t1=$(tree_ticks "${PID[$s]}"); m1=$(proc_ticks "$MOCK_PID")
  check_alive "$s" "$sc" "$rep"
  json="$(grep -m1 '^WRKJSON ' "$out" | cut -d' ' -f2-)"
  if [[ -z "$json" ]]; then
    log "ERROR: wrk gave no summary for $sc/$s run $rep:"; head -c 2000 "$out" >&2
    return
  fi
  read -r tm <"$out.time"
  [[ "$s" == mock ]] && { t0=0; t1=0; }
  record "{\"scenario\":\"$sc\",\"setup\":\"$s\",\"rep\":$rep,\"tool\":\"wrk\",\"connections\":$conns,\"proxy_ticks\":$((t1 - t0)),\"mock_ticks\":$((m1 - m0)),\"wrk_time\":$(json_str "$tm"),\"wrk\":$json}"
}

measure_rate() {  # setup rep
  local s="$1" rep="$2" out json
  local -a args
  mapfile -t args < <(load_args rate "$s")
  out="$WORK/load-rate-$s-$rep.txt"
  run_bg timeout $(( WARMUP + DURATION + 60 )) "${PIN_LOAD[@]}" "$LOAD" rate "${args[@]}" --rate "$RATE" \
    --warmup "$WARMUP" --duration "$DURATION" --connections 512 --latencies-out "$WORK/latencies-rate-$s-$rep.txt" \
    >"$out" 2>&1
  check_alive "$s" rate "$rep"
  json="$(grep -m1 '^LOADJSON ' "$out" | cut -d' ' -f2-)"
  [[ -n "$json" ]] || { log "ERROR: switchyard-load gave no summary for rate/$s run $rep:"; head -c 2000 "$out" >&2; return; }
  record "{\"scenario\":\"rate\",\"setup\":\"$s\",\"rep\":$rep,\"tool\":\"load\",\"load\":$json}"
}

measure_streams() {  # setup rep
  local s="$1" rep="$2" out json
  local -a args
  mapfile -t args < <(load_args streams "$s")
  run_wrk "$s" "$(lua_for stream "$s")" "$CONNS" "$WARMUP" "$WORK/warmup.txt"  # warm-up
  sleep 1
  [[ "$s" != mock ]] && RSS_BEFORE_STREAMS[$s]="$(tree_rss_kb "${PID[$s]}")"
  out="$WORK/load-streams-$s-$rep.txt"
  local timeout_s=$(( ${RAMP%.*} + SLOW_TOKENS * SLOW_GAP_MS / 1000 + 30 ))
  run_bg timeout $(( timeout_s + 30 )) "${PIN_LOAD[@]}" "$LOAD" streams "${args[@]}" --streams "$STREAMS" \
    --gap-ms "$SLOW_GAP_MS" --ramp "$RAMP" --threshold-ms 5 --timeout "$timeout_s" \
    --delays-out "$WORK/delays-$s-$rep.txt" >"$out" 2>&1
  check_alive "$s" streams "$rep"
  json="$(grep -m1 '^LOADJSON ' "$out" | cut -d' ' -f2-)"
  [[ -n "$json" ]] || { log "ERROR: switchyard-load gave no summary for streams/$s run $rep:"; head -c 2000 "$out" >&2; return; }
  record "{\"scenario\":\"streams\",\"setup\":\"$s\",\"rep\":$rep,\"tool\":\"load\",\"load\":$json}"
}

for sc in "${SCENARIOS[@]}"; do
  reps="$REPS"; [[ "$sc" == streams ]] && reps="$STREAMS_REPS"
  for ((rep = 1; rep <= reps; rep++)); do
    log "$sc, run $rep/$reps: ${ACTIVE[*]}"
    for s in "${ACTIVE[@]}"; do
      [[ -n "${DEAD[$s]:-}" ]] && continue
      case "$sc" in
        rate) measure_rate "$s" "$rep" ;;
        streams) measure_streams "$s" "$rep" ;;
        *) measure_wrk "$sc" "$s" "$rep" ;;
      esac
    done
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
log "measured in $(( $(date +%s) - T_START ))s"

# Paths relative to the repository: results are committed.
SY_STDERR=""
[[ -n "${PID[switchyard]:-}" ]] && SY_STDERR="$(grep -v 'listening on' "$WORK/switchyard.err" | head -n 20 | sed "s|$ROOT/||g")"
NGINX_ERRLOG=""
[[ -f "$NGINX_DIR/error.log" ]] && NGINX_ERRLOG="$(grep -v '\[notice\]' "$NGINX_DIR/error.log" | head -n 20 | sed "s|$ROOT/||g")"
PORTKEY_STDERR=""
[[ -f "$WORK/portkey.err" ]] && PORTKEY_STDERR="$(head -n 20 "$WORK/portkey.err" | sed "s|$ROOT/||g")"

# ---------------------------------------------------------------------------------------------
# The report.
jmap() {  # name of an associative array -> {"k":"v",...}
  local -n m="$1"
  local first=1 k
  printf '{'
  for k in "${!m[@]}"; do (( first )) || printf ','; first=0; printf '%s:%s' "$(json_str "$k")" "$(json_str "${m[$k]}")"; done
  printf '}'
}
jlist() { local first=1 x; printf '['; for x in "$@"; do (( first )) || printf ','; first=0; json_str "$x"; done; printf ']'; }
CPU_MODEL="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
[[ -z "$CPU_MODEL" ]] && CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)"
VERSION[wrk]="$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}')"
VERSION[mock]="switchyard-mock (1 thread)"
COMMAND="bash bench/compare/run.sh$( ((QUICK)) && echo ' --quick')"
cat >"$WORK/meta.json" <<EOF
{
  "date": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
  "command": $(json_str "$COMMAND"),
  "machine": {"nproc": $NPROC, "cpu_model": $(json_str "$CPU_MODEL"), "kernel": $(json_str "$(uname -sr)"), "clk_tck": $CLK_TCK, "loadavg_before": $(json_str "$LOAD_BEFORE"), "loadavg_after": $(json_str "$LOAD_AFTER")},
  "versions": $(jmap VERSION),
  "settings": {"layout": $(json_str "$LAYOUT"), "nice": $NICE, "warmup_s": $WARMUP, "duration_s": $DURATION, "reps": $REPS, "connections": $CONNS, "tokens": $TOKENS, "stream_tokens": $STREAM_TOKENS, "stream_gap_ms": $STREAM_GAP_MS, "rate": $RATE, "streams": $STREAMS, "slow_tokens": $SLOW_TOKENS, "slow_gap_ms": $SLOW_GAP_MS, "ramp_s": $RAMP, "streams_reps": $STREAMS_REPS, "quick": $QUICK, "median_by": "rps"},
  "setups": $(jlist "${SETUPS[@]}"),
  "scenarios": $(jlist "${SCENARIOS[@]}"),
  "skipped": $(jmap SKIP),
  "crashed": $(jmap DEAD),
  "rss_idle_kb": $(jmap RSS_IDLE),
  "rss_before_streams_kb": $(jmap RSS_BEFORE_STREAMS),
  "body_bytes": {"chat": $(wc -c <"$WORK/body-chat-auto.json"), "long8k": $(wc -c <"$WORK/body-long8k-auto.json"), "long32k": $(wc -c <"$WORK/body-long32k-auto.json")},
  "notes": {"switchyard_stderr": $(json_str "$SY_STDERR"), "nginx_error_log": $(json_str "$NGINX_ERRLOG"), "portkey_stderr": $(json_str "$PORTKEY_STDERR")}
}
EOF
mkdir -p "$RESULTS_DIR"
python3 "$ROOT/bench/compare/report.py" --runs "$RUNS" --meta "$WORK/meta.json" \
  --md "$RESULTS_DIR/proxy-compare.md" --json "$RESULTS_DIR/proxy-compare.json" --ledger "$WORK/ledger.db" ||
  die "report.py failed (raw runs: $RUNS; KEEP_WORK=1 keeps them)"
log "wrote $RESULTS_DIR/proxy-compare.md and $RESULTS_DIR/proxy-compare.json"
cat "$RESULTS_DIR/proxy-compare.md"
(( ${#DEAD[@]} == 0 )) || exit 1
