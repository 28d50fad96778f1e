//! The outputs of a whole run on a real, trimmed run result: each format a snapshot (clock
//! values masked), the quick-run banner in every format, the CSV read back as CSV, and odd
//! results (failed stacks, invalid trials, no capacity, nothing at all) rendered without a panic.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use stackwise::export::run::{render, RunFormat, QUICK_BANNER};
use stackwise_results::RunResult;

/// The fixture: a real run (see crates/stackwise/tests/fixtures/README.md).
fn fixture() -> RunResult {
    serde_json::from_str(include_str!("fixtures/run-result.json")).unwrap()
}

/// The output with the clock-derived values replaced: start, finish and the id (a timestamp).
fn masked(r: &RunResult, format: RunFormat) -> String {
    let mut out = render(r, format)
        .replace(&r.started_at, "[started_at]")
        .replace(&r.id, "[run_id]");
    if let Some(end) = &r.finished_at {
        out = out.replace(end, "[finished_at]");
    }
    out
}

#[test]
fn table() {
    insta::assert_snapshot!(masked(&fixture(), RunFormat::Table));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(masked(&fixture(), RunFormat::Markdown));
}

#[test]
fn csv() {
    insta::assert_snapshot!(masked(&fixture(), RunFormat::Csv));
}

#[test]
fn json() {
    insta::assert_snapshot!(masked(&fixture(), RunFormat::Json));
}

#[test]
fn csv_is_one_row_per_stack_and_scenario() {
    let r = fixture();
    let text = render(&r, RunFormat::Csv);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for name in [
        "run_id",
        "quick",
        "stack",
        "scenario",
        "error",
        "rps_median",
        "rps_min",
        "rps_max",
        "rps_cv",
        "rps_per_core_median",
        "p50_ms",
        "p99_ms",
        "max_rps",
        "max_rps_connections",
        "capacity_rps",
        "capacity_rps_per_core",
        "capacity_missed_rps",
        "pss_peak_bytes",
        "cpu_ms_per_request",
        "invalid",
        "other_load",
    ] {
        assert!(header.iter().any(|h| h == name), "no column {name}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), r.stacks.len() * r.settings.scenarios.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        assert_eq!(row.len(), header.len());
        assert_eq!(&row[col("run_id")], r.id);
        assert_eq!(&row[col("quick")], "false");
        let rps: f64 = row[col("rps_median")].parse().unwrap();
        assert!(rps > 0.0);
    }
}

#[test]
fn quick_runs_say_so_in_every_format() {
    let mut r = fixture();
    r.quick = true;
    for format in [RunFormat::Table, RunFormat::Markdown] {
        let text = render(&r, format);
        assert!(text.contains(QUICK_BANNER), "{format}:\n{text}");
        assert!(
            text.lines().next().unwrap().contains(QUICK_BANNER),
            "{format} does not open with the banner"
        );
    }
    assert!(render(&r, RunFormat::Markdown).starts_with(&format!("> **{QUICK_BANNER}**")));

    let csv_text = render(&r, RunFormat::Csv);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let quick = reader.headers().unwrap().iter().position(|h| h == "quick");
    let quick = quick.unwrap();
    for row in reader.records() {
        assert_eq!(&row.unwrap()[quick], "true");
    }

    let json: Value = serde_json::from_str(&render(&r, RunFormat::Json)).unwrap();
    assert_eq!(json["run"]["quick"], true);
    assert_eq!(json["notes"][0], QUICK_BANNER);

    let full = render(&fixture(), RunFormat::Table);
    assert!(!full.contains("QUICK RUN"));
}

#[test]
fn a_run_without_probes_says_capacity_was_not_probed() {
    let mut r = fixture();
    r.quick = true;
    r.settings.capacity_probes = 0;
    for s in &mut r.stacks {
        for sc in &mut s.scenarios {
            sc.capacity = None;
        }
    }
    for format in [RunFormat::Table, RunFormat::Markdown] {
        let text = render(&r, format);
        assert!(
            text.contains("no open-loop probes were run (a quick run ranks throughput"),
            "{format}:\n{text}"
        );
        assert!(
            text.contains("not probed: this run ran no open-loop probes;"),
            "{format}"
        );
        assert!(!text.contains("capacity probes up to"), "{format}");
    }
    let full = render(&fixture(), RunFormat::Table);
    assert!(!full.contains("not probed"));
}

#[test]
fn formats_parse_from_their_names() {
    for f in RunFormat::ALL {
        assert_eq!(f.as_str().parse::<RunFormat>().unwrap(), f);
    }
    assert_eq!("md".parse::<RunFormat>().unwrap(), RunFormat::Markdown);
    assert_eq!("JSON".parse::<RunFormat>().unwrap(), RunFormat::Json);
    let err = "html".parse::<RunFormat>().unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown format 'html': expected table, markdown (or md), csv or json"
    );
}

/// A run where most things went wrong: a stack that failed to install, a scenario that failed
/// to start, one whose trials were all invalid, capacity searches that found nothing or did not
/// run, a single trial, a disturbed machine, a planned stack never reached.
fn degenerate() -> RunResult {
    let mut r = fixture();
    r.finished_at = None;
    r.settings.stacks.push("fastify".into());
    r.settings.server_cpus = Vec::new();

    let django = &mut r.stacks[0];
    django.error = Some("install failed: pip exited with 1 | see log\nERROR: no wheel".into());
    django.scenarios.clear();
    django.startup_s.clear();
    django.idle_pss_bytes = None;
    django.installed_bytes = 0;

    let express = &mut r.stacks[1];
    let json = &mut express.scenarios[0];
    for t in &mut json.trials {
        t.valid = false;
        t.invalid_reason = Some("the load engine was saturated (99% of its cores)".into());
    }
    json.sweep[0].valid = false;
    json.sweep[0].invalid_reason = Some("12 errors and 0 non-2xx responses".into());
    let db = &mut express.scenarios[1];
    db.error = Some("did not verify: GET /db answered 500".into());
    db.trials.clear();
    db.sweep.clear();
    db.capacity = None;
    let upstream = express.scenarios[2].capacity.as_mut().unwrap();
    upstream.rps = 0.0;
    let mixed = &mut express.scenarios[3];
    mixed.trials[1].other_load = Some(0.23);
    let capacity = mixed.capacity.as_mut().unwrap();
    capacity.rps = 0.0;
    capacity.missed_rps = None;

    let fastapi = &mut r.stacks[2];
    fastapi.scenarios[0].trials.truncate(1);
    fastapi.scenarios[1].trials.clear();
    fastapi.scenarios.truncate(3);
    r
}

#[test]
fn degenerate_results_render_in_every_format() {
    let r = degenerate();
    for f in RunFormat::ALL {
        let text = render(&r, f);
        assert!(text.ends_with('\n'), "{f}");
    }
    let csv_text = render(&r, RunFormat::Csv);
    let rows = csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(Result::unwrap)
        .count();
    assert_eq!(rows, r.stacks.len() * r.settings.scenarios.len());
    let json: Value = serde_json::from_str(&render(&r, RunFormat::Json)).unwrap();
    assert_eq!(json["run"]["finished_at"], Value::Null);
    insta::assert_snapshot!(masked(&r, RunFormat::Table));
}

#[test]
fn an_empty_run_renders() {
    let mut r = fixture();
    r.stacks.clear();
    r.settings.stacks.clear();
    r.settings.scenarios.clear();
    r.versions.clear();
    for f in RunFormat::ALL {
        let text = render(&r, f);
        assert!(!text.is_empty(), "{f}");
    }
    let csv_text = render(&r, RunFormat::Csv);
    assert_eq!(csv_text.lines().count(), 1, "only the header:\n{csv_text}");
}

#[test]
fn markdown_keeps_a_pipe_inside_its_cell() {
    let mut r = fixture();
    r.stacks[0].id = "django|sync".into();
    let md = render(&r, RunFormat::Markdown);
    let row = md
        .lines()
        .find(|l| l.starts_with("| django"))
        .unwrap_or_else(|| panic!("no django row:\n{md}"));
    assert!(row.starts_with("| django\\|sync |"), "{row}");
    let unescaped = row.replace("\\|", "").matches('|').count();
    assert_eq!(unescaped, r.settings.scenarios.len() + 2, "{row}");
}
