//! The real run result the tests render, as the current model reads it.

#![allow(dead_code, clippy::unwrap_used)]

use stackwise_results::RunResult;

/// The fixture: a real run (see crates/stackwise/tests/fixtures/README.md).
pub fn fixture() -> RunResult {
    let text = include_str!("../../stackwise/tests/fixtures/run-result.json");
    serde_json::from_str(text).unwrap()
}
