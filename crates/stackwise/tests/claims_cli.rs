//! `stackwise claims` as a user runs it: on the real run fixture named by path, by its folder
//! and by id under --results-dir, in both formats, and with bad input.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_usage_error, stackwise, stdout};

use std::path::PathBuf;

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-result.json")
}

fn fixture_id() -> String {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_path()).unwrap()).unwrap();
    value["id"].as_str().unwrap().to_string()
}

#[test]
fn table_of_the_fixture() {
    let out = stdout(&stackwise(&["claims", fixture_path().to_str().unwrap()]));
    insta::assert_snapshot!(out.replace(&fixture_id(), "[run_id]"));
}

#[test]
fn markdown_of_the_fixture() {
    let path = fixture_path();
    let out = stdout(&stackwise(&[
        "claims",
        path.to_str().unwrap(),
        "--format",
        "markdown",
    ]));
    assert!(
        out.starts_with(&format!("# Claims checked against run {}\n", fixture_id())),
        "{out}"
    );
    assert!(
        out.contains("| Claim | Verdict | Evidence | Scenarios |"),
        "{out}"
    );
    // The claims' table: a heading and ten claims; then the per-stack table.
    let (claims, per_stack) = out.split_once("\nPer stack:").expect("a per-stack table");
    assert_eq!(
        claims.lines().filter(|l| l.starts_with("| ")).count(),
        1 + 10
    );
    assert!(
        per_stack.contains("| Claim | Stack | Verdict | Evidence |"),
        "{out}"
    );
    let md = stdout(&stackwise(&[
        "claims",
        path.to_str().unwrap(),
        "--format",
        "md",
    ]));
    assert_eq!(md, out);
}

#[test]
fn a_run_is_named_as_show_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let id = fixture_id();
    let run_dir = dir.path().join("results").join(&id);
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::copy(fixture_path(), run_dir.join("results.json")).unwrap();
    let by_path = stdout(&stackwise(&["claims", fixture_path().to_str().unwrap()]));
    let by_folder = stdout(&stackwise(&["claims", run_dir.to_str().unwrap()]));
    let results = dir.path().join("results");
    let by_id = stdout(&stackwise(&[
        "claims",
        &id,
        "--results-dir",
        results.to_str().unwrap(),
    ]));
    assert_eq!(by_folder, by_path);
    assert_eq!(by_id, by_path);
}

#[test]
fn bad_input_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let results = results.to_str().unwrap();
    // A run named and missing is an error; none named falls back to the bundled reference.
    assert_usage_error(
        &["claims", "latest", "--results-dir", results],
        "no run 'latest'",
    );
    let none = stackwise(&["claims", "--results-dir", results]);
    assert!(none.status.success(), "{none:?}");
    let said = String::from_utf8_lossy(&none.stderr);
    assert!(said.contains("bundled reference results"), "{said}");
    assert!(String::from_utf8_lossy(&none.stdout).starts_with("Run "));
    assert_usage_error(
        &["claims", "20990101", "--results-dir", results],
        "no run '20990101'",
    );
    let path = fixture_path();
    assert_usage_error(
        &["claims", path.to_str().unwrap(), "--format", "html"],
        "unknown format 'html'",
    );
    let not_a_run = dir.path().join("not-a-run.json");
    std::fs::write(&not_a_run, "{\"hello\": 1}").unwrap();
    assert_usage_error(
        &["claims", not_a_run.to_str().unwrap()],
        "is not a stackwise run result",
    );
}
