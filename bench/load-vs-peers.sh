#!/usr/bin/env bash
# load-vs-peers.sh - how efficient is `stackwise load` compared with wrk and oha?
#
# What it measures, and why:
#   On a 2-core machine a load generator and the server share the box, so the
#   server (nginx, one worker) is often the bottleneck and requests/s alone says
#   little about the generator. The number that matters is the generator's own
#   efficiency: successful responses per CPU-second *of the generator itself*
#   (user+sys, measured from outside with wait4() rusage, identically for all
#   three tools). A generator that needs fewer CPU cycles per request leaves more
#   of the machine to the server under test. Requests/s is reported too.
#
# Setup: a private nginx (1 worker, "Hello, World!", access log off) pinned to
# CPU 1; each generator pinned to CPU 0, single thread, same connections and
# duration; runs interleaved (wrk, oha, stackwise, wrk, ...) for ROUNDS rounds,
# medians reported. Loopback only; every run has a hard time limit. Each run
# also reports nginx's CPU and any other CPU use on the machine (from
# /proc/stat): if other processes were busy, the run is flagged as noisy.
#
# Usage:
#   bench/load-vs-peers.sh            # throughput/efficiency comparison
#   bench/load-vs-peers.sh --memory   # (or MODE=memory) stackwise RSS checks:
#                                     #   10,000 connections for 10 s (limit 64 MiB),
#                                     #   and peak RSS after a 5 s vs a 30 s run
# Environment (defaults): CONNECTIONS=64 DURATION=10s ROUNDS=3 PAUSE=2 (seconds)
#   TOOLS="wrk oha stackwise" (subset to run)  GEN_CPU=0 SERVER_CPU=1
#   STACKWISE_BIN=<path> (use this binary, skip the cargo build)
#   RESULTS_DIR=<dir> (keep raw outputs and results.jsonl there)
# Installs what is missing: wrk and nginx-light (apt-get), oha (cargo install).
# Exit status: 0 if every tool ran fine (and, in memory mode, RSS <= 64 MiB).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$ROOT/bench/peers.py"
PY=${PYTHON:-python3}

MODE=${MODE:-throughput}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
PAUSE=${PAUSE:-2}
GEN_CPU=${GEN_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
TOOLS=${TOOLS:-wrk oha stackwise}
MEM_CONNECTIONS=10000

for arg in "$@"; do
    case $arg in
        --memory) MODE=memory ;;
        -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done
case $MODE in throughput | memory) ;; *) echo "MODE must be throughput or memory" >&2; exit 2 ;; esac

# "10s" / "2m" / "10" -> seconds (for time limits only; tools get $DURATION as is)
to_seconds() {
    local d=$1
    case $d in
        *s) echo "${d%s}" ;;
        *m) echo $(("${d%m}" * 60)) ;;
        *h) echo $(("${d%h}" * 3600)) ;;
        *) echo "$d" ;;
    esac
}
[[ $DURATION =~ ^[0-9]+(s|m)?$ ]] || { echo "DURATION must look like 10s or 1m" >&2; exit 2; }
[[ $CONNECTIONS =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ ]] || { echo "CONNECTIONS and ROUNDS must be integers" >&2; exit 2; }

log() { printf '\n==> %s\n' "$*"; }
SUDO=""
[[ $EUID -ne 0 ]] && command -v sudo >/dev/null && SUDO="sudo"

# ------------------------------------------------------------ cleanup
TMP=$(mktemp -d -t stackwise-bench.XXXXXX)
NGINX_PID=""
DRIVER_PID=""
STATUS=0

# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $DRIVER_PID ]]; then          # the Python driver kills its generator on TERM
        kill -TERM "$DRIVER_PID" 2>/dev/null
        wait "$DRIVER_PID" 2>/dev/null
    fi
    if [[ -s $TMP/generator.pid ]]; then   # belt and braces: the generator's own group
        kill -KILL -- "-$(cat "$TMP/generator.pid")" 2>/dev/null
    fi
    if [[ -n $NGINX_PID ]]; then           # nginx runs in its own session/process group
        kill -TERM -- "-$NGINX_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    fi
    if [[ -n ${RESULTS_DIR:-} ]]; then
        mkdir -p "$RESULTS_DIR" && cp -r "$TMP"/. "$RESULTS_DIR"/ && echo "raw results kept in $RESULTS_DIR"
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Enough file descriptors for 10,000 connections on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

# ------------------------------------------------------------ tools
apt_install() {  # apt_install PACKAGE...
    echo "installing $* with apt-get"
    $SUDO apt-get install -y "$@" || { $SUDO apt-get update && $SUDO apt-get install -y "$@"; }
}

WRK="" OHA="" STACKWISE="" OHA_ARGS=() SW_ARGS=()
ensure_wrk() {
    if ! command -v wrk >/dev/null; then
        apt_install wrk || { echo "!! could not install wrk; skipping it"; STATUS=1; return; }
    fi
    WRK=$(command -v wrk)
}
ensure_oha() {
    local oha
    oha=$(command -v oha || true)
    [[ -z $oha && -x $HOME/.cargo/bin/oha ]] && oha=$HOME/.cargo/bin/oha
    if [[ -z $oha ]]; then
        echo "oha not found: installing it with 'cargo install oha --locked' (builds from source, takes several minutes)"
        if cargo install oha --locked; then
            oha=$(command -v oha || echo "$HOME/.cargo/bin/oha")
        else
            echo "!! cargo install oha failed; skipping oha"; STATUS=1; return
        fi
    fi
    OHA=$oha
    # Flags differ between oha versions: pick what this one has.
    local help
    help=$("$OHA" --help 2>&1 || true)
    OHA_ARGS=(--no-tui)
    if grep -q -- '--output-format' <<<"$help"; then OHA_ARGS+=(--output-format json); else OHA_ARGS+=(-j); fi
    # One async worker thread (like wrk -t1). Without the flag, taskset alone
    # still confines it to one CPU.
    if grep -q -- '--worker-threads' <<<"$help"; then OHA_ARGS+=(--worker-threads 1); fi
    echo "oha: $("$OHA" --version 2>/dev/null || echo '?'), flags: ${OHA_ARGS[*]}"
}
ensure_stackwise() {
    if [[ -n ${STACKWISE_BIN:-} ]]; then
        STACKWISE=$STACKWISE_BIN
    else
        echo "building: (cd $ROOT && cargo build --release -p stackwise)"
        if ! (cd "$ROOT" && cargo build --release -p stackwise) >"$TMP/build.log" 2>&1; then
            echo "!! stackwise failed to build; skipping it. Last lines of the build log:"
            tail -n 25 "$TMP/build.log" | sed 's/^/   | /'
            STATUS=1; return
        fi
        STACKWISE=$ROOT/target/release/stackwise
    fi
    local help
    if [[ ! -x $STACKWISE ]] || ! help=$("$STACKWISE" load --help 2>&1); then
        echo "!! $STACKWISE has no working 'load' subcommand yet; skipping stackwise"
        STACKWISE=""; STATUS=1; return
    fi
    # --cpus 0 pins its single worker thread to CPU 0 (as taskset does);
    # no progress bar, like oha --no-tui.
    SW_ARGS=(--cpus "$GEN_CPU" --json)
    if grep -q -- '--no-progress' <<<"$help"; then SW_ARGS+=(--no-progress); fi
}
ensure_nginx() {
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || apt_install nginx-light
}

# ------------------------------------------------------------ nginx
start_nginx() {  # start_nginx WORKER_CONNECTIONS
    local wc=$1 nginx_bin
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
    PORT=$("$PY" "$HELPER" free-port)
    URL="http://127.0.0.1:$PORT/"
    mkdir -p "$TMP/nginx"
    cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
error_log $TMP/nginx/error.log;
pid $TMP/nginx/nginx.pid;
events {
    worker_connections $wc;
    multi_accept on;
}
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$PORT backlog=16384;
        default_type text/plain;
        location / { return 200 "Hello, World!"; }
    }
}
EOF
    echo "nginx: worker_connections $wc, pinned to CPU $SERVER_CPU, $URL"
    echo "  \$ taskset -c $SERVER_CPU $nginx_bin -p $TMP/nginx -e $TMP/nginx/error.log -c $TMP/nginx/nginx.conf"
    # setsid: own process group, so the trap can kill it as a whole.
    setsid taskset -c "$SERVER_CPU" "$nginx_bin" -p "$TMP/nginx" -e "$TMP/nginx/error.log" \
        -c "$TMP/nginx/nginx.conf" </dev/null >"$TMP/nginx/stdout.log" 2>&1 &
    NGINX_PID=$!
    if ! "$PY" "$HELPER" wait-http "$URL" 10; then
        echo "!! nginx did not come up; its error log:" >&2
        cat "$TMP/nginx/error.log" "$TMP/nginx/stdout.log" >&2 || true
        exit 1
    fi
}

# ------------------------------------------------------------ one run
RESULTS=$TMP/results.jsonl
run_tool() {  # run_tool TOOL LABEL SECONDS CMD...  -> appends a record to $RESULTS
    local tool=$1 label=$2 secs=$3 rc=0
    shift 3
    "$PY" "$HELPER" run --tool "$tool" --label "$label" --out "$RESULTS" --log-dir "$TMP/logs" \
        --pidfile "$TMP/generator.pid" --server-pid "$NGINX_PID" --timeout $((secs + 30)) -- "$@" &
    DRIVER_PID=$!
    wait "$DRIVER_PID" || rc=$?
    DRIVER_PID=""
    [[ $rc -eq 0 ]] || STATUS=1
    return 0
}

gen_cmd() {  # gen_cmd TOOL CONNECTIONS DURATION -> sets CMD array
    local tool=$1 c=$2 d=$3
    case $tool in
        wrk) CMD=(taskset -c "$GEN_CPU" "$WRK" -t1 -c "$c" -d "$d" "$URL") ;;
        oha) CMD=(taskset -c "$GEN_CPU" "$OHA" "${OHA_ARGS[@]}" -c "$c" -z "$d" "$URL") ;;
        stackwise) CMD=(taskset -c "$GEN_CPU" "$STACKWISE" load "$URL" -c "$c" -d "$d" "${SW_ARGS[@]}") ;;
    esac
}

# ------------------------------------------------------------ modes
throughput_mode() {
    log "preparing tools"
    ensure_nginx
    local tools=() tool
    for tool in $TOOLS; do
        case $tool in
            wrk) ensure_wrk; [[ -z $WRK ]] || tools+=(wrk) ;;
            oha) ensure_oha; [[ -z $OHA ]] || tools+=(oha) ;;
            stackwise) ensure_stackwise; [[ -z $STACKWISE ]] || tools+=(stackwise) ;;
            *) echo "unknown tool in TOOLS: $tool" >&2; exit 2 ;;
        esac
    done
    [[ ${#tools[@]} -gt 0 ]] || { echo "no load generator available" >&2; exit 1; }
    echo "wrk: ${WRK:-not used}   oha: ${OHA:-not used}   stackwise: ${STACKWISE:-not used}"

    log "starting nginx"
    start_nginx 4096

    local secs round
    secs=$(to_seconds "$DURATION")
    log "running ${tools[*]}: $ROUNDS rounds x $DURATION, $CONNECTIONS connections, generator on CPU $GEN_CPU"
    for ((round = 1; round <= ROUNDS; round++)); do
        for tool in "${tools[@]}"; do
            echo
            echo "[round $round/$ROUNDS] $tool"
            gen_cmd "$tool" "$CONNECTIONS" "$DURATION"
            run_tool "$tool" "r$round" "$secs" "${CMD[@]}"
            sleep "$PAUSE"
        done
    done

    "$PY" "$HELPER" report "$RESULTS" --connections "$CONNECTIONS" --duration "$DURATION"
    [[ $STATUS -eq 0 ]] || echo "(some tools were skipped or failed, see above)"
}

memory_mode() {
    log "preparing stackwise"
    ensure_nginx
    ensure_stackwise
    [[ -n $STACKWISE ]] || { echo "stackwise is not available; nothing to measure" >&2; exit 1; }
    if ((NOFILE <= MEM_CONNECTIONS + 100)); then
        echo "!! open-file limit is $NOFILE; $MEM_CONNECTIONS connections need more (ulimit -n)" >&2
        STATUS=1
    fi

    log "starting nginx"
    start_nginx $((MEM_CONNECTIONS + 2048))

    log "stackwise with $MEM_CONNECTIONS connections for 10s (open-file limit $NOFILE)"
    gen_cmd stackwise "$MEM_CONNECTIONS" 10s
    run_tool stackwise mem-10000c 10 "${CMD[@]}"
    sleep "$PAUSE"

    log "memory growth: $CONNECTIONS connections, 5s run then 30s run"
    gen_cmd stackwise "$CONNECTIONS" 5s
    run_tool stackwise mem-5s 5 "${CMD[@]}"
    sleep "$PAUSE"
    gen_cmd stackwise "$CONNECTIONS" 30s
    run_tool stackwise mem-30s 30 "${CMD[@]}"

    "$PY" "$HELPER" memory-report "$RESULTS" || STATUS=1
}

echo "stackwise load-vs-peers benchmark: mode=$MODE, $(nproc) CPUs, temp dir $TMP"
if [[ $MODE == memory ]]; then memory_mode; else throughput_mode; fi

if [[ $STATUS -ne 0 ]]; then
    echo
    echo "finished with problems (see the messages above); exit status 1"
fi
exit "$STATUS"
