#!/usr/bin/env bash
# deploy/ against a real Prometheus: the scrape config, the alert rules and every query of
# the Grafana dashboard, with switchyard in front of two mock upstreams, all on loopback.
#   usage: bash tests/deploy/run_deploy_test.sh BUILD_DIR   (BUILD_DIR holds switchyard and
#          switchyard-mock)
# Steps: promtool checks the config and rules and runs tests/deploy/alerts_test.yml; the
# mocks, the proxy (tests/deploy/switchyard.yaml) and a Prometheus scraping it every second
# start on ephemeral ports; a short workload goes through the proxy with curl (two tenants'
# keys, `auto` and explicit models, streams with and without usage, errors); once Prometheus
# has scraped the result, every dashboard query (panels and variables, with Grafana's
# variables replaced by concrete values) and every alert rule is evaluated through
# /api/v1/query. A dashboard query must parse and return data, with the labels its legend
# shows ({{tier}} needs a tier label); an alert rule must parse,
# evaluate without error inside Prometheus, and read only metrics switchyard exports.
# `promtool check metrics` lints the proxy's /metrics.
# Exit codes: 0 passed; 77 skipped (no prometheus/promtool, jq or curl); 1 failed. Every
# process it starts is stopped and its temporary directory removed on every path.
# Environment: DEPLOY_TEST_CONFIG overrides the proxy config; DEPLOY_TEST_KEEP=1 keeps the
# temporary directory (logs, Prometheus data, /metrics) and prints its path.
set -euo pipefail

readonly SKIP=77
readonly STARTUP_TIMEOUT_S=15   # mocks, proxy, Prometheus listening and ready
readonly SCRAPES_AFTER_WORKLOAD=3

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build_dir="${1:?usage: run_deploy_test.sh BUILD_DIR}"
build_dir="$(cd "$build_dir" && pwd)"
proxy_bin="$build_dir/switchyard"
mock_bin="$build_dir/switchyard-mock"
dashboard="$root/deploy/grafana/switchyard.json"
prom_config="$root/deploy/prometheus/prometheus.yml"
alert_rules="$root/deploy/prometheus/alerts.yml"
alert_tests="$here/alerts_test.yml"
proxy_config="${DEPLOY_TEST_CONFIG:-$here/switchyard.yaml}"

# Values for Grafana's variables: a rate window several scrapes wide, a range covering the
# whole test, every value of each template variable.
readonly RATE_INTERVAL=1m INTERVAL=15s RANGE=5m RANGE_S=300 RANGE_MS=300000

log() { echo "deploy: $*" >&2; }

# ---- preconditions: tools we do not build are a skip, our binaries a failure ----
prometheus_bin="$(command -v prometheus || true)"
promtool_bin="$(command -v promtool || true)"
missing=()
[[ -n "$prometheus_bin" ]] || missing+=(prometheus)
[[ -n "$promtool_bin" ]] || missing+=("promtool (package prometheus)")
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  log "SKIP: not installed: ${missing[*]} (apt-get install prometheus jq curl; bash dev.sh test does)"
  exit $SKIP
fi
for bin in "$proxy_bin" "$mock_bin"; do
  if [[ ! -x "$bin" ]]; then
    log "FAIL: $bin is not built (cmake --build $build_dir --target switchyard switchyard-mock)"
    exit 1
  fi
done
log "$("$prometheus_bin" --version 2>&1 | head -n 1)"

# ---- cleanup on every path ----
work="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-deploy.XXXXXX")"
pids=()  # "name:pid", stopped in reverse order
show_logs=0


cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  if ((rc != 0 && rc != SKIP)) || ((show_logs)); then
    for f in cloud.out edge.out proxy.err prometheus.log; do
      [[ -s "$work/$f" ]] || continue
      echo "---- $f (last 30 lines) ----" >&2
      tail -n 30 "$work/$f" >&2
    done
  fi
  if [[ "${DEPLOY_TEST_KEEP:-0}" == 1 ]]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE SED_EXPR PID WHAT (shared with the other test scripts)
source "$(dirname "${BASH_SOURCE[0]}")/../process_helpers.sh"

failures=0
fail() { log "FAIL: $*"; failures=$((failures + 1)); }

# ---- static checks ----
if ! "$promtool_bin" check config "$prom_config" >"$work/check-config.out" 2>&1; then
  cat "$work/check-config.out" >&2
  fail "promtool check config deploy/prometheus/prometheus.yml"
fi
if ! "$promtool_bin" check rules "$alert_rules" >"$work/check-rules.out" 2>&1; then
  cat "$work/check-rules.out" >&2
  fail "promtool check rules deploy/prometheus/alerts.yml"
fi
if ! "$promtool_bin" test rules "$alert_tests" >"$work/test-rules.out" 2>&1; then
  cat "$work/test-rules.out" >&2
  fail "promtool test rules tests/deploy/alerts_test.yml"
fi
log "promtool: config, rules and rule unit tests checked"
if ! jq -e . "$dashboard" >/dev/null; then
  log "FAIL: $dashboard is not valid JSON"
  exit 1
fi
# Every panel and query reads the data source variable; panel ids are unique.
bad_ds="$(jq -r '[.panels[] | ., (.panels // [])[] | select(.type != "row")
                  | select(.datasource.uid != "${datasource}"
                           or any(.targets[]?; .datasource.uid != "${datasource}"))
                  | .title] | join(", ")' "$dashboard")"
[[ -z "$bad_ds" ]] || fail "dashboard panels not on \${datasource}: $bad_ds"
dup_ids="$(jq -r '[.panels[] | ., (.panels // [])[] | .id] | group_by(.) | map(select(length > 1)[0])
                  | map(tostring) | join(", ")' "$dashboard")"
[[ -z "$dup_ids" ]] || fail "dashboard panel ids used twice: $dup_ids"

# ---- mock upstreams; a port nobody listens on for the upstream that is down ----
start_mock() {  # start_mock NAME: sets mock_port (runs in this shell, so its pid is tracked)
  "$mock_bin" --address 127.0.0.1 --port 0 --threads 1 --ttfb-ms 20 --gap-ms 2 \
    >"$work/$1.out" 2>&1 &
  local pid=$!
  pids+=("$1:$pid")
  mock_port="$(wait_for_line "$work/$1.out" \
    's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$pid" "$1")"
}
start_mock cloud
cloud_port="$mock_port"
start_mock edge
edge_port="$mock_port"
# An ephemeral port that was just free: a mock binds it and exits.
"$mock_bin" --address 127.0.0.1 --port 0 >"$work/down.out" 2>&1 &
down_pid=$!
down_port="$(wait_for_line "$work/down.out" \
  's/^switchyard-mock listening on [^ ]*:\([0-9][0-9]*\)$/\1/p' "$down_pid" "port finder")"
stop port-finder "$down_pid"
log "mock upstreams on 127.0.0.1:$cloud_port (cloud), :$edge_port (edge); :$down_port is down"

# ---- proxy ----
export DEPLOY_CLOUD_PORT="$cloud_port" DEPLOY_EDGE_PORT="$edge_port" DEPLOY_DOWN_PORT="$down_port"
export DEPLOY_LEDGER="$work/ledger.db"
export SY_WEB_KEY="sk-deploy-web-$$" SY_BATCH_KEY="sk-deploy-batch-$$"
export SWITCHYARD_ADMIN_KEY="sk-deploy-admin-$$"
if ! "$proxy_bin" check-config "$proxy_config" >"$work/check-config-proxy.out" 2>&1; then
  cat "$work/check-config-proxy.out" >&2
  log "FAIL: switchyard check-config $proxy_config"
  exit 1
fi
"$proxy_bin" serve --config "$proxy_config" --threads 2 --access-log off \
  2>"$work/proxy.err" >/dev/null &
proxy_pid=$!
pids+=("switchyard:$proxy_pid")
proxy_addr="$(wait_for_line "$work/proxy.err" \
  's|^switchyard listening on http://\([^ ]*:[0-9][0-9]*\).*|\1|p' "$proxy_pid" switchyard)"
proxy="http://$proxy_addr"
log "proxy on $proxy"

# ---- Prometheus: deploy/prometheus/prometheus.yml, pointed at the proxy, every second ----
# The copy keeps everything but the target, the intervals and the rule file's path.
sed -e "s|\"localhost:8080\"|\"$proxy_addr\"|" \
    -e 's|^\(  *scrape_interval:\).*|\1 1s|' \
    -e 's|^\(  *evaluation_interval:\).*|\1 1s|' \
    -e 's|^\(  *scrape_timeout:\).*|\1 1s|' \
    -e "s|^\(  *- \)alerts.yml\(.*\)|\1$alert_rules\2|" \
    "$prom_config" >"$work/prometheus.yml"
for want in "$proxy_addr" "scrape_interval: 1s" "evaluation_interval: 1s" "$alert_rules"; do
  grep -qF -- "$want" "$work/prometheus.yml" ||
    { log "FAIL: could not adapt prometheus.yml for the test ($want)"; exit 1; }
done
"$prometheus_bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
  --web.listen-address=127.0.0.1:0 --log.level=info >"$work/prometheus.log" 2>&1 &
prom_pid=$!
pids+=("prometheus:$prom_pid")
prom_addr="$(wait_for_line "$work/prometheus.log" \
  's/.*msg="Listening on" address=\([0-9.]*:[0-9][0-9]*\).*/\1/p' "$prom_pid" prometheus)"
prom="http://$prom_addr"
log "prometheus on $prom"

# query EXPR: the JSON answer of an instant query (never fails: errors are in the JSON).
query() {
  curl -sS --max-time 10 --get --data-urlencode "query=$1" "$prom/api/v1/query" 2>&1 ||
    echo '{"status":"error","errorType":"transport","error":"no answer from Prometheus"}'
}
# scrapes: how many scrapes of the proxy Prometheus holds (0 before the first).
scrapes() {
  query 'count_over_time(up{job="switchyard"}[1h])' |
    jq -r '(.data.result[0].value[1] // "0") | tonumber | floor' 2>/dev/null || echo 0
}
wait_for_scrapes() {  # wait_for_scrapes N WHAT
  local deadline=$((SECONDS + STARTUP_TIMEOUT_S)) n
  while n="$(scrapes)"; ((n < $1)); do
    kill -0 "$prom_pid" 2>/dev/null || { log "FAIL: prometheus exited"; exit 1; }
    if ((SECONDS >= deadline)); then
      log "FAIL: prometheus holds $n scrapes of the proxy, not $1, after ${STARTUP_TIMEOUT_S}s ($2)"
      exit 1
    fi
    sleep 0.2
  done
}
wait_for_scrapes 2 "before the workload"
if [[ "$(query 'up{job="switchyard"}' | jq -r '.data.result[0].value[1] // "none"')" != 1 ]]; then
  log "FAIL: prometheus cannot scrape the proxy: $(curl -sS "$prom/api/v1/targets" |
    jq -c '[.data.activeTargets[] | {scrapeUrl, health, lastError}]')"
  exit 1
fi

# ---- workload ----
unexpected=0
# call NAME EXPECTED_STATUS_REGEX [curl args...]: one request; the body is discarded.
call() {
  local name="$1" want="$2" code
  shift 2
  code="$(curl -sS -N --max-time 15 -o /dev/null -w '%{http_code}' "$@" 2>/dev/null)" || true
  if [[ "$code" =~ ^($want)$ ]]; then
    printf '  %-44s %s\n' "$name" "$code" >&2
  else
    printf '  %-44s %s (expected %s)\n' "$name" "$code" "$want" >&2
    unexpected=$((unexpected + 1))
  fi
}
chat() {  # chat NAME EXPECTED KEY BODY [extra curl args]
  local name="$1" want="$2" key="$3" body="$4"
  shift 4
  call "$name" "$want" "$proxy/v1/chat/completions" -H 'content-type: application/json' \
    -H "authorization: Bearer $key" -d "$body" "$@"
}
msg() { printf '{"role":"user","content":"%s"}' "$1"; }
hello="$(msg 'Hello there!')"
hard="$(msg 'Prove that the square root of 2 is irrational, then write a Rust function that checks a proof of it step by step, with tests, and explain the complexity.')"
mid="$(msg 'Summarize in three bullet points: the meeting moved the launch to May and the budget grew by 10 percent.')"
usage='"stream_options":{"include_usage":true}'
log "workload:"
for round in 1 2; do
  chat "acme auto hello #$round" 200 "$SY_WEB_KEY" "{\"model\":\"auto\",\"messages\":[$hello]}"
  chat "acme auto hard #$round" 200 "$SY_WEB_KEY" "{\"model\":\"auto\",\"messages\":[$hard]}"
  chat "globex auto summary #$round" 200 "$SY_BATCH_KEY" "{\"model\":\"auto\",\"messages\":[$mid]}"
  chat "globex gpt-4o #$round" 200 "$SY_BATCH_KEY" "{\"model\":\"gpt-4o\",\"messages\":[$hard]}"
  chat "acme gpt-4o-mini #$round" 200 "$SY_WEB_KEY" "{\"model\":\"gpt-4o-mini\",\"messages\":[$mid]}"
  chat "acme llama3.2-3b #$round" 200 "$SY_WEB_KEY" "{\"model\":\"llama3.2-3b\",\"messages\":[$hello]}"
  chat "acme auto stream + usage #$round" 200 "$SY_WEB_KEY" \
    "{\"model\":\"auto\",\"stream\":true,$usage,\"messages\":[$hard]}"
  chat "globex auto stream #$round" 200 "$SY_BATCH_KEY" \
    "{\"model\":\"auto\",\"stream\":true,\"messages\":[$hello]}"
  chat "globex gpt-4o stream + usage #$round" 200 "$SY_BATCH_KEY" \
    "{\"model\":\"gpt-4o\",\"stream\":true,$usage,\"messages\":[$mid]}"
  chat "acme gpt-4o-mini stream #$round" 200 "$SY_WEB_KEY" \
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[$mid]}"
done
call "acme completions gpt-4o-mini" 200 "$proxy/v1/completions" -H 'content-type: application/json' \
  -H "authorization: Bearer $SY_WEB_KEY" -d '{"model":"gpt-4o-mini","prompt":"Say hi"}'
call "acme route explain" 200 "$proxy/v1/route/explain" -H 'content-type: application/json' \
  -H "authorization: Bearer $SY_WEB_KEY" -d "{\"model\":\"auto\",\"messages\":[$hard]}"
call "models" 200 "$proxy/v1/models" -H "authorization: Bearer $SY_WEB_KEY"
# Errors: proxy-made (unknown model, bad JSON, no key), upstream-made (x-mock-status), and an
# upstream nobody listens on.
chat "acme unknown model" 404 "$SY_WEB_KEY" "{\"model\":\"no-such-model\",\"messages\":[$hello]}"
chat "acme malformed JSON" 400 "$SY_WEB_KEY" '{"model":"auto","messages":['
chat "no key" '401|200' "" "{\"model\":\"gpt-4o-mini\",\"messages\":[$hello]}"
chat "globex gpt-4o-mini upstream 500" 500 "$SY_BATCH_KEY" \
  "{\"model\":\"gpt-4o-mini\",\"messages\":[$mid]}" -H 'x-mock-status: 500'
chat "acme auto upstream 500 (fallbacks too)" 500 "$SY_WEB_KEY" \
  "{\"model\":\"auto\",\"messages\":[$hello]}" -H 'x-mock-status: 500'
chat "globex gpt-4o upstream 429" 429 "$SY_BATCH_KEY" \
  "{\"model\":\"gpt-4o\",\"messages\":[$hello]}" -H 'x-mock-status: 429'
chat "acme legacy-model (upstream down)" 502 "$SY_WEB_KEY" \
  "{\"model\":\"legacy-model\",\"messages\":[$hello]}"
chat "acme auto stream upstream reset" '200|502' "$SY_WEB_KEY" \
  "{\"model\":\"auto\",\"stream\":true,$usage,\"messages\":[$hello]}" -H 'x-mock-fault: reset-mid'
((unexpected == 0)) || log "note: $unexpected workload requests had an unexpected status (not a failure of this test)"

# The last scrape must postdate the workload (a ledger flush and a few more scrapes).
after="$(scrapes)"
wait_for_scrapes $((after + SCRAPES_AFTER_WORKLOAD)) "after the workload"
log "prometheus holds $(scrapes) scrapes of the proxy"

# ---- promtool check metrics on the proxy's /metrics ----
curl -sS --max-time 5 "$proxy/metrics" >"$work/metrics.txt"
if "$promtool_bin" check metrics <"$work/metrics.txt" >"$work/check-metrics.out" 2>&1; then
  log "promtool check metrics: ok ($(grep -c '^switchyard_' "$work/metrics.txt") switchyard_ samples)"
else
  sed 's/^/  /' "$work/check-metrics.out" >&2
  fail "promtool check metrics on the proxy's /metrics"
fi
metric_exported() {  # metric_exported NAME: a sample of NAME is in /metrics
  grep -q "^$1[{ ]" "$work/metrics.txt"
}
missing_metrics() {  # missing_metrics EXPR: the switchyard_* names EXPR reads that /metrics lacks
  local name out=()
  while IFS= read -r name; do
    metric_exported "$name" || out+=("$name")
  done < <(grep -o 'switchyard_[a-zA-Z0-9_]*' <<<"$1" | sort -u)
  echo "${out[*]:-}"
}

# substitute EXPR: Grafana's variables replaced by the values above. Template variables
# ($model, ${model}, ${model:regex}, ...) become .*, every value. (No variable's name may
# start another's: $model would also match the start of $models.)
template_vars="$(jq -r '.templating.list[] | select(.type != "datasource") | .name' "$dashboard")"
substitute() {
  local e="$1" v
  for v in __rate_interval:$RATE_INTERVAL __range_ms:$RANGE_MS __range_s:$RANGE_S \
           __range:$RANGE __interval_ms:15000 __interval:$INTERVAL; do
    local name="${v%%:*}" value="${v#*:}"
    e="${e//"\${$name}"/$value}"
    e="${e//"\$$name"/$value}"
  done
  for v in $template_vars; do  # ${v:format} first, then ${v}, then $v
    while [[ "$e" =~ \$\{$v:[a-z]+\} ]]; do e="${e/"${BASH_REMATCH[0]}"/.*}"; done
    e="${e//"\${$v}"/.*}"
    e="${e//"\$$v"/.*}"
  done
  printf '%s' "$e"
}

# check_query KIND TITLE EXPR NEED_DATA [LABELS]: evaluates EXPR, prints one line, records
# failures. With NEED_DATA, EXPR must return data, and each of LABELS (those the panel's
# legend shows) must be set on at least one series of the result.
declare -a failed_lines=()
check_query() {
  local kind="$1" title="$2" expr="$3" need_data="$4" labels="${5:-}" answer status n missing
  local unset_labels=""
  if [[ "$expr" == *'$'* ]]; then
    failed_lines+=("$kind | $title | unsubstituted variable: $expr")
    printf '  FAIL   %-6s %s: a variable is left: %s\n' "$kind" "$title" "$expr" >&2
    return
  fi
  answer="$(query "$expr")"
  status="$(jq -r '.status // "error"' <<<"$answer" 2>/dev/null || echo error)"
  if [[ "$status" != success ]]; then
    local why
    why="$(jq -r '"\(.errorType // "?"): \(.error // .)"' <<<"$answer" 2>/dev/null || echo "$answer")"
    failed_lines+=("$kind | $title | does not evaluate: $why")
    printf '  FAIL   %-6s %s: %s\n         %s\n' "$kind" "$title" "$why" "$expr" >&2
    return
  fi
  n="$(jq -r 'if (.data.resultType == "vector" or .data.resultType == "matrix")
              then (.data.result | length) else 1 end' <<<"$answer")"
  missing="$(missing_metrics "$expr")"
  if ((need_data)) && ((n == 0)); then
    local why="no data"
    [[ -n "$missing" ]] && why="no data: switchyard does not export $missing"
    failed_lines+=("$kind | $title | $why")
    printf '  EMPTY  %-6s %s: %s\n         %s\n' "$kind" "$title" "$why" "$expr" >&2
  elif [[ -n "$missing" ]]; then
    failed_lines+=("$kind | $title | reads metrics switchyard does not export: $missing")
    printf '  FAIL   %-6s %s: reads metrics switchyard does not export: %s\n' "$kind" "$title" "$missing" >&2
  elif ((need_data)) && [[ -n "$labels" ]] &&
       unset_labels="$(jq -r --arg want "$labels" '($want | split(" ")) - [.data.result[].metric
                        | to_entries[] | select(.value != "") | .key] | join(" ")' <<<"$answer")" &&
       [[ -n "$unset_labels" ]]; then
    failed_lines+=("$kind | $title | no series has the legend's label(s): $unset_labels")
    printf '  FAIL   %-6s %s: no series has the legend'"'"'s label(s) %s\n         %s\n' \
      "$kind" "$title" "$unset_labels" "$expr" >&2
  else
    printf '  ok     %-6s %s (%s series)\n' "$kind" "$title" "$n" >&2
  fi
}

# ---- the dashboard's queries: every target of every panel (rows' too), every variable ----
log "dashboard queries (\$__rate_interval=$RATE_INTERVAL, \$__range=$RANGE, variables=.*):"
dashboard_queries=0
while IFS= read -r -d '' title && IFS= read -r -d '' expr && IFS= read -r -d '' labels; do
  dashboard_queries=$((dashboard_queries + 1))
  check_query panel "$title" "$(substitute "$expr")" 1 "$labels"
done < <(jq -j '.panels[] | ., (.panels // [])[] | select(has("targets"))
               | .title as $t | .targets[] | select((.expr // "") != "")
               | "\($t) [\(.refId)]", "\u0000", .expr, "\u0000",
                 ([(.legendFormat // "") | scan("\\{\\{ *([a-zA-Z_][a-zA-Z0-9_]*) *\\}\\}")[0]]
                  | unique | join(" ")), "\u0000"' "$dashboard")
# label_values(METRIC, LABEL) is Grafana's, not PromQL: the series it lists are these.
while IFS= read -r -d '' name && IFS= read -r -d '' definition; do
  dashboard_queries=$((dashboard_queries + 1))
  if [[ "$definition" =~ ^label_values\(([^,]+),[[:space:]]*([a-zA-Z_][a-zA-Z0-9_]*)\)$ ]]; then
    check_query var "\$$name = $definition" \
      "group by (${BASH_REMATCH[2]}) ($(substitute "${BASH_REMATCH[1]}"){${BASH_REMATCH[2]}!=\"\"})" 1
  else
    failed_lines+=("var | \$$name | not a label_values(metric, label) query: $definition")
    printf '  FAIL   var    $%s: not a label_values(metric, label) query: %s\n' "$name" "$definition" >&2
  fi
done < <(jq -j '.templating.list[] | select(.type == "query")
               | .name, "\u0000", (.definition // .query.query // .query), "\u0000"' "$dashboard")
if ((dashboard_queries < 20)); then
  fail "only $dashboard_queries dashboard queries found: the extraction is broken"
fi

# ---- the alert rules, as Prometheus loaded them; each evaluated at least once ----
rules_in_file="$(grep -cE '^[[:space:]]*-[[:space:]]+alert:' "$alert_rules")"
deadline=$((SECONDS + STARTUP_TIMEOUT_S))
while :; do
  rules_json="$(curl -sS --max-time 5 "$prom/api/v1/rules?type=alert" || echo '{}')"
  loaded="$(jq '[.data.groups[]?.rules[]?] | length' <<<"$rules_json")"
  unevaluated="$(jq '[.data.groups[]?.rules[]? | select(.lastEvaluation | startswith("0001-"))] | length' \
    <<<"$rules_json")"
  ((loaded == rules_in_file && unevaluated == 0)) && break
  if ((SECONDS >= deadline)); then
    fail "prometheus loaded $loaded of $rules_in_file alert rules, $unevaluated never evaluated"
    break
  fi
  sleep 0.2
done
log "alert rules ($loaded loaded from deploy/prometheus/alerts.yml; parse, evaluate, read exported metrics):"
while IFS= read -r -d '' name && IFS= read -r -d '' health && IFS= read -r -d '' last_error &&
      IFS= read -r -d '' expr; do
  if [[ "$health" == err ]]; then
    failed_lines+=("alert | $name | fails inside Prometheus: $last_error")
    printf '  FAIL   alert  %s: fails inside Prometheus: %s\n' "$name" "$last_error" >&2
    continue
  fi
  check_query alert "$name" "$expr" 0
done < <(jq -j '.data.groups[]?.rules[]?
               | .name, "\u0000", .health, "\u0000", (.lastError // ""), "\u0000", .query, "\u0000"' \
           <<<"$rules_json")

# ---- report ----
if ((${#failed_lines[@]})); then
  failures=$((failures + ${#failed_lines[@]}))
  log "${#failed_lines[@]} of $((dashboard_queries + loaded)) queries failed:"
  printf '  %s\n' "${failed_lines[@]}" >&2
  all_missing="$(printf '%s\n' "${failed_lines[@]}" | grep -o 'switchyard_[a-zA-Z0-9_]*' | sort -u |
    tr '\n' ' ')"
  [[ -n "$all_missing" ]] && log "metrics the queries need that switchyard does not export: $all_missing"
else
  log "all $((dashboard_queries + loaded)) queries evaluate (dashboard ones with data)"
fi
if ((failures)); then
  log "FAIL ($failures problems)"
  exit 1
fi
log "PASS"
