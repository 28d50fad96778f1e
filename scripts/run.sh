#!/usr/bin/env bash
# The comparison on a fresh machine: installs the one service a contestant needs that no
# package registry ships, Redis (Django Channels joins its processes through it; Debian's
# redis-server), then runs `stackwise run` with the arguments given. Everything else (Node.js
# 24, the stacks' packages, PostgreSQL when the machine has none) the run provisions itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing Redis (apt-get install redis-server)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  else
    echo "run.sh: redis-server not found; Django's WebSocket scenario will say so" >&2
  fi
fi

exec cargo run --release -p stackwise -- run "$@"
