#!/usr/bin/env bash
# A/B comparison of zebros binaries on one workload. Runs alternate between the binaries (A, B,
# A, B, ...) so that the machine's drift hits all of them alike; each run starts a new server on
# the same data, warms up for 2 s, then measures with wrk. Prints one line per run and the
# median req/s and p99 per binary. This is how docs/performance.md measures a single change.
#
#   bench/ab.sh --data-dir DIR [--scenario get_by_id] [--rounds 3] [--duration 8] [--fresh]
#               [--database-url postgres://... --seed-dir DIR.seed] BIN_A BIN_B [BIN ...]
#
# DIR holds seeded data (bench/run.sh --data-dir DIR --seed-only) and its API key
# (DIR/bootstrap-admin-key, or ZEBROS_KEY); the seed outputs are read from DIR.seed unless
# --seed-dir says otherwise. With --database-url DIR is the node's data dir. --fresh sends
# `Cache-Control: no-cache` (list and search scenarios read the database on every request).
# Scenarios: the scripts in bench/wrk (get_by_id, list_filtered, search, create). A create run
# adds records, so later runs see slightly more data. ZEBROS_ARGS adds server flags.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[ab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

DATA_DIR="" SCENARIO=get_by_id ROUNDS=3 DURATION=8 FRESH=0 DATABASE_URL="" SEED_DIR=""
BINS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --scenario) SCENARIO=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --database-url) DATABASE_URL=$2; shift 2 ;;
    --seed-dir) SEED_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) BINS+=("$1"); shift ;;
  esac
done
[[ -n $DATA_DIR && -d $DATA_DIR ]] || die "--data-dir DIR (seeded data) is required"
[[ ${#BINS[@]} -ge 2 ]] || die "name at least two binaries to compare"
for bin in "${BINS[@]}"; do [[ -x $bin ]] || die "not an executable: $bin"; done
[[ -f $BENCH_DIR/wrk/$SCENARIO.lua ]] || die "no scenario $SCENARIO in bench/wrk"
SEED_DIR=${SEED_DIR:-${DATA_DIR%/}.seed}
[[ -d $SEED_DIR ]] || die "no seed outputs in $SEED_DIR (use --seed-dir)"
KEY=${ZEBROS_KEY:-$(cat "$DATA_DIR/bootstrap-admin-key" 2>/dev/null || true)}
[[ -n $KEY ]] || die "no API key: $DATA_DIR/bootstrap-admin-key is missing and ZEBROS_KEY is unset"
command -v wrk >/dev/null || die "wrk is missing: scripts/install-deps.sh --bench"

export BENCH_IDS=$SEED_DIR/ids.txt BENCH_TERMS=$SEED_DIR/search_terms.txt
export BENCH_CREATE_BODIES=$SEED_DIR/create_bodies.txt BENCH_FRESH=$FRESH ZEBROS_KEY=$KEY
URL=""
SERVER_LOG=$(mktemp /tmp/zebros-ab.XXXXXX.log)
SERVER_PID=""
trap 'stop_pid "$SERVER_PID" TERM 10 zebros; rm -f "$SERVER_LOG"' EXIT

start_server() { # binary; sets SERVER_PID and URL (a free port, as run.sh does)
  local args=(serve --data-dir "$DATA_DIR" --listen 127.0.0.1:0) port
  [[ -n $DATABASE_URL ]] && args+=(--database-url "$DATABASE_URL")
  # shellcheck disable=SC2206 # ZEBROS_ARGS is a list of flags
  args+=(${ZEBROS_ARGS:-})
  "$1" "${args[@]}" >/dev/null 2>"$SERVER_LOG" &
  SERVER_PID=$!
  port=$(python3 "$BENCH_DIR/probe.py" wait-listening "$SERVER_LOG" "$SERVER_PID" 60) ||
    { tail -5 "$SERVER_LOG" >&2; die "$1 did not start"; }
  URL=http://127.0.0.1:$port
}

declare -A RESULTS
for ((round = 1; round <= ROUNDS; round++)); do
  for i in "${!BINS[@]}"; do
    bin=${BINS[$i]}
    start_server "$bin"
    BENCH_NONCE=w$RANDOM$round wrk -t2 -c32 -d2s -s "$BENCH_DIR/wrk/$SCENARIO.lua" "$URL" >/dev/null
    out=$(BENCH_NONCE=$RANDOM$RANDOM$round wrk -t2 -c32 "-d${DURATION}s" --latency \
      -s "$BENCH_DIR/wrk/$SCENARIO.lua" "$URL")
    stop_pid "$SERVER_PID" TERM 10 zebros
    SERVER_PID=""
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    bad=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    [[ -z $bad ]] || die "$bin answered $bad non-2xx responses in round $round"
    log "round $round  $bin  $rps req/s  p99 $p99"
    RESULTS[$i]+="$rps $p99"$'\n'
  done
done

echo "binary | runs | median req/s | median p99"
for i in "${!BINS[@]}"; do
  runs=$(printf '%s' "${RESULTS[$i]}" | awk 'NF' | wc -l)
  median_rps=$(printf '%s' "${RESULTS[$i]}" | awk 'NF {print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  # p99 as wrk prints it (e.g. 2.31ms or 1.02s), compared in milliseconds.
  median_p99=$(printf '%s' "${RESULTS[$i]}" | awk 'NF {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      ms = (u == "s") ? v * 1000 : (u == "us") ? v / 1000 : v; print ms}' | sort -n |
    awk '{a[NR]=$1} END {printf "%.2f ms\n", a[int((NR+1)/2)]}')
  echo "${BINS[$i]} | $runs | $median_rps | $median_p99"
done
