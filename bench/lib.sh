# Shell helpers shared by the bench scripts (sourced; each script defines log()).

# Stops a process: `sig`, then up to `grace` seconds for it to exit, then SIGKILL; reaps it.
# shellcheck disable=SC2317 # (called from EXIT traps)
stop_pid() { # pid signal grace-seconds name
  local pid=$1 sig=$2 grace=$3 name=$4 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop after ${grace}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
