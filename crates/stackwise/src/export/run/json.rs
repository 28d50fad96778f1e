//! The run as a JSON summary document for scripts and dashboards: the figures every other format
//! shows, already computed. It is not a copy of `results.json`, which keeps the raw trials and
//! histograms; this one is small enough to read and to diff between runs.
//!
//! `cells` holds every stack × planned scenario, measured or not (`error` says why not).
//! Rates are requests per second, latencies milliseconds, memory bytes, rounded where more
//! digits would only be noise.

use std::collections::BTreeMap;

use serde::Serialize;
use stackwise_results::summary::{Ranking, Spread};
use stackwise_results::{Host, Settings};

use super::{round, startup_median, View};

/// Version of this summary document (not of `results.json`); raised when a field changes
/// meaning or goes away.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    run: Run<'a>,
    stacks: Vec<Stack<'a>>,
    cells: Vec<CellOut<'a>>,
    rankings: Vec<RankingOut>,
    /// The GIL scenarios: each stack's throughput on every server core over one; empty when
    /// the run has not both.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scaling: Vec<ScalingOut<'a>>,
    /// The quick-run banner, errors, invalid trials and disturbed measurements, one line each.
    notes: Vec<String>,
}

#[derive(Serialize)]
struct ScalingOut<'a> {
    stack: &'a str,
    /// Worker processes on many cores, and their threads when the manifest sets them.
    processes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    threads: Option<u64>,
    cores: usize,
    one_core_rps: f64,
    many_cores_rps: f64,
    /// `many_cores_rps / one_core_rps`, with its 95% interval.
    factor: f64,
    factor_low: f64,
    factor_high: f64,
    /// The factor was taken round by round (both scenarios measured in the same rounds);
    /// false: the medians' ratio, measured apart.
    paired: bool,
}

#[derive(Serialize)]
struct Run<'a> {
    id: &'a str,
    tool: &'a str,
    /// Shortened trials: not for decisions.
    quick: bool,
    started_at: &'a str,
    finished_at: Option<&'a str>,
    host: &'a Host,
    versions: &'a BTreeMap<String, String>,
    settings: &'a Settings,
}

#[derive(Serialize)]
struct Stack<'a> {
    id: &'a str,
    name: &'a str,
    language: &'a str,
    framework: &'a str,
    framework_version: &'a str,
    workers: u64,
    /// Worker processes in the WebSocket scenarios; absent for a stack without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    websocket_workers: Option<u64>,
    /// The library of its `data` and `ml` answers; absent for a stack that takes no part.
    #[serde(skip_serializing_if = "Option::is_none")]
    data_library: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ml_library: Option<&'a str>,
    /// Whether `ml_library` also answers `ml-image`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ml_image: bool,
    error: Option<&'a str>,
    idle_pss_bytes: Option<u64>,
    /// Highest over the scenarios.
    peak_pss_bytes: Option<u64>,
    /// Median over the server starts.
    startup_s: Option<f64>,
    install_s: f64,
    installed_bytes: u64,
    dependencies: u64,
    lines_of_code: u64,
    /// Marks what the hardware allows: never ranked nor recommended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ceiling: bool,
}

#[derive(Serialize)]
struct CellOut<'a> {
    stack: &'a str,
    scenario: &'a str,
    target: Option<&'a str>,
    error: Option<&'a str>,
    connections: Option<u64>,
    /// Requests per second of the valid trials, then the same per server core.
    throughput: Option<SpreadOut>,
    per_core: Option<SpreadOut>,
    /// Throughput as a ratio to the scenario's fastest stack, taken round by round.
    ratio: Option<SpreadOut>,
    /// Medians of the valid trials (`mixed`: its /json requests alone).
    p50_ms: Option<f64>,
    p99_ms: Option<SpreadOut>,
    /// The closed-loop maximum over the trials' median and the sweep.
    closed_loop_max: Option<MaxOut>,
    capacity: Option<CapacityOut>,
    pss_peak_bytes: Option<u64>,
    cpu_ms_per_request: Option<f64>,
    /// Trials and sweep levels not ranked, with why.
    invalid: Vec<&'a str>,
    /// Highest share of the machine other processes used during any trial.
    other_load: Option<f64>,
}

#[derive(Serialize)]
struct SpreadOut {
    median: f64,
    min: f64,
    max: f64,
    /// The 95% interval of the median.
    lo: f64,
    hi: f64,
    cv: f64,
    n: usize,
}

#[derive(Serialize)]
struct MaxOut {
    rps: f64,
    connections: u64,
}

#[derive(Serialize)]
struct CapacityOut {
    p99_target_ms: f64,
    /// The highest rate that met the target; 0 when none did.
    rps: f64,
    per_core: f64,
    /// The lowest rate that missed it, when one did.
    missed_rps: Option<f64>,
    /// No rate tried missed it: the capacity is at least `rps`.
    lower_bound: bool,
    /// Responses behind the p99 of the probe that met the target at `rps`.
    responses: Option<u64>,
}

#[derive(Serialize)]
struct RankingOut {
    scenario: String,
    /// Such as `express > fastapi ≈ django`.
    order: String,
    /// Some adjacent places are within noise.
    within_noise: bool,
    places: Vec<PlaceOut>,
    unranked: Vec<String>,
}

#[derive(Serialize)]
struct PlaceOut {
    stack: String,
    rps: SpreadOut,
    /// Its range overlaps the place above.
    within_noise: bool,
}

pub(super) fn render(v: &View<'_>) -> String {
    let r = v.r;
    let doc = Document {
        schema_version: SUMMARY_SCHEMA_VERSION,
        run: Run {
            id: &r.id,
            tool: &r.tool,
            quick: r.quick,
            started_at: &r.started_at,
            finished_at: r.finished_at.as_deref(),
            host: &r.host,
            versions: &r.versions,
            settings: &r.settings,
        },
        stacks: r
            .stacks
            .iter()
            .map(|s| Stack {
                id: &s.id,
                name: &s.name,
                language: &s.language,
                framework: &s.framework,
                framework_version: &s.framework_version,
                workers: s.workers,
                websocket_workers: s.websocket.as_ref().map(|ws| ws.workers),
                data_library: s.data_library.as_deref(),
                ml_library: s.ml_library.as_deref(),
                ml_image: s.ml_image,
                error: s.error.as_deref(),
                idle_pss_bytes: s.idle_pss_bytes,
                peak_pss_bytes: v.peak_pss(&s.id),
                startup_s: startup_median(s).map(|t| round(t, 3)),
                install_s: round(s.install_seconds, 1),
                installed_bytes: s.installed_bytes,
                dependencies: s.dependencies,
                lines_of_code: s.lines_of_code,
                ceiling: s.ceiling,
            })
            .collect(),
        cells: v
            .entries()
            .iter()
            .map(|e| {
                let c = e.cell;
                let sc = e.stack.scenarios.iter().find(|s| s.scenario == e.scenario);
                CellOut {
                    stack: &e.stack.id,
                    scenario: e.scenario,
                    target: sc.map(|s| s.target.as_str()),
                    error: e.error,
                    connections: c.map(|c| c.connections),
                    throughput: c.and_then(|c| c.throughput).map(|s| spread(s, 1)),
                    per_core: c.and_then(|c| c.per_core).map(|s| spread(s, 1)),
                    ratio: c.and_then(|c| c.ratio).map(|s| spread(s, 4)),
                    p50_ms: c.and_then(|c| c.p50_ms).map(|s| round(s.median, 3)),
                    p99_ms: c.and_then(|c| c.p99_ms).map(|s| spread(s, 3)),
                    closed_loop_max: c.and_then(|c| c.max_rps).map(|(rps, connections)| MaxOut {
                        rps: round(rps, 1),
                        connections,
                    }),
                    capacity: c.and_then(|c| {
                        Some(CapacityOut {
                            p99_target_ms: r.settings.p99_target_ms,
                            rps: round(c.capacity_rps?, 1),
                            per_core: round(c.capacity_per_core?, 1),
                            missed_rps: c.capacity_missed_rps.map(|m| round(m, 1)),
                            lower_bound: c.capacity_is_lower_bound(),
                            responses: c.capacity_responses,
                        })
                    }),
                    pss_peak_bytes: c.and_then(|c| c.pss_peak_bytes),
                    cpu_ms_per_request: c.and_then(|c| c.cpu_ms_per_request).map(|x| round(x, 4)),
                    invalid: c.map_or(Vec::new(), |c| {
                        c.invalid.iter().map(String::as_str).collect()
                    }),
                    other_load: c.and_then(|c| c.other_load).map(|x| round(x, 4)),
                }
            })
            .collect(),
        rankings: v.rankings().iter().map(ranking).collect(),
        scaling: stackwise_results::summary::scalings(v.r, &v.cells)
            .into_iter()
            .filter_map(|s| {
                let stack = v.r.stacks.iter().find(|x| x.id == s.stack)?;
                Some(ScalingOut {
                    stack: &stack.id,
                    processes: s.processes,
                    threads: s.threads,
                    cores: s.cores,
                    one_core_rps: round(s.one.median, 1),
                    many_cores_rps: round(s.many.median, 1),
                    factor: round(s.factor, 3),
                    factor_low: round(s.lo, 3),
                    factor_high: round(s.hi, 3),
                    paired: s.paired,
                })
            })
            .collect(),
        notes: v.notes(),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("the summary serialises");
    text.push('\n');
    text
}

fn spread(s: Spread, places: i32) -> SpreadOut {
    SpreadOut {
        median: round(s.median, places),
        min: round(s.min, places),
        max: round(s.max, places),
        lo: round(s.lo, places),
        hi: round(s.hi, places),
        cv: round(s.cv, 4),
        n: s.n,
    }
}

fn ranking(k: &Ranking) -> RankingOut {
    RankingOut {
        scenario: k.scenario.clone(),
        order: k.order(),
        within_noise: k.has_noise(),
        places: k
            .places
            .iter()
            .map(|p| PlaceOut {
                stack: p.stack.clone(),
                rps: spread(p.throughput, 1),
                within_noise: p.within_noise,
            })
            .collect(),
        unranked: k.unranked.clone(),
    }
}
