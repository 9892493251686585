#!/usr/bin/env bash
# Fuzzes every target of tests/fuzz/ (or the TARGETs named) for SECONDS each (default 60):
#   bash tests/fuzz/run.sh [SECONDS [TARGET...]]    TARGET: request sse config classifier tokenizer
# Installs clang-14 and libclang-rt-14-dev if missing, builds the libFuzzer binaries in
# build-fuzz (clang++-14, -DSWITCHYARD_FUZZ=ON), runs each seeded from tests/fuzz/corpus/<target>/
# (inputs it discovers stay in build-fuzz/corpus/<target>/, reused by the next run), and
# copies every crash, leak or timeout into tests/fuzz/corpus/<target>/crash-<sha1>, where the
# normal build replays it as a regression test. Exits 1 if any target found one.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_TARGET=${1:-60}
TARGETS=(request sse config classifier tokenizer)
(($# > 1)) && TARGETS=("${@:2}")
BUILD=build-fuzz

missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Optimised with debug info: fast enough to fuzz, with readable stacks.
nice -n 10 cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSWITCHYARD_FUZZ=ON >/dev/null
nice -n 10 cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}"

found=()
summary=()
for t in "${TARGETS[@]}"; do
  seeds=tests/fuzz/corpus/$t
  work=$BUILD/corpus/$t
  artifacts=$BUILD/artifacts/$t
  fuzzer=$BUILD/tests/fuzz/fuzz_$t
  mkdir -p "$work" "$artifacts"
  # A crash found earlier and not yet fixed would stop the run at start-up: it counts as a
  # finding, and the fuzzer starts from the other seeds to look for new ones.
  start=$BUILD/seeds/$t
  rm -rf "$start" && mkdir -p "$start"
  for f in "$seeds"/*; do
    if [[ $(basename "$f") == crash-* ]] && ! nice -n 10 "$fuzzer" -timeout=10 "$f" >/dev/null 2>&1; then
      found+=("$f (still fails: $fuzzer $f)")
    else
      cp "$f" "$start/"
    fi
  done
  dict=()
  case $t in
    request | classifier) dict=(-dict=tests/fuzz/json.dict) ;;
    sse) dict=(-dict=tests/fuzz/sse.dict) ;;
    config) dict=(-dict=tests/fuzz/yaml.dict) ;;
  esac
  log=$BUILD/fuzz-$t.log
  echo "== fuzz_$t: ${SECONDS_PER_TARGET}s (log: $log)"
  # -timeout: an input taking 10 s is a bug even under the sanitizers. A finding stops the
  # run (exit status non-zero); the artifact folder says what it was.
  status=0
  nice -n 10 "$fuzzer" "$work" "$start" "${dict[@]}" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  summary+=("$(printf '%-11s %10s execs %8s/s  %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-}")")
  shopt -s nullglob
  artifact=0
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    name=crash-$(sha1sum "$f" | cut -d' ' -f1)
    cp "$f" "$seeds/$name"
    found+=("$seeds/$name ($(basename "$f" | cut -d- -f1))")
    rm "$f"
    artifact=1
  done
  shopt -u nullglob
  ((status == 0 || artifact)) || found+=("fuzz_$t exited with status $status and no input to blame: $log")
done

echo
printf '%s\n' "${summary[@]}"
if ((${#found[@]})); then
  echo
  echo "found (now regression inputs; see each target's log for the stack):"
  printf '  %s\n' "${found[@]}"
  exit 1
fi
echo "no crash, leak or timeout"
