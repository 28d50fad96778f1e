#!/usr/bin/env bash
# ws-vs-peer.sh - how efficient is `stackwise load ws://` compared with a peer?
#
# What it measures, and why:
#   1. Echo messages per CPU-second of the generator itself (user+sys, measured
#      from outside with wait4() rusage, the same way for both tools), for
#      stackwise and for a peer a team would reach for: a closed-loop echo
#      client on Python's `websockets` (from PyPI). Same echo server, same
#      connections, same message size, same duration, each generator pinned
#      to GEN_CPU; runs interleaved for ROUNDS rounds, medians compared. The
#      ratio is printed; the goal is >= 5x.
#   2. The engine's peak RSS while it holds IDLE idle WebSocket connections
#      (`--ws-mode idle`, held for HOLD); the goal is <= 64 MiB.
#
# The echo server is Node.js with `ws` (from npm, per-message compression off,
# its default), pinned to SERVER_CPU: fast enough that neither generator is
# held back by it much, and able to hold 10,000 connections.
#
# Usage:
#   bench/ws-vs-peer.sh
# Environment (defaults): CONNECTIONS=50 DURATION=10 (seconds) SIZE=128 ROUNDS=3
#   IDLE=10000 HOLD=10 (seconds) GEN_CPU=0 SERVER_CPU=1
#   STACKWISE_BIN=<path> (use this binary, skip the release build)
#   RESULTS_DIR=<dir> (keep raw outputs there)
# A tiny check that everything runs: CONNECTIONS=4 DURATION=1 ROUNDS=1 IDLE=200 HOLD=1
# Installs into a temporary folder: ws (npm) and websockets (pip, in a venv).
# Exit status: 0 if both goals are met, 1 otherwise or if something failed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HELPER="$ROOT/bench/ws_peer.py"
PY=${PYTHON:-python3}
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10}
SIZE=${SIZE:-128}
ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-10000}
HOLD=${HOLD:-10}
GEN_CPU=${GEN_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}

for arg in "$@"; do
    case $arg in
        -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done
for v in CONNECTIONS DURATION SIZE ROUNDS IDLE HOLD; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v must be a whole number" >&2; exit 2; }
done

log() { printf '\n==> %s\n' "$*"; }
TMP=$(mktemp -d -t stackwise-ws-bench.XXXXXX)
SERVER_PID=""

# shellcheck disable=SC2317  # invoked by the traps below
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    set +e
    if [[ -n $SERVER_PID ]]; then # the server runs in its own session
        kill -TERM -- "-$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ -n ${RESULTS_DIR:-} ]]; then
        mkdir -p "$RESULTS_DIR" && cp -r "$TMP"/results.jsonl "$TMP"/server.log "$RESULTS_DIR"/ 2>/dev/null
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open-file limit: $(ulimit -n)"

# ------------------------------------------------------------ tools
log "installing the peer and the server into $TMP"
command -v node >/dev/null || { echo "Node.js is needed for the echo server" >&2; exit 1; }
(cd "$TMP" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent ws@8) >/dev/null
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/pip" install --quiet --disable-pip-version-check 'websockets>=13,<16'
echo "node $(node --version), ws $(node -p "require('$TMP/node_modules/ws/package.json').version"), \
websockets $("$TMP/venv/bin/python" -c 'import websockets; print(websockets.__version__)')"

if [[ -n ${STACKWISE_BIN:-} ]]; then
    STACKWISE=$STACKWISE_BIN
else
    echo "building: (cd $ROOT && cargo build --release -p stackwise)"
    (cd "$ROOT" && cargo build --release -p stackwise) >"$TMP/build.log" 2>&1 || {
        tail -n 25 "$TMP/build.log"; exit 1
    }
    STACKWISE=${CARGO_TARGET_DIR:-$ROOT/target}/release/stackwise
fi

# ------------------------------------------------------------ server
cat >"$TMP/server.js" <<'EOF'
const { WebSocketServer } = require("ws");
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.argv[2]), perMessageDeflate: false });
wss.on("connection", (ws) => ws.on("message", (data, binary) => ws.send(data, { binary })));
EOF
PORT=$("$PY" "$HELPER" free-port)
URL="ws://127.0.0.1:$PORT/ws/echo"
setsid taskset -c "$SERVER_CPU" env NODE_PATH="$TMP/node_modules" node "$TMP/server.js" "$PORT" \
    </dev/null >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
"$PY" "$HELPER" wait-port "$PORT" 10 || { echo "the echo server did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; }
echo "echo server: $URL on CPU $SERVER_CPU"

# ------------------------------------------------------------ runs
OUT=$TMP/results.jsonl
STATUS=0
measure() { # measure LABEL CMD...
    local label=$1
    shift
    echo "  \$ $*"
    "$PY" "$HELPER" measure "$OUT" "$label" -- "$@" || STATUS=1
}

log "echo: $ROUNDS round(s) x ${DURATION}s, $CONNECTIONS connections, $SIZE-byte messages, generators on CPU $GEN_CPU"
for ((round = 1; round <= ROUNDS; round++)); do
    echo "[round $round/$ROUNDS]"
    measure stackwise taskset -c "$GEN_CPU" "$STACKWISE" load "$URL" -c "$CONNECTIONS" \
        -d "${DURATION}s" --message-size "$SIZE" --cpus "$GEN_CPU" --json --no-progress
    sleep 1
    measure peer taskset -c "$GEN_CPU" "$TMP/venv/bin/python" "$HELPER" client "$URL" \
        "$CONNECTIONS" "$DURATION" "$SIZE"
    sleep 1
done

log "idle: $IDLE connections held ${HOLD}s by the engine"
measure idle taskset -c "$GEN_CPU" "$STACKWISE" load "$URL" --ws-mode idle -c "$IDLE" \
    --rate 2000 -d "${HOLD}s" --cpus "$GEN_CPU" --json --no-progress

log "results"
"$PY" "$HELPER" report "$OUT" || STATUS=1
exit "$STATUS"
