#!/usr/bin/env bash
# End-to-end benchmark of the zebros server against an nginx static-file ceiling.
#
#   bench/run.sh [--data-dir DIR] [--keep-data] [--duration SECS] [--runs N]
#                [--scenarios "nginx get_by_id get_by_id_jwt list_filtered list_filtered_fresh search
#                search_fresh create"] [--out DIR]
#                [--seed-only] [--database-url postgres://... --seed-dir DIR]
#
# 1. checks the tools (wrk, nginx, python3) and that $ZEBROS_BIN is a Release build;
# 2. starts `zebros serve` on a fresh data dir under the output dir (or on --data-dir DIR) at an
#    ephemeral loopback port and seeds it with bench/seed.py (1M contacts + 10k accounts), unless
#    DIR was seeded before (its ids.txt and search_terms.txt live in DIR.seed/);
# 3. starts nginx (worker_processes 2) serving a 200-byte JSON file on another loopback port;
# 4. runs each scenario, nginx first, with `wrk -t2 -c32 -d20s --latency` $RUNS (3) times after
#    a short warm-up, sampling the server's VmRSS/VmHWM after seeding and after the runs;
# 5. writes bench/out/results.md (the table, also printed) and bench/out/results.json.
# Everything it starts is stopped on exit (also on Ctrl-C). Nothing is built here.
# --seed-only stops after seeding (with --data-dir: seeds a dir to benchmark later).
# --database-url serves from PostgreSQL (`zebros serve --database-url`, data dir = the node's own
# dir); the database must hold bench-seeded data already (bench/pg.sh transfers it there), and
# --seed-dir names that data's seed outputs (ids.txt, search_terms.txt; usually DIR.seed of the
# SQLite data dir it came from). The API key is ZEBROS_KEY then (or DIR/bootstrap-admin-key).
#
# Environment (defaults): ZEBROS_BIN (build/zebros) DURATION (20) RUNS (3) THREADS (2)
#   CONNECTIONS (32) WARMUP (3 s, 0 = none) CONTACTS (1000000) ACCOUNTS (10000) SEED (42)
#   SEED_THREADS (4) SETTLE (5 s of idle after seeding) WRK_TIMEOUT (5s) PYTHON (python3)
#   ZEBROS_ARGS (extra `zebros serve` arguments) ZEBROS_KEY (API key when DIR has no
#   bootstrap-admin-key) ALLOW_NON_RELEASE (0) STRICT (0; 1 = exit 3 when a target is missed)
#   BENCH_OUT (bench/out) SCENARIOS (nginx get_by_id get_by_id_jwt list_filtered list_filtered_fresh
#   search search_fresh create; *_fresh send `Cache-Control: no-cache`: pages read afresh)
# A run with SCENARIOS=nginx needs no zebros binary (checks the kit itself).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

ZEBROS_BIN=${ZEBROS_BIN:-$repo/build/zebros}
DURATION=${DURATION:-20}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-3}
CONTACTS=${CONTACTS:-1000000}
ACCOUNTS=${ACCOUNTS:-10000}
SEED=${SEED:-42}
SEED_THREADS=${SEED_THREADS:-4}
SETTLE=${SETTLE:-5}
WRK_TIMEOUT=${WRK_TIMEOUT:-5s}
PYTHON=${PYTHON:-python3}
ZEBROS_ARGS=${ZEBROS_ARGS:-}
ALLOW_NON_RELEASE=${ALLOW_NON_RELEASE:-0}
STRICT=${STRICT:-0}
OUT=${BENCH_OUT:-$here/out}
SCENARIOS=${SCENARIOS:-nginx get_by_id get_by_id_jwt list_filtered list_filtered_fresh search search_fresh create}
DATA_DIR=""
KEEP_DATA=0
SEED_ONLY=0
DATABASE_URL=""
SEED_DIR=""

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --keep-data) KEEP_DATA=1; shift ;;
    --duration) DURATION=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seed-only) SEED_ONLY=1; shift ;;
    --database-url) DATABASE_URL=$2; shift 2 ;;
    --seed-dir) SEED_DIR=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for sc in $SCENARIOS; do
  case "$sc" in
    nginx|get_by_id|get_by_id_jwt|list_filtered|list_filtered_fresh|search|search_fresh|create) ;;
    *) die "unknown scenario '$sc' (nginx get_by_id get_by_id_jwt list_filtered list_filtered_fresh search search_fresh create)" ;;
  esac
done
need_zebros=0
[[ " $SCENARIOS " == *" nginx "* ]] && need_nginx=1 || need_nginx=0
for sc in $SCENARIOS; do [[ $sc == nginx ]] || need_zebros=1; done
((SEED_ONLY)) && { need_zebros=1; need_nginx=0; }
[[ -z $DATABASE_URL || -n $SEED_DIR ]] || die "--database-url needs --seed-dir (the seed outputs of the data in that database)"
db_args=()
[[ -z $DATABASE_URL ]] || db_args=(--database-url "$DATABASE_URL")

# --- (a) tools ----------------------------------------------------------------------------
command -v wrk >/dev/null || die "wrk not found (scripts/install-deps.sh --bench)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (scripts/install-deps.sh --bench)"
NGINX_BIN=$(command -v nginx || true)
[[ -z $NGINX_BIN && -x /usr/sbin/nginx ]] && NGINX_BIN=/usr/sbin/nginx
((need_nginx == 0)) || [[ -n $NGINX_BIN ]] || die "nginx not found (scripts/install-deps.sh --bench)"
PY=("$PYTHON")

# --- (b) the binary: nothing is built here --------------------------------------------------
build_type="n/a"
if ((need_zebros)); then
  [[ -x $ZEBROS_BIN ]] || die "no zebros binary at $ZEBROS_BIN (build it: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build; or set ZEBROS_BIN)"
  ZEBROS_BIN=$(cd "$(dirname "$ZEBROS_BIN")" && pwd)/$(basename "$ZEBROS_BIN")
  cache=""
  d=$(dirname "$ZEBROS_BIN")
  while [[ $d != / ]]; do
    if [[ -f $d/CMakeCache.txt ]]; then cache=$d/CMakeCache.txt; break; fi
    d=$(dirname "$d")
  done
  if [[ -n $cache ]]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
    sanitize=$(sed -n 's/^ZEBROS_SANITIZE:[A-Z]*=//p' "$cache")
    if [[ $build_type != Release || $sanitize == ON ]] && [[ $ALLOW_NON_RELEASE != 1 ]]; then
      die "$ZEBROS_BIN is a '${build_type:-unknown}' build (ZEBROS_SANITIZE=${sanitize:-OFF}); benchmarks need Release without sanitizers (ALLOW_NON_RELEASE=1 to go on anyway)"
    fi
  else
    log "WARNING: no CMakeCache.txt above $ZEBROS_BIN; cannot confirm a Release build"
    build_type="unknown"
  fi
  if grep -q -a -m1 '__asan_init' "$ZEBROS_BIN" && [[ $ALLOW_NON_RELEASE != 1 ]]; then
    die "$ZEBROS_BIN is built with AddressSanitizer; benchmarks need a Release build"
  fi
fi

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  log "WARNING: load average is $load1; other work on this machine will skew the numbers"
fi

# --- work area and cleanup ----------------------------------------------------------------
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw
rm -rf "$RAW"
mkdir -p "$RAW"
: >"$OUT/rss.jsonl"
WORK=$(mktemp -d "$OUT/work.XXXXXX")
chmod 755 "$WORK" # nginx workers may run as another user
RUN_ID=$(date -u +%Y%m%dT%H%M%SZ)
ZEBROS_PID=""
NGINX_PID=""
CHILD_PID=""

# run_child OUT CMD...: runs a long command (seeding, wrk) in the background and waits for it,
# because bash runs an INT/TERM trap only after its foreground command ends (and drops Ctrl-C
# altogether when that command, like wrk, exits normally on SIGINT); `wait` returns at once.
# OUT: a file for stdout+stderr, or "tee:FILE" to show them and copy them to FILE.
run_child() {
  local out=$1 rc=0
  shift
  case "$out" in
    tee:*) "$@" > >(trap '' INT TERM; exec tee "${out#tee:}" >&2) 2>&1 & ;;
    *) "$@" >"$out" 2>&1 & ;;
  esac
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"  # stop_pid

# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_pid "$CHILD_PID" TERM 5 "child"
  stop_pid "$NGINX_PID" TERM 5 nginx
  stop_pid "$ZEBROS_PID" TERM 20 zebros
  if [[ -f $WORK/zebros.stderr ]]; then
    # The server's log may hold millions of access lines: keep its head and tail only.
    { head -n 200 "$WORK/zebros.stderr"; echo "... ($(wc -l <"$WORK/zebros.stderr") lines in all) ..."
      tail -n 200 "$WORK/zebros.stderr"; } >"$OUT/zebros.log" 2>/dev/null
  fi
  [[ -f $WORK/nginx/error.log ]] && cp "$WORK/nginx/error.log" "$OUT/nginx-error.log"
  if ((KEEP_DATA)) && [[ -d $WORK/data ]]; then
    log "kept the seeded data: reuse it with  bench/run.sh --data-dir $WORK/data"
    rm -rf "$WORK/nginx"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# --- (c) zebros: start, seed ----------------------------------------------------------------
ZPORT=""
SEED_OUT=""
seeded_now=0
rss_sample() { # label
  if [[ -n $ZEBROS_PID ]] && kill -0 "$ZEBROS_PID" 2>/dev/null; then
    "${PY[@]}" "$here/probe.py" rss "$ZEBROS_PID" "$1" >>"$OUT/rss.jsonl" || true
  fi
}

if ((need_zebros)); then
  if [[ -z $DATA_DIR ]]; then
    DATA_DIR=$WORK/data
  fi
  mkdir -p "$DATA_DIR"
  DATA_DIR=$(cd "$DATA_DIR" && pwd)
  SEED_OUT=${DATA_DIR%/}.seed
  fresh=0
  [[ -z $(ls -A "$DATA_DIR") ]] && fresh=1
  if [[ -n $SEED_DIR ]]; then
    SEED_OUT=$(cd "$SEED_DIR" && pwd)
    fresh=0
  fi
  if ((!fresh)) && [[ ! -s $SEED_OUT/ids.txt || ! -s $SEED_OUT/search_terms.txt ]]; then
    die "$DATA_DIR holds data but $SEED_OUT/{ids.txt,search_terms.txt} are missing; use an empty or a bench-seeded dir"
  fi
  log "starting $ZEBROS_BIN on $DATA_DIR ($(stat -f -c %T "$DATA_DIR"))${DATABASE_URL:+ with database $DATABASE_URL}"
  # shellcheck disable=SC2086 # ZEBROS_ARGS is a list of words
  "$ZEBROS_BIN" serve --data-dir "$DATA_DIR" "${db_args[@]}" --listen 127.0.0.1:0 $ZEBROS_ARGS \
    >"$WORK/zebros.stdout" 2>"$WORK/zebros.stderr" &
  ZEBROS_PID=$!
  ZPORT=$("${PY[@]}" "$here/probe.py" wait-listening "$WORK/zebros.stderr" "$ZEBROS_PID" 60) ||
    { tail -n 20 "$WORK/zebros.stderr" >&2; die "zebros did not start"; }
  log "zebros pid $ZEBROS_PID listening on 127.0.0.1:$ZPORT"
  if [[ -s $DATA_DIR/bootstrap-admin-key ]]; then
    ZEBROS_KEY=$(head -n1 "$DATA_DIR/bootstrap-admin-key" | tr -d '\r\n')
  fi
  [[ -n ${ZEBROS_KEY:-} ]] || die "no API key: $DATA_DIR/bootstrap-admin-key is missing and ZEBROS_KEY is unset"
  export ZEBROS_KEY

  if ((fresh)); then
    log "seeding $ACCOUNTS accounts + $CONTACTS contacts (seed $SEED, $SEED_THREADS threads)"
    mkdir -p "$SEED_OUT"
    run_child "tee:$OUT/seed.log" "${PY[@]}" "$here/seed.py" --url "http://127.0.0.1:$ZPORT" --key "$ZEBROS_KEY" \
      --contacts "$CONTACTS" --accounts "$ACCOUNTS" --seed "$SEED" --threads "$SEED_THREADS" \
      --out "$SEED_OUT" || die "seeding failed (see $OUT/seed.log)"
    seeded_now=1
    log "letting the server settle for ${SETTLE}s"
    sleep "$SETTLE"
    rss_sample "after seeding"
  else
    log "reusing seeded data ($(head -c 300 "$SEED_OUT/seed.json" 2>/dev/null | tr -d '\n ' | cut -c1-120)...)"
    rss_sample "after start (reused data, not seeded in this run)"
  fi
  [[ -s $SEED_OUT/ids.txt ]] || die "seeding wrote no ids ($SEED_OUT/ids.txt)"
  if [[ ! -s $SEED_OUT/create_bodies.txt ]]; then  # seeded before seed.py wrote them
    "${PY[@]}" "$here/seed.py" --create-bodies-only --out "$SEED_OUT" --seed "$SEED" \
      --contacts "$CONTACTS" --accounts "$ACCOUNTS" >&2 || die "could not write $SEED_OUT/create_bodies.txt"
  fi
  export BENCH_IDS=$SEED_OUT/ids.txt BENCH_TERMS=$SEED_OUT/search_terms.txt
  export BENCH_CREATE_BODIES=$SEED_OUT/create_bodies.txt
  cp "$SEED_OUT/seed.json" "$OUT/seed.json" 2>/dev/null || true
  if ((SEED_ONLY)); then
    log "--seed-only: seeded data in $DATA_DIR (seed outputs in $SEED_OUT)"
    exit 0
  fi
fi

# --- (d) nginx baseline -----------------------------------------------------------------------
NPORT=""
if ((need_nginx)); then
  NPREFIX=$WORK/nginx
  mkdir -p "$NPREFIX/html" "$NPREFIX/tmp"
  chmod -R a+rX "$NPREFIX"
  "${PY[@]}" "$here/probe.py" static-json "$NPREFIX/html/contact.json" 200
  NPORT=$("${PY[@]}" "$here/probe.py" free-port)
  sed -e "s|@PREFIX@|$NPREFIX|g" -e "s|@PORT@|$NPORT|g" -e "s|@USER@|$(id -un)|g" \
    "$here/nginx.conf.template" >"$NPREFIX/nginx.conf"
  "$NGINX_BIN" -t -q -e "$NPREFIX/error.log" -p "$NPREFIX" -c "$NPREFIX/nginx.conf" ||
    die "nginx rejected $NPREFIX/nginx.conf"
  "$NGINX_BIN" -e "$NPREFIX/error.log" -p "$NPREFIX" -c "$NPREFIX/nginx.conf" &
  NGINX_PID=$!
  "${PY[@]}" "$here/probe.py" wait-port "$NPORT" 15 || die "nginx did not start; see $NPREFIX/error.log"
  log "nginx pid $NGINX_PID serving a 200-byte JSON file on 127.0.0.1:$NPORT"
fi

# --- (e) scenarios ----------------------------------------------------------------------------
# Without zebros (SCENARIOS=nginx) the baseline still sends an Authorization header of the
# usual size, so the request bytes match the zebros scenarios.
placeholder_key=zk_placeholder_key_for_the_nginx_only_baseline_00000
wrk_args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency --timeout "$WRK_TIMEOUT")

scenario_setup() { # name -> sets script, url, probe_method, probe_path, probe_body (array)
  local name=$1
  probe_body=()
  case "$name" in
    nginx) script=baseline.lua; url=http://127.0.0.1:$NPORT/contact.json
      probe_method=GET; probe_path=/contact.json ;;
    get_by_id|get_by_id_jwt) script=get_by_id.lua; url=http://127.0.0.1:$ZPORT
      probe_method=GET; probe_path=/api/v1/contacts/$(head -n1 "$BENCH_IDS") ;;
    list_filtered|list_filtered_fresh) script=list_filtered.lua; url=http://127.0.0.1:$ZPORT
      probe_method=GET
      probe_path='/api/v1/contacts?filter%5Blifecycle_stage%5D=customer&filter%5Bmailing_country%5D=DE&limit=50' ;;
    search|search_fresh) script=search.lua; url=http://127.0.0.1:$ZPORT
      probe_method=POST; probe_path=/api/v1/contacts/search
      probe_body=("$("${PY[@]}" -c 'import json,sys; print(json.dumps({"q": open(sys.argv[1], encoding="utf-8").readline().strip(), "limit": 20}))' "$BENCH_TERMS")") ;;
    create) script=create.lua; url=http://127.0.0.1:$ZPORT
      probe_method=POST; probe_path=/api/v1/contacts
      probe_body=("{\"first_name\":\"Probe\",\"last_name\":\"Bench\",\"email\":\"probe.$RUN_ID@load-test.example\"}") ;;
  esac
}

# get_by_id_jwt: the same reads with an access token of the built-in identity provider instead
# of an API key (password grant of a bench user made with the CLI), to price token checks.
jwt_token() {
  local email=bench-jwt@load-test.example password
  password=$("${PY[@]}" -c 'import secrets; print(secrets.token_urlsafe(24))')
  printf '%s\n' "$password" | "$ZEBROS_BIN" admin create-user --data-dir "$DATA_DIR" "${db_args[@]}" --tenant default \
    --email "$email" --role admin --password-stdin >/dev/null 2>&1 ||
    printf '%s\n' "$password" | "$ZEBROS_BIN" admin set-password --data-dir "$DATA_DIR" "${db_args[@]}" \
      --tenant default --email "$email" --password-stdin >/dev/null
  printf '%s\n' "$password" | "${PY[@]}" "$here/probe.py" token "http://127.0.0.1:$ZPORT" default "$email"
}

for sc in $SCENARIOS; do
  scenario_setup "$sc"
  scenario_key=${ZEBROS_KEY:-$placeholder_key}
  if [[ $sc == get_by_id_jwt ]]; then
    if ! scenario_key=$(jwt_token 2>&1); then
      log "$sc: no access token ($scenario_key) -- skipping"
      continue
    fi
  fi
  base=${url%/contact.json}
  [[ $sc == *_fresh ]] && no_cache=1 || no_cache=0
  # One request first: a route that fails (404, 401, 500...) is skipped, not hammered.
  if ! probe_out=$(ZEBROS_KEY=$scenario_key "${PY[@]}" "$here/probe.py" request "$probe_method" "$base$probe_path" \
    "${probe_body[@]}" 2>&1); then
    log "$sc: probe $probe_method $probe_path failed: $probe_out -- skipping"
    echo "probe $probe_method $probe_path: $probe_out" | head -c 400 >"$RAW/$sc.skipped"
    continue
  fi
  if ((WARMUP > 0)); then
    log "$sc: warm-up ${WARMUP}s"
    ZEBROS_KEY=$scenario_key BENCH_SCENARIO=$sc BENCH_NONCE=$RUN_ID.${sc}.w BENCH_FRESH=$no_cache \
      run_child /dev/null wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" \
      -s "$here/wrk/$script" "$url" || true
  fi
  for ((r = 1; r <= RUNS; r++)); do
    f=$RAW/$sc.run$r.txt
    if ! ZEBROS_KEY=$scenario_key BENCH_SCENARIO=$sc BENCH_NONCE=$RUN_ID.$sc.$r BENCH_FRESH=$no_cache \
      run_child "$f" wrk "${wrk_args[@]}" -s "$here/wrk/$script" "$url"; then
      log "$sc run $r: wrk failed: $(tail -n 3 "$f" | tr '\n' ' ')"
      continue
    fi
    log "$sc run $r/$RUNS: $("${PY[@]}" "$here/report.py" summary "$f")"
  done
  [[ $sc == nginx ]] || rss_sample "after $sc"
done

# --- (f) memory after the runs, (g) report ----------------------------------------------------
meta=(--meta "run_id=$RUN_ID" --meta "cpus=$(nproc)"
  --meta "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  --meta "kernel=$(uname -sr)" --meta "wrk_args=${wrk_args[*]} (+ ${WARMUP}s warm-up)"
  --meta "runs=$RUNS" --meta "load_average_at_start=$load1" --meta "wrk=$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
  --meta "python=$("${PY[@]}" -c 'import platform; print(platform.python_version())')")
if ((need_nginx)); then
  meta+=(--meta "nginx=$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //'), worker_processes 2, access_log off")
fi
if ((need_zebros)); then
  rss_sample "after all runs"
  zver=$(timeout 5 "$ZEBROS_BIN" --version 2>/dev/null | head -n1 || true)
  meta+=(--meta "zebros_bin=$ZEBROS_BIN (CMAKE_BUILD_TYPE=$build_type${zver:+, $zver})"
    --meta "data_dir_fs=$(stat -f -c %T "$DATA_DIR")"
    --meta "database=${DATABASE_URL:-sqlite (DATA_DIR/zebros.db)}"
    --meta "data_dir_size=$(du -sh "$DATA_DIR" 2>/dev/null | cut -f1)"
    --meta "git=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git -C "$repo" status --porcelain 2>/dev/null | grep -q . && echo ' (dirty)' || true)")
  [[ -f $SEED_OUT/seed.json ]] && meta+=(--seed-json "$SEED_OUT/seed.json" --seeded-now "$seeded_now")
fi

set +e
"${PY[@]}" "$here/report.py" table --raw "$RAW" --scenarios "$SCENARIOS" --rss "$OUT/rss.jsonl" \
  "${meta[@]}" --md "$OUT/results.md" --json "$OUT/results.json"
report_rc=$?
set -e
log "wrote $OUT/results.md and $OUT/results.json (raw wrk output in $RAW)"
if ((report_rc == 3)) && [[ $STRICT == 1 ]]; then exit 3; fi
((report_rc == 0 || report_rc == 3)) || exit "$report_rc"
exit 0
