#!/usr/bin/env bash
# One node against two on a PostgreSQL database that is already seeded: two `zebros serve` of one
# binary (own data dirs, free ports, the same --database-url), driven by two `wrk -t1` at once
# with half the connections each — both at node 1 ("one") or one per node ("two"), alternating
# per round so the machine's drift hits both alike; 2 s of warm-up before each. Prints the total
# req/s of each run and the median per configuration. bench/pg.sh's step 5 measures the same on a
# database it loads itself; this is how docs/performance.md measures a change to it.
#
#   bench/nodes.sh --database-url postgres://... --seed-dir DIR.seed [--scenario create]
#                  [--rounds 3] [--duration 10] [--connections 32] [--pool 16] BIN
#
# The API key is ZEBROS_KEY (a key of the database's tenant, e.g. the bootstrap key of the data
# dir that was transferred into it). The seed outputs (ids, search terms, create bodies) are read
# from --seed-dir. Scenarios: the scripts in bench/wrk.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[nodes %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

DATABASE_URL="" SEED_DIR="" SCENARIO=create ROUNDS=3 DURATION=10 CONNECTIONS=32 POOL=16 BIN=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --database-url) DATABASE_URL=$2; shift 2 ;;
    --seed-dir) SEED_DIR=$2; shift 2 ;;
    --scenario) SCENARIO=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --pool) POOL=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) BIN=$1; shift ;;
  esac
done
[[ -n $DATABASE_URL ]] || die "--database-url is required"
[[ -n $SEED_DIR && -d $SEED_DIR ]] || die "--seed-dir DIR (seed outputs) is required"
[[ -x $BIN ]] || die "name the zebros binary to run"
[[ -n ${ZEBROS_KEY:-} ]] || die "ZEBROS_KEY is unset"
[[ -f $BENCH_DIR/wrk/$SCENARIO.lua ]] || die "no scenario $SCENARIO in bench/wrk"
command -v wrk >/dev/null || die "wrk is missing: scripts/install-deps.sh --bench"
export BENCH_IDS=$SEED_DIR/ids.txt BENCH_TERMS=$SEED_DIR/search_terms.txt
export BENCH_CREATE_BODIES=$SEED_DIR/create_bodies.txt BENCH_FRESH=0

WORK=$(mktemp -d /tmp/zebros-nodes.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do stop_pid "$pid" TERM 10 zebros; done
  rm -rf "$WORK"
}
trap cleanup EXIT

URLS=()
for n in 1 2; do
  mkdir -p "$WORK/node$n"
  "$BIN" serve --data-dir "$WORK/node$n" --database-url "$DATABASE_URL" \
    --database-pool-size "$POOL" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/node$n.log" &
  PIDS+=($!)
  port=$(python3 "$BENCH_DIR/probe.py" wait-listening "$WORK/node$n.log" "$!" 60) ||
    { tail -5 "$WORK/node$n.log" >&2; die "node $n did not start"; }
  URLS+=("http://127.0.0.1:$port")
done

pair() { # url_b duration -> prints the two runs' req/s summed, and the worse p99
  local half=$((CONNECTIONS / 2)) a b
  BENCH_NONCE=a$RANDOM$RANDOM wrk -t1 -c"$half" -d"$2s" --latency --timeout 5s \
    -s "$BENCH_DIR/wrk/$SCENARIO.lua" "${URLS[0]}" >"$WORK/a.txt" 2>&1 &
  a=$!
  BENCH_NONCE=b$RANDOM$RANDOM wrk -t1 -c"$half" -d"$2s" --latency --timeout 5s \
    -s "$BENCH_DIR/wrk/$SCENARIO.lua" "$1" >"$WORK/b.txt" 2>&1 &
  b=$!
  wait "$a" "$b"
  grep -h 'Non-2xx\|Socket errors' "$WORK/a.txt" "$WORK/b.txt" >&2 || true
  awk '/Requests\/sec/ {rps += $2} $1 == "99%" {print $2 > "/dev/stderr"} END {printf "%.0f\n", rps}' \
    "$WORK/a.txt" "$WORK/b.txt" 2>"$WORK/p99.txt"
}

declare -A RESULTS
for ((round = 1; round <= ROUNDS; round++)); do
  for cfg in one two; do
    if [[ $cfg == one ]]; then url_b=${URLS[0]}; else url_b=${URLS[1]}; fi
    pair "$url_b" 2 >/dev/null
    rps=$(pair "$url_b" "$DURATION")
    log "round $round, $cfg node(s): $rps req/s (p99 $(paste -sd' ' "$WORK/p99.txt"))"
    RESULTS[$cfg]+="$rps "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
one=$(median <<<"${RESULTS[one]}")
two=$(median <<<"${RESULTS[two]}")
echo "$SCENARIO: one node ${RESULTS[one]}(median $one), two nodes ${RESULTS[two]}(median $two):" \
  "two / one = $(python3 -c "print(f'{$two / $one:.0%}')")"
