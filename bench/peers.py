#!/usr/bin/env python3
"""Helper for bench/load-vs-peers.sh (Python 3.11, standard library only).

Subcommands:
  free-port                  print a free TCP port on 127.0.0.1
  wait-http URL [TIMEOUT]    wait until URL answers 200 "Hello, World!"
  run --tool T --out F ...   run one load generator, measure it, append a record
  report F DURATION          print the comparison table (medians over rounds)
  memory-report F            print the memory-mode results

`run` measures the generator from outside, the same way for every tool:
os.wait4() on the child gives its own rusage (user+sys CPU of all its
threads), the wall time is taken around it, and its peak RSS is VmHWM
sampled from /proc/PID/status every 0.1 s. The server's CPU time and the
rest of the machine's busy time (/proc/stat) over the run are recorded too,
to flag runs disturbed by other processes. The tool's stdout is parsed for the number
of successful responses and the duration the tool itself reports.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# ---------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> bool:
    m = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    if not m:
        raise SystemExit(f"bad URL {url!r}")
    host, port, path = m.group(1), int(m.group(2)), m.group(3) or "/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=1)
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status == 200 and body == b"Hello, World!":
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- parsers
# Each returns {"ok": successful responses, "duration_s": the tool's own
# measured duration (or None), "rps": the tool's own successful req/s}.

_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_wrk(out: str) -> dict:
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", out, re.M)
    if not m:
        raise ValueError("no 'N requests in T' line in wrk output")
    total = int(m.group(1))
    duration = float(m.group(2)) * _WRK_UNITS[m.group(3)]
    m2 = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    non2xx = int(m2.group(1)) if m2 else 0
    ok = total - non2xx
    errors = 0
    m3 = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if m3:
        errors = sum(int(x) for x in m3.groups())
    return {
        "ok": ok,
        "total": total,
        "errors": errors + non2xx,
        "duration_s": duration,
        "rps": ok / duration if duration > 0 else 0.0,
    }


def parse_oha(out: str) -> dict:
    doc = json.loads(_json_part(out))
    summary = doc.get("summary", {})
    codes = doc.get("statusCodeDistribution", {}) or {}
    ok = sum(int(n) for code, n in codes.items() if str(code).startswith("2"))
    total = sum(int(n) for n in codes.values())
    errors = sum(int(n) for n in (doc.get("errorDistribution", {}) or {}).values())
    duration = summary.get("total")
    duration = float(duration) if duration else None
    return {
        "ok": ok,
        "total": total,
        "errors": errors + (total - ok),
        "duration_s": duration,
        "rps": ok / duration if duration else 0.0,
    }


def parse_stackwise(out: str) -> dict:
    # Its JSON result (`stackwise schema`): .summary.requests counts every
    # response, .summary.ok the 2xx ones; .elapsed_s is the measured window.
    doc = json.loads(_json_part(out))
    summary = doc["summary"]
    total = int(summary["requests"])
    ok = int(summary.get("ok", total))
    rps_all = float(summary["throughput_rps"])
    duration = doc.get("elapsed_s") or (total / rps_all if rps_all > 0 else None)
    rec = {
        "ok": ok,
        "total": total,
        "errors": (summary.get("errors") or 0) + (total - ok),
        "duration_s": duration,
        "rps": ok / duration if duration else rps_all,
    }
    engine_cpu = (doc.get("engine") or {}).get("cpu_seconds")
    if engine_cpu is not None:  # its own view, for a cross-check only
        rec["self_reported_cpu_s"] = float(engine_cpu)
    return rec


def _json_part(out: str) -> str:
    """The JSON document in stdout (tolerates stray lines before it)."""
    start = out.find("{")
    if start < 0:
        raise ValueError("no JSON document on stdout")
    return out[start:]


PARSERS = {"wrk": parse_wrk, "oha": parse_oha, "stackwise": parse_stackwise}

# ---------------------------------------------------------------- run


_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds all CPUs spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (sum(v[:8]) - v[3] - v[4]) / _TICK


def _proc_cpu_s(pid: int | None) -> float | None:
    """user+sys CPU seconds of a running process (/proc/PID/stat)."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None


class _Sampler(threading.Thread):
    """Samples VmHWM of PID every 0.1 s; kills its group after the deadline."""

    def __init__(self, pid: int, deadline: float):
        super().__init__(daemon=True)
        self.pid, self.deadline = pid, deadline
        self.stop = threading.Event()
        self.hwm_kib = 0
        self.timed_out = False

    def run(self) -> None:
        path = f"/proc/{self.pid}/status"
        while not self.stop.wait(0.1):
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
                            break
            except OSError:
                pass
            if time.monotonic() > self.deadline and not self.timed_out:
                self.timed_out = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


_child: subprocess.Popen | None = None


def _kill_child(signum, _frame):
    if _child is not None and _child.poll() is None:
        try:
            os.killpg(_child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sys.exit(128 + signum)


def cmd_run(a: argparse.Namespace) -> int:
    global _child
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _kill_child)

    log_dir = Path(a.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{a.label}-{a.tool}"
    out_path, err_path = log_dir / f"{stem}.out", log_dir / f"{stem}.err"
    print(f"  $ {' '.join(a.cmd)}", flush=True)

    rec: dict = {"tool": a.tool, "label": a.label, "cmd": a.cmd}
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        busy0, server0 = _machine_busy_s(), _proc_cpu_s(a.server_pid)
        t0 = time.monotonic()
        # Own session: a Ctrl-C on the terminal does not reach it directly,
        # we (and the script's trap) kill its whole group instead.
        _child = subprocess.Popen(
            a.cmd, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if a.pidfile:
            Path(a.pidfile).write_text(f"{_child.pid}\n")
        sampler = _Sampler(_child.pid, t0 + a.timeout)
        sampler.start()
        # Blocking wait4 on this child only: its own rusage (CPU, and threads
        # included), precise wall time, no busy polling competing for CPU.
        _, status, ru = os.wait4(_child.pid, 0)
        wall = time.monotonic() - t0
        busy1, server1 = _machine_busy_s(), _proc_cpu_s(a.server_pid)
        sampler.stop.set()
        sampler.join()
        _child.returncode = os.waitstatus_to_exitcode(status)
    if a.pidfile:
        Path(a.pidfile).unlink(missing_ok=True)

    cpu = ru.ru_utime + ru.ru_stime
    rec.update(
        wall_s=wall,
        user_s=ru.ru_utime,
        sys_s=ru.ru_stime,
        cpu_s=cpu,
        # Peak RSS: VmHWM of the generator's own image, sampled from /proc.
        # (ru_maxrss is kept for reference, but it is floored by the RSS of
        # this Python process: Linux carries the pre-exec high-water mark
        # of the forked child over into ru_maxrss.)
        maxrss_kib=sampler.hwm_kib or ru.ru_maxrss,
        ru_maxrss_kib=ru.ru_maxrss,
        exit_code=_child.returncode,
    )
    # Who else used the machine meanwhile: the server, and everything else
    # (which should be ~0; if not, the numbers are disturbed).
    server_cpu = server1 - server0 if server0 is not None and server1 is not None else None
    rec["server_cpu_s"] = server_cpu
    rec["other_cpu_s"] = max(0.0, (busy1 - busy0) - cpu - (server_cpu or 0.0))
    timed_out = sampler.timed_out
    out = out_path.read_text(errors="replace")
    try:
        if timed_out:
            raise RuntimeError(f"killed after the {a.timeout:.0f} s time limit")
        if _child.returncode != 0:
            raise RuntimeError(f"exited with code {_child.returncode}")
        rec.update(PARSERS[a.tool](out))
        if rec["ok"] <= 0:
            raise RuntimeError("reported no successful responses")
        rec["ok_per_cpu_s"] = rec["ok"] / cpu if cpu > 0 else 0.0
        rec["error"] = None
    except Exception as e:  # noqa: BLE001 - record any failure, keep going
        rec["error"] = f"{type(e).__name__}: {e}"

    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")

    if rec["error"]:
        print(f"  {a.tool}: FAILED: {rec['error']}", flush=True)
        for name, p in (("stdout", out_path), ("stderr", err_path)):
            tail = p.read_text(errors="replace").strip().splitlines()[-8:]
            for line in tail:
                print(f"    {name}| {line}", flush=True)
        return 1
    print(
        f"  {a.tool}: {rec['ok']:,} ok responses, {rec['rps']:,.0f} req/s, "
        f"CPU {cpu:.2f} s (user {ru.ru_utime:.2f} + sys {ru.ru_stime:.2f}) "
        f"in {wall:.2f} s wall, {rec['ok_per_cpu_s']:,.0f} req/CPU-s, "
        f"peak RSS {rec['maxrss_kib'] / 1024:.1f} MiB"
        + (f" (it reports {rec['self_reported_cpu_s']:.2f} s CPU itself)"
           if "self_reported_cpu_s" in rec else ""),
        flush=True,
    )
    server = f"server CPU {server_cpu:.2f} s, " if server_cpu is not None else ""
    print(f"    {server}other CPU use {rec['other_cpu_s']:.2f} CPU-s", flush=True)
    if rec["other_cpu_s"] > 0.05 * wall:
        print("    note: other processes (or steal) used CPU during this run; expect noise",
              flush=True)
    return 0


# ---------------------------------------------------------------- reports


def _load(path: str) -> list[dict]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def cmd_report(a: argparse.Namespace) -> int:
    recs = _load(a.results)
    tools = list(dict.fromkeys(r["tool"] for r in recs))
    rows: dict[str, dict] = {}
    for tool in tools:
        good = [r for r in recs if r["tool"] == tool and not r["error"]]
        bad = [r for r in recs if r["tool"] == tool and r["error"]]
        if not good:
            rows[tool] = {"failed": len(bad)}
            continue
        rows[tool] = {
            "rps": statistics.median(r["rps"] for r in good),
            "per_cpu": statistics.median(r["ok_per_cpu_s"] for r in good),
            "cores": statistics.median(r["cpu_s"] / r["wall_s"] for r in good),
            "rss": statistics.median(r["maxrss_kib"] for r in good) / 1024,
            "other": statistics.median(r.get("other_cpu_s", 0.0) / r["wall_s"] for r in good),
            "rounds": len(good),
            "failed": len(bad),
        }

    print()
    print(f"Results: medians over rounds, {a.connections} connections, "
          f"{a.duration} per run, generator on CPU 0, nginx on CPU 1")
    hdr = (f"{'tool':<10} {'req/s':>10} {'req/CPU-s':>11} {'CPU used':>9} "
           f"{'peak RSS':>9} {'rounds':>7}")
    print(hdr)
    print("-" * len(hdr))
    for tool, r in rows.items():
        if "rps" not in r:
            print(f"{tool:<10} {'FAILED':>10}   ({r['failed']} failed runs)")
            continue
        extra = f"  ({r['failed']} failed)" if r["failed"] else ""
        print(f"{tool:<10} {r['rps']:>10,.0f} {r['per_cpu']:>11,.0f} "
              f"{r['cores']:>9.2f} {r['rss']:>6.1f} MiB {r['rounds']:>7}{extra}")
    print("(CPU used = generator CPU seconds / wall seconds, i.e. cores busy)")
    noisy = [t for t, r in rows.items() if r.get("other", 0.0) > 0.05]
    if noisy:
        print(f"warning: other processes used CPU during the {', '.join(noisy)} runs "
              f"(median {max(rows[t]['other'] for t in noisy):.2f} cores); "
              "results are noisy, rerun on a quiet machine")
    print("per round (req/s / req/CPU-s):")
    for tool in tools:
        runs = [r for r in recs if r["tool"] == tool]
        cells = [f"{r['label']} " + ("FAILED" if r["error"] else
                 f"{r['rps']:,.0f} / {r['ok_per_cpu_s']:,.0f}") for r in runs]
        print(f"  {tool:<10} " + "   ".join(cells))
    print()
    sw = rows.get("stackwise", {})
    for peer in ("wrk", "oha"):
        p = rows.get(peer, {})
        if "rps" in sw and "rps" in p:
            print(f"ratio stackwise/{peer}: req/s {sw['rps'] / p['rps']:.2f}x  "
                  f"req/CPU-s {sw['per_cpu'] / p['per_cpu']:.2f}x")
        else:
            print(f"ratio stackwise/{peer}: n/a (missing results)")
    return 0


def cmd_memory_report(a: argparse.Namespace) -> int:
    recs = {r["label"]: r for r in _load(a.results)}

    def mib(label: str) -> str:
        r = recs.get(label)
        if r is None:
            return "not run"
        s = f"{r['maxrss_kib'] / 1024:.1f} MiB"
        if r["error"]:
            s += f" (run FAILED: {r['error']})"
        return s

    status = 0
    print()
    r = recs.get("mem-10000c")
    print(f"stackwise RSS with 10000 connections: {mib('mem-10000c')} (limit 64 MiB)")
    if r is None or r["error"] or r["maxrss_kib"] / 1024 > 64:
        status = 1
    if r and not r["error"]:
        print(f"  ({r['ok']:,} ok responses, {r['rps']:,.0f} req/s)")
    print("stackwise RSS growth at 64 connections:")
    print(f"  after  5 s: {mib('mem-5s')}")
    print(f"  after 30 s: {mib('mem-30s')}")
    a5, a30 = recs.get("mem-5s"), recs.get("mem-30s")
    if a5 and a30:
        d = (a30["maxrss_kib"] - a5["maxrss_kib"]) / 1024
        print(f"  growth: {d:+.1f} MiB")
    for r in recs.values():
        if r["error"]:
            status = 1
    return status


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="sub", required=True)
    sub.add_parser("free-port")
    w = sub.add_parser("wait-http")
    w.add_argument("url")
    w.add_argument("timeout", type=float, nargs="?", default=10.0)
    r = sub.add_parser("run")
    r.add_argument("--tool", required=True, choices=sorted(PARSERS))
    r.add_argument("--label", required=True)
    r.add_argument("--out", required=True, help="JSON-lines results file")
    r.add_argument("--log-dir", required=True)
    r.add_argument("--pidfile")
    r.add_argument("--server-pid", type=int, help="to report the server's CPU use")
    r.add_argument("--timeout", type=float, required=True)
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    rp = sub.add_parser("report")
    rp.add_argument("results")
    rp.add_argument("--connections", default="?")
    rp.add_argument("--duration", default="?")
    mr = sub.add_parser("memory-report")
    mr.add_argument("results")
    a = ap.parse_args()

    if a.sub == "free-port":
        print(free_port())
        return 0
    if a.sub == "wait-http":
        return 0 if wait_http(a.url, a.timeout) else 1
    if a.sub == "run":
        if a.cmd and a.cmd[0] == "--":
            a.cmd = a.cmd[1:]
        if not a.cmd:
            ap.error("run: missing command")
        return cmd_run(a)
    if a.sub == "report":
        return cmd_report(a)
    return cmd_memory_report(a)


if __name__ == "__main__":
    sys.exit(main())
