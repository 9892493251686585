# Helpers for the scripts that start servers (sourced; the caller defines log() and
# STARTUP_TIMEOUT_S).

# stop NAME PID: SIGTERM, then SIGKILL if PID is still running 5 s later; reaps it.
stop() {
  local name="$1" pid="$2" deadline=$((SECONDS + 5))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name still running 5s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
}

# stop_all: stops every "name:pid" of the caller's `pids` array, the last started first.
stop_all() {
  local i entry
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    entry="${pids[i]}"
    stop "${entry%%:*}" "${entry##*:}"
  done
}

# wait_for_line FILE SED_EXPR PID WHAT: prints the first capture of SED_EXPR in FILE once it
# appears; fails if PID exits first or after STARTUP_TIMEOUT_S. Polls (50 ms steps): the
# processes print the line once they listen, and there is nothing else to await.
wait_for_line() {
  local file="$1" expr="$2" pid="$3" what="$4" value=""
  local deadline=$((SECONDS + STARTUP_TIMEOUT_S))
  while :; do
    value="$(sed -n "$expr" "$file" 2>/dev/null | head -n 1)"
    [[ -n "$value" ]] && { echo "$value"; return 0; }
    if ! kill -0 "$pid" 2>/dev/null; then
      log "FAIL: $what exited before it listened"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "FAIL: $what did not print its listening line within ${STARTUP_TIMEOUT_S}s"
      return 1
    fi
    sleep 0.05
  done
}
