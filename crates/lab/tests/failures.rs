//! Contestants that fail under load are reported, never measured as if they had not: one that
//! exits, one that stops answering, and one whose worker is replaced by its supervisor (as
//! gunicorn does). Each fails its scenario with the reason, and the trial that saw it is
//! invalid. Needs PostgreSQL (a throwaway cluster is made) and python3.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use stackwise_lab::run::{run, Protocol};

const SERVER: &str = include_str!("fixtures/failing_server.py");
const MANIFEST: &str = include_str!("fixtures/failing_stack.toml");

/// Runs `json` against a server failing as `mode` says, a few seconds after its first request;
/// returns the scenario's error and the reasons its trials were set aside.
fn run_failing(mode: &str) -> (Option<String>, Vec<String>) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("stacks").join(mode);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.py"), SERVER).unwrap();
    let manifest = MANIFEST.replace("@MODE@", mode).replace("@AFTER@", "2.5");
    std::fs::write(dir.join("stack.toml"), manifest).unwrap();
    let protocol = Protocol {
        window: Duration::from_millis(500),
        settle: Duration::from_millis(250),
        warmup_cap: Duration::from_secs(1),
        min_rounds: 8,
        max_rounds: 8,
        probes: 2,
        noise_limit: 1.0,
        calibration: Duration::from_millis(200),
        ..Protocol::default_run()
    };
    let options = support::options(root.path(), &dir, "json", protocol);
    let result = run(&options, "failures-test", &mut |_| {}, &mut |_| {}).unwrap();
    let sc = &result.stacks[0].scenarios[0];
    let reasons = sc
        .trials
        .iter()
        .filter_map(|t| t.invalid_reason.clone())
        .collect();
    (sc.error.clone(), reasons)
}

#[test]
fn a_server_that_exits_under_load_fails_its_scenario() {
    let (error, _) = run_failing("exit");
    let error = error.expect("the scenario must fail");
    assert!(error.contains("exited"), "{error}");
}

#[test]
fn a_server_that_stops_answering_fails_its_scenario() {
    let (error, reasons) = run_failing("hang");
    let error = error.expect("the scenario must fail");
    assert!(error.contains("stopped answering"), "{error}");
    assert!(
        reasons.iter().any(|r| r.contains("stopped answering")),
        "{reasons:?}"
    );
}

#[test]
fn a_worker_replaced_by_its_supervisor_fails_its_scenario() {
    // Seen inside a window or between two: either way the stack fails with the reason.
    let (error, _) = run_failing("restart");
    let error = error.expect("the scenario must fail");
    assert!(
        error.contains("a worker exited or was restarted"),
        "{error}"
    );
}
