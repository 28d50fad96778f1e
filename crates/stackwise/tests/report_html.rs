//! `stackwise report` as a user runs it: the report of a run folder lands beside its
//! results.json (or where -o says), its path on stdout; an unknown run is bad usage.

#![allow(clippy::unwrap_used)]

mod common;

use common::stackwise;

/// A results folder holding the fixture as run `id`'s folder.
fn results_with_fixture(dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    let run = dir.join("results").join(id);
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("results.json"),
        include_str!("fixtures/run-result.json"),
    )
    .unwrap();
    dir.join("results")
}

fn assert_report(path: &std::path::Path) {
    let html = std::fs::read_to_string(path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", path.display());
    assert_eq!(html.matches("<svg class=\"chart ").count(), 4);
}

#[test]
fn report_writes_beside_the_results_and_prints_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let results = results_with_fixture(dir.path(), "20261122-184129");
    let out = stackwise(&[
        "report",
        "20261122-184129",
        "--results-dir",
        results.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let expected = results.join("20261122-184129").join("report.html");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        expected.display().to_string()
    );
    assert_report(&expected);

    // A results.json named directly, written elsewhere with -o.
    let file = results.join("20261122-184129").join("results.json");
    let elsewhere = dir.path().join("mail-me.html");
    let out = stackwise(&[
        "report",
        file.to_str().unwrap(),
        "-o",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_report(&elsewhere);
}

#[test]
fn an_unknown_run_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = stackwise(&["report", "--results-dir", results.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no run 'latest'"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unwritable_output_fails_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let results = results_with_fixture(dir.path(), "r1");
    let bad = dir.path().join("missing-dir").join("report.html");
    let out = stackwise(&[
        "report",
        "r1",
        "--results-dir",
        results.to_str().unwrap(),
        "-o",
        bad.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing-dir"), "{stderr}");
}

#[test]
fn the_report_checks_the_claims_and_with_a_profile_recommends() {
    let dir = tempfile::tempdir().unwrap();
    let results = results_with_fixture(dir.path(), "r1");
    let section = |html: &str, id: &str| {
        let start = html.find(&format!("<section id=\"{id}\"")).unwrap();
        let end = start + html[start..].find("</section>").unwrap();
        html[start..end].to_string()
    };
    let plain = dir.path().join("plain.html");
    let out = stackwise(&[
        "report",
        "r1",
        "--results-dir",
        results.to_str().unwrap(),
        "-o",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(&plain).unwrap();
    let claims = section(&html, "claims");
    assert!(claims.contains("<table>"), "{claims}");
    assert!(claims.contains("Node.js is faster for I/O"), "{claims}");
    assert!(
        section(&html, "recommendation").contains("stackwise advise"),
        "without a profile the section names the command"
    );

    let profile = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/profile.example.toml"
    );
    let advised = dir.path().join("advised.html");
    let out = stackwise(&[
        "report",
        "r1",
        "--results-dir",
        results.to_str().unwrap(),
        "--profile",
        profile,
        "-o",
        advised.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let html = std::fs::read_to_string(&advised).unwrap();
    let rec = section(&html, "recommendation");
    assert!(rec.contains("<table>"), "{rec}");
    for stack in ["fastify", "express", "fastapi", "django"] {
        assert!(rec.contains(stack), "{stack} missing from {rec}");
    }

    // A bad profile is bad usage, naming the file.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[team]\npython = 9\n").unwrap();
    let out = stackwise(&[
        "report",
        "r1",
        "--results-dir",
        results.to_str().unwrap(),
        "--profile",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}
