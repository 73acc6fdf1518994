#!/usr/bin/env bash
# The bench/ workloads on PostgreSQL beside SQLite, in one invocation.
#
#   bench/pg.sh [--keep-data] [--out DIR]
#
# 1. starts a throwaway PostgreSQL 15 (Debian's /usr/lib/postgresql/15/bin) in a temp dir under
#    the output dir on a free loopback port (as the `postgres` user through `runuser` when run
#    as root): shared_buffers=a quarter of RAM, synchronous_commit=on, fsync=on, full_page_writes=on,
#    max_connections=100, checkpoint_timeout=10min, max_wal_size=4GB (see PG_SETTINGS below), and
#    its shared memory in huge pages (huge_pages=on: as root, the 2 MB pages it needs are reserved
#    in vm.nr_hugepages for the run and given back on exit; PG_HUGE_PAGES=off to do without);
# 2. seeds a fresh SQLite data dir the usual way (bench/run.sh --seed-only: seed.py over HTTP),
#    or takes SQLITE_DATA, a data dir bench/run.sh seeded before (its seed outputs beside it in
#    SQLITE_DATA.seed; the SQLite run adds its creates to it), then copies it into an empty
#    PostgreSQL database with `zebros transfer`, timed (rows/s), and runs VACUUM ANALYZE there
#    (what an operator does after a bulk load), also timed;
# 3. bench/run.sh on the SQLite data dir (nginx, get_by_id, list_filtered, search, create), with
#    the page cache off (`--page-cache-mb 0`), so that every page is read from the database;
# 4. bench/run.sh on PostgreSQL (`zebros serve --database-url`, same scenarios but nginx, page
#    cache off as well);
# 5. two nodes: `zebros serve` processes on the same PostgreSQL database (own data dirs, own
#    ports), GET by id and create, driven by two wrk processes in parallel (-t1, half the
#    connections each, so the total is run.sh's -t2 -c32): once both at node 1 ("1 node", with
#    the default I/O threads, one per core), once one per node of two nodes each given its share
#    of the cores (`--threads NODE_THREADS`, as docs/operations.md says to size nodes sharing a
#    machine: "2 nodes", the target's), and once one per node of two nodes left on the default
#    (a thread per core each: "2 nodes, default threads", reported beside it); total req/s = the
#    sum, p99 = the worse of the two; the three take turns run by run;
# 6. bench/pg_report.py: the PostgreSQL table with ratios to SQLite and the targets, written to
#    OUT/pg-results.md and OUT/pg-results.json.
# PostgreSQL and every server are stopped, and the temp dir removed, on exit (also on Ctrl-C).
#
# Environment (defaults): ZEBROS_BIN (build/zebros) PG_BIN (/usr/lib/postgresql/15/bin)
#   PG_SHARED_BUFFERS (a quarter of RAM) CONTACTS (1000000) ACCOUNTS (10000) DURATION (10 s per run)
#   RUNS (3) WARMUP (2) THREADS (2) CONNECTIONS (32) BENCH_OUT (bench/out/pg)
#   STEPS ("sqlite postgres nodes": which of steps 3-5 to run) PG_POOL (16, connections per node)
#   SQLITE_DATA (none: seed a fresh dir of CONTACTS contacts) PG_HUGE_PAGES (on; off)
#   NODE_THREADS (half the cores, at least 1: I/O threads of each of the two sized nodes)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

ZEBROS_BIN=${ZEBROS_BIN:-$repo/build/zebros}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# A quarter of the machine's memory, PostgreSQL's own advice for a dedicated server (512MB
# before 2026-11-27: it held a fifth of a 1M-contact database, and searches read the rest
# through the kernel).
MEM_KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-$((MEM_KB / 4096))MB}
export CONTACTS=${CONTACTS:-1000000}
export ACCOUNTS=${ACCOUNTS:-10000}
export DURATION=${DURATION:-10}
export RUNS=${RUNS:-3}
export WARMUP=${WARMUP:-2}
export THREADS=${THREADS:-2}
export CONNECTIONS=${CONNECTIONS:-32}
PG_POOL=${PG_POOL:-16}
PG_HUGE_PAGES=${PG_HUGE_PAGES:-on}
STEPS=${STEPS:-sqlite postgres nodes}
OUT=${BENCH_OUT:-$here/out/pg}
KEEP_DATA=0
SCENARIOS_SQLITE="nginx get_by_id list_filtered search create"
SCENARIOS_PG="get_by_id list_filtered search create"
NODE_SCENARIOS="get_by_id create"
CORES=$(nproc)
NODE_THREADS=${NODE_THREADS:-$((CORES / 2 > 0 ? CORES / 2 : 1))}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --keep-data) KEEP_DATA=1; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[pg-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $PG_BIN/initdb && -x $PG_BIN/postgres && -x $PG_BIN/pg_ctl ]] ||
  die "no PostgreSQL server in $PG_BIN (apt-get install postgresql-15, or set PG_BIN)"
[[ -x $ZEBROS_BIN ]] || die "no zebros binary at $ZEBROS_BIN (cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build)"
ZEBROS_BIN=$(cd "$(dirname "$ZEBROS_BIN")" && pwd)/$(basename "$ZEBROS_BIN")
export ZEBROS_BIN
command -v wrk >/dev/null || die "wrk not found (scripts/install-deps.sh --bench)"
PG_USER=postgres
as_pg=()
if ((EUID == 0)); then
  id -u "$PG_USER" >/dev/null 2>&1 || die "running as root needs the '$PG_USER' OS user (Debian's postgresql package makes it)"
  as_pg=(runuser -u "$PG_USER" --)
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/nodes" "$OUT/sqlite" "$OUT/postgres"
mkdir -p "$OUT/nodes/raw"
WORK=$(mktemp -d "$OUT/work.XXXXXX")
chmod 755 "$WORK"
PGDATA=$WORK/pgdata
PGSOCK=$WORK/pgsock  # also holds the server log (written by the postgres user)
mkdir -p "$PGDATA" "$PGSOCK"
((EUID == 0)) && chown "$PG_USER" "$PGDATA" "$PGSOCK"
chmod 700 "$PGDATA"
load1=$(cut -d' ' -f1 /proc/loadavg)
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
NODE_PIDS=()
CHILD_PIDS=()
PG_STARTED=0
HUGEPAGES_BEFORE=  # vm.nr_hugepages before the run, when it raised them

# shellcheck source=bench/lib.sh
source "$here/lib.sh"  # stop_pid

# shellcheck disable=SC2317
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  set +e
  for p in "${CHILD_PIDS[@]}"; do stop_pid "$p" TERM 5 child; done
  for p in "${NODE_PIDS[@]}"; do stop_pid "$p" TERM 20 zebros; done
  if ((PG_STARTED)); then
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      { p=$(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null); [[ -n $p ]] && kill -QUIT "$p"; }
  fi
  [[ -n $HUGEPAGES_BEFORE ]] && echo "$HUGEPAGES_BEFORE" >/proc/sys/vm/nr_hugepages
  [[ -f $PGSOCK/postgres.log ]] && tail -n 300 "$PGSOCK/postgres.log" >"$OUT/postgres.log"
  for p in 1 2; do
    [[ -f $WORK/node$p.stderr ]] && { head -n 100 "$WORK/node$p.stderr"; echo ...; tail -n 100 "$WORK/node$p.stderr"; } >"$OUT/node$p.log"
  done
  if ((KEEP_DATA)); then
    log "kept $WORK (SQLite data in $WORK/sqlite, PostgreSQL cluster in $PGDATA$([[ $PG_HUGE_PAGES == on ]] && echo ', huge_pages = on: reserve vm.nr_hugepages before starting it'))"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- 1. PostgreSQL --------------------------------------------------------------------------
PG_PORT=$(python3 "$here/probe.py" free-port)
PG_SETTINGS=(
  "listen_addresses = '127.0.0.1'"
  "port = $PG_PORT"
  "unix_socket_directories = '$PGSOCK'"
  "max_connections = 100"
  "shared_buffers = $PG_SHARED_BUFFERS"
  "effective_cache_size = $((MEM_KB / 2048))MB"
  "work_mem = 16MB"
  "maintenance_work_mem = 256MB"
  "fsync = on"
  "synchronous_commit = on"
  "full_page_writes = on"
  "wal_level = replica"
  "checkpoint_timeout = 10min"
  "max_wal_size = 4GB"
  "checkpoint_completion_target = 0.9"
  "random_page_cost = 1.1"
  "huge_pages = $PG_HUGE_PAGES"
)
log "initdb in $PGDATA (PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'))"
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C \
  --no-instructions >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
printf '%s\n' "# bench/pg.sh" "${PG_SETTINGS[@]}" >>"$PGDATA/postgresql.conf"
# Huge pages, as PostgreSQL's manual advises for a large shared_buffers ("Linux Huge Pages"):
# besides fewer TLB misses, the kernel's access sampling leaves them alone. This machine's
# kernel samples page accesses every half second (DAMON): with shared_buffers in 4 kB pages,
# mapped by every backend, the requests in flight at each sample took 10 to 30 ms longer, and a
# search's p99 under load was 2.2-2.8 times its median, against 1.6-1.7 in huge pages
# (docs/performance.md, "Huge pages").
hugepages_free() { awk '/^HugePages_Free:/ {print $2}' /proc/meminfo; }
if [[ $PG_HUGE_PAGES == on ]]; then
  need=$("${as_pg[@]}" "$PG_BIN/postgres" -D "$PGDATA" -C shared_memory_size_in_huge_pages)
  ((need > 0)) || die "this system has no huge pages for PostgreSQL (it says $need): PG_HUGE_PAGES=off"
  free=$(hugepages_free)
  if ((free < need)); then
    ((EUID == 0)) || die "huge_pages=on needs $need free huge pages ($free): run as root, or PG_HUGE_PAGES=off"
    HUGEPAGES_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
    echo $((HUGEPAGES_BEFORE + need - free)) >/proc/sys/vm/nr_hugepages
    free=$(hugepages_free)
    ((free >= need)) || die "could reserve only $free of the $need huge pages PostgreSQL needs (memory too fragmented? PG_HUGE_PAGES=off)"
  fi
  log "huge pages: $need of $(awk '/^Hugepagesize:/ {print $2 " " $3}' /proc/meminfo) for PostgreSQL's shared memory ($free free)"
fi
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGSOCK/postgres.log" -w -t 60 start >/dev/null ||
  { tail -n 20 "$PGSOCK/postgres.log" >&2; die "PostgreSQL did not start"; }
PG_STARTED=1
PSQL=$PG_BIN/psql
[[ -x $PSQL ]] || PSQL=psql
"$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE zebros" >/dev/null
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/zebros"
psql_q() { "$PSQL" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d zebros -c "$1"; }
log "PostgreSQL up on 127.0.0.1:$PG_PORT ($DB_URL), shared_buffers=$PG_SHARED_BUFFERS, synchronous_commit=on"

# --- 2. seed SQLite, transfer ------------------------------------------------------------------
if [[ -n ${SQLITE_DATA:-} ]]; then
  SQLITE_DIR=$(cd "$SQLITE_DATA" && pwd)
  [[ -s $SQLITE_DIR.seed/ids.txt && -s $SQLITE_DIR/bootstrap-admin-key ]] ||
    die "SQLITE_DATA=$SQLITE_DATA is not a data dir seeded by bench/run.sh"
  log "SQLite data: $SQLITE_DIR ($(cat "$SQLITE_DIR.seed/seed.json" | head -c 120)...)"
else
  SQLITE_DIR=$WORK/sqlite
  mkdir -p "$SQLITE_DIR"
  log "seeding SQLite: $ACCOUNTS accounts + $CONTACTS contacts"
  BENCH_OUT=$OUT/seed "$here/run.sh" --seed-only --data-dir "$SQLITE_DIR" || die "seeding failed"
fi
SEED_DIR=$SQLITE_DIR.seed
ZEBROS_KEY=$(head -n1 "$SQLITE_DIR/bootstrap-admin-key" | tr -d '\r\n')
export ZEBROS_KEY

log "zebros transfer --from sqlite:$SQLITE_DIR --to $DB_URL"
t0=$(date +%s.%N)
"$ZEBROS_BIN" transfer --from "sqlite:$SQLITE_DIR" --to "$DB_URL" >"$OUT/transfer.out" 2>"$OUT/transfer.log" ||
  { tail -n 20 "$OUT/transfer.log" >&2; die "transfer failed"; }
t1=$(date +%s.%N)
cat "$OUT/transfer.out" >&2
log "VACUUM ANALYZE"
psql_q "VACUUM ANALYZE" >/dev/null
t2=$(date +%s.%N)
psql_q "CHECKPOINT" >/dev/null
python3 - "$OUT/transfer.out" "$t0" "$t1" "$t2" "$(psql_q "select pg_database_size('zebros')")" \
  "$(du -sb "$SQLITE_DIR" | cut -f1)" >"$OUT/transfer.json" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"transfer ok: (\d+) rows in (\d+) tables", text)
rows, tables = (int(m.group(1)), int(m.group(2))) if m else (None, None)
t0, t1, t2 = map(float, sys.argv[2:5])
secs = t1 - t0
print(json.dumps({"rows": rows, "tables": tables, "seconds": round(secs, 2),
                  "rows_per_s": round(rows / secs) if rows else None,
                  "vacuum_analyze_seconds": round(t2 - t1, 2),
                  "pg_database_bytes": int(sys.argv[5]), "sqlite_dir_bytes": int(sys.argv[6]),
                  "line": text.strip()}))
EOF
log "transfer: $(cat "$OUT/transfer.json")"

# --- 3. SQLite, 4. PostgreSQL, one node each -----------------------------------------------------
if [[ " $STEPS " == *" sqlite "* ]]; then
  log "SQLite run: $SCENARIOS_SQLITE"
  ZEBROS_ARGS="--page-cache-mb 0" "$here/run.sh" --data-dir "$SQLITE_DIR" --out "$OUT/sqlite" \
    --scenarios "$SCENARIOS_SQLITE" ||
    log "SQLite run exited with $?"
fi
if [[ " $STEPS " == *" postgres "* ]]; then
  log "PostgreSQL run: $SCENARIOS_PG"
  mkdir -p "$WORK/pgnode"
  ZEBROS_ARGS="--database-pool-size $PG_POOL --page-cache-mb 0" "$here/run.sh" --data-dir "$WORK/pgnode" \
    --database-url "$DB_URL" --seed-dir "$SEED_DIR" --out "$OUT/postgres" --scenarios "$SCENARIOS_PG" ||
    log "PostgreSQL run exited with $?"
fi

# --- 5. two nodes on one database ----------------------------------------------------------------
start_node() { # n [serve args...] -> sets NODE_PORT
  local n=$1 pid
  shift
  mkdir -p "$WORK/node$n"
  "$ZEBROS_BIN" serve --data-dir "$WORK/node$n" --database-url "$DB_URL" --database-pool-size "$PG_POOL" \
    --listen 127.0.0.1:0 "$@" >"$WORK/node$n.stdout" 2>"$WORK/node$n.stderr" &
  pid=$!
  NODE_PIDS+=("$pid")
  NODE_PORT=$(python3 "$here/probe.py" wait-listening "$WORK/node$n.stderr" "$pid" 60) ||
    { tail -n 20 "$WORK/node$n.stderr" >&2; die "node $n did not start"; }
  log "node $n: pid $pid on 127.0.0.1:$NODE_PORT"
}

wrk_pair() { # scenario url_a url_b out_prefix duration
  local sc=$1 ua=$2 ub=$3 prefix=$4 dur=$5 script pa pb rc=0
  script=$here/wrk/$sc.lua
  local half=$((CONNECTIONS / 2))
  BENCH_SCENARIO=$sc BENCH_NONCE=$RUN_ID.$(basename "$prefix").a \
    wrk -t1 -c"$half" -d"${dur}s" --latency --timeout 5s -s "$script" "$ua" >"$prefix.a.txt" 2>&1 &
  pa=$!
  BENCH_SCENARIO=$sc BENCH_NONCE=$RUN_ID.$(basename "$prefix").b \
    wrk -t1 -c"$half" -d"${dur}s" --latency --timeout 5s -s "$script" "$ub" >"$prefix.b.txt" 2>&1 &
  pb=$!
  CHILD_PIDS=("$pa" "$pb")
  wait "$pa" || rc=1
  wait "$pb" || rc=1
  CHILD_PIDS=()
  return "$rc"
}

if [[ " $STEPS " == *" nodes "* ]]; then
  log "two nodes on one database"
  start_node 1; P1=$NODE_PORT
  start_node 2; P2=$NODE_PORT
  start_node 3 --threads "$NODE_THREADS"; P3=$NODE_PORT
  start_node 4 --threads "$NODE_THREADS"; P4=$NODE_PORT
  export BENCH_IDS=$SEED_DIR/ids.txt BENCH_TERMS=$SEED_DIR/search_terms.txt
  [[ -s $SEED_DIR/create_bodies.txt ]] && export BENCH_CREATE_BODIES=$SEED_DIR/create_bodies.txt
  python3 "$here/probe.py" request GET "http://127.0.0.1:$P2/api/v1/contacts/$(head -n1 "$BENCH_IDS")" >/dev/null ||
    die "node 2 does not answer a GET with the key of node 1's database"
  U1=http://127.0.0.1:$P1 U2=http://127.0.0.1:$P2 U3=http://127.0.0.1:$P3 U4=http://127.0.0.1:$P4
  node_urls() { # cfg -> sets ua ub
    case $1 in
      one) ua=$U1 ub=$U1 ;;
      two) ua=$U3 ub=$U4 ;;
      two_default) ua=$U1 ub=$U2 ;;
    esac
  }
  for sc in $NODE_SCENARIOS; do
    for cfg in one two two_default; do
      node_urls "$cfg"
      ((WARMUP > 0)) && wrk_pair "$sc" "$ua" "$ub" "$OUT/nodes/warmup" "$WARMUP" || true
    done
    # The configurations take turns run by run, so that the machine's drift over the minutes of
    # the step (GET by id moved 24k -> 20.6k within one configuration's three runs) hits each alike.
    for ((r = 1; r <= RUNS; r++)); do
      for cfg in one two two_default; do
        node_urls "$cfg"
        wrk_pair "$sc" "$ua" "$ub" "$OUT/nodes/raw/$cfg.$sc.run$r" "$DURATION" ||
          log "nodes $cfg $sc run $r: a wrk failed"
        log "nodes=$cfg $sc run $r/$RUNS: a: $(python3 "$here/report.py" summary "$OUT/nodes/raw/$cfg.$sc.run$r.a.txt") | b: $(python3 "$here/report.py" summary "$OUT/nodes/raw/$cfg.$sc.run$r.b.txt")"
      done
    done
  done
  rm -f "$OUT/nodes/warmup".*.txt
fi

# --- 6. report ----------------------------------------------------------------------------------
python3 "$here/pg_report.py" --out "$OUT" --meta "run_id=$RUN_ID" --meta "load_average_at_start=$load1" \
  --meta "postgres=$("$PG_BIN/postgres" --version), $(printf '%s; ' "${PG_SETTINGS[@]:3}")" \
  --meta "git=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" status --porcelain 2>/dev/null | grep -q . && echo ' (dirty)' || true)" \
  --meta "node_load=2 wrk -t1 -c$((CONNECTIONS / 2)) -d${DURATION}s in parallel, $RUNS runs, medians" \
  --meta "node_threads=1 node and 2 nodes, default threads: one per core ($CORES); 2 nodes: --threads $NODE_THREADS each" \
  --meta "database_pool_size=$PG_POOL per zebros process"
log "wrote $OUT/pg-results.md"
