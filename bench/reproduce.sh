#!/usr/bin/env bash
# reproduce.sh - do stackwise's rankings and ratios reproduce from one run to the next?
#
# What it measures, and why:
#   stackwise's claims are ratios measured within one run ("fastify does 0.98x
#   node-http's throughput on json") and orders ("node-http > fastify > ...").
#   On a shared, noisy machine the absolute numbers drift between runs; the
#   ratios and orders must not, beyond the uncertainty a run states. This runs
#   `stackwise run` twice back to back on the same stacks and scenarios and
#   compares the two results.json: per scenario the two orders (fastest first),
#   Kendall's tau-b between them, and each stack's throughput as a ratio to the
#   scenario's fastest stack in each run with the relative difference between
#   runs, |r1 - r2| / mean; overall the median and largest difference, and tau
#   over the pairs of stacks whose intervals are apart in both runs (the pairs a
#   run claims to tell apart: 1.0 expected). Also each run's wall time.
#   With --quick-vs-default it runs one --quick run and one default run instead:
#   does the quick run tell the same story as the full one?
#   Goals: default vs default: median difference <= 5%, largest <= 15%;
#          quick vs default:   median difference <= 12%, largest <= 25%.
#   Ratios come from the results' format: v3's per-scenario "ratio" if present,
#   else per-round ratios of v3 trials (median, 95% bootstrap interval), else v2
#   trial medians (interval: min..max of the valid trials). See bench/reproduce.py.
#
# Setup: stackwise does the measuring (its own CPU pinning, loopback servers,
# throwaway PostgreSQL); this script only starts it twice, each run with a hard
# time limit, and compares. A default run takes about 20 minutes on 2 cores, so the
# default mode takes about 40 minutes. Nothing else should run meanwhile.
#
# Usage:
#   bench/reproduce.sh                                   # two default runs, all stacks
#   bench/reproduce.sh --stacks node-http,fastapi --scenarios json,db
#                                                        # other args go to `stackwise run`
#   bench/reproduce.sh --quick-vs-default [ARGS...]      # one --quick run, one default run
#   bench/reproduce.sh --results-dir DIR [ARGS...]       # keep the runs in DIR/run1, DIR/run2
#   bench/reproduce.sh --compare A/results.json B/results.json
#                                                        # only compare two existing results
#   bench/reproduce.sh --strict ...                      # exit 1 if a goal is missed
# Environment (defaults):
#   STACKWISE_BIN=<path> (use this binary, skip `cargo build --release -p stackwise`)
#   RUN_TIMEOUT=3600 (seconds each `stackwise run` may take before it is interrupted)
#   PYTHON=python3
# Results: the two runs' folders (results.json, logs, exports) and comparison.json
# are kept in --results-dir, or else in a new temporary folder whose path is printed.
# Exit status: 0 if both runs ran and could be compared (whatever the goals say;
# with --strict, 1 if a goal is missed); 1 if a run failed or a stack or scenario
# failed in it (the comparison is still printed when possible); 2 on bad usage.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$ROOT/bench/reproduce.py"
PY=${PYTHON:-python3}
RUN_TIMEOUT=${RUN_TIMEOUT:-3600}

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; }
die() { echo "reproduce.sh: $*" >&2; exit 2; }

MODE=twice          # twice | quick-vs-default | compare
RESULTS_DIR=""
STRICT=()
COMPARE=()
RUN_ARGS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --quick-vs-default) MODE=quick-vs-default ;;
        --strict) STRICT=(--strict) ;;
        --compare)
            [[ $# -ge 3 ]] || die "--compare needs two results.json files"
            MODE=compare; COMPARE=("$2" "$3"); shift 2 ;;
        --results-dir) [[ $# -ge 2 ]] || die "--results-dir needs a folder"; RESULTS_DIR=$2; shift ;;
        --results-dir=*) RESULTS_DIR=${1#*=} ;;
        --resume | --resume=*) die "--resume makes no sense here: each run must be whole" ;;
        *) RUN_ARGS+=("$1") ;;
    esac
    shift
done
[[ $RUN_TIMEOUT =~ ^[0-9]+$ ]] || die "RUN_TIMEOUT must be a number of seconds"

# ------------------------------------------------------------ compare only
if [[ $MODE == compare ]]; then
    [[ ${#RUN_ARGS[@]} -eq 0 ]] || die "--compare takes no run arguments (got: ${RUN_ARGS[*]})"
    exec "$PY" "$HELPER" compare "${COMPARE[@]}" "${STRICT[@]}"
fi

for arg in "${RUN_ARGS[@]}"; do
    if [[ $arg == --quick && $MODE == quick-vs-default ]]; then
        die "--quick-vs-default chooses which run is quick; do not pass --quick too"
    fi
done

# ------------------------------------------------------------ folders and cleanup
if [[ -n $RESULTS_DIR ]]; then
    mkdir -p "$RESULTS_DIR"
    RESULTS_DIR=$(cd "$RESULTS_DIR" && pwd)
    for n in run1 run2; do
        if [[ -e $RESULTS_DIR/$n ]]; then die "$RESULTS_DIR/$n exists already; choose an empty --results-dir"; fi
    done
else
    RESULTS_DIR=$(mktemp -d -t stackwise-reproduce.XXXXXX)
fi

RUN_PID=""
STATUS=0
# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $RUN_PID ]]; then
        # `timeout` passes the signal on to stackwise, which ends the servers,
        # PostgreSQL and the load engine it started before it exits.
        kill -INT "$RUN_PID" 2>/dev/null
        wait "$RUN_PID" 2>/dev/null
    fi
    echo "runs kept in $RESULTS_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

log() { printf '\n==> %s\n' "$*"; }

# ------------------------------------------------------------ the binary
if [[ -n ${STACKWISE_BIN:-} ]]; then
    STACKWISE=$STACKWISE_BIN
else
    log "building: (cd $ROOT && cargo build --release -p stackwise)"
    if ! (cd "$ROOT" && cargo build --release -p stackwise) >"$RESULTS_DIR/build.log" 2>&1; then
        echo "!! stackwise failed to build. Last lines of $RESULTS_DIR/build.log:" >&2
        tail -n 25 "$RESULTS_DIR/build.log" | sed 's/^/   | /' >&2
        exit 1
    fi
    STACKWISE=$ROOT/target/release/stackwise
fi
[[ -x $STACKWISE ]] || { echo "!! $STACKWISE is not an executable" >&2; exit 1; }

# ------------------------------------------------------------ the runs
# one_run NAME [EXTRA ARGS...]: `stackwise run` into $RESULTS_DIR/NAME, from the
# repository (so that its default --stacks-dir, stacks/, is found).
one_run() {
    local name=$1 rc=0
    shift
    local cmd=("$STACKWISE" run --results-dir "$RESULTS_DIR/$name" "$@" "${RUN_ARGS[@]}")
    log "$name: ${cmd[*]}  (time limit ${RUN_TIMEOUT}s)"
    mkdir -p "$RESULTS_DIR/$name"
    (cd "$ROOT" && exec timeout --signal=INT --kill-after=60 "$RUN_TIMEOUT" "${cmd[@]}") &
    RUN_PID=$!
    wait "$RUN_PID" || rc=$?
    RUN_PID=""
    case $rc in
        0) ;;
        124) echo "!! $name: stopped after the time limit of ${RUN_TIMEOUT}s (RUN_TIMEOUT)" >&2; STATUS=1 ;;
        *) echo "!! $name: stackwise run exited with status $rc" >&2; STATUS=1 ;;
    esac
}

echo "stackwise reproducibility: mode=$MODE, $(nproc) CPUs, runs in $RESULTS_DIR"
echo "stackwise: $STACKWISE ($("$STACKWISE" --version 2>/dev/null || echo 'version unknown'))"
if [[ $MODE == quick-vs-default ]]; then
    one_run run1 --quick
    one_run run2
else
    one_run run1
    one_run run2
fi

# ------------------------------------------------------------ the comparison
FILES=()
for n in run1 run2; do
    if f=$("$PY" "$HELPER" find "$RESULTS_DIR/$n"); then FILES+=("$f"); fi
done
if [[ ${#FILES[@]} -ne 2 ]]; then
    echo "!! no results to compare (see the messages above)" >&2
    exit 1
fi
log "comparing run1 and run2"
rc=0
"$PY" "$HELPER" compare "${FILES[@]}" --json-out "$RESULTS_DIR/comparison.json" "${STRICT[@]}" || rc=$?
echo
echo "to compare these again: bench/reproduce.sh --compare ${FILES[0]} ${FILES[1]}"
if [[ $rc -eq 2 || $STATUS -ne 0 ]]; then
    echo "finished with problems (see the messages above); exit status 1"
    exit 1
fi
exit "$rc"
