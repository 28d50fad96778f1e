//! `stackwise runs`, `show` and `compare` as a user runs them, on a history filled with the real
//! fixture and altered copies of it.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_usage_error, stackwise, stdout};

#[path = "../../history/tests/support/mod.rs"]
mod support;

use std::path::Path;

use stackwise::export::run::RunFormat;
use stackwise_history::History;

/// A results folder whose history holds the fixture and, a day later, an interrupted run with
/// express three times as fast.
fn results_with_two_runs(dir: &Path) -> String {
    let results = dir.join("results");
    let mut history = History::open(&stackwise_history::default_path(&results)).unwrap();
    history.record(&support::fixture()).unwrap();
    let mut later = support::scaled(
        support::run("20261123-090000", "2026-11-23T09:00:00Z"),
        "express",
        3.0,
    );
    later.finished_at = None;
    later.stacks.retain(|s| s.id != "django");
    history.record(&later).unwrap();
    results.display().to_string()
}

#[test]
fn runs_on_an_empty_folder_says_there_are_none_yet() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = stdout(&stackwise(&[
        "runs",
        "--results-dir",
        results.to_str().unwrap(),
    ]));
    assert!(out.starts_with("no runs yet"), "{out}");
    assert!(!results.exists(), "listing must not create the history");
}

#[test]
fn runs_lists_newest_first_with_how_far_each_got() {
    let dir = tempfile::tempdir().unwrap();
    let results = results_with_two_runs(dir.path());
    let out = stdout(&stackwise(&["runs", "--results-dir", &results]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("id "), "{out}");
    assert!(lines[1].starts_with("20261123-090000"), "{out}");
    assert!(lines[1].contains("interrupted"), "{out}");
    assert!(
        lines[1].contains("4×5") && lines[1].contains("15/20"),
        "{out}"
    );
    assert!(lines[2].starts_with("20261122-195002"), "{out}");
    assert!(lines[2].contains("2026-11-22 20:00:56"), "{out}");
    assert!(
        lines[2].contains("20/20") && lines[2].contains("full"),
        "{out}"
    );
    assert!(lines[2].contains("AMD EPYC, 2 cores"), "{out}");
}

#[test]
fn show_of_an_unknown_run_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    assert_usage_error(
        &[
            "show",
            "nonexistent",
            "--results-dir",
            empty.to_str().unwrap(),
        ],
        "no run 'nonexistent'",
    );
    let results = results_with_two_runs(dir.path());
    assert_usage_error(
        &["show", "nonexistent", "--results-dir", &results],
        "no run 'nonexistent'",
    );
    assert_usage_error(
        &["show", "2026112", "--results-dir", &results],
        "matches 2 runs: 20261122-195002, 20261123-090000",
    );
    assert_usage_error(
        &[
            "show",
            "latest",
            "--format",
            "yaml",
            "--results-dir",
            &results,
        ],
        "unknown format 'yaml'",
    );
}

#[test]
fn show_prints_a_run_from_a_file_or_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = support::fixture();
    let file = dir.path().join("results.json");
    fixture.save(&file).unwrap();
    let out = stdout(&stackwise(&["show", file.to_str().unwrap()]));
    assert_eq!(
        out,
        stackwise::export::run::render(&fixture, RunFormat::Table)
    );
    // The folder holding results.json names the run too.
    let out = stdout(&stackwise(&[
        "show",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert_eq!(
        out,
        stackwise::export::run::render(&fixture, RunFormat::Csv)
    );

    let results = results_with_two_runs(dir.path());
    let out = stdout(&stackwise(&["show", "latest", "--results-dir", &results]));
    assert!(out.contains("Run 20261123-090000"), "{out}");
    assert!(out.contains("UNFINISHED RUN"), "{out}");
    for format in RunFormat::ALL {
        let out = stdout(&stackwise(&[
            "show",
            "20261122",
            "--format",
            format.as_str(),
            "--results-dir",
            &results,
        ]));
        assert_eq!(
            out,
            stackwise::export::run::render(&fixture, format),
            "{format}"
        );
    }
}

#[test]
fn compare_shows_differences_then_changes_then_what_one_side_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let results = results_with_two_runs(dir.path());
    let out = stdout(&stackwise(&[
        "compare",
        "20261122",
        "20261123",
        "--results-dir",
        &results,
    ]));
    assert!(out.contains("Same host, versions and settings."), "{out}");
    let row = |stack: &str, scenario: &str| {
        out.lines()
            .find(|l| {
                let mut words = l.split_whitespace();
                words.next() == Some(stack) && words.next() == Some(scenario)
            })
            .unwrap_or_else(|| panic!("no {stack} {scenario} row in\n{out}"))
            .to_string()
    };
    for scenario in ["json", "db", "upstream", "cpu", "mixed"] {
        let express = row("express", scenario);
        assert!(express.contains("+200.0%"), "{express}");
        assert!(!express.contains("within noise"), "{express}");
        let fastapi = row("fastapi", scenario);
        assert!(fastapi.contains("+0.0% within noise"), "{fastapi}");
    }
    assert!(
        out.contains("Only in A (20261122-195002): stack django"),
        "{out}"
    );

    // Two copies of the same run, one a file: identical, within noise everywhere.
    let file = dir.path().join("a.json");
    support::fixture().save(&file).unwrap();
    let out = stdout(&stackwise(&[
        "compare",
        file.to_str().unwrap(),
        "20261122-195002",
        "--results-dir",
        &results,
    ]));
    let rows: Vec<&str> = out.lines().filter(|l| l.contains('%')).collect();
    assert_eq!(rows.len(), 20, "{out}");
    assert!(
        rows.iter().all(|l| l.contains("+0.0% within noise")),
        "{out}"
    );
    assert!(!out.contains("Only in"), "{out}");
}

#[test]
fn compare_lists_host_and_version_differences() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let run = support::fixture();
    run.save(&a).unwrap();
    let mut other = run.clone();
    other.host.kernel = "6.19.0".into();
    other.versions.insert("python".into(), "3.13.1".into());
    other.settings.p99_target_ms = 50.0;
    other.save(&b).unwrap();
    let out = stdout(&stackwise(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]));
    let differences: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("Differences"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(differences.len(), 3, "{out}");
    assert!(differences[0].contains("kernel") && differences[0].contains("→ 6.19.0"));
    assert!(differences[1].contains("python") && differences[1].contains("3.11.7 → 3.13.1"));
    assert!(differences[2].contains("p99 target") && differences[2].contains("100 ms → 50 ms"));
}
