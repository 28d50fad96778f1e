//! The real run result the tests render, as the current model reads it.

#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;
use stackwise_results::RunResult;

/// The committed fixture of a real run. It may predate the memory sample count of a trial, so
/// that count is filled in as 0 when missing.
pub fn fixture() -> RunResult {
    let text = include_str!("../../stackwise/tests/fixtures/run-result.json");
    let mut value: Value = serde_json::from_str(text).unwrap();
    fill_server_samples(&mut value);
    serde_json::from_value(value).unwrap()
}

fn fill_server_samples(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("pss_peak_bytes") && !map.contains_key("samples") {
                map.insert("samples".into(), Value::from(0));
            }
            map.values_mut().for_each(fill_server_samples);
        }
        Value::Array(items) => items.iter_mut().for_each(fill_server_samples),
        _ => {}
    }
}
