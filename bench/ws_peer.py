#!/usr/bin/env python3
"""Helper for bench/ws-vs-peer.sh.

Subcommands:
  client URL CONNECTIONS SECONDS SIZE
      The peer: a closed-loop WebSocket echo client on Python's `websockets`
      (asyncio), as a Python team would write one. Each connection sends a
      message of SIZE bytes and sends the next when its echo arrives. Prints
      {"echoes": N, "seconds": S} as JSON. Per-message compression is off, as
      it is for the engine (websockets offers it unless told not to).
  measure OUT LABEL -- CMD...
      Runs CMD, and appends to OUT one JSON line with what it cost, measured
      from outside the same way for every tool: os.wait4() gives the child's
      own user+system CPU time and its peak RSS (ru_maxrss); the wall time is
      taken around it. The child's stdout is kept in the record.
  report OUT
      Prints the comparison: echoes per CPU-second of each generator, their
      ratio (goal >= 5x), and the engine's peak RSS holding idle connections
      (goal <= 64 MiB). Exits with 1 when a goal is missed.
  wait-port PORT [TIMEOUT]
      Waits until 127.0.0.1:PORT accepts connections.
  free-port
      Prints a free TCP port on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time


def client(url: str, connections: int, seconds: float, size: int) -> int:
    import websockets  # installed by the script, into its own venv

    message = "x" * size
    count = 0

    async def one(deadline: float) -> None:
        nonlocal count
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            while time.monotonic() < deadline:
                await ws.send(message)
                await ws.recv()
                count += 1

    async def main() -> float:
        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(*(one(deadline) for _ in range(connections)))
        return time.monotonic() - start

    took = asyncio.run(main())
    print(json.dumps({"echoes": count, "seconds": took}))
    return 0


def measure_wait4(out: str, label: str, cmd: list[str]) -> int:
    start = time.monotonic()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.dup2(write, 1)
        os.execvp(cmd[0], cmd)
    os.close(write)
    chunks = []
    with os.fdopen(read, "rb") as r:
        while True:
            b = r.read(65536)
            if not b:
                break
            chunks.append(b)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - start
    record = {
        "label": label,
        "cmd": cmd,
        "status": os.waitstatus_to_exitcode(status),
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "max_rss_kib": ru.ru_maxrss,
        "stdout": b"".join(chunks).decode(errors="replace"),
    }
    with open(out, "a") as f:
        f.write(json.dumps(record) + "\n")
    return record["status"]


def _echoes(record: dict) -> int | None:
    try:
        data = json.loads(record["stdout"])
    except (ValueError, KeyError):
        return None
    if "echoes" in data:
        return int(data["echoes"])
    return int(data["summary"]["requests"])


def report(out: str) -> int:
    records = [json.loads(line) for line in open(out) if line.strip()]
    by_label: dict[str, list[dict]] = {}
    for r in records:
        by_label.setdefault(r["label"], []).append(r)
    ok = True

    def rate(label: str) -> float | None:
        rates = []
        for r in by_label.get(label, []):
            n = _echoes(r)
            if r["status"] != 0 or n is None or r["cpu_s"] <= 0:
                print(f"  {label}: a run failed (exit {r['status']})")
                continue
            rates.append(n / r["cpu_s"])
            print(
                f"  {label:<10} {n:>10,} echoes, {r['cpu_s']:6.2f} CPU-s, "
                f"{n / r['cpu_s']:>12,.0f} echoes/CPU-s, peak RSS {r['max_rss_kib'] / 1024:.1f} MiB"
            )
        rates.sort()
        return rates[len(rates) // 2] if rates else None

    print("echo, closed loop, same server and connections:")
    engine, peer = rate("stackwise"), rate("peer")
    if engine and peer:
        ratio = engine / peer
        verdict = "meets" if ratio >= 5 else "MISSES"
        print(f"  ratio: stackwise does {ratio:.1f}x the peer's echoes per CPU-second ({verdict} the goal of 5x)")
        ok &= ratio >= 5
    else:
        ok = False
    idle = by_label.get("idle", [])
    if idle:
        print("idle connections held by the engine:")
    for r in idle:
        mib = r["max_rss_kib"] / 1024
        try:
            held = json.loads(r["stdout"])["ws"]["idle"]["held"]
        except (ValueError, KeyError, TypeError):
            held = None
        verdict = "meets" if mib <= 64 else "MISSES"
        print(f"  {held} connections held, peak RSS {mib:.1f} MiB ({verdict} the goal of 64 MiB)")
        ok &= mib <= 64 and r["status"] == 0
    return 0 if ok else 1


def wait_port(port: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return 0
        except OSError:
            time.sleep(0.1)
    return 1


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    cmd, rest = args[0], args[1:]
    if cmd == "client":
        return client(rest[0], int(rest[1]), float(rest[2]), int(rest[3]))
    if cmd == "measure":
        sep = rest.index("--")
        return measure_wait4(rest[0], rest[1], rest[sep + 1 :])
    if cmd == "report":
        return report(rest[0])
    if cmd == "wait-port":
        return wait_port(int(rest[0]), float(rest[1]) if len(rest) > 1 else 10.0)
    if cmd == "free-port":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
