#!/usr/bin/env python3
"""Makes the bundled reference results from a run's results.json (see data/reference/README.md).

Keeps everything as measured, except the raw histograms of the sweep and the capacity probes,
which are replaced by an empty histogram to keep the file small; writes compact JSON.

A stack whose record has no ecosystem levels (a run made before stack records carried them)
gets those of its manifest, stacks/<id>/stack.toml ([ecosystem], docs/stacks.md); no measured
figure changes. `--ecosystem FILE` sets every stack's levels to its manifest's, in place, in a
results file such as the reference (after a manifest's levels changed) or a test fixture.
"""
import json
import pathlib
import sys
import tomllib

# HdrHistogram's compressed V2 encoding (base64) of an empty histogram of the engine's bounds.
EMPTY = "HISTFAAAAB94nJNpmSzMwMDAyAABzFAazL82eQmD/QeoCABVgwSI"

STACKS = pathlib.Path(__file__).resolve().parent.parent / "stacks"


def strip(trial):
    for tag in trial["load"]["tags"]:
        tag["histograms"] = {"corrected": EMPTY, "uncorrected": EMPTY}
    delivery = trial["load"]["engine"]["delivery"]
    for key in ("send_lag_histogram", "unanswered_age_histogram"):
        if key in delivery:
            delivery[key] = EMPTY


def add_ecosystem(run, replace):
    """Gives every stack record without ecosystem levels (or every one, to `replace`) those of
    its manifest."""
    for stack in run["stacks"]:
        if stack.get("ecosystem") and not replace:
            continue
        manifest = STACKS / stack["id"] / "stack.toml"
        if not manifest.is_file():
            sys.exit(f"stack '{stack['id']}': no manifest at {manifest}")
        with open(manifest, "rb") as f:
            table = tomllib.load(f).get("ecosystem")
        if table is None:
            print(f"stack '{stack['id']}': {manifest} has no [ecosystem] table", file=sys.stderr)
            continue
        # Levels are numbers 0-100 in the result model (f64), written as such.
        stack["ecosystem"] = {
            key: {"level": float(j["level"]), "fact": j["fact"], "statement": j["statement"]}
            for key, j in table.items()
        }


def write(run, path):
    with open(path, "w") as out:
        json.dump(run, out, separators=(",", ":"))
        out.write("\n")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--ecosystem":
        run = json.load(open(sys.argv[2]))
        add_ecosystem(run, replace=True)
        write(run, sys.argv[2])
        return
    if len(sys.argv) != 3:
        sys.exit("usage: reference.py RUN/results.json OUT.json\n"
                 "       reference.py --ecosystem RESULTS.json")
    run = json.load(open(sys.argv[1]))
    if run.get("quick") or not run.get("finished_at"):
        sys.exit("a reference must be a finished run that is not --quick")
    for stack in run["stacks"]:
        for scenario in stack["scenarios"]:
            for trial in scenario["sweep"]:
                strip(trial)
            for probe in (scenario.get("capacity") or {}).get("probes", []):
                strip(probe["trial"])
    add_ecosystem(run, replace=False)
    write(run, sys.argv[2])


if __name__ == "__main__":
    main()
