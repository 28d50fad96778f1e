//! The figures every output shows, computed once from a [`RunResult`]: per stack × scenario the
//! median of the valid trials with its 95% interval, the throughput as a ratio to the scenario's
//! fastest stack taken round by round, the capacity at any latency target read from the
//! open-loop probes, and memory; and when two stacks' difference is within noise.
//!
//! The lab reads the same functions to decide when it has measured enough.
//!
//! Exporters, history comparisons and the advisor read these rather than the raw trials, so
//! they all say the same thing.

use crate::{RunResult, ScenarioResult, StackResult, Trial, OTHER_LOAD_WARNING};

/// Median, range and 95% interval of a set of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// The 95% interval of the median: a percentile bootstrap over the measurements from three
    /// of them on, the range below that.
    pub lo: f64,
    pub hi: f64,
    /// Measurements behind it.
    pub n: usize,
    /// Coefficient of variation: sample standard deviation over mean; 0 for one measurement.
    pub cv: f64,
}

/// Resamples of the bootstrap: enough that the interval's ends move by well under a percent
/// from one seed to another.
const RESAMPLES: usize = 2000;

fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The 95% percentile-bootstrap interval of the median of `sorted`. Seeded, so the same
/// measurements always give the same interval.
fn bootstrap_median(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    let mut rng = fastrand::Rng::with_seed(0x5eed_0000 + n as u64);
    let mut medians = Vec::with_capacity(RESAMPLES);
    let mut sample = vec![0.0; n];
    for _ in 0..RESAMPLES {
        for x in sample.iter_mut() {
            *x = sorted[rng.usize(..n)];
        }
        sample.sort_by(f64::total_cmp);
        medians.push(median_of_sorted(&sample));
    }
    medians.sort_by(f64::total_cmp);
    let at = |q: f64| medians[((RESAMPLES as f64 - 1.0) * q).round() as usize];
    (at(0.025), at(0.975))
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = median_of_sorted(&v);
        let (lo, hi) = if n >= 3 {
            bootstrap_median(&v)
        } else {
            (v[0], v[n - 1])
        };
        let mean = v.iter().sum::<f64>() / n as f64;
        let cv = if n > 1 && mean != 0.0 {
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            var.sqrt() / mean.abs()
        } else {
            0.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
            lo,
            hi,
            n,
            cv,
        })
    }

    /// Every value divided by `by`.
    pub fn scaled(self, by: f64) -> Spread {
        Spread {
            median: self.median / by,
            min: self.min / by,
            max: self.max / by,
            lo: self.lo / by,
            hi: self.hi / by,
            ..self
        }
    }

    /// Half the interval's width as a share of the median: 0.05 is "± 5%".
    pub fn precision(&self) -> f64 {
        if self.median == 0.0 {
            return f64::INFINITY;
        }
        (self.hi - self.lo) / 2.0 / self.median.abs()
    }

    /// Whether the two intervals overlap: then which is higher is not established by the run,
    /// and reports say "within noise" rather than rank them. A single measurement on either
    /// side has no interval and never overlaps unless equal.
    pub fn overlaps(&self, other: &Spread) -> bool {
        self.lo <= other.hi && other.lo <= self.hi
    }
}

/// What one stack did in one scenario, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub stack: String,
    pub scenario: String,
    /// Why it was not measured.
    pub error: Option<String>,
    /// Requests per second of the valid trials.
    pub throughput: Option<Spread>,
    /// The same per server core.
    pub per_core: Option<Spread>,
    /// Throughput as a ratio to the scenario's fastest stack, taken round by round (paired
    /// trials), with its interval: the figure that travels from one machine to another.
    pub ratio: Option<Spread>,
    /// p99 latency of the valid trials, in milliseconds (for `mixed`, of /json alone).
    pub p99_ms: Option<Spread>,
    /// p50 latency of the valid trials, in milliseconds (for `mixed`, of /json alone).
    pub p50_ms: Option<Spread>,
    /// Connections of the trials.
    pub connections: u64,
    /// The closed-loop maximum over the trials' median and the sweep: requests per second and
    /// the connections that gave it.
    pub max_rps: Option<(f64, u64)>,
    /// Capacity at the latency target, requests per second, and per server core.
    pub capacity_rps: Option<f64>,
    pub capacity_per_core: Option<f64>,
    /// The rate that missed the target, when one did. When none did the capacity is a lower
    /// bound, shown as "≥".
    pub capacity_missed_rps: Option<f64>,
    /// Responses behind the p99 of the probe that gave the capacity (in a broadcast, messages
    /// published: [`samples`]): fewer than [`PROBE_RESPONSES`] when the stack was too slow for
    /// the probe's time to hold them.
    pub capacity_responses: Option<u64>,
    /// Peak summed PSS of the server's processes over the trials, in bytes.
    pub pss_peak_bytes: Option<u64>,
    /// An idle scenario (ws-idle): the memory the server held per 1,000 open connections, in
    /// bytes, over the valid trials (see [`held_per_1000`]).
    pub held_per_1000_bytes: Option<Spread>,
    /// Server CPU seconds per 1,000 requests (median of valid trials).
    pub cpu_ms_per_request: Option<f64>,
    /// Trials not ranked, with why.
    pub invalid: Vec<String>,
    /// Highest share of the machine other processes used during any trial.
    pub other_load: Option<f64>,
    /// Its stack marks what the hardware allows: never ranked, its ratio not taken.
    pub ceiling: bool,
}

impl Cell {
    /// The capacity is a lower bound: some rate met the target and none tried missed it.
    pub fn capacity_is_lower_bound(&self) -> bool {
        self.capacity_missed_rps.is_none() && self.capacity_rps.is_some_and(|r| r > 0.0)
    }

    /// A warning when other processes disturbed the measurement.
    pub fn other_load_warning(&self) -> Option<String> {
        self.other_load
            .filter(|&l| l > OTHER_LOAD_WARNING)
            .map(|l| {
                format!(
                    "other processes used {:.0}% of the machine during a trial",
                    l * 100.0
                )
            })
    }
}

pub use crate::catalogue::latency_tag;

fn p_ms(
    t: &Trial,
    scenario: &str,
    p: impl Fn(&stackwise_engine::load_report::Percentiles) -> u64,
) -> f64 {
    load_p_ms(&t.load, scenario, p)
}

fn load_p_ms(
    load: &stackwise_engine::LoadReport,
    scenario: &str,
    p: impl Fn(&stackwise_engine::load_report::Percentiles) -> u64,
) -> f64 {
    latency_ms(load, scenario, |l| p(&l.corrected))
}

/// A figure of the latency of the request `scenario` is judged on, in milliseconds.
fn latency_ms(
    load: &stackwise_engine::LoadReport,
    scenario: &str,
    p: impl Fn(&stackwise_engine::load_report::Latency) -> u64,
) -> f64 {
    let us = match latency_tag(scenario).and_then(|tag| load.tags.iter().find(|x| x.tag == tag)) {
        Some(tag) => p(&tag.summary.latency),
        None => p(&load.summary.latency),
    };
    us as f64 / 1000.0
}

/// Summarises one scenario of one stack; `cores` is the server's CPU count.
pub fn cell(stack: &StackResult, sc: &ScenarioResult, cores: f64) -> Cell {
    let valid: Vec<&Trial> = sc.trials.iter().filter(|t| t.valid).collect();
    let rps: Vec<f64> = valid
        .iter()
        .map(|t| t.load.summary.throughput_rps)
        .collect();
    let throughput = Spread::of(&rps);
    let mut max_rps = throughput.map(|s| (s.median, sc.connections));
    for t in sc.sweep.iter().filter(|t| t.valid) {
        let r = t.load.summary.throughput_rps;
        if max_rps.is_none_or(|(m, _)| r > m) {
            max_rps = Some((r, t.connections));
        }
    }
    let cpu_ms: Vec<f64> = valid
        .iter()
        .filter(|t| t.load.summary.requests > 0)
        .map(|t| t.server.cpu_seconds * 1000.0 / t.load.summary.requests as f64)
        .collect();
    let all = sc.trials.iter().chain(&sc.sweep).chain(
        sc.capacity
            .iter()
            .flat_map(|c| c.probes.iter().map(|p| &p.trial)),
    );
    let invalid = sc
        .trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.invalid_reason
                .as_ref()
                .map(|r| format!("trial {}: {r}", i + 1))
        })
        .chain(sc.sweep.iter().filter_map(|t| {
            t.invalid_reason
                .as_ref()
                .map(|r| format!("{} connections: {r}", t.connections))
        }))
        .collect();
    let capacity = sc
        .capacity
        .as_ref()
        .and_then(|c| capacity_at(sc, c.target_p99_ms));
    Cell {
        stack: stack.id.clone(),
        scenario: sc.scenario.clone(),
        error: sc.error.clone(),
        per_core: throughput.map(|s| s.scaled(cores)),
        throughput,
        ratio: None,
        p99_ms: Spread::of(
            &valid
                .iter()
                .map(|t| p_ms(t, &sc.scenario, |p| p.p99_us))
                .collect::<Vec<_>>(),
        ),
        p50_ms: Spread::of(
            &valid
                .iter()
                .map(|t| p_ms(t, &sc.scenario, |p| p.p50_us))
                .collect::<Vec<_>>(),
        ),
        connections: sc.connections,
        max_rps,
        capacity_rps: capacity.map(|c| c.rps),
        capacity_per_core: capacity.map(|c| c.rps / cores),
        capacity_missed_rps: capacity.and_then(|c| c.missed_rps),
        capacity_responses: capacity.filter(|c| c.rps > 0.0).map(|c| c.responses),
        pss_peak_bytes: valid.iter().map(|t| t.server.pss_peak_bytes).max(),
        held_per_1000_bytes: held_per_1000(sc),
        cpu_ms_per_request: Spread::of(&cpu_ms).map(|s| s.median),
        invalid,
        other_load: all.filter_map(|t| t.other_load).reduce(f64::max),
        ceiling: stack.ceiling,
    }
}

/// Why `stack` has no result in `scenario`: the endpoints it does not serve, or not run.
fn not_run(stack: &StackResult, scenario: &str) -> String {
    let kind = crate::catalogue::scenario(scenario);
    let body = kind.and_then(|k| k.requests.first()).map(|r| r.body);
    if kind.is_some_and(|k| k.kind.websocket()) && stack.websocket.is_none() {
        return "not run: no WebSocket endpoints (no [websocket] in its stack.toml)".into();
    }
    match body {
        Some(crate::catalogue::Body::Orders) if stack.data_library.is_none() => {
            "not run: it does not serve POST /aggregate (no [data] in its stack.toml)".into()
        }
        Some(crate::catalogue::Body::Digits) if stack.ml_library.is_none() => {
            "not run: it does not serve POST /predict (no [ml] in its stack.toml)".into()
        }
        Some(crate::catalogue::Body::Image) if stack.ml_library.is_none() => {
            "not run: it does not serve POST /predict/image (no [ml] in its stack.toml)".into()
        }
        Some(crate::catalogue::Body::Image) if !stack.ml_image => {
            "not run: it does not serve POST /predict/image (no image = true in the [ml] of its \
             stack.toml)"
                .into()
        }
        _ => "not run".into(),
    }
}

/// For each scenario whose servers shared CPUs with the load engine (the GIL scenarios on a
/// machine of few cores), the engine's highest share of those CPUs over the valid trials.
fn engine_shares(r: &RunResult) -> Vec<String> {
    let mut out = Vec::new();
    for id in &r.settings.scenarios {
        let mut highest: Option<f64> = None;
        for sc in r.stacks.iter().flat_map(|s| &s.scenarios) {
            let Some(cpus) = sc.server_cpus.as_ref().filter(|_| &sc.scenario == id) else {
                continue;
            };
            if !cpus.iter().any(|c| r.settings.load_cpus.contains(c)) {
                continue;
            }
            for t in sc
                .trials
                .iter()
                .filter(|t| t.valid && t.load.elapsed_s > 0.0)
            {
                let share =
                    t.load.engine.cpu_seconds / (t.load.elapsed_s * cpus.len().max(1) as f64);
                highest = Some(highest.map_or(share, |h: f64| h.max(share)));
            }
        }
        if let Some(h) = highest {
            out.push(format!(
                "{id}: the servers shared CPUs with the load engine, which used at most {:.1}% \
                 of them in a ranked trial",
                h * 100.0
            ));
        }
    }
    out
}

/// The memory a server held per 1,000 idle connections, over the valid trials of `sc` that
/// held some: its mean summed PSS while they were open, less its PSS before the scenario's
/// first connections (the least of the trials' readings before them: an allocator keeps some
/// of what a trial's connections used, and counting that as the next trial's starting point
/// would hide it).
pub fn held_per_1000(sc: &ScenarioResult) -> Option<Spread> {
    let before = sc
        .trials
        .iter()
        .filter_map(|t| t.held)
        .map(|h| h.pss_before_bytes)
        .filter(|&b| b > 0)
        .min()?;
    let per: Vec<f64> = sc
        .trials
        .iter()
        .filter(|t| t.valid)
        .filter_map(|t| t.held)
        .filter(|h| h.connections > 0 && h.pss_held_bytes > 0)
        .map(|h| h.pss_held_bytes.saturating_sub(before) as f64 * 1000.0 / h.connections as f64)
        .collect();
    Spread::of(&per)
}

/// Every cell of a run, stack by stack in run order, scenarios in planned order, each with its
/// ratio to its scenario's fastest stack (a ceiling is neither given one nor the fastest).
pub fn cells(r: &RunResult) -> Vec<Cell> {
    let cores = r.settings.server_cpus.len().max(1) as f64;
    let mut out = Vec::new();
    for stack in &r.stacks {
        for name in &r.settings.scenarios {
            if let Some(sc) = stack.scenarios.iter().find(|s| &s.scenario == name) {
                let cores = sc
                    .server_cpus
                    .as_ref()
                    .map_or(cores, |c| c.len().max(1) as f64);
                out.push(cell(stack, sc, cores));
            }
        }
    }
    for name in &r.settings.scenarios {
        let measured: Vec<(&str, &ScenarioResult)> = r
            .stacks
            .iter()
            .filter(|s| !s.ceiling)
            .filter_map(|s| {
                let sc = s.scenarios.iter().find(|c| &c.scenario == name)?;
                Some((s.id.as_str(), sc))
            })
            .collect();
        for (stack, ratio) in ratios(&measured) {
            if let Some(c) = out
                .iter_mut()
                .find(|c| c.stack == stack && &c.scenario == name)
            {
                c.ratio = Some(ratio);
            }
        }
    }
    out
}

/// Requests per second of the valid trials of `sc`, by round; trials without a round (results
/// before version 3) each count as a round of their own, in order.
fn by_round(sc: &ScenarioResult) -> Vec<(u64, f64)> {
    sc.trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.valid && sc.error.is_none())
        .map(|(i, t)| (t.round.unwrap_or(i as u64), t.load.summary.throughput_rps))
        .collect()
}

/// Each stack's throughput as a ratio to the fastest of `measured` (the highest median), with
/// its interval. In paired results the ratio is taken within each round, where both stacks met
/// the same machine, and the interval is over rounds; results before version 3 were not paired,
/// so their ratio is the throughput's median and interval over the fastest's median.
pub fn ratios(measured: &[(&str, &ScenarioResult)]) -> Vec<(String, Spread)> {
    let rounds: Vec<(&str, Vec<(u64, f64)>)> = measured
        .iter()
        .map(|(id, sc)| (*id, by_round(sc)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    let median = |r: &[(u64, f64)]| {
        Spread::of(&r.iter().map(|(_, x)| *x).collect::<Vec<_>>()).map_or(0.0, |s| s.median)
    };
    let Some((_, fastest)) = rounds
        .iter()
        .max_by(|a, b| median(&a.1).total_cmp(&median(&b.1)))
    else {
        return Vec::new();
    };
    let paired = measured
        .iter()
        .all(|(_, sc)| sc.trials.iter().all(|t| t.round.is_some()));
    let top = median(fastest);
    rounds
        .iter()
        .filter_map(|(id, mine)| {
            let spread = if paired {
                Spread::of(&per_round(mine, fastest))?
            } else {
                Spread::of(&mine.iter().map(|(_, x)| *x).collect::<Vec<_>>())?
                    .scaled(top.max(f64::MIN_POSITIVE))
            };
            Some((id.to_string(), spread))
        })
        .collect()
}

/// `a` over `b` in each round both measured (rounds as [`by_round`] gives them).
fn per_round(a: &[(u64, f64)], b: &[(u64, f64)]) -> Vec<f64> {
    a.iter()
        .filter_map(|(round, x)| {
            let (_, y) = b.iter().find(|(r, _)| r == round)?;
            (*y > 0.0).then(|| x / y)
        })
        .collect()
}

/// `a`'s throughput over `b`'s in one scenario, with its interval. In paired results the
/// ratio is taken within each round both measured, and the interval is over those rounds: a
/// drift of the machine's speed hits both sides of each ratio alike. Results before version 3
/// were not paired: their ratio is of the medians, and its interval runs from the lower end of
/// `a`'s over the upper end of `b`'s to the other way round, so it spans 1 exactly when the two
/// intervals overlap. `None` when either has no valid trial or no round was measured by both.
pub fn paired_ratio(a: &ScenarioResult, b: &ScenarioResult) -> Option<Spread> {
    let (ra, rb) = (by_round(a), by_round(b));
    let paired = [a, b]
        .iter()
        .all(|sc| sc.trials.iter().all(|t| t.round.is_some()));
    if paired {
        return Spread::of(&per_round(&ra, &rb));
    }
    let values = |r: &[(u64, f64)]| r.iter().map(|(_, x)| *x).collect::<Vec<_>>();
    let (sa, sb) = (Spread::of(&values(&ra))?, Spread::of(&values(&rb))?);
    if sb.min <= 0.0 {
        return None;
    }
    Some(Spread {
        median: sa.median / sb.median,
        min: sa.min / sb.max,
        max: sa.max / sb.min,
        lo: sa.lo / sb.hi,
        hi: sa.hi / sb.lo,
        n: sa.n.min(sb.n),
        cv: 0.0,
    })
}

/// Responses each capacity probe aims for, so that its p99 rests on twenty beyond it; a probe
/// of a slow stack ends at its longest before it has them, and says how many it had.
pub const PROBE_RESPONSES: u64 = 2000;

/// Capacity at a latency target, read from a scenario's open-loop probes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityAt {
    /// The highest rate that met the target below the lowest that missed it; 0 when none did.
    pub rps: f64,
    /// The lowest rate that missed it; `None` when none did, and then `rps` is a lower bound.
    pub missed_rps: Option<f64>,
    /// Responses behind the p99 of the probe at `rps` ([`samples`]).
    pub responses: u64,
}

impl CapacityAt {
    /// No probe missed: the capacity is at least `rps`, shown as "≥".
    pub fn is_lower_bound(&self) -> bool {
        self.missed_rps.is_none()
    }
}

/// p99 in milliseconds of a load run, of the request the scenario is judged on.
pub fn p99_ms(load: &stackwise_engine::LoadReport, scenario: &str) -> f64 {
    load_p_ms(load, scenario, |p| p.p99_us)
}

/// p99 in milliseconds from the time each request was actually written, not from when it was
/// due: what the server took, without any wait of the engine's for a free connection.
pub fn served_p99_ms(load: &stackwise_engine::LoadReport, scenario: &str) -> f64 {
    latency_ms(load, scenario, |l| l.uncorrected.p99_us)
}

/// Whether a probe says anything of the server: the engine kept the schedule and was not the
/// bottleneck, and something was answered or failed. A probe whose schedule slipped while its
/// p99 already missed the target still counts as a miss: more connections would not have made
/// it meet.
fn conclusive(p: &crate::Probe, target_ms: f64, scenario: &str) -> bool {
    let t = &p.trial;
    let starved = t.load.engine.delivery.unsent > 0 && p99_ms(&t.load, scenario) <= target_ms;
    !p.inconclusive && !t.load.engine.saturated && !starved && !answered_nothing(&t.load)
}

/// Nothing was answered and nothing failed: at a rate this low the load held nothing to time
/// (a broadcast of a few deliveries a second to a room of 1,000 sends no message in a second).
pub fn answered_nothing(load: &stackwise_engine::LoadReport) -> bool {
    let s = &load.summary;
    s.requests == 0 && s.errors == 0 && s.non_2xx == 0
}

/// The capacity of `sc` at a p99 of `target_ms`: the highest probed rate that met it (p99 under
/// the target, no errors, no non-2xx) below the lowest conclusive rate that missed it. `None`
/// when no probe was conclusive.
pub fn capacity_at(sc: &ScenarioResult, target_ms: f64) -> Option<CapacityAt> {
    let probes: Vec<&crate::Probe> = sc
        .capacity
        .iter()
        .flat_map(|c| &c.probes)
        .filter(|p| conclusive(p, target_ms, &sc.scenario))
        .collect();
    if probes.is_empty() {
        return None;
    }
    let meets = |p: &crate::Probe| {
        let s = &p.trial.load.summary;
        s.errors == 0 && s.non_2xx == 0 && p99_ms(&p.trial.load, &sc.scenario) <= target_ms
    };
    let missed = probes
        .iter()
        .filter(|p| !meets(p))
        .map(|p| p.rate)
        .reduce(f64::min);
    let best = probes
        .iter()
        .filter(|p| meets(p) && missed.is_none_or(|m| p.rate < m))
        .max_by(|a, b| a.rate.total_cmp(&b.rate));
    Some(CapacityAt {
        rps: best.map_or(0.0, |p| p.rate),
        missed_rps: missed,
        responses: best.map_or(0, |p| samples(&p.trial.load)),
    })
}

/// What a probe's p99 rests on: its responses, or in a broadcast the messages published, since
/// every delivery of one message waits behind the same publish and fan-out (a probe of a room
/// of 1,000 at 5,000 deliveries a second holds 5,000 deliveries of five messages).
pub fn samples(load: &stackwise_engine::LoadReport) -> u64 {
    match load.ws.as_ref().and_then(|w| w.broadcast.as_ref()) {
        Some(b) => b.published,
        None => load.summary.requests,
    }
}

/// The cell of `stack` in `scenario`, if measured.
pub fn find<'a>(cells: &'a [Cell], stack: &str, scenario: &str) -> Option<&'a Cell> {
    cells
        .iter()
        .find(|c| c.stack == stack && c.scenario == scenario)
}

/// A stack's throughput on many server cores over one: the GIL scenarios' figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    pub stack: String,
    /// Its worker processes on many cores, and their threads when its manifest sets them.
    pub processes: u64,
    pub threads: Option<u64>,
    /// The cores of `parallel`.
    pub cores: usize,
    /// Throughput on one core and on many, requests per second.
    pub one: Spread,
    pub many: Spread,
    /// `many / one` and its 95% interval: taken round by round when the two scenarios shared
    /// their rounds (`paired`), else the medians' ratio with an interval from the two intervals.
    pub factor: f64,
    pub lo: f64,
    pub hi: f64,
    pub paired: bool,
}

/// Worker processes, with their threads when a manifest sets them: `1 process of 5 threads`.
pub fn processes_text(processes: u64, threads: Option<u64>) -> String {
    let p = match processes {
        1 => "1 process".to_string(),
        n => format!("{n} processes"),
    };
    match threads {
        Some(t) => format!("{p} of {t} threads"),
        None => p,
    }
}

/// Every stack's scaling from `parallel-1` to `parallel`, for the stacks valid in both, in run
/// order.
pub fn scalings(r: &RunResult, cells: &[Cell]) -> Vec<Scaling> {
    let run_cores = r.settings.server_cpus.len().max(1);
    let shared = r
        .rounds
        .iter()
        .any(|x| x.scenario == "parallel" && x.shared_with.as_deref() == Some("parallel-1"));
    let mut out = Vec::new();
    for stack in &r.stacks {
        let valid = |id: &str| {
            find(cells, &stack.id, id)
                .filter(|c| c.error.is_none())
                .and_then(|c| c.throughput)
        };
        let (Some(one), Some(many)) = (valid("parallel-1"), valid("parallel")) else {
            continue;
        };
        let Some(sc) = stack.scenarios.iter().find(|s| s.scenario == "parallel") else {
            continue;
        };
        if one.median <= 0.0 || one.lo <= 0.0 || one.hi <= 0.0 {
            continue;
        }
        let single = stack.scenarios.iter().find(|s| s.scenario == "parallel-1");
        let paired = single
            .filter(|_| shared)
            .and_then(|single| paired_ratio(sc, single));
        let (factor, lo, hi) = match &paired {
            Some(p) => (p.median, p.lo, p.hi),
            None => (many.median / one.median, many.lo / one.hi, many.hi / one.lo),
        };
        out.push(Scaling {
            stack: stack.id.clone(),
            processes: sc.workers.unwrap_or(stack.workers),
            threads: sc.threads.or(stack.threads),
            cores: sc.server_cpus.as_ref().map_or(run_cores, Vec::len),
            one,
            many,
            factor,
            lo,
            hi,
            paired: paired.is_some(),
        });
    }
    out
}

/// One scenario's stacks ordered by median throughput, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub scenario: String,
    pub places: Vec<Place>,
    /// Stacks with a cell in the scenario but no valid trial (not measured, or every trial
    /// invalid), in cell order: they are not ranked.
    pub unranked: Vec<String>,
    /// Ceilings measured in the scenario, with their throughput as a multiple of the first
    /// place's: shown beside the ranking, never in it.
    pub ceilings: Vec<(String, f64)>,
}

/// One stack's place in a [`Ranking`].
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub stack: String,
    /// Requests per second of the valid trials.
    pub throughput: Spread,
    /// Its range overlaps the range of the place above, so the run does not establish which of
    /// the two is faster. Always false for the first place.
    pub within_noise: bool,
}

impl Ranking {
    /// The order in one line, such as `fastify > express ≈ fastapi`: `>` where the ranges are
    /// apart, `≈` where they overlap (within noise).
    pub fn order(&self) -> String {
        let mut out = String::new();
        for (i, p) in self.places.iter().enumerate() {
            if i > 0 {
                out.push_str(if p.within_noise { " ≈ " } else { " > " });
            }
            out.push_str(&p.stack);
        }
        out
    }

    /// Whether any two adjacent places are within noise.
    pub fn has_noise(&self) -> bool {
        self.places.iter().any(|p| p.within_noise)
    }
}

/// Ranks the stacks of `scenario` by median throughput of their valid trials. Equal medians
/// keep the order of `cells`. Two places are within noise when the intervals of their ratios to
/// the fastest overlap (of their throughput, for cells without a ratio). Only adjacent places
/// are compared: in `a ≈ b ≈ c`, `a` and `c` may well be apart.
pub fn ranking(cells: &[Cell], scenario: &str) -> Ranking {
    let in_scenario = cells.iter().filter(|c| c.scenario == scenario);
    let mut ranked: Vec<(&str, Spread, Spread)> = Vec::new();
    let mut unranked = Vec::new();
    let mut ceilings = Vec::new();
    for c in in_scenario {
        if c.ceiling {
            if let (Some(t), None) = (c.throughput, &c.error) {
                ceilings.push((c.stack.clone(), t.median));
            }
            continue;
        }
        match c.throughput {
            Some(t) if c.error.is_none() => ranked.push((&c.stack, t, c.ratio.unwrap_or(t))),
            _ => unranked.push(c.stack.clone()),
        }
    }
    ranked.sort_by(|a, b| b.1.median.total_cmp(&a.1.median));
    let places = ranked
        .iter()
        .enumerate()
        .map(|(i, (stack, t, by))| Place {
            stack: stack.to_string(),
            throughput: *t,
            within_noise: i > 0 && ranked[i - 1].2.overlaps(by),
        })
        .collect();
    let first = ranked.first().map(|r| r.1.median).filter(|&m| m > 0.0);
    Ranking {
        scenario: scenario.to_string(),
        places,
        unranked,
        ceilings: ceilings
            .into_iter()
            .filter_map(|(id, rps)| Some((id, rps / first?)))
            .collect(),
    }
}

/// The run's header, label and text: when, where, how, with which versions. Every output
/// that describes a run shows these.
pub fn run_facts(r: &RunResult) -> Vec<(&'static str, String)> {
    let s = &r.settings;
    let h = &r.host;
    let time = match &r.finished_at {
        Some(end) => format!("{} to {end}", r.started_at),
        None => format!("{}, not finished", r.started_at),
    };
    let database = match s.database.as_str() {
        "throwaway" => "throwaway PostgreSQL, started for the run".to_string(),
        "external" => "external PostgreSQL (--database-url)".to_string(),
        other => other.to_string(),
    };
    let runtimes = r
        .versions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = vec![
        ("Time", time),
        (
            "Host",
            format!(
                "{}, {} {}, {} memory, kernel {}",
                h.cpu_model,
                h.cores,
                crate::fmt::plural(h.cores, "core", "cores"),
                crate::fmt::bytes(h.memory_bytes),
                h.kernel
            ),
        ),
        (
            "CPUs",
            format!(
                "servers on {}, load engine on {}, database and delay service on {}",
                crate::fmt::cpus(&s.server_cpus),
                crate::fmt::cpus(&s.load_cpus),
                crate::fmt::cpus(&s.infra_cpus)
            ),
        ),
        ("Trials", trials(r)),
        (
            "Target",
            if s.capacity_probes == 0 {
                format!(
                    "p99 ≤ {} ms; no open-loop probes were run{}, so no capacity at a target",
                    crate::fmt::number(s.p99_target_ms),
                    if r.quick {
                        " (a quick run ranks throughput; the default run probes capacity)"
                    } else {
                        ""
                    }
                )
            } else if r.schema_version < 3 {
                format!(
                    "p99 ≤ {} ms, searched with up to {} open-loop rates",
                    crate::fmt::number(s.p99_target_ms),
                    s.capacity_probes
                )
            } else {
                format!(
                    "p99 ≤ {} ms, read from {} open-loop probes spanning the closed-loop maximum \
                     (and one more where it helps); capacity at any other target is read from \
                     the same probes",
                    crate::fmt::number(s.p99_target_ms),
                    s.capacity_probes
                )
            },
        ),
        ("Database", database),
    ];
    if !runtimes.is_empty() {
        out.push(("Runtimes", runtimes));
    }
    if let Some(m) = machine(r) {
        out.push(("Machine", m));
    }
    out
}

/// How the trials were taken, as the run's version of the protocol did.
fn trials(r: &RunResult) -> String {
    let s = &r.settings;
    let secs = crate::fmt::seconds;
    if r.schema_version < 3 {
        return format!(
            "{} × {} per stack and scenario after {} warm-up; sweep and capacity probes {} \
             (protocol of version {}: trials not paired)",
            s.trials,
            secs(s.duration_s),
            secs(s.warmup_s),
            secs(s.probe_s),
            r.schema_version
        );
    }
    let rounds: Vec<usize> = r.rounds.iter().map(|x| x.orders.len()).collect();
    let spread = match (rounds.iter().min(), rounds.iter().max()) {
        (Some(a), Some(b)) if a == b => format!("{a}"),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "no".into(),
    };
    let probes = if s.capacity_probes == 0 {
        String::new()
    } else {
        format!("; capacity probes up to {}", secs(s.probe_s))
    };
    format!(
        "{spread} rounds of {} windows per scenario, every stack once a round in a shuffled \
         order (seed {}), until ratios were within ±{:.0}% or the scenario's share of the \
         run's {} was spent; warm-up until throughput settled (at most {}){probes}",
        secs(s.duration_s),
        s.seed,
        s.precision * 100.0,
        secs(s.budget_s),
        secs(s.warmup_s),
    )
}

/// How much the CPU's own speed moved between the calibrations' short steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuSpeed {
    /// Coefficient of variation of the steps' rates.
    pub cv: f64,
    /// The slowest step over the median step.
    pub slowest: f64,
}

/// The calibrations' CPU steps taken together, when there are enough to say anything (five).
pub fn cpu_speed(r: &RunResult) -> Option<CpuSpeed> {
    let steps: Vec<f64> = r
        .calibration
        .iter()
        .flat_map(|c| c.cpu_steps.iter().copied())
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    if steps.len() < 5 {
        return None;
    }
    let spread = Spread::of(&steps)?;
    Some(CpuSpeed {
        cv: spread.cv,
        slowest: spread.min / spread.median,
    })
}

/// How steady the machine was: the calibration's change over the run, the CPU's own speed,
/// other processes' share and steal over the trial windows, and windows set aside for noise.
pub fn machine(r: &RunResult) -> Option<String> {
    let mut parts = Vec::new();
    let at = |name: &str| r.calibration.iter().find(|c| c.at == name);
    match (at("start"), at("end")) {
        (Some(a), Some(b)) if a.throughput_rps > 0.0 => parts.push(format!(
            "calibration {} → {} req/s ({:+.1}% over the run)",
            crate::fmt::thousands(a.throughput_rps.round() as u64),
            crate::fmt::thousands(b.throughput_rps.round() as u64),
            (b.throughput_rps / a.throughput_rps - 1.0) * 100.0
        )),
        (Some(a), None) => parts.push(format!(
            "calibration {} req/s at the start",
            crate::fmt::thousands(a.throughput_rps.round() as u64)
        )),
        _ => {}
    }
    if let Some(speed) = cpu_speed(r) {
        parts.push(format!(
            "the CPU's own speed (a fixed loop alone on a server CPU, {} ms steps) moved by {:.0}% \
             (coefficient of variation), its slowest step {:.0}% below the median",
            crate::Calibration::STEP_MS,
            speed.cv * 100.0,
            (1.0 - speed.slowest) * 100.0
        ));
    }
    let trials: Vec<&Trial> = r
        .stacks
        .iter()
        .flat_map(|s| &s.scenarios)
        .flat_map(|sc| &sc.trials)
        .collect();
    let others: Vec<f64> = trials.iter().filter_map(|t| t.other_load).collect();
    if let Some(o) = Spread::of(&others) {
        parts.push(format!(
            "other processes {:.0}% of the machine in the median window, {:.0}% at most",
            o.median * 100.0,
            o.max * 100.0
        ));
    }
    if let Some(steal) = trials.iter().filter_map(|t| t.steal).reduce(f64::max) {
        parts.push(format!("steal at most {:.1}%", steal * 100.0));
    }
    let noisy = trials
        .iter()
        .filter(|t| {
            t.invalid_reason
                .as_deref()
                .is_some_and(|w| w.starts_with("noisy"))
        })
        .count();
    if !trials.is_empty() && r.schema_version >= 3 {
        parts.push(format!(
            "{noisy} of {} windows set aside as noisy",
            trials.len()
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// An error in one line: its first line and, when it goes on to quote a program's output (an
/// installer's, a server's last words), the line of that output that says why: the last one
/// naming an error. An installer's error can run to pages; results.json keeps the rest.
pub fn error_gist(e: &str) -> String {
    let mut lines = e.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_string();
    let rest: Vec<&str> = lines.collect();
    const SAYS_WHY: [&str; 9] = [
        "error",
        "no matching",
        "not found",
        "failed",
        "exception",
        "cannot",
        "denied",
        "refused",
        "no such",
    ];
    let why = rest.iter().rev().find(|l| {
        let l = l.to_ascii_lowercase();
        SAYS_WHY.iter().any(|k| l.contains(k))
    });
    match why {
        Some(why) => format!("{first} {why}"),
        None => first,
    }
}

/// The lowest rate among `probes` at which the load engine's own CPU was the limit, if any.
pub fn engine_limit<'a>(probes: impl IntoIterator<Item = &'a crate::Probe>) -> Option<f64> {
    probes
        .into_iter()
        .filter(|p| p.inconclusive && p.trial.load.engine.saturated)
        .map(|p| p.rate)
        .reduce(f64::min)
}

/// What a reader must know besides the figures, one line each: stacks planned but not run,
/// stacks and scenarios not measured (with the gist of their error), invalid trials, cells with
/// no valid trial, and trials other processes disturbed.
pub fn notes(r: &RunResult, cells: &[Cell]) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(engine_shares(r));
    for id in &r.settings.stacks {
        if !r.stacks.iter().any(|s| &s.id == id) {
            out.push(format!("{id}: planned but not run"));
        }
    }
    for rounds in &r.rounds {
        if rounds.stopped != crate::Rounds::TIGHT {
            out.push(format!(
                "{}: {} round(s), {}; the intervals are wider than ±{:.0}%",
                rounds.scenario,
                rounds.orders.len(),
                rounds.stopped,
                r.settings.precision * 100.0
            ));
        }
    }
    for stack in &r.stacks {
        if let Some(why) = &stack.runtime_note {
            out.push(format!("{}: {why}", stack.id));
        }
        if let Some(e) = &stack.error {
            out.push(format!("{}: not measured: {}", stack.id, error_gist(e)));
        }
        for scenario in &r.settings.scenarios {
            let at = format!("{} {scenario}", stack.id);
            let Some(c) = find(cells, &stack.id, scenario) else {
                if stack.error.is_none() {
                    out.push(format!("{at}: {}", not_run(stack, scenario)));
                }
                continue;
            };
            if let Some(e) = &c.error {
                out.push(format!("{at}: not measured: {}", error_gist(e)));
            }
            for why in &c.invalid {
                out.push(format!("{at}: invalid {why}"));
            }
            if c.error.is_none() && c.throughput.is_none() && c.invalid.is_empty() {
                out.push(format!("{at}: no valid trial"));
            }
            if let Some(w) = c.other_load_warning() {
                out.push(format!("{at}: {w}"));
            }
            let sc = stack.scenarios.iter().find(|s| &s.scenario == scenario);
            if let Some(limit) =
                sc.and_then(|s| engine_limit(s.capacity.iter().flat_map(|c| &c.probes)))
            {
                out.push(format!(
                    "{at}: the load engine could not drive probes from {} req/s on its CPUs, so \
                     the capacity is known only as at least the highest rate below that",
                    crate::fmt::rate(limit)
                ));
            }
            if let Some(w) = sc.and_then(|s| s.warmup.as_ref()).filter(|w| !w.settled) {
                out.push(format!(
                    "{at}: throughput had not settled after the {:.1} s warm-up",
                    w.seconds
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_gist_keeps_the_reason_from_the_quoted_output() {
        let pip = "install step `.venv/bin/pip install -r requirements.txt` failed (exit status: \
                   1); last output:\nCollecting fastapi==9.9\n  Downloading...\nERROR: No \
                   matching distribution found for fastapi==9.9\n";
        assert_eq!(
            error_gist(pip),
            "install step `.venv/bin/pip install -r requirements.txt` failed (exit status: 1); \
             last output: ERROR: No matching distribution found for fastapi==9.9"
        );
        let python = "the server exited during the measurement; last output:\n  File \
                      \"app.py\", line 3\n    def (\n        ^\nSyntaxError: invalid syntax";
        assert!(error_gist(python).ends_with("SyntaxError: invalid syntax"));
        assert_eq!(
            error_gist("verify failed: json: wrong body"),
            "verify failed: json: wrong body"
        );
        // Output that names no error stays in results.json.
        assert_eq!(
            error_gist("nothing said:\n\n  last words\n"),
            "nothing said:"
        );
    }

    #[test]
    fn a_stack_left_out_of_ml_image_is_told_which_part_of_its_manifest_says_so() {
        let text = include_str!("../../../data/reference/results.json");
        let r = RunResult::parse(text).expect("the reference results");
        let mut s = r.stacks[0].clone();
        (s.ml_library, s.ml_image) = (None, false);
        assert!(
            not_run(&s, "ml-image").contains("no [ml] in"),
            "{}",
            not_run(&s, "ml-image")
        );
        s.ml_library = Some("scikit-learn 1.7".into());
        assert!(not_run(&s, "ml").starts_with("not run"));
        assert!(not_run(&s, "ml-image").contains("no image = true"));
        // One whose [ml] says it serves the image and still has no result there was not run.
        s.ml_image = true;
        assert_eq!(not_run(&s, "ml-image"), "not run");
    }

    #[test]
    fn a_broadcast_capacity_rests_on_the_messages_published_not_their_deliveries() {
        let text = include_str!("../../../data/reference/results.json");
        let r = RunResult::parse(text).expect("the reference results");
        let mut checked = 0;
        for sc in r.stacks.iter().flat_map(|s| &s.scenarios) {
            if !sc.scenario.starts_with("ws-broadcast") {
                continue;
            }
            let Some(at) = capacity_at(sc, 100.0).filter(|a| a.rps > 0.0) else {
                continue;
            };
            let probe = sc
                .capacity
                .iter()
                .flat_map(|c| &c.probes)
                .find(|p| p.rate == at.rps)
                .expect("the probe that gave it");
            let b = probe
                .trial
                .load
                .ws
                .as_ref()
                .and_then(|w| w.broadcast.as_ref());
            let b = b.expect("a broadcast report");
            assert_eq!(at.responses, b.published, "{}", sc.scenario);
            assert!(at.responses < probe.trial.load.summary.requests);
            checked += 1;
        }
        assert!(
            checked >= 4,
            "{checked} broadcast capacities in the reference"
        );
    }

    #[test]
    fn a_paired_ratio_is_taken_round_by_round_and_an_unpaired_one_from_both_intervals() {
        let text = include_str!("../../../data/reference/results.json");
        let r = RunResult::parse(text).expect("the reference results");
        let sc = |stack: &str| {
            r.stacks
                .iter()
                .find(|s| s.id == stack)
                .and_then(|s| s.scenarios.iter().find(|c| c.scenario == "upstream"))
                .expect("measured")
                .clone()
        };
        let (mut a, mut b) = (sc("node-http"), sc("fastapi"));
        // Round by round, by hand.
        let rate = |s: &ScenarioResult, round: u64| {
            s.trials
                .iter()
                .find(|t| t.valid && t.round == Some(round))
                .map(|t| t.load.summary.throughput_rps)
        };
        let by_hand: Vec<f64> = a
            .trials
            .iter()
            .filter_map(|t| t.round)
            .filter_map(|round| Some(rate(&a, round)? / rate(&b, round)?))
            .collect();
        assert!(by_hand.len() >= 3, "{by_hand:?}");
        let paired = paired_ratio(&a, &b).expect("paired");
        assert_eq!(paired, Spread::of(&by_hand).unwrap());
        assert!(
            paired.lo > 1.0,
            "node-http is faster in every round: {paired:?}"
        );
        // The other way round is its reciprocal (the median of an odd count is one of them).
        let back = paired_ratio(&b, &a).unwrap();
        if !by_hand.len().is_multiple_of(2) {
            assert!((back.median * paired.median - 1.0).abs() < 1e-9);
        }
        // Without rounds, the ratio of the medians and an interval from both intervals.
        for t in a.trials.iter_mut().chain(b.trials.iter_mut()) {
            t.round = None;
        }
        let unpaired = paired_ratio(&a, &b).unwrap();
        let (sa, sb) = (
            Spread::of(&by_round(&a).iter().map(|x| x.1).collect::<Vec<_>>()).unwrap(),
            Spread::of(&by_round(&b).iter().map(|x| x.1).collect::<Vec<_>>()).unwrap(),
        );
        assert_eq!(unpaired.median, sa.median / sb.median);
        assert_eq!((unpaired.lo, unpaired.hi), (sa.lo / sb.hi, sa.hi / sb.lo));
        // Overlapping intervals give an interval that spans 1.
        let same = paired_ratio(&a, &a).unwrap();
        assert!(same.lo <= 1.0 && same.hi >= 1.0, "{same:?}");
        b.trials.iter_mut().for_each(|t| t.valid = false);
        assert_eq!(paired_ratio(&a, &b), None);
    }

    #[test]
    fn scaling_is_taken_round_by_round_when_both_scenarios_shared_their_rounds() {
        let text = include_str!("../../../data/reference/results.json");
        let mut r = RunResult::parse(text).expect("the reference results");
        r.stacks.truncate(1);
        let stack = &mut r.stacks[0];
        let cpu = stack
            .scenarios
            .iter()
            .find(|c| c.scenario == "cpu")
            .expect("measured")
            .clone();
        // Twice the throughput on two cores in every round, on a machine whose speed drifts
        // from round to round by far more than that.
        let at = |id: &str, times: f64| {
            let mut sc = cpu.clone();
            sc.scenario = id.into();
            sc.trials.retain(|t| t.valid);
            for t in &mut sc.trials {
                let drift = 1.0 + 0.8 * t.round.unwrap() as f64;
                t.load.summary.throughput_rps = 100.0 * times * drift;
            }
            sc
        };
        let mut many = at("parallel", 2.0);
        many.server_cpus = Some(vec![0, 1]);
        stack.scenarios = vec![at("parallel-1", 1.0), many];
        let rounds = |id: &str, with: Option<&str>| crate::Rounds {
            scenario: id.into(),
            shared_with: with.map(str::to_string),
            ..r.rounds[0].clone()
        };
        r.settings.scenarios = vec!["parallel-1".into(), "parallel".into()];
        r.rounds = vec![
            rounds("parallel-1", Some("parallel")),
            rounds("parallel", Some("parallel-1")),
        ];
        let s = &scalings(&r, &cells(&r))[0];
        assert!(s.paired);
        assert!((s.factor - 2.0).abs() < 1e-9, "{s:?}");
        assert!(
            (s.lo - 2.0).abs() < 1e-9 && (s.hi - 2.0).abs() < 1e-9,
            "{s:?}"
        );
        // Measured apart, the same trials say far less.
        r.rounds.iter_mut().for_each(|x| x.shared_with = None);
        let s = &scalings(&r, &cells(&r))[0];
        assert!(!s.paired);
        assert!(s.lo < 1.5 && s.hi > 3.0, "{s:?}");
    }

    #[test]
    fn a_probe_that_held_no_response_is_no_capacity() {
        // The reference's django ws-broadcast-1k: its probe at 315 deliveries/s sent no message
        // to its room of 1,000 in its time, so it "met" the target on nothing.
        let text = include_str!("../../../data/reference/results.json");
        let r = RunResult::parse(text).expect("the reference results");
        let sc = r
            .stacks
            .iter()
            .find(|s| s.id == "django")
            .and_then(|s| s.scenarios.iter().find(|c| c.scenario == "ws-broadcast-1k"))
            .expect("measured");
        let empty: Vec<_> = sc
            .capacity
            .iter()
            .flat_map(|c| &c.probes)
            .filter(|p| p.trial.load.summary.requests == 0)
            .collect();
        assert!(!empty.is_empty() && empty.iter().all(|p| p.met));
        let at = capacity_at(sc, 100.0).expect("other probes say something");
        assert!(
            empty.iter().all(|p| p.rate != at.rps),
            "capacity {} rests on an empty probe",
            at.rps
        );
        assert!(at.responses > 0 || at.rps == 0.0, "{at:?}");
    }

    #[test]
    fn the_cpu_s_own_speed_is_read_from_both_calibrations() {
        let text = include_str!("../../../data/reference/results.json");
        let mut r = RunResult::parse(text).expect("the reference results");
        r.calibration.truncate(1);
        r.calibration[0].cpu_steps.clear();
        assert_eq!(cpu_speed(&r), None, "no steps: nothing said");
        let with = |at: &str, steps: &[f64]| crate::Calibration {
            at: at.into(),
            throughput_rps: 1000.0,
            steal: None,
            cpu_steps: steps.to_vec(),
        };
        r.calibration = vec![with("start", &[100.0, 100.0, 50.0])];
        assert_eq!(cpu_speed(&r), None, "three steps say too little");
        r.calibration.push(with("end", &[100.0, 100.0, 100.0]));
        let speed = cpu_speed(&r).expect("six steps");
        assert_eq!(speed.slowest, 0.5);
        assert!((speed.cv - 0.2236).abs() < 1e-3, "{speed:?}");
        let line = machine(&r).unwrap_or_default();
        assert!(line.contains("moved by 22%"), "{line}");
        assert!(line.contains("slowest step 50% below the median"), "{line}");
    }

    #[test]
    fn spread_gives_median_range_and_cv() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert!((s.cv - 0.5).abs() < 1e-9, "cv {}", s.cv);
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[5.0]).unwrap().cv, 0.0);
    }

    #[test]
    fn overlapping_ranges_are_within_noise() {
        let a = Spread::of(&[10.0, 12.0]).unwrap();
        let b = Spread::of(&[11.5, 13.0]).unwrap();
        let c = Spread::of(&[12.5, 13.0]).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
    }

    fn cell_with(stack: &str, scenario: &str, rps: &[f64]) -> Cell {
        Cell {
            stack: stack.to_string(),
            scenario: scenario.to_string(),
            error: None,
            throughput: Spread::of(rps),
            per_core: Spread::of(rps),
            ratio: None,
            p99_ms: None,
            p50_ms: None,
            connections: 64,
            max_rps: None,
            capacity_rps: None,
            capacity_per_core: None,
            capacity_missed_rps: None,
            capacity_responses: None,
            pss_peak_bytes: None,
            held_per_1000_bytes: None,
            cpu_ms_per_request: None,
            invalid: Vec::new(),
            other_load: None,
            ceiling: false,
        }
    }

    #[test]
    fn a_ceiling_is_shown_beside_the_ranking_never_in_it() {
        let mut axum = cell_with("axum", "json", &[30000.0, 31000.0, 32000.0]);
        axum.ceiling = true;
        let cells = vec![
            cell_with("express", "json", &[5900.0, 6000.0, 6100.0]),
            axum,
            cell_with("fastify", "json", &[9000.0, 10000.0, 11000.0]),
        ];
        let k = ranking(&cells, "json");
        assert_eq!(k.order(), "fastify > express");
        assert_eq!(k.ceilings, vec![("axum".to_string(), 3.1)]);
        assert!(k.unranked.is_empty());
    }

    #[test]
    fn ranking_orders_by_median_and_marks_overlaps() {
        let cells = vec![
            cell_with("express", "json", &[5900.0, 6000.0, 6100.0]),
            cell_with("fastify", "json", &[9000.0, 9100.0, 9200.0]),
            cell_with("fastapi", "json", &[5800.0, 5950.0, 5990.0]),
            cell_with("express", "db", &[100.0]),
        ];
        let r = ranking(&cells, "json");
        let order: Vec<_> = r.places.iter().map(|p| p.stack.as_str()).collect();
        assert_eq!(order, ["fastify", "express", "fastapi"]);
        let noise: Vec<_> = r.places.iter().map(|p| p.within_noise).collect();
        assert_eq!(noise, [false, false, true]);
        assert_eq!(r.order(), "fastify > express ≈ fastapi");
        assert!(r.has_noise());
        assert!(r.unranked.is_empty());
    }

    #[test]
    fn ranking_compares_adjacent_places_only() {
        let cells = vec![
            cell_with("a", "json", &[10.0, 12.0]),
            cell_with("b", "json", &[9.0, 11.0]),
            cell_with("c", "json", &[8.0, 9.5]),
        ];
        assert_eq!(ranking(&cells, "json").order(), "a ≈ b ≈ c");
    }

    #[test]
    fn ranking_leaves_out_errors_and_invalid_cells() {
        let mut failed = cell_with("django", "json", &[500.0]);
        failed.error = Some("did not start".into());
        let cells = vec![
            cell_with("express", "json", &[100.0]),
            failed,
            cell_with("fastapi", "json", &[]),
        ];
        let r = ranking(&cells, "json");
        assert_eq!(r.order(), "express");
        assert_eq!(r.unranked, ["django", "fastapi"]);
        assert!(!r.has_noise());
    }

    #[test]
    fn ranking_of_an_unknown_scenario_is_empty() {
        let cells = vec![cell_with("express", "json", &[100.0])];
        let r = ranking(&cells, "db");
        assert!(r.places.is_empty() && r.unranked.is_empty());
        assert_eq!(r.order(), "");
        let r = ranking(&[], "json");
        assert!(r.places.is_empty());
    }

    #[test]
    fn equal_medians_keep_cell_order_and_are_within_noise() {
        let cells = vec![
            cell_with("b", "json", &[100.0]),
            cell_with("a", "json", &[100.0]),
        ];
        assert_eq!(ranking(&cells, "json").order(), "b ≈ a");
    }
}

#[cfg(test)]
mod capacity_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Capacity, Probe, ScenarioResult, ServerUsage};

    fn probe(rate: f64, p99_ms: f64, unsent: u64) -> Probe {
        let text = include_str!("../../stackwise/tests/fixtures/load-report.json");
        let mut load: stackwise_engine::LoadReport = serde_json::from_str(text).unwrap();
        load.summary.latency.corrected.p99_us = (p99_ms * 1000.0) as u64;
        load.summary.errors = 0;
        load.summary.non_2xx = 0;
        load.engine.saturated = false;
        load.engine.delivery.unsent = unsent;
        Probe {
            rate,
            met: p99_ms <= 100.0,
            reason: None,
            inconclusive: false,
            trial: Trial {
                connections: 64,
                held: None,
                round: None,
                load,
                server: ServerUsage::default(),
                valid: true,
                invalid_reason: None,
                other_load: None,
                steal: None,
            },
        }
    }

    fn scenario(probes: Vec<Probe>) -> ScenarioResult {
        ScenarioResult {
            scenario: "json".into(),
            target: "GET /json".into(),
            server_cpus: None,
            workers: None,
            threads: None,
            error: None,
            connections: 64,
            trials: Vec::new(),
            sweep: Vec::new(),
            warmup: None,
            capacity: Some(Capacity {
                target_p99_ms: 100.0,
                rps: 0.0,
                missed_rps: None,
                probes,
            }),
        }
    }

    #[test]
    fn capacity_is_read_at_any_target_and_bracketed_or_a_lower_bound() {
        let sc = scenario(vec![
            probe(500.0, 4.0, 0),
            probe(800.0, 12.0, 0),
            probe(1000.0, 60.0, 0),
            probe(1100.0, 900.0, 0),
        ]);
        let at = |t: f64| capacity_at(&sc, t).unwrap();
        assert_eq!(
            (at(100.0).rps, at(100.0).missed_rps),
            (1000.0, Some(1100.0))
        );
        assert_eq!((at(20.0).rps, at(20.0).missed_rps), (800.0, Some(1000.0)));
        // A target every probe met: a lower bound, shown as "≥".
        assert!(at(1000.0).is_lower_bound() && at(1000.0).rps == 1100.0);
        // A target none met: no capacity, and the lowest miss.
        assert_eq!((at(1.0).rps, at(1.0).missed_rps), (0.0, Some(500.0)));
    }

    #[test]
    fn a_starved_probe_is_neither_met_nor_missed() {
        // Every connection was busy at 1100 req/s, yet what was sent met the target: the
        // engine's limit, not the server's.
        let sc = scenario(vec![probe(500.0, 4.0, 0), probe(1100.0, 30.0, 250)]);
        let c = capacity_at(&sc, 100.0).unwrap();
        assert_eq!(c.rps, 500.0);
        assert!(c.is_lower_bound());
    }

    #[test]
    fn probes_the_load_engine_could_not_drive_leave_a_lower_bound_and_say_why() {
        // 120,000 req/s saturated the engine, and its late sends pushed the p99 over the
        // target: not a miss of the server's.
        let mut fast = probe(120_000.0, 400.0, 9_000);
        fast.inconclusive = true;
        fast.trial.load.engine.saturated = true;
        let sc = scenario(vec![probe(30_000.0, 3.0, 0), fast]);
        let c = capacity_at(&sc, 100.0).unwrap();
        assert_eq!((c.rps, c.missed_rps), (30_000.0, None));
        assert!(c.is_lower_bound(), "shown as ≥ 30,000");
        assert_eq!(
            engine_limit(&sc.capacity.as_ref().unwrap().probes),
            Some(120_000.0)
        );
        assert_eq!(engine_limit(&[probe(30_000.0, 3.0, 0)]), None);
    }

    #[test]
    fn memory_per_1000_held_connections_counts_from_before_the_first() {
        let trial = |before: u64, held: u64, connections: u64, valid: bool| {
            let mut t = probe(1000.0, 5.0, 0).trial;
            t.valid = valid;
            t.held = Some(crate::Held {
                connections,
                pss_before_bytes: before,
                pss_held_bytes: held,
            });
            t
        };
        const MIB: u64 = 1 << 20;
        let mut sc = scenario(Vec::new());
        assert_eq!(held_per_1000(&sc), None);
        sc.trials = vec![
            // 100 MiB more for 10,000 connections: 10 MiB per 1,000.
            trial(50 * MIB, 150 * MIB, 10_000, true),
            // The allocator kept 30 MiB from the first trial: still counted from 50 MiB.
            trial(80 * MIB, 160 * MIB, 10_000, true),
            // Not ranked: its figure is left out, its reading before still counts.
            trial(60 * MIB, 900 * MIB, 10_000, false),
        ];
        let h = held_per_1000(&sc).unwrap();
        assert_eq!(h.n, 2);
        assert_eq!(h.min, (10 * MIB) as f64);
        assert_eq!(h.max, (11 * MIB) as f64);
    }
}
