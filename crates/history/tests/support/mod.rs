//! The real run result fixture (3 stacks × 4 scenarios) and variations of it, shared by the
//! history's tests and the CLI's.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use stackwise_results::RunResult;

pub fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../stackwise/tests/fixtures/run-result.json")
}

/// The fixture: a real run.
pub fn fixture() -> RunResult {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fixture as another run, started at `started_at` (RFC 3339).
pub fn run(id: &str, started_at: &str) -> RunResult {
    let mut r = fixture();
    r.id = id.to_string();
    r.started_at = started_at.to_string();
    r
}

/// `r` with every throughput of `stack` (trials, sweep, capacity) multiplied by `factor`.
pub fn scaled(mut r: RunResult, stack: &str, factor: f64) -> RunResult {
    let s = r.stacks.iter_mut().find(|s| s.id == stack).unwrap();
    for sc in &mut s.scenarios {
        for t in sc.trials.iter_mut().chain(&mut sc.sweep) {
            t.load.summary.throughput_rps *= factor;
        }
        if let Some(c) = &mut sc.capacity {
            c.rps *= factor;
            c.missed_rps = c.missed_rps.map(|m| m * factor);
            for p in &mut c.probes {
                p.rate *= factor;
            }
        }
    }
    r
}
