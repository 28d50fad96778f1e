//! The run as tidy CSV: one row per stack × planned scenario, every summary figure a column,
//! for a spreadsheet, pandas or R. Rows that were not measured are present with `error` set, so
//! the row count is always stacks × scenarios.
//!
//! Columns, units in the name: throughput `rps_*` and `rps_per_core_*` (median, min, max, the
//! 95% interval of the median `lo`/`hi`, and cv of the valid trials; `valid_trials` of them),
//! `ratio_*` (throughput over the scenario's fastest stack's, round by round, median and
//! interval), latency `p50_ms`/`p99_ms` (medians; `mixed`:
//! its /json requests), the closed-loop maximum `max_rps` at `max_rps_connections`, the capacity
//! at `p99_target_ms` (`capacity_rps`, `capacity_rps_per_core`, `capacity_missed_rps`, the
//! lowest rate that missed, and `capacity_lower_bound`, true when none did), `pss_peak_bytes`, `cpu_ms_per_request`, `invalid` (trials and sweep
//! levels not ranked) and `other_load` (highest share of the machine used by other processes).
//! Empty means no figure.
//!
//! Written with the `csv` crate: errors and targets hold commas, quotes and newlines.

use super::{round, Entry, View};

const COLUMNS: [&str; 36] = [
    "run_id",
    "quick",
    "stack",
    "scenario",
    "target",
    "connections",
    "error",
    "valid_trials",
    "invalid",
    "rps_median",
    "rps_min",
    "rps_max",
    "rps_lo",
    "rps_hi",
    "rps_cv",
    "rps_per_core_median",
    "rps_per_core_min",
    "rps_per_core_max",
    "ratio_median",
    "ratio_lo",
    "ratio_hi",
    "p50_ms",
    "p99_ms",
    "max_rps",
    "max_rps_connections",
    "p99_target_ms",
    "capacity_rps",
    "capacity_rps_per_core",
    "capacity_missed_rps",
    "capacity_lower_bound",
    "pss_peak_bytes",
    "idle_pss_bytes",
    "cpu_ms_per_request",
    "other_load",
    "framework",
    "framework_version",
];

pub(super) fn render(v: &View<'_>) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let entries = v.entries();
    let rows =
        std::iter::once(COLUMNS.map(String::from)).chain(entries.iter().map(|e| fields(v, e)));
    for row in rows {
        w.write_record(&row)
            .expect("writing CSV to memory cannot fail");
    }
    let bytes = w.into_inner().expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8")
}

fn fields(v: &View<'_>, e: &Entry<'_>) -> [String; COLUMNS.len()] {
    let c = e.cell;
    let sc = e.stack.scenarios.iter().find(|s| s.scenario == e.scenario);
    let t = c.and_then(|c| c.throughput);
    let pc = c.and_then(|c| c.per_core);
    let ratio = c.and_then(|c| c.ratio);
    [
        v.r.id.clone(),
        v.r.quick.to_string(),
        e.stack.id.clone(),
        e.scenario.to_string(),
        sc.map(|s| s.target.clone()).unwrap_or_default(),
        opt(c.map(|c| c.connections)),
        e.error.unwrap_or_default().to_string(),
        t.map_or(0, |t| t.n).to_string(),
        c.map_or(0, |c| c.invalid.len()).to_string(),
        float(t.map(|t| t.median), 1),
        float(t.map(|t| t.min), 1),
        float(t.map(|t| t.max), 1),
        float(t.map(|t| t.lo), 1),
        float(t.map(|t| t.hi), 1),
        float(t.map(|t| t.cv), 4),
        float(pc.map(|t| t.median), 1),
        float(pc.map(|t| t.min), 1),
        float(pc.map(|t| t.max), 1),
        float(ratio.map(|t| t.median), 4),
        float(ratio.map(|t| t.lo), 4),
        float(ratio.map(|t| t.hi), 4),
        float(c.and_then(|c| c.p50_ms).map(|s| s.median), 3),
        float(c.and_then(|c| c.p99_ms).map(|s| s.median), 3),
        float(c.and_then(|c| c.max_rps).map(|m| m.0), 1),
        opt(c.and_then(|c| c.max_rps).map(|m| m.1)),
        float(Some(v.r.settings.p99_target_ms), 3),
        float(c.and_then(|c| c.capacity_rps), 1),
        float(c.and_then(|c| c.capacity_per_core), 1),
        float(c.and_then(|c| c.capacity_missed_rps), 1),
        opt(c
            .filter(|c| c.capacity_rps.is_some_and(|r| r > 0.0))
            .map(|c| c.capacity_is_lower_bound())),
        opt(c.and_then(|c| c.pss_peak_bytes)),
        opt(e.stack.idle_pss_bytes),
        float(c.and_then(|c| c.cpu_ms_per_request), 4),
        float(c.and_then(|c| c.other_load), 4),
        e.stack.framework.clone(),
        e.stack.framework_version.clone(),
    ]
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// Rounded, in plain decimal notation (never exponents), empty when absent.
fn float(x: Option<f64>, places: i32) -> String {
    match x {
        Some(x) if x.is_finite() => round(x, places).to_string(),
        _ => String::new(),
    }
}
