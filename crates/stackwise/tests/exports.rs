//! Exporters on a fixed result: the terminal summary is a snapshot, the JSON round-trips.

#![allow(clippy::unwrap_used)]

use stackwise::export;
use stackwise_engine::LoadReport;

fn fixture() -> LoadReport {
    let text = include_str!("fixtures/load-report.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn terminal_summary() {
    insta::assert_snapshot!(export::terminal::render(&fixture()));
}

#[test]
fn json_round_trips() {
    let report = fixture();
    let text = export::json::render(&report).unwrap();
    let back: LoadReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}
