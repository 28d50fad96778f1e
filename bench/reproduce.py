#!/usr/bin/env python3
"""Helper for bench/reproduce.sh (Python 3.11, standard library only).

Do two `stackwise run` results agree? For every scenario present in both it
prints the two orders (fastest first), Kendall's tau-b between them, and each
stack's throughput as a ratio to the scenario's fastest stack in each run with
the relative difference between the runs, |r1 - r2| / mean(r1, r2). At the end:
the overall median and largest difference, tau over the pairs of stacks whose
intervals are apart in both runs ("separated pairs": those the runs claim to
tell apart, so they must agree), each run's wall time, and the goals.

Subcommands:
  compare A B [--goals auto|default|quick] [--json-out PATH] [--strict]
      A and B are results.json files (or folders holding one).
  find DIR
      print the results.json under DIR (exactly one is expected)
  --self-test
      check the comparison logic on hand-made inputs

Where a stack's ratio and its interval come from, per scenario and stack:
  1. the scenario result's "ratio": {"median", "low", "high"} (format v3), if present;
  2. else, if every valid trial of the scenario has a "round" (v3): per round, the
     stack's throughput over the fastest stack's throughput in the same round
     (fastest = highest median throughput); the median over rounds, and a 95%
     percentile-bootstrap interval over rounds (2000 resamples, fixed seed);
  3. else (v2): the median throughput of the valid trials over the fastest stack's
     median; interval = min..max of the valid trials over the same denominator.

Goals (on the relative differences over every stack x scenario):
  default vs default: median <= 5%, largest <= 15%
  quick vs default:   median <= 12%, largest <= 25%
  and in both cases tau over separated pairs = 1.0.
Exit status of `compare`: 0 (1 with --strict if a goal is missed; 2 on bad input).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261122
CONFIDENCE = 0.95

GOALS = {
    # kind: (median limit, largest limit), as fractions
    "default": (0.05, 0.15),
    "quick": (0.12, 0.25),
}
GOAL_LABEL = {"default": "default vs default", "quick": "quick vs default"}

# ---------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between order statistics."""
    if not values:
        raise ValueError("percentile of nothing")
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def kendall_tau_b(x: list[float], y: list[float]) -> float | None:
    """Kendall's tau-b between paired scores x and y (ties allowed in either).

    None when it is undefined: fewer than two items, or every item tied in x or in y.
    """
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    n = len(x)
    concordant = discordant = 0
    pairs = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            pairs += 1
            sx, sy = _sign(x[i] - x[j]), _sign(y[i] - y[j])
            if sx == 0:
                ties_x += 1
            if sy == 0:
                ties_y += 1
            if sx and sy:
                if sx == sy:
                    concordant += 1
                else:
                    discordant += 1
    denom = math.sqrt((pairs - ties_x) * (pairs - ties_y))
    if denom == 0:
        return None
    return (concordant - discordant) / denom


def tau_of_orders(a: list[str], b: list[str]) -> float | None:
    """Kendall's tau-b between two orders (fastest first) of the same items."""
    common = [s for s in a if s in set(b)]
    rank_b = {s: i for i, s in enumerate(b)}
    return kendall_tau_b([-float(i) for i in range(len(common))],
                         [-float(rank_b[s]) for s in common])


def bootstrap_median_interval(values: list[float], seed: int,
                              resamples: int = BOOTSTRAP_RESAMPLES,
                              confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median of values."""
    if len(values) == 1:
        return values[0], values[0]
    rng = random.Random(seed)
    n = len(values)
    medians = [statistics.median(rng.choices(values, k=n)) for _ in range(resamples)]
    tail = (1 - confidence) / 2
    return percentile(medians, tail), percentile(medians, 1 - tail)


def relative_difference(a: float, b: float) -> float:
    mean = (a + b) / 2
    return 0.0 if mean == 0 else abs(a - b) / mean


# ---------------------------------------------------------------- reading a result


@dataclass
class Estimate:
    """One stack in one scenario of one run."""
    stack: str
    rps: float          # median throughput of its valid trials
    ratio: float        # to the scenario's fastest stack
    low: float          # interval of the ratio
    high: float
    method: str         # "ratio field" | "rounds" | "trials"
    n: int              # rounds (or valid trials) behind it

    @property
    def has_interval(self) -> bool:
        """A single trial or round states no uncertainty: its "interval" is a point that
        would make every pair look separated. A given ratio field is taken as stated."""
        return self.method == "ratio field" or self.n >= 2

    def interval_text(self) -> str:
        if not self.has_interval:
            return f"[n={self.n}, no interval]"
        return f"[{self.low:5.3f}-{self.high:5.3f}]"


@dataclass
class Run:
    path: str
    id: str
    schema_version: int | None
    quick: bool
    started_at: str | None
    finished_at: str | None
    scenario_order: list[str]
    # scenario -> stack -> Estimate
    estimates: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    # scenario -> stack -> why it has no estimate
    missing: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def wall_seconds(self) -> float | None:
        if not self.started_at or not self.finished_at:
            return None
        try:
            start = datetime.fromisoformat(self.started_at)
            end = datetime.fromisoformat(self.finished_at)
        except ValueError:
            return None
        return (end - start).total_seconds()


def _throughput(trial: dict) -> float | None:
    try:
        v = trial["load"]["summary"]["throughput_rps"]
    except (KeyError, TypeError):
        return None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _round_of(trial: dict) -> int | None:
    r = trial.get("round")
    return r if isinstance(r, int) and not isinstance(r, bool) else None


def _seed(scenario: str, stack: str) -> int:
    """A seed per scenario and stack, independent of the order they are handled in."""
    return BOOTSTRAP_SEED ^ zlib.crc32(f"{scenario}\0{stack}".encode())


def scenario_estimates(scenario: str, results: dict[str, dict]) -> tuple[dict[str, Estimate], dict[str, str]]:
    """Ratios and intervals of one scenario.

    results: stack id -> its ScenarioResult (a dict as in results.json).
    Returns (estimates, missing): stack -> Estimate, stack -> why none.
    """
    missing: dict[str, str] = {}
    valid: dict[str, list[dict]] = {}
    for stack, sc in results.items():
        if sc.get("error"):
            missing[stack] = f"error: {sc['error']}"
            continue
        trials = [t for t in sc.get("trials") or []
                  if t.get("valid") and _throughput(t) is not None]
        if not trials:
            missing[stack] = "no valid trial"
            continue
        valid[stack] = trials
    if not valid:
        return {}, missing

    medians = {s: statistics.median(_throughput(t) for t in ts) for s, ts in valid.items()}
    # Fastest: highest median; ties go to the first id, so that the choice is stable.
    fastest = min(medians, key=lambda s: (-medians[s], s))
    top = medians[fastest]
    with_rounds = all(_round_of(t) is not None for ts in valid.values() for t in ts)

    def per_round(stack: str) -> dict[int, float]:
        by_round: dict[int, list[float]] = {}
        for t in valid[stack]:
            by_round.setdefault(_round_of(t), []).append(_throughput(t))
        # A round with two valid windows (one redone): their median.
        return {r: statistics.median(v) for r, v in by_round.items()}

    fastest_rounds = per_round(fastest) if with_rounds else {}
    out: dict[str, Estimate] = {}
    for stack, trials in valid.items():
        given = results[stack].get("ratio")
        if isinstance(given, dict) and isinstance(given.get("median"), (int, float)):
            m = float(given["median"])
            low = float(given["low"]) if isinstance(given.get("low"), (int, float)) else m
            high = float(given["high"]) if isinstance(given.get("high"), (int, float)) else m
            rounds = {_round_of(t) for t in trials} - {None}
            out[stack] = Estimate(stack, medians[stack], m, low, high, "ratio field",
                                  len(rounds) or len(trials))
            continue
        if with_rounds:
            mine = per_round(stack)
            shared = sorted(set(mine) & set(fastest_rounds))
            ratios = [mine[r] / fastest_rounds[r] for r in shared if fastest_rounds[r] > 0]
            if ratios:
                low, high = bootstrap_median_interval(ratios, _seed(scenario, stack))
                out[stack] = Estimate(stack, medians[stack], statistics.median(ratios),
                                      low, high, "rounds", len(ratios))
                continue
            # No round in common with the fastest stack: fall through to the trials.
        values = [_throughput(t) for t in trials]
        if top > 0:
            out[stack] = Estimate(stack, medians[stack], medians[stack] / top,
                                  min(values) / top, max(values) / top, "trials", len(values))
        else:
            missing[stack] = "zero throughput"
    return out, missing


def load_run(path: str | Path) -> Run:
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    with open(p, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("stacks"), list):
        raise ValueError(f"{p}: not a stackwise results.json (no 'stacks' list)")
    settings = doc.get("settings") or {}
    run = Run(path=str(p), id=str(doc.get("id", "?")), schema_version=doc.get("schema_version"),
              quick=bool(doc.get("quick")), started_at=doc.get("started_at"),
              finished_at=doc.get("finished_at"),
              scenario_order=list(settings.get("scenarios") or []))
    if run.schema_version not in (2, 3):
        run.notes.append(f"schema_version {run.schema_version} (this script knows 2 and 3)")
    by_scenario: dict[str, dict[str, dict]] = {}
    stack_errors: dict[str, str] = {}
    for st in doc["stacks"]:
        sid = str(st.get("id", "?"))
        if st.get("error"):
            stack_errors[sid] = f"stack error: {st['error']}"
        for sc in st.get("scenarios") or []:
            name = sc.get("scenario")
            if name is None:
                continue
            by_scenario.setdefault(name, {})[sid] = sc
            if name not in run.scenario_order:
                run.scenario_order.append(name)
    for name in run.scenario_order:
        est, miss = scenario_estimates(name, by_scenario.get(name, {}))
        for sid, why in stack_errors.items():
            if sid not in est:
                miss.setdefault(sid, why)
        if est:
            run.estimates[name] = est
        if miss:
            run.missing[name] = miss
    return run


# ---------------------------------------------------------------- comparing two runs


def order_of(est: dict[str, Estimate], only: set[str] | None = None) -> list[str]:
    """Stacks fastest first (by ratio, then id)."""
    return sorted((s for s in est if only is None or s in only),
                  key=lambda s: (-est[s].ratio, s))


def separated(a: Estimate, b: Estimate) -> int:
    """+1 if a's interval lies wholly above b's, -1 if wholly below, 0 if they overlap
    (or either has no interval)."""
    if not (a.has_interval and b.has_interval):
        return 0
    if a.low > b.high:
        return 1
    if a.high < b.low:
        return -1
    return 0


@dataclass
class ScenarioComparison:
    scenario: str
    stacks: list[str]                 # in both runs
    order1: list[str]
    order2: list[str]
    tau: float | None
    diffs: dict[str, float]
    separated_agree: int
    separated_disagree: int
    separated_disagreeing: list[tuple[str, str]]
    only1: list[str]
    only2: list[str]


def compare_scenario(name: str, e1: dict[str, Estimate], e2: dict[str, Estimate]) -> ScenarioComparison:
    common = set(e1) & set(e2)
    o1, o2 = order_of(e1, common), order_of(e2, common)
    stacks = o1
    tau = kendall_tau_b([e1[s].ratio for s in stacks], [e2[s].ratio for s in stacks])
    diffs = {s: relative_difference(e1[s].ratio, e2[s].ratio) for s in stacks}
    agree = disagree = 0
    disagreeing = []
    for i, a in enumerate(stacks):
        for b in stacks[i + 1:]:
            s1, s2 = separated(e1[a], e1[b]), separated(e2[a], e2[b])
            if s1 and s2:
                if s1 == s2:
                    agree += 1
                else:
                    disagree += 1
                    disagreeing.append((a, b))
    return ScenarioComparison(name, stacks, o1, o2, tau, diffs, agree, disagree, disagreeing,
                              sorted(set(e1) - common), sorted(set(e2) - common))


def tau_separated(agree: int, disagree: int) -> float | None:
    n = agree + disagree
    return None if n == 0 else (agree - disagree) / n


@dataclass
class Comparison:
    run1: Run
    run2: Run
    scenarios: list[ScenarioComparison]
    kind: str                         # "default" | "quick"
    kind_note: str

    def all_diffs(self) -> list[tuple[float, str, str]]:
        return [(d, c.scenario, s) for c in self.scenarios for s, d in c.diffs.items()]

    def median_diff(self) -> float | None:
        d = [x[0] for x in self.all_diffs()]
        return statistics.median(d) if d else None

    def largest_diff(self) -> tuple[float, str, str] | None:
        d = self.all_diffs()
        return max(d) if d else None

    def separated_counts(self) -> tuple[int, int]:
        return (sum(c.separated_agree for c in self.scenarios),
                sum(c.separated_disagree for c in self.scenarios))

    def goals(self) -> list[tuple[str, str, str]]:
        """(goal, value, PASS | MISS | n/a)."""
        med_limit, max_limit = GOALS[self.kind]
        med, big = self.median_diff(), self.largest_diff()
        out = []
        out.append((f"median difference <= {med_limit:.0%}",
                    "-" if med is None else f"{med:.1%}",
                    "n/a" if med is None else ("PASS" if med <= med_limit + 1e-12 else "MISS")))
        out.append((f"largest difference <= {max_limit:.0%}",
                    "-" if big is None else f"{big[0]:.1%}",
                    "n/a" if big is None else ("PASS" if big[0] <= max_limit + 1e-12 else "MISS")))
        agree, disagree = self.separated_counts()
        t = tau_separated(agree, disagree)
        out.append(("tau over separated pairs = 1.0",
                    "-" if t is None else f"{t:.3f} ({agree + disagree} pairs)",
                    "n/a" if t is None else ("PASS" if disagree == 0 else "MISS")))
        return out


def decide_kind(r1: Run, r2: Run, asked: str) -> tuple[str, str]:
    if asked != "auto":
        return asked, f"as asked (--goals {asked})"
    if not r1.quick and not r2.quick:
        return "default", "both runs are full runs"
    if r1.quick != r2.quick:
        return "quick", "one run is --quick"
    return "quick", "both runs are --quick: no goal of its own; the quick-vs-default goals shown"


def compare_runs(r1: Run, r2: Run, goals: str = "auto") -> Comparison:
    order = list(r1.scenario_order) + [s for s in r2.scenario_order if s not in r1.scenario_order]
    scs = [compare_scenario(n, r1.estimates[n], r2.estimates[n])
           for n in order if n in r1.estimates and n in r2.estimates]
    kind, note = decide_kind(r1, r2, goals)
    return Comparison(r1, r2, scs, kind, note)


# ---------------------------------------------------------------- printing


def fmt_tau(t: float | None) -> str:
    return "n/a" if t is None else f"{t:+.3f}"


def fmt_wall(seconds: float | None) -> str:
    if seconds is None:
        return "unfinished (no finished_at)"
    m, s = divmod(round(seconds), 60)
    return f"{m}m{s:02d}s ({seconds:.0f} s)"


def describe_run(label: str, r: Run) -> str:
    return (f"run {label}: {r.path}\n"
            f"       id {r.id}, schema v{r.schema_version}, {'quick' if r.quick else 'full'} run, "
            f"wall time {fmt_wall(r.wall_seconds())}")


def print_comparison(c: Comparison, out=sys.stdout) -> None:
    w = out.write
    r1, r2 = c.run1, c.run2
    w(describe_run("1", r1) + "\n")
    w(describe_run("2", r2) + "\n")
    for r, label in ((r1, "1"), (r2, "2")):
        for n in r.notes:
            w(f"note (run {label}): {n}\n")
    only = ([s for s in r1.estimates if s not in r2.estimates],
            [s for s in r2.estimates if s not in r1.estimates])
    if only[0] or only[1]:
        w(f"scenarios not in both: run 1 only {only[0] or '-'}, run 2 only {only[1] or '-'}\n")

    for sc in c.scenarios:
        e1, e2 = r1.estimates[sc.scenario], r2.estimates[sc.scenario]
        m1 = ", ".join(sorted({e1[s].method for s in sc.stacks})) or "-"
        m2 = ", ".join(sorted({e2[s].method for s in sc.stacks})) or "-"
        source = m1 if m1 == m2 else f"run 1 {m1}; run 2 {m2}"
        w(f"\n== {sc.scenario}  ({len(sc.stacks)} stacks in both; ratios from {source})\n")
        w(f"   order 1: {' > '.join(sc.order1)}\n")
        w(f"   order 2: {' > '.join(sc.order2)}\n")
        n_sep = sc.separated_agree + sc.separated_disagree
        w(f"   Kendall tau-b {fmt_tau(sc.tau)};  separated pairs {n_sep}"
          f" ({sc.separated_disagree} in opposite order)\n")
        for a, b in sc.separated_disagreeing:
            w(f"   !! {a} vs {b}: apart in both runs, in opposite orders\n")
        width = max([len(s) for s in sc.stacks] + [5])
        w(f"   {'stack':<{width}}  {'rps 1':>9}  {'ratio 1 [interval]':<27}  "
          f"{'rps 2':>9}  {'ratio 2 [interval]':<27}  {'diff':>6}\n")
        for s in sc.stacks:
            a, b = e1[s], e2[s]
            w(f"   {s:<{width}}  {a.rps:>9.0f}  {a.ratio:5.3f} {a.interval_text():<21}  "
              f"{b.rps:>9.0f}  {b.ratio:5.3f} {b.interval_text():<21}  {sc.diffs[s]:>6.1%}\n")
        if sc.diffs:
            big = max(sc.diffs, key=lambda s: sc.diffs[s])
            w(f"   difference: median {statistics.median(sc.diffs.values()):.1%}, "
              f"largest {sc.diffs[big]:.1%} ({big})\n")
        if sc.only1 or sc.only2:
            w(f"   not compared: run 1 only {sc.only1 or '-'}, run 2 only {sc.only2 or '-'}\n")
        for r, label in ((r1, "1"), (r2, "2")):
            for stack, why in sorted(r.missing.get(sc.scenario, {}).items()):
                w(f"   run {label}: {stack} not ranked ({why})\n")

    w("\n== summary\n")
    w(f"   scenarios compared: {len(c.scenarios)}; stack x scenario ratios: {len(c.all_diffs())}\n")
    taus = [sc.tau for sc in c.scenarios if sc.tau is not None]
    if taus:
        worst = min(c.scenarios, key=lambda sc: 2 if sc.tau is None else sc.tau)
        w(f"   Kendall tau-b per scenario: median {statistics.median(taus):+.3f}, "
          f"lowest {worst.tau:+.3f} ({worst.scenario})\n")
    med, big = c.median_diff(), c.largest_diff()
    if med is not None:
        w(f"   difference of ratios: median {med:.1%}, largest {big[0]:.1%} "
          f"({big[2]} in {big[1]})\n")
        # The fastest stack of a scenario is 1.0 in both runs by definition when it stays
        # the fastest; show the median without those zeros too.
        rest = [d for d, scn, s in c.all_diffs()
                if not (r1.estimates[scn][s].ratio == 1.0 and r2.estimates[scn][s].ratio == 1.0)]
        if rest and len(rest) != len(c.all_diffs()):
            w(f"   (median {statistics.median(rest):.1%} without the stacks that are the "
              f"fastest, ratio 1.0, in both runs)\n")
    agree, disagree = c.separated_counts()
    w(f"   tau over separated pairs: {fmt_tau(tau_separated(agree, disagree))} "
      f"({agree + disagree} pairs apart in both runs, {disagree} in opposite order; 1.0 expected)\n")
    w(f"   wall time: run 1 {fmt_wall(r1.wall_seconds())}, run 2 {fmt_wall(r2.wall_seconds())}\n")
    w(f"\n== goals ({GOAL_LABEL[c.kind]}: {c.kind_note})\n")
    for goal, value, verdict in c.goals():
        w(f"   {verdict:<4}  {goal:<34} {value}\n")


def comparison_json(c: Comparison) -> dict:
    big = c.largest_diff()
    agree, disagree = c.separated_counts()

    def est(e: Estimate) -> dict:
        return {"rps": e.rps, "ratio": e.ratio,
                "low": e.low if e.has_interval else None,
                "high": e.high if e.has_interval else None,
                "method": e.method, "n": e.n}

    return {
        "runs": [{"path": r.path, "id": r.id, "quick": r.quick, "schema_version": r.schema_version,
                  "wall_s": r.wall_seconds()} for r in (c.run1, c.run2)],
        "goals_kind": c.kind,
        "scenarios": [{
            "scenario": sc.scenario, "order1": sc.order1, "order2": sc.order2, "tau_b": sc.tau,
            "separated_pairs": sc.separated_agree + sc.separated_disagree,
            "separated_opposite": [list(p) for p in sc.separated_disagreeing],
            "stacks": {s: {"run1": est(c.run1.estimates[sc.scenario][s]),
                           "run2": est(c.run2.estimates[sc.scenario][s]),
                           "difference": sc.diffs[s]} for s in sc.stacks},
        } for sc in c.scenarios],
        "median_difference": c.median_diff(),
        "largest_difference": None if big is None else {"value": big[0], "scenario": big[1], "stack": big[2]},
        "tau_separated": tau_separated(agree, disagree),
        "separated_pairs": agree + disagree,
        "goals": [{"goal": g, "value": v, "verdict": x} for g, v, x in c.goals()],
    }


# ---------------------------------------------------------------- commands


def cmd_compare(a: argparse.Namespace) -> int:
    try:
        r1, r2 = load_run(a.a), load_run(a.b)
    except (OSError, ValueError) as e:
        print(f"reproduce.py: {e}", file=sys.stderr)
        return 2
    c = compare_runs(r1, r2, a.goals)
    print_comparison(c)
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(comparison_json(c), indent=2) + "\n", encoding="utf-8")
    if not c.scenarios:
        print("\nno scenario was measured in both runs: nothing to compare", file=sys.stderr)
        return 2
    missed = any(v == "MISS" for _, _, v in c.goals())
    return 1 if (a.strict and missed) else 0


def cmd_find(a: argparse.Namespace) -> int:
    found = sorted(Path(a.dir).rglob("results.json"))
    if len(found) != 1:
        print(f"reproduce.py: expected one results.json under {a.dir}, found {len(found)}",
              file=sys.stderr)
        for f in found:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(found[0])
    return 0


# ---------------------------------------------------------------- self-test


def _trial(rps: float, valid: bool = True, rnd: int | None = None) -> dict:
    t = {"valid": valid, "load": {"summary": {"throughput_rps": rps}}}
    if rnd is not None:
        t["round"] = rnd
    return t


def _run_doc(scenarios: dict[str, dict[str, dict]], quick: bool = False, version: int = 2) -> dict:
    """scenarios: scenario -> stack -> ScenarioResult."""
    stacks: dict[str, list] = {}
    for name, per_stack in scenarios.items():
        for stack, sc in per_stack.items():
            stacks.setdefault(stack, []).append({"scenario": name, "error": None, **sc})
    return {"schema_version": version, "id": "test", "quick": quick,
            "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:10:30Z",
            "settings": {"scenarios": list(scenarios)},
            "stacks": [{"id": s, "error": None, "scenarios": v} for s, v in stacks.items()]}


def _load_doc(doc: dict) -> Run:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "results.json"
        p.write_text(json.dumps(doc), encoding="utf-8")
        return load_run(p)


def self_test() -> int:
    close = math.isclose
    # Kendall tau-b
    assert kendall_tau_b([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert kendall_tau_b([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert tau_of_orders(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert tau_of_orders(["a", "b", "c"], ["c", "b", "a"]) == -1.0
    assert close(tau_of_orders(["a", "b", "c"], ["b", "a", "c"]), 1 / 3)
    # one tie in y: 6 pairs, 5 concordant, 1 tied in y -> 5 / sqrt(6 * 5)
    assert close(kendall_tau_b([1, 2, 3, 4], [1, 1, 3, 4]), 5 / math.sqrt(30))
    # ties in both at the same pair: that pair counts in neither -> 5 / sqrt(5 * 5) = 1
    assert close(kendall_tau_b([1, 1, 3, 4], [2, 2, 3, 4]), 1.0)
    # ties on different pairs: 3 concordant, 1 discordant, 1 tied in x, 1 tied in y
    # -> (3 - 1) / sqrt(5 * 5) = 0.4 (as scipy.stats.kendalltau gives)
    assert close(kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 2]), 0.4)
    assert kendall_tau_b([1, 1, 1], [1, 2, 3]) is None
    assert kendall_tau_b([1], [1]) is None
    # percentile and bootstrap
    assert percentile([1, 2, 3, 4], 0.5) == 2.5 and percentile([5], 0.9) == 5
    lo, hi = bootstrap_median_interval([0.5, 0.52, 0.48, 0.51, 0.49], seed=1)
    assert 0.48 <= lo <= 0.5 <= hi <= 0.52, (lo, hi)
    assert bootstrap_median_interval([0.5, 0.52, 0.48], 7) == bootstrap_median_interval([0.5, 0.52, 0.48], 7)
    assert relative_difference(0.5, 0.5) == 0 and close(relative_difference(0.9, 1.1), 0.2)

    # v2 fallback: medians and min..max over the fastest median; invalid trials ignored
    v2 = _run_doc({"json": {
        "fast": {"trials": [_trial(100), _trial(90), _trial(110), _trial(1000, valid=False)]},
        "slow": {"trials": [_trial(40), _trial(50), _trial(60)]},
        "broken": {"trials": [_trial(10, valid=False)]},
    }})
    r = _load_doc(v2)
    e = r.estimates["json"]
    assert e["fast"].method == "trials" and e["fast"].ratio == 1.0 and e["fast"].rps == 100
    assert close(e["slow"].ratio, 0.5) and close(e["slow"].low, 0.4) and close(e["slow"].high, 0.6)
    assert close(e["fast"].low, 0.9) and close(e["fast"].high, 1.1)
    assert r.missing["json"] == {"broken": "no valid trial"}
    assert order_of(e) == ["fast", "slow"]

    # v3 rounds: the machine halves its speed in round 2; paired ratios do not notice
    rounds = _run_doc({"db": {
        "a": {"trials": [_trial(1000, rnd=1), _trial(500, rnd=2), _trial(980, rnd=3)]},
        "b": {"trials": [_trial(500, rnd=1), _trial(250, rnd=2), _trial(500, rnd=3)]},
        "c": {"trials": [_trial(100, rnd=1), _trial(50, rnd=2), _trial(999, rnd=3, valid=False)]},
    }}, version=3)
    e = _load_doc(rounds).estimates["db"]
    assert e["a"].method == "rounds" and e["a"].ratio == 1.0 and (e["a"].low, e["a"].high) == (1.0, 1.0)
    # b: rounds give 0.5, 0.5, 500/980
    assert close(e["b"].ratio, 0.5) and e["b"].n == 3
    assert close(e["b"].low, 0.5) and close(e["b"].high, 500 / 980), (e["b"].low, e["b"].high)
    # c: only rounds 1 and 2 are valid: 0.1 and 0.1
    assert close(e["c"].ratio, 0.1) and e["c"].n == 2 and close(e["c"].low, 0.1)
    # a redone window: two valid trials in one round -> their median
    redo = _run_doc({"db": {
        "a": {"trials": [_trial(100, rnd=1), _trial(100, rnd=2)]},
        "b": {"trials": [_trial(40, rnd=1), _trial(60, rnd=1), _trial(50, rnd=2)]},
    }}, version=3)
    assert close(_load_doc(redo).estimates["db"]["b"].ratio, 0.5)

    # v3 ratio field wins over rounds
    given = _run_doc({"cpu": {
        "a": {"trials": [_trial(100, rnd=1)], "ratio": {"median": 1.0, "low": 1.0, "high": 1.0}},
        "b": {"trials": [_trial(30, rnd=1)], "ratio": {"median": 0.31, "low": 0.29, "high": 0.33}},
    }}, version=3)
    e = _load_doc(given).estimates["cpu"]
    assert e["b"].method == "ratio field" and (e["b"].ratio, e["b"].low, e["b"].high) == (0.31, 0.29, 0.33)

    # comparing: identical runs -> tau 1, no differences, goals pass
    c = compare_runs(_load_doc(v2), _load_doc(v2))
    assert c.scenarios[0].tau == 1.0 and c.median_diff() == 0 and c.largest_diff()[0] == 0
    assert all(v == "PASS" for _, _, v in c.goals()) and c.kind == "default"
    assert c.run1.wall_seconds() == 630
    # swapped order with separated intervals -> tau -1, a separated pair in opposite order
    swapped = _run_doc({"json": {
        "fast": {"trials": [_trial(40), _trial(50), _trial(60)]},
        "slow": {"trials": [_trial(100), _trial(90), _trial(110)]},
    }}, quick=True)
    c = compare_runs(_load_doc(v2), _load_doc(swapped))
    sc = c.scenarios[0]
    assert sc.tau == -1.0 and sc.separated_disagree == 1 and c.kind == "quick"
    assert close(sc.diffs["slow"], relative_difference(0.5, 1.0))
    assert [v for _, _, v in c.goals()] == ["MISS", "MISS", "MISS"]
    # overlapping intervals are not separated pairs
    near = _run_doc({"json": {
        "fast": {"trials": [_trial(100), _trial(95), _trial(105)]},
        "slow": {"trials": [_trial(98), _trial(90), _trial(101)]},
    }})
    sc = compare_scenario("json", _load_doc(near).estimates["json"], _load_doc(near).estimates["json"])
    assert sc.separated_agree + sc.separated_disagree == 0
    # a one-trial run (--quick) states no interval: no pair counts as separated
    one = _run_doc({"json": {
        "fast": {"trials": [_trial(100)]},
        "slow": {"trials": [_trial(50)]},
    }}, quick=True)
    e = _load_doc(one).estimates["json"]
    assert not e["slow"].has_interval and e["slow"].n == 1
    c = compare_runs(_load_doc(one), _load_doc(v2))
    assert c.kind == "quick" and c.separated_counts() == (0, 0) and c.goals()[2][2] == "n/a"
    print("self-test: all checks passed")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true", help="check the comparison logic")
    sub = ap.add_subparsers(dest="cmd")
    c = sub.add_parser("compare", help="compare two results.json")
    c.add_argument("a", help="results.json of run 1 (or its folder)")
    c.add_argument("b", help="results.json of run 2 (or its folder)")
    c.add_argument("--goals", choices=["auto", "default", "quick"], default="auto",
                   help="which goals apply (auto: from the runs' 'quick' flags)")
    c.add_argument("--json-out", metavar="PATH", help="also write the comparison as JSON")
    c.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    f = sub.add_parser("find", help="print the one results.json under DIR")
    f.add_argument("dir")
    a = ap.parse_args()
    if a.cmd == "compare":
        return cmd_compare(a)
    if a.cmd == "find":
        return cmd_find(a)
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
