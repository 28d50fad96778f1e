#!/usr/bin/env python3
"""Makes the bundled reference results from a run's results.json (see data/reference/README.md).

Keeps everything as measured, except the raw histograms of the sweep and the capacity probes,
which are replaced by an empty histogram to keep the file small; writes compact JSON.
"""
import json
import sys

# HdrHistogram's compressed V2 encoding (base64) of an empty histogram of the engine's bounds.
EMPTY = "HISTFAAAAB94nJNpmSzMwMDAyAABzFAazL82eQmD/QeoCABVgwSI"


def strip(trial):
    for tag in trial["load"]["tags"]:
        tag["histograms"] = {"corrected": EMPTY, "uncorrected": EMPTY}
    delivery = trial["load"]["engine"]["delivery"]
    for key in ("send_lag_histogram", "unanswered_age_histogram"):
        if key in delivery:
            delivery[key] = EMPTY


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: reference.py RUN/results.json OUT.json")
    run = json.load(open(sys.argv[1]))
    if run.get("quick") or not run.get("finished_at"):
        sys.exit("a reference must be a finished run that is not --quick")
    for stack in run["stacks"]:
        for scenario in stack["scenarios"]:
            for trial in scenario["sweep"]:
                strip(trial)
            for probe in (scenario.get("capacity") or {}).get("probes", []):
                strip(probe["trial"])
    with open(sys.argv[2], "w") as out:
        json.dump(run, out, separators=(",", ":"))
        out.write("\n")


if __name__ == "__main__":
    main()
