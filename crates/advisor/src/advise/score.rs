//! Weights, criteria and options: every score of the advice, each a function written out in
//! its doc comment so a reader can check it by hand.
//!
//! An option assigns each part of the workload (CRUD, I/O calls, real-time, CPU work, data,
//! ML) to a stack: a single-stack option assigns all parts to one stack, a hybrid assigns the
//! real-time and API parts to a Node stack and data and ML to a Python one. Criteria read the
//! stack that owns the part they are about, so one set of formulas scores both.

use std::collections::BTreeSet;

use stackwise_results::catalogue::{self, Part as WorkPart};
// Figures as every output prints them; `rps` is a request rate.
use stackwise_results::fmt::{bytes, thousands};
pub(crate) use stackwise_results::fmt::{ms, number, rate as rps};
use stackwise_results::{Ecosystem, Language, Level, RunResult};

use super::knowledge;
use super::measure::{self, Side, Stack};
use super::{
    Candidate, CapacityEstimate, Criterion, Evidence, Excluded, Part, Score, Weight,
    HOURS_PER_MONTH,
};
use crate::profile::Profile;

/// Cores a "sane" deployment gives the API: performance is judged by whether this many cores
/// carry the peak with [`TARGET_HEADROOM`].
pub const REFERENCE_CORES: f64 = 4.0;

/// Headroom over the peak a deployment should keep: 1.5 = 50% spare capacity.
pub const TARGET_HEADROOM: f64 = 1.5;

/// A hybrid is offered when real-time and I/O calls make at least this share of the workload,
/// and data and ML at least this share too (or models must run in-process).
pub const HYBRID_SHARE: f64 = 0.25;

/// Totals closer than this are a tie outright: the summary calls the options level, and the
/// sensitivity analysis reports the tie.
pub const CLOSE_TOTALS: f64 = 0.5;

/// How precisely a hand-set level (0–100, `data/facts.toml` and the manifests' `[ecosystem]`)
/// is known: two levels closer than this say the same. A curated level of 90 against 100 is a
/// judgement, not a measurement.
pub const LEVEL_PRECISION: f64 = 10.0;

/// Points of the total within which `other` is level with the top choice because of what the
/// hand-set levels cannot tell apart: for each weighted criterion on which the two scores
/// differ, its weight × [`LEVEL_PRECISION`] × the share of the top choice's score that rests on
/// curated levels (all of it with no measured figure or profile field among its evidence, half
/// when it averages a measured figure with a level, none otherwise). A criterion both score
/// alike (the same level of the same stack) adds nothing. Never below [`CLOSE_TOTALS`].
pub(crate) fn tie_band(eval: &Evaluation, other: &Candidate) -> f64 {
    let Some(top) = eval.ranking.first() else {
        return CLOSE_TOTALS;
    };
    let band: f64 = top
        .scores
        .iter()
        .filter_map(|s| {
            let mine = s.score?;
            let theirs = other.score(s.criterion).and_then(|x| x.score);
            if theirs.is_some_and(|t| (t - mine).abs() < 1e-9) {
                return None;
            }
            let curated = s
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Fact { .. }));
            let measured = s
                .evidence
                .iter()
                .any(|e| matches!(e, Evidence::Measured { .. } | Evidence::Profile { .. }));
            let share = match (curated, measured) {
                (true, false) => 1.0,
                (true, true) => 0.5,
                _ => 0.0,
            };
            Some(eval.weights[s.criterion.index()].weight * LEVEL_PRECISION * share)
        })
        .sum();
    band.max(CLOSE_TOTALS)
}

/// The options level with the top choice, each with its [`tie_band`]: closer than the band
/// says the scores can tell.
pub(crate) fn level_with_top(eval: &Evaluation) -> Vec<(&Candidate, f64)> {
    let Some(top) = eval.ranking.first() else {
        return Vec::new();
    };
    eval.ranking
        .iter()
        .skip(1)
        .map(|c| (c, tie_band(eval, c)))
        .filter(|(c, band)| top.total - c.total < *band)
        .collect()
}

/// Data the scoring reads once per advice.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub run_id: String,
    /// The p99 target of the run's capacity search, in milliseconds.
    pub run_target_ms: f64,
    /// The profile's p99 target, at which capacities are read from the run's probes.
    pub target_ms: f64,
    pub stacks: Vec<Stack>,
}

impl Context {
    pub fn new(run: &RunResult, p: &Profile) -> Context {
        Context {
            run_id: run.id.clone(),
            run_target_ms: run.settings.p99_target_ms,
            target_ms: p.load.p99_ms,
            stacks: measure::stacks(run, p.load.p99_ms),
        }
    }
}

/// A change of the inputs, for the sensitivity analysis; the default changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tweak {
    /// Multipliers of the raw weights, by [`Criterion`] order.
    pub weights: [f64; 7],
    /// Stacks whose figures are taken at one end of their measured range.
    pub sides: Vec<(String, Side)>,
    /// What performance and cost are scored against; [`evaluate`] sets it from the options.
    pub scale: Scale,
}

impl Default for Tweak {
    fn default() -> Tweak {
        Tweak {
            weights: [1.0; 7],
            sides: Vec::new(),
            scale: Scale::default(),
        }
    }
}

/// Past the load at which even the option needing the fewest cores would need more than
/// [`REFERENCE_CORES`] / this share of them (with [`TARGET_HEADROOM`]), the performance score
/// asks for this share of what that option needs instead of [`REFERENCE_CORES`], so the options
/// stay apart at any load (see [`Scale`]).
pub const GROWN_SHARE: f64 = 0.25;

/// What performance and cost are scored against: the profile's own needs, unless no option
/// comes near them, and then the best option measured. So a peak no stack carries on
/// [`REFERENCE_CORES`], or a budget every option exceeds, still tells the options apart instead
/// of scoring them all 0 and leaving hand-set levels to decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    /// Cores the performance score asks to carry the peak with [`TARGET_HEADROOM`]:
    /// [`REFERENCE_CORES`], or [`GROWN_SHARE`] of what the option that needs the fewest needs
    /// with the headroom, when that is more.
    pub reference_cores: f64,
    /// The monthly cost at which the cost score is 50: the profile's budget, or the cheapest
    /// option's cost when every option costs more.
    pub budget: Option<f64>,
}

impl Default for Scale {
    fn default() -> Scale {
        Scale {
            reference_cores: REFERENCE_CORES,
            budget: None,
        }
    }
}

impl Tweak {
    fn side(&self, stack: &str) -> Option<Side> {
        self.sides
            .iter()
            .find(|(s, _)| s == stack)
            .map(|(_, side)| *side)
    }
}

/// A part's share of the profile's workload.
fn share_of(part: WorkPart, p: &Profile) -> f64 {
    let w = &p.workload;
    match part {
        WorkPart::Crud => w.crud,
        WorkPart::Io => w.io,
        WorkPart::Realtime => w.realtime,
        WorkPart::Cpu => w.cpu,
        WorkPart::Data => w.data,
        WorkPart::Ml => w.ml,
    }
}

/// Which stack serves each part of the workload.
#[derive(Debug, Clone, Copy)]
struct Assignment<'a> {
    api: &'a Stack,
    /// Owns data and ML (and CPU work when `cpu_to_ml`); the same as `api` for one stack.
    ml: &'a Stack,
    cpu_to_ml: bool,
}

impl<'a> Assignment<'a> {
    fn single(s: &'a Stack) -> Assignment<'a> {
        Assignment {
            api: s,
            ml: s,
            cpu_to_ml: false,
        }
    }

    fn owner(&self, part: WorkPart) -> &'a Stack {
        match part {
            WorkPart::Data | WorkPart::Ml => self.ml,
            WorkPart::Cpu if self.cpu_to_ml => self.ml,
            _ => self.api,
        }
    }

    fn stacks(&self) -> Vec<&'a Stack> {
        if self.api.id == self.ml.id {
            vec![self.api]
        } else {
            vec![self.api, self.ml]
        }
    }
}

/// The result of scoring every option under one set of inputs.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    pub weights: Vec<Weight>,
    /// What performance and cost were scored against.
    pub scale: Scale,
    /// Best first; equal totals keep run order.
    pub ranking: Vec<Candidate>,
    pub excluded: Vec<Excluded>,
}

impl Evaluation {
    pub fn winner(&self) -> Option<&str> {
        self.ranking.first().map(|c| c.id.as_str())
    }
}

/// The weights the profile gives each criterion, before normalising (they are then divided by
/// their sum, so they add up to 1):
///
/// - performance = 1 + 2 × (crud + io + cpu shares): always matters, more when serving
///   requests is most of the work;
/// - cost = 0.75;
/// - real-time = 3 × realtime share, + 0.5 when 10,000 or more connections are open at once;
/// - CPU work = 3 × cpu share;
/// - data/ML = 3 × (data + ml shares), + 1 when ML models are in the product;
/// - team = 1.5: a team's fluency decides delivery speed whatever the workload;
/// - ecosystem = 0.5 per need asked (admin, server pages, strict typing), + 0.5 for an ORM
///   when CRUD is at least 20% of the work.
pub(crate) fn weights(p: &Profile, multipliers: &[f64; 7]) -> Vec<Weight> {
    let w = &p.workload;
    let n = &p.needs;
    let needs: Vec<&str> = [
        (n.admin, "an admin back-office"),
        (n.server_pages, "server-rendered pages"),
        (n.strict_typing, "strict typing"),
        (w.crud >= 0.2, "an ORM for the CRUD share"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, what)| *what)
    .collect();
    let many = p.load.connections >= 10_000;
    let raw = [
        (
            1.0 + 2.0 * (w.crud + w.io + w.cpu),
            format!(
                "1 + 2 × {:.0}% of the work serving CRUD, I/O and CPU requests",
                100.0 * (w.crud + w.io + w.cpu)
            ),
        ),
        (
            0.75,
            "fixed: compute is rarely the largest cost".to_string(),
        ),
        (
            3.0 * w.realtime + if many { 0.5 } else { 0.0 },
            format!(
                "3 × {:.0}% real-time{}",
                100.0 * w.realtime,
                if many {
                    " + 0.5 for 10,000+ connections"
                } else {
                    ""
                }
            ),
        ),
        (
            3.0 * w.cpu,
            format!("3 × {:.0}% CPU-heavy work", 100.0 * w.cpu),
        ),
        (
            3.0 * (w.data + w.ml) + if n.ml_models { 1.0 } else { 0.0 },
            format!(
                "3 × {:.0}% data and ML{}",
                100.0 * (w.data + w.ml),
                if n.ml_models {
                    " + 1 for ML models in the product"
                } else {
                    ""
                }
            ),
        ),
        (
            1.5,
            "fixed: the team's fluency decides delivery speed".to_string(),
        ),
        (
            if needs.is_empty() {
                0.0
            } else {
                0.5 * needs.len() as f64
            },
            if needs.is_empty() {
                "nothing asked that the frameworks differ on".to_string()
            } else {
                format!("0.5 per need: {}", needs.join(", "))
            },
        ),
    ];
    let scaled: Vec<f64> = raw
        .iter()
        .zip(multipliers)
        .map(|((w, _), m)| w * m.max(0.0))
        .collect();
    let sum: f64 = scaled.iter().sum();
    Criterion::ALL
        .iter()
        .zip(raw)
        .zip(scaled)
        .map(|((c, (_, why)), w)| Weight {
            criterion: *c,
            weight: if sum > 0.0 { w / sum } else { 0.0 },
            why,
        })
        .collect()
}

/// Performance of one scenario against the profile's peak:
/// `100 × min(1, capacity per core × REFERENCE_CORES / (peak × TARGET_HEADROOM))`,
/// so 100 means 4 cores carry the peak with 50% to spare, and a faster stack gains nothing.
pub fn performance_score(per_core_rps: f64, peak_rps: f64) -> f64 {
    performance_score_on(per_core_rps, peak_rps, REFERENCE_CORES)
}

/// [`performance_score`] with `cores` in place of [`REFERENCE_CORES`].
pub fn performance_score_on(per_core_rps: f64, peak_rps: f64, cores: f64) -> f64 {
    if peak_rps <= 0.0 {
        return 100.0;
    }
    (100.0 * per_core_rps * cores / (peak_rps * TARGET_HEADROOM)).clamp(0.0, 100.0)
}

/// What a stack measured for one part of the workload.
#[derive(Debug, Clone, Default)]
struct PartFigures {
    /// Mean [`performance_score`] of the usable scenarios.
    score: Option<f64>,
    /// Mean core-seconds per request (1 / capacity per core); infinite when a scenario met the
    /// target at no rate.
    core_seconds: Option<f64>,
    scenarios: Vec<String>,
    evidence: Vec<Evidence>,
    missing: Vec<String>,
}

fn part_figures(
    ctx: &Context,
    stack: &Stack,
    part: WorkPart,
    peak: f64,
    tweak: &Tweak,
) -> PartFigures {
    let side = tweak.side(&stack.id);
    let mut f = PartFigures::default();
    let (mut scores, mut seconds) = (Vec::new(), Vec::new());
    for name in part.scenarios() {
        let Some(sc) = stack.scenario(name) else {
            continue;
        };
        let kind = catalogue::scenario(name).map(|c| c.kind);
        // Held idle connections are a figure of memory, not of a rate a load could ask for.
        if kind.is_some_and(|k| k.holds_connections()) {
            continue;
        }
        let unit = kind.map_or("req/s", |k| k.rate_unit());
        if let Some(why) = &sc.unusable {
            f.missing.push(format!("{} {name}: {why}", stack.id));
            f.evidence.push(Evidence::Missing {
                what: format!("{} {name}: {why}", stack.id),
            });
            continue;
        }
        let Some(cap) = sc.per_core_at(side) else {
            continue;
        };
        scores.push(performance_score_on(cap, peak, tweak.scale.reference_cores));
        seconds.push(if cap > 0.0 { 1.0 / cap } else { f64::INFINITY });
        f.scenarios.push((*name).to_string());
        let figure = if sc.at_target && cap <= 0.0 {
            format!(
                "no probed rate met p99 ≤ {} ms (the slowest probe was at half the closed-loop \
                 maximum)",
                ms(ctx.target_ms)
            )
        } else if sc.at_target {
            format!(
                "{}{} {unit} per core at p99 ≤ {} ms{}",
                if sc.lower_bound { "≥ " } else { "" },
                rps(cap),
                ms(ctx.target_ms),
                if sc.lower_bound {
                    " (no probe missed it: a lower bound)"
                } else {
                    ""
                }
            )
        } else {
            format!(
                "{} {unit} per core, closed-loop maximum (no capacity search)",
                rps(cap)
            )
        };
        let figure = if sc.invalid.is_empty() {
            figure
        } else {
            format!("{figure}; {} trial(s) not ranked", sc.invalid.len())
        };
        f.evidence.push(Evidence::Measured {
            run: ctx.run_id.clone(),
            stack: stack.id.clone(),
            scenario: (*name).to_string(),
            figure,
        });
    }
    if !scores.is_empty() {
        f.score = Some(mean(&scores));
        f.core_seconds = Some(mean(&seconds));
    }
    f
}

fn performance(ctx: &Context, p: &Profile, a: &Assignment, tweak: &Tweak) -> Score {
    let peak = p.load.peak_rps;
    let mut evidence = Vec::new();
    let (mut sum, mut weight) = (0.0, 0.0);
    let mut parts = Vec::new();
    for part in [WorkPart::Crud, WorkPart::Io, WorkPart::Cpu] {
        let share = share_of(part, p);
        if share <= 0.0 {
            continue;
        }
        let owner = a.owner(part);
        let f = part_figures(ctx, owner, part, peak, tweak);
        evidence.extend(f.evidence);
        if let Some(s) = f.score {
            sum += share * s;
            weight += share;
            parts.push(format!("{} {:.0}", part.label(), s));
        }
    }
    let score = (weight > 0.0).then(|| sum / weight);
    let summary = match score {
        Some(_) => format!(
            "against the {} req/s peak on {} cores with {:.0}% headroom{}: {}",
            rps(peak),
            thousands(tweak.scale.reference_cores.round() as u64),
            (TARGET_HEADROOM - 1.0) * 100.0,
            if tweak.scale.reference_cores > REFERENCE_CORES {
                " (no option carries it on 4)"
            } else {
                ""
            },
            parts.join(", ")
        ),
        None => "no CRUD, I/O or CPU scenario of the run applies to this workload".to_string(),
    };
    Score {
        criterion: Criterion::Performance,
        score,
        summary,
        evidence,
    }
}

/// Cores for the peak and their cost. Each measured part `k` of the workload (CRUD, I/O,
/// real-time, CPU, data, ML) takes its share `s_k` of the peak, renormalised over the measured parts;
/// `cores = peak × Σ s_k × mean over k's scenarios of (1 / capacity per core)`, rounded up to
/// whole cores (at least 1); `monthly = cores × core-hour price × 730`.
fn capacity(
    ctx: &Context,
    p: &Profile,
    a: &Assignment,
    tweak: &Tweak,
) -> (CapacityEstimate, Vec<Evidence>) {
    let peak = p.load.peak_rps;
    let mut terms = Vec::new();
    let mut evidence = Vec::new();
    let mut basis = Vec::new();
    for part in [
        WorkPart::Crud,
        WorkPart::Io,
        WorkPart::Realtime,
        WorkPart::Cpu,
        WorkPart::Data,
        WorkPart::Ml,
    ] {
        let share = share_of(part, p);
        if share <= 0.0 {
            continue;
        }
        let owner = a.owner(part);
        let f = part_figures(ctx, owner, part, peak, tweak);
        if let Some(sec) = f.core_seconds {
            basis.push(format!(
                "{} ({:.0}%): {} on {}",
                part.label(),
                100.0 * share,
                f.scenarios.join(", "),
                owner.id
            ));
            terms.push((owner.id.as_str(), share, sec));
            for e in f.evidence {
                if !evidence.contains(&e) {
                    evidence.push(e);
                }
            }
        }
    }
    let measured: f64 = terms.iter().map(|(_, s, _)| s).sum();
    // Each service runs on cores of its own: a hybrid's are rounded up per service, and a
    // service whose parts were not measured still takes one.
    let owns_work = |id: &str| {
        WorkPart::ALL.iter().any(|w| {
            a.owner(*w).id == id
                && (share_of(*w, p) > 0.0 || (*w == WorkPart::Ml && p.needs.ml_models))
        })
    };
    let per_service: Vec<(&str, f64)> = a
        .stacks()
        .iter()
        .map(|s| {
            let exact = peak
                * terms
                    .iter()
                    .filter(|(owner, _, _)| *owner == s.id)
                    .map(|(_, share, sec)| share / measured * sec)
                    .sum::<f64>();
            (s.id.as_str(), exact)
        })
        .filter(|(id, exact)| *exact > 0.0 || owns_work(id))
        .collect();
    // Connections held open take memory: the real-time part's service gets at least the cores
    // whose memory holds the peak's connections.
    let mut per_service = per_service;
    let mut memory_bound = false;
    if let Some(m) = memory_cores(p, a) {
        if let Some(service) = per_service.iter_mut().find(|(id, _)| *id == m.stack) {
            if m.cores > service.1 {
                service.1 = m.cores;
                memory_bound = true;
                basis.push(format!(
                    "the peak's {} connections held open: {} each ({}, ws-idle) = {}, {} at \
                     {} GiB of memory per core",
                    thousands(p.load.connections),
                    bytes(m.per_connection),
                    m.stack,
                    bytes(m.total),
                    cores_label(m.cores.ceil() as u64),
                    number(p.cost.memory_per_core_gib)
                ));
            }
        }
    }
    let cores_exact = (measured > 0.0)
        .then(|| per_service.iter().map(|(_, c)| c).sum::<f64>())
        .filter(|c| c.is_finite());
    let cores = cores_exact.map(|_| {
        per_service
            .iter()
            .map(|(_, c)| (c.ceil() as u64).max(1))
            .sum::<u64>()
    });
    if per_service.len() > 1 && cores.is_some() {
        let each: Vec<String> = per_service
            .iter()
            .map(|(id, c)| {
                let n = (c.ceil() as u64).max(1);
                let unmeasured = if *c > 0.0 {
                    ""
                } else {
                    " (at least: its parts were not measured)"
                };
                format!("{id} {}{unmeasured}", cores_label(n))
            })
            .collect();
        basis.push(format!(
            "each service on cores of its own: {}",
            each.join(", ")
        ));
    }
    let monthly_cost = cores.map(|c| c as f64 * p.cost.core_hour * HOURS_PER_MONTH);
    (
        CapacityEstimate {
            cores_exact,
            cores,
            monthly_cost,
            per_core_rps: cores_exact.filter(|c| *c > 0.0).map(|c| peak / c),
            basis,
            memory_bound,
        },
        evidence,
    )
}

/// What the profile's connections hold in memory on the stack that owns the real-time part.
struct MemoryCores<'a> {
    stack: &'a str,
    /// Bytes per open connection (`ws-idle`'s per 1,000, over 1,000).
    per_connection: u64,
    /// For all the profile's connections.
    total: u64,
    /// `total / memory per core`, unrounded.
    cores: f64,
}

/// The cores whose memory holds the profile's `load.connections` on the real-time part's
/// stack: `connections × (memory per 1,000 idle connections in ws-idle) / 1,000 / memory per
/// core`. `None` without real-time work, connections or that figure.
fn memory_cores<'a>(p: &Profile, a: &Assignment<'a>) -> Option<MemoryCores<'a>> {
    if share_of(WorkPart::Realtime, p) <= 0.0 || p.load.connections == 0 {
        return None;
    }
    let owner = a.owner(WorkPart::Realtime);
    let held = owner.scenario("ws-idle")?.held_per_1000?.median;
    let per_core = p.cost.memory_per_core_gib * (1u64 << 30) as f64;
    if held <= 0.0 || per_core <= 0.0 {
        return None;
    }
    let total = held * p.load.connections as f64 / 1000.0;
    Some(MemoryCores {
        stack: &owner.id,
        per_connection: (held / 1000.0).round() as u64,
        total: total.round() as u64,
        cores: total / per_core,
    })
}

/// `1 core`, `7 cores`.
fn cores_label(n: u64) -> String {
    format!("{} core{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// Cost: `100 × clamp(1 − monthly cost / (2 × monthly budget), 0, 1)`: 100 for free, 50 at
/// the budget, 0 at twice the budget or when the p99 target was met at no rate.
fn cost(
    p: &Profile,
    est: &CapacityEstimate,
    evidence: Vec<Evidence>,
    any_measured: bool,
    scale: &Scale,
) -> Score {
    let budget = scale.budget.unwrap_or(p.cost.monthly_budget);
    let currency = &p.cost.currency;
    let mut evidence = evidence;
    evidence.push(Evidence::Profile {
        field: "cost.core_hour".into(),
        value: format!("{} {currency}", p.cost.core_hour),
    });
    let (score, summary) = match (est.monthly_cost, est.cores) {
        (Some(m), Some(c)) => (
            Some((100.0 * (1.0 - m / (2.0 * budget))).clamp(0.0, 100.0)),
            format!(
                "{} for the peak: {} {currency} a month against a budget of {}{}",
                cores_label(c),
                money(m),
                money(p.cost.monthly_budget),
                if budget > p.cost.monthly_budget {
                    format!(
                        " (every option is over it: scored against the cheapest, {})",
                        money(budget)
                    )
                } else {
                    String::new()
                }
            ),
        ),
        _ if any_measured => (
            Some(0.0),
            "a scenario of this workload met the p99 target at no rate measured".to_string(),
        ),
        _ => (
            None,
            "nothing relevant measured to size a deployment".to_string(),
        ),
    };
    Score {
        criterion: Criterion::Cost,
        score,
        summary,
        evidence,
    }
}

fn fact(level: &Level) -> Evidence {
    knowledge::evidence(level)
}

/// Real-time fit: the mean of what is available of (a) the [`performance_score`] of the
/// scenarios standing for real-time work, `upstream` (many connections waiting on I/O) and
/// `ws-echo` (messages on open WebSockets, where the stack serves them) and (b) the curated
/// level of the framework's WebSocket support; broadcast fan-out counts as a scenario of the
/// part. Memory per idle connection (`ws-idle`) is not a score here: it sizes the cores, and so
/// the cost, where the profile's connections need more memory than the rate needs cores
/// ([`memory_cores`]).
fn realtime(ctx: &Context, p: &Profile, a: &Assignment, tweak: &Tweak) -> Score {
    let owner = a.owner(WorkPart::Realtime);
    let f = part_figures(ctx, owner, WorkPart::Realtime, p.load.peak_rps, tweak);
    let mut evidence = f.evidence;
    let mut parts = Vec::new();
    let mut values = Vec::new();
    if let Some(s) = f.score {
        values.push(s);
        parts.push(format!("{} {s:.0}", f.scenarios.join(" + ")));
    }
    if let Some(fw) = &owner.ecosystem {
        values.push(fw.websockets.level);
        parts.push(format!("WebSocket libraries {:.0}", fw.websockets.level));
        evidence.push(fact(&fw.websockets));
    }
    let unmeasured: Vec<&str> = WorkPart::Realtime
        .scenarios()
        .filter(|id| catalogue::scenario(id).is_some_and(|sc| sc.kind.websocket()))
        .filter(|id| !f.scenarios.iter().any(|s| s == id))
        .collect();
    if !unmeasured.is_empty() {
        evidence.push(Evidence::Missing {
            what: format!(
                "{}: no WebSocket figures of {} in this run",
                owner.id,
                unmeasured.join(", ")
            ),
        });
    }
    if let Some(held) = owner.scenario("ws-idle").and_then(|s| s.held_per_1000) {
        let sized = match memory_cores(p, a) {
            Some(m) => format!(
                "; the profile's {} connections hold {}, {:.1} cores' memory at {} GiB a core, \
                 which sizes the cores where it is more than the rate needs",
                thousands(p.load.connections),
                bytes(m.total),
                m.cores,
                number(p.cost.memory_per_core_gib)
            ),
            None => String::new(),
        };
        evidence.push(Evidence::Measured {
            run: ctx.run_id.clone(),
            stack: owner.id.clone(),
            scenario: "ws-idle".into(),
            figure: format!(
                "{} held per 1,000 idle connections{sized}",
                bytes(held.median as u64)
            ),
        });
    }
    let score = (!values.is_empty()).then(|| mean(&values));
    Score {
        criterion: Criterion::Realtime,
        score,
        summary: if parts.is_empty() {
            format!("nothing measured or curated for {}", owner.id)
        } else {
            format!("{}: {}", owner.id, parts.join(", "))
        },
        evidence,
    }
}

/// CPU-work fit: the mean of what is available of (a) the [`performance_score`] of `cpu` and
/// (b) for `mixed`, `100 × min(1, p99 target / p99 of /json)`: whether light requests keep
/// their latency while CPU-heavy ones run beside them (event loop vs workers and the GIL).
fn cpu(ctx: &Context, p: &Profile, a: &Assignment, tweak: &Tweak) -> Score {
    let owner = a.owner(WorkPart::Cpu);
    let side = tweak.side(&owner.id);
    let mut evidence = Vec::new();
    let mut values = Vec::new();
    let mut parts = Vec::new();
    if let Some(sc) = owner.scenario("cpu") {
        match (&sc.unusable, sc.per_core_at(side)) {
            (None, Some(cap)) => {
                let s = performance_score_on(cap, p.load.peak_rps, tweak.scale.reference_cores);
                values.push(s);
                parts.push(format!("cpu {s:.0}"));
                evidence.push(Evidence::Measured {
                    run: ctx.run_id.clone(),
                    stack: owner.id.clone(),
                    scenario: "cpu".into(),
                    figure: format!("{} req/s per core", rps(cap)),
                });
            }
            (why, _) => evidence.push(Evidence::Missing {
                what: format!(
                    "{} cpu: {}",
                    owner.id,
                    why.as_deref().unwrap_or("no figures")
                ),
            }),
        }
    }
    if let Some(sc) = owner.scenario("mixed") {
        match (&sc.unusable, sc.p99_at(side)) {
            (None, Some(p99)) if p99 > 0.0 => {
                let s = (100.0 * p.load.p99_ms / p99).min(100.0);
                values.push(s);
                parts.push(format!("mixed {s:.0}"));
                evidence.push(Evidence::Measured {
                    run: ctx.run_id.clone(),
                    stack: owner.id.clone(),
                    scenario: "mixed".into(),
                    figure: format!(
                        "/json p99 {} ms beside CPU-heavy requests (target {} ms)",
                        ms(p99),
                        ms(p.load.p99_ms)
                    ),
                });
            }
            (why, _) => evidence.push(Evidence::Missing {
                what: format!(
                    "{} mixed: {}",
                    owner.id,
                    why.as_deref().unwrap_or("no latency")
                ),
            }),
        }
    }
    let score = (!values.is_empty()).then(|| mean(&values));
    Score {
        criterion: Criterion::Cpu,
        score,
        summary: if parts.is_empty() {
            "the run measured neither cpu nor mixed".to_string()
        } else {
            format!("{}: {}", owner.id, parts.join(", "))
        },
        evidence,
    }
}

/// Data/ML fit, per part: where the run measured the part's scenario on the owning stack
/// (`data`, `ml`), the mean of its [`performance_score`] and the language's curated level
/// (which stands for what a run cannot measure: the breadth of data libraries; training, GPUs
/// and the range of models); where it did not, the level alone. The parts combine weighted by
/// the data and ML shares: `(data × data fit + ml × ML fit) / (data + ml)`, where the ML level
/// is the in-process one when models must run in the API process; with no data or ML share but
/// models in the product, the ML fit; with neither, the mean of both (its weight is then 0).
fn data_ml(ctx: &Context, p: &Profile, a: &Assignment, tweak: &Tweak) -> Score {
    let owner = a.owner(WorkPart::Ml);
    let libs = match owner.language {
        Some(language) => knowledge::libraries(language),
        None => {
            return Score {
                criterion: Criterion::DataMl,
                score: None,
                summary: format!("no curated facts about {}'s libraries", owner.language_name),
                evidence: Vec::new(),
            }
        }
    };
    let ml = if p.needs.ml_in_process {
        &libs.ml_in_process
    } else {
        &libs.ml
    };
    let side = tweak.side(&owner.id);
    let mut evidence = vec![fact(&libs.data)];
    if ml.fact != libs.data.fact {
        evidence.push(fact(ml));
    }
    let mut fit = |scenario: &str, what: &str, level: f64| -> (f64, String) {
        let measured = owner
            .scenario(scenario)
            .filter(|sc| sc.unusable.is_none())
            .and_then(|sc| sc.per_core_at(side));
        match measured {
            Some(cap) => {
                let s = performance_score_on(cap, p.load.peak_rps, tweak.scale.reference_cores);
                evidence.push(Evidence::Measured {
                    run: ctx.run_id.clone(),
                    stack: owner.id.clone(),
                    scenario: scenario.into(),
                    figure: format!("{} req/s per core", rps(cap)),
                });
                (
                    (s + level) / 2.0,
                    format!(
                        "{what} {:.0} (measured {s:.0}, libraries {level:.0})",
                        (s + level) / 2.0
                    ),
                )
            }
            None => {
                evidence.push(Evidence::Missing {
                    what: format!(
                        "{} {scenario}: not measured in this run; the {what} fit is the curated \
                         level alone",
                        owner.id
                    ),
                });
                (
                    level,
                    format!("{what} {level:.0} (libraries; not measured)"),
                )
            }
        }
    };
    let (data, data_text) = fit("data", "data", libs.data.level);
    let (mlv, ml_text) = fit("ml", "ML", ml.level);
    let (d, m) = (p.workload.data, p.workload.ml);
    let score = if d + m > 0.0 {
        (d * data + m * mlv) / (d + m)
    } else if p.needs.ml_models {
        mlv
    } else {
        (data + mlv) / 2.0
    };
    Score {
        criterion: Criterion::DataMl,
        score: Some(score),
        summary: format!(
            "{} ({}): {data_text}, {ml_text}",
            owner.id, owner.language_name
        ),
        evidence,
    }
}

/// Team: `20 × skill in the stack's language` (0–5 → 0–100), minus 20 when the hiring pool is
/// the other language, at least 0; a hybrid scores the mean of its two stacks (the team must
/// run both).
fn team(p: &Profile, a: &Assignment) -> Score {
    let mut values = Vec::new();
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    for s in a.stacks() {
        let Some(lang) = s.language else {
            values.push(0.0);
            parts.push(format!(
                "the profile has no skill level for {}",
                s.language_name
            ));
            continue;
        };
        let skill = p.team.skill(lang);
        let field = match lang {
            Language::Javascript => "team.javascript",
            Language::Python => "team.python",
        };
        evidence.push(Evidence::Profile {
            field: field.into(),
            value: skill.to_string(),
        });
        let mut v = 20.0 * f64::from(skill);
        let mut text = format!("{} skill {skill} of 5", lang.name());
        if let Some(pool) = p.hiring.pool.language() {
            if pool != lang {
                v = (v - 20.0).max(0.0);
                text.push_str(&format!(", hiring favours {}", pool.name()));
                evidence.push(Evidence::Profile {
                    field: "hiring.pool".into(),
                    value: pool.name().to_string(),
                });
            }
        }
        values.push(v);
        parts.push(text);
    }
    Score {
        criterion: Criterion::Team,
        score: Some(mean(&values)),
        summary: parts.join("; "),
        evidence,
    }
}

/// Ecosystem: the mean over the needs the profile asks for (admin, server pages, strict
/// typing, and an ORM and request validation when CRUD is at least 20% of the work: an API
/// that stores what it is sent must check it) of the framework's curated level,
/// as its stack's record carries it; a hybrid takes the better of its two stacks per need. No
/// need asked, or no stack with levels: not scored.
fn ecosystem(p: &Profile, a: &Assignment) -> Score {
    let n = &p.needs;
    type Pick = fn(&Ecosystem) -> &Level;
    let asked: Vec<(&str, Pick)> = [
        (n.admin, "admin", (|f: &Ecosystem| &f.admin) as Pick),
        (n.server_pages, "server pages", |f| &f.server_pages),
        (n.strict_typing, "strict typing", |f| &f.typing),
        (p.workload.crud >= 0.2, "ORM", |f| &f.orm),
        (p.workload.crud >= 0.2, "validation", |f| &f.validation),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, name, pick)| (name, pick))
    .collect();
    let frameworks: Vec<_> = a
        .stacks()
        .iter()
        .filter_map(|s| s.ecosystem.as_ref())
        .collect();
    if asked.is_empty() || frameworks.is_empty() {
        return Score {
            criterion: Criterion::Ecosystem,
            score: None,
            summary: if asked.is_empty() {
                "no need asked that the frameworks differ on".to_string()
            } else {
                "the run's record of this stack has no ecosystem levels".to_string()
            },
            evidence: Vec::new(),
        };
    }
    let mut values = Vec::new();
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    for (name, pick) in asked {
        let Some(best) = frameworks
            .iter()
            .map(|f| pick(f))
            .max_by(|x, y| x.level.total_cmp(&y.level))
        else {
            continue;
        };
        values.push(best.level);
        parts.push(format!("{name} {:.0}", best.level));
        evidence.push(fact(best));
    }
    Score {
        criterion: Criterion::Ecosystem,
        score: Some(mean(&values)),
        summary: parts.join(", "),
        evidence,
    }
}

fn candidate(
    ctx: &Context,
    p: &Profile,
    a: Assignment,
    weights: &[Weight],
    tweak: &Tweak,
) -> Candidate {
    let (estimate, cost_evidence) = capacity(ctx, p, &a, tweak);
    let any_measured = !cost_evidence.is_empty();
    let scores = vec![
        performance(ctx, p, &a, tweak),
        cost(p, &estimate, cost_evidence, any_measured, &tweak.scale),
        realtime(ctx, p, &a, tweak),
        cpu(ctx, p, &a, tweak),
        data_ml(ctx, p, &a, tweak),
        team(p, &a),
        ecosystem(p, &a),
    ];
    let (mut sum, mut wsum) = (0.0, 0.0);
    let mut notes = Vec::new();
    // A stack without ecosystem levels gets its own line below, which says the score is missing.
    let no_levels = a.stacks().iter().all(|s| s.ecosystem.is_none());
    for s in &scores {
        let w = weights[s.criterion.index()].weight;
        if w <= 0.0 {
            continue;
        }
        match s.score {
            Some(v) => {
                sum += w * v;
                wsum += w;
            }
            None if s.criterion == Criterion::Ecosystem && no_levels => {}
            None => notes.push(format!(
                "{} left out of the total ({:.0}% weight): {}",
                s.criterion.name(),
                100.0 * w,
                s.summary
            )),
        }
    }
    let hybrid = a.api.id != a.ml.id;
    let mut total = if wsum > 0.0 { sum / wsum } else { 0.0 };
    if hybrid {
        total = (total - p.hybrid.overhead).max(0.0);
        notes.push(overhead_note(p.hybrid.overhead));
    }
    for s in a.stacks().iter().filter(|s| s.ecosystem.is_none()) {
        notes.push(no_ecosystem_note(s));
    }
    let mut seen = BTreeSet::new();
    for s in a.stacks() {
        for sc in &s.scenarios {
            if !sc.invalid.is_empty() && seen.insert((s.id.clone(), sc.name.clone())) {
                notes.push(format!(
                    "{} {}: {} trial(s) not ranked ({})",
                    s.id,
                    sc.name,
                    sc.invalid.len(),
                    sc.invalid.join("; ")
                ));
            }
            if let Some(why) = &sc.unusable {
                notes.push(format!("{} {}: {why}", s.id, sc.name));
            }
        }
    }
    let parts = a
        .stacks()
        .iter()
        .map(|s| Part {
            stack: s.id.clone(),
            framework: s.framework.clone(),
            language: s.language_name.clone(),
            owns: WorkPart::ALL
                .iter()
                .filter(|w| a.owner(**w).id == s.id)
                .filter(|w| share_of(**w, p) > 0.0 || (**w == WorkPart::Ml && p.needs.ml_models))
                .map(|w| w.label().to_string())
                .collect(),
        })
        .collect();
    Candidate {
        id: a
            .stacks()
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        parts,
        scores,
        total,
        capacity: estimate,
        notes,
    }
}

/// What a two-service option's total leaves out, in its notes and the ADR.
pub(crate) fn overhead_note(points: f64) -> String {
    format!(
        "{} points off for running two stacks (hybrid.overhead in the profile: two pipelines, \
         two dependency sets, a network hop)",
        number(points)
    )
}

/// The one line an option's notes carry for a stack its run recorded no ecosystem levels for,
/// so that the missing score is never silent.
pub(crate) fn no_ecosystem_note(s: &Stack) -> String {
    format!(
        "no ecosystem score for {}: the run's record of it has no ecosystem levels (its \
         stack.toml has no [ecosystem] table, or the run predates them)",
        s.id
    )
}

/// Why a stack cannot serve this profile at all, if it cannot. `ignore_ml` lifts the
/// in-process ML knock-out, for choosing the Node half of a hybrid (its Python half runs the
/// models).
fn knock_out(p: &Profile, s: &Stack, ignore_ml: bool) -> Option<(String, Vec<Evidence>)> {
    if let Some(e) = &s.error {
        return Some((format!("not measured: {e}"), Vec::new()));
    }
    if s.scenarios.iter().all(|sc| sc.unusable.is_some()) {
        return Some((
            "no scenario with usable figures in this run".to_string(),
            Vec::new(),
        ));
    }
    if p.needs.ml_in_process && !ignore_ml && s.language != Some(Language::Python) {
        let libs = knowledge::libraries(Language::Javascript);
        return Some((
            format!(
                "models must run in-process and {} cannot load PyTorch or scikit-learn models",
                // The runtime decides it, whether the stack is written in JavaScript or
                // TypeScript.
                match s.language {
                    Some(Language::Javascript) => "Node.js",
                    _ => s.language_name.as_str(),
                }
            ),
            vec![
                Evidence::Profile {
                    field: "needs.ml_in_process".into(),
                    value: "true".into(),
                },
                fact(&libs.ml_in_process),
            ],
        ));
    }
    if p.hiring.only {
        if let Some(pool) = p.hiring.pool.language() {
            if s.language != Some(pool) {
                return Some((
                    format!("hiring is limited to {} developers", pool.name()),
                    vec![Evidence::Profile {
                        field: "hiring.only".into(),
                        value: format!("true (pool {})", pool.name()),
                    }],
                ));
            }
        }
    }
    None
}

/// Whether the profile calls for a Node service beside a Python one: real-time and I/O calls
/// at least [`HYBRID_SHARE`] of the work, and data and ML at least as much (or models that
/// must run in-process), and hiring not limited to one language.
pub(crate) fn calls_for_hybrid(p: &Profile) -> bool {
    let w = &p.workload;
    w.realtime + w.io >= HYBRID_SHARE
        && (w.data + w.ml >= HYBRID_SHARE || p.needs.ml_in_process)
        && !p.hiring.only
}

/// What performance and cost are scored against (see [`Scale`]): from the single-stack options
/// that survive the knock-outs, sized for the profile's peak.
fn scale(ctx: &Context, p: &Profile, tweak: &Tweak) -> Scale {
    let estimates: Vec<CapacityEstimate> = ctx
        .stacks
        .iter()
        .filter(|s| knock_out(p, s, false).is_none())
        .map(|s| capacity(ctx, p, &Assignment::single(s), tweak).0)
        .collect();
    let fewest = estimates
        .iter()
        .filter_map(|e| e.cores_exact)
        .filter(|c| c.is_finite() && *c > 0.0)
        .reduce(f64::min);
    let cheapest = estimates
        .iter()
        .filter_map(|e| e.monthly_cost)
        .reduce(f64::min);
    Scale {
        reference_cores: fewest.map_or(REFERENCE_CORES, |c| {
            (c * TARGET_HEADROOM * GROWN_SHARE).max(REFERENCE_CORES)
        }),
        budget: cheapest.filter(|c| *c > p.cost.monthly_budget),
    }
}

/// Scores every option under `tweak`.
pub(crate) fn evaluate(ctx: &Context, p: &Profile, tweak: &Tweak) -> Evaluation {
    let tweak = &Tweak {
        scale: scale(ctx, p, tweak),
        ..tweak.clone()
    };
    let weights = weights(p, &tweak.weights);
    let mut ranking = Vec::new();
    let mut excluded = Vec::new();
    for s in &ctx.stacks {
        match knock_out(p, s, false) {
            Some((reason, evidence)) => excluded.push(Excluded {
                stack: s.id.clone(),
                language: s.language_name.clone(),
                reason,
                evidence,
            }),
            None => ranking.push(candidate(ctx, p, Assignment::single(s), &weights, tweak)),
        }
    }
    if calls_for_hybrid(p) {
        let best = |lang: Language, ignore_ml: bool| {
            ctx.stacks
                .iter()
                .filter(|s| s.language == Some(lang) && knock_out(p, s, ignore_ml).is_none())
                .map(|s| {
                    (
                        s,
                        candidate(ctx, p, Assignment::single(s), &weights, tweak).total,
                    )
                })
                .fold(None::<(&Stack, f64)>, |acc, (s, t)| match acc {
                    Some((_, bt)) if bt >= t => acc,
                    _ => Some((s, t)),
                })
                .map(|(s, _)| s)
        };
        if let (Some(node), Some(python)) = (
            best(Language::Javascript, true),
            best(Language::Python, false),
        ) {
            let api_cpu = cpu(ctx, p, &Assignment::single(node), tweak).score;
            let ml_cpu = cpu(ctx, p, &Assignment::single(python), tweak).score;
            let a = Assignment {
                api: node,
                ml: python,
                cpu_to_ml: ml_cpu.unwrap_or(0.0) > api_cpu.unwrap_or(0.0),
            };
            ranking.push(candidate(ctx, p, a, &weights, tweak));
        }
    }
    // Equal totals in a fixed order (by id), never in the run's.
    ranking.sort_by(|a, b| b.total.total_cmp(&a.total).then_with(|| a.id.cmp(&b.id)));
    Evaluation {
        weights,
        scale: tweak.scale,
        ranking,
        excluded,
    }
}

/// The top choice's reasons in plain sentences: what it owns (for a hybrid), the criteria that
/// put it ahead of the runner-up by weighted points, its lead, and its capacity and cost.
pub(crate) fn reasons(eval: &Evaluation, p: &Profile) -> Vec<String> {
    let Some(top) = eval.ranking.first() else {
        return vec!["No stack is left after the knock-outs.".to_string()];
    };
    let mut out = out_of_reach(eval, p);
    if top.is_hybrid() {
        let owns: Vec<String> = top
            .parts
            .iter()
            .map(|part| {
                format!(
                    "{} ({}) for {}",
                    part.stack,
                    part.language,
                    part.owns.join(", ")
                )
            })
            .collect();
        out.push(format!("Run two services: {}.", owns.join(", beside ")));
    }
    match eval.ranking.get(1) {
        Some(next) => {
            let gains = contributions(&eval.weights, top, next)
                .into_iter()
                .filter(|(_, points)| *points > 0.0)
                .filter_map(|(c, _)| top.score(c));
            for s in gains.take(3) {
                out.push(format!(
                    "{}: {}.",
                    capitalise(s.criterion.name()),
                    s.summary
                ));
            }
            let gap = top.total - next.total;
            let level_with = level_with_top(eval);
            if !level_with.is_empty() {
                let band = level_with
                    .iter()
                    .map(|(_, b)| *b)
                    .fold(CLOSE_TOTALS, f64::max);
                let level: Vec<&str> = level_with.iter().map(|(c, _)| c.id.as_str()).collect();
                out.push(format!(
                    "It is level with {} ({:.1} to {:.1}): they are within {band:.1} points, less \
                     than the hand-set levels behind the scores can tell apart (±{LEVEL_PRECISION:.0} \
                     of 100 each), and nothing measured separates them: your team's skills and \
                     what the scores leave out decide.",
                    level.join(", "),
                    top.total,
                    level_with
                        .iter()
                        .map(|(c, _)| c.total)
                        .fold(f64::MAX, f64::min)
                ));
            } else {
                out.push(format!(
                    "It leads {} by {gap:.1} points of 100 ({:.1} to {:.1}).",
                    next.id, top.total, next.total
                ));
            }
        }
        None => out.push("It is the only option left after the knock-outs.".to_string()),
    }
    out.extend(against_the_other_language(eval, top));
    out.extend(hybrid_overhead(eval, p));
    if let (Some(c), Some(m)) = (top.capacity.cores, top.capacity.monthly_cost) {
        out.push(format!(
            "It needs {} for the {} req/s peak at its p99 target{}, about {} {} a month.",
            cores_label(c),
            rps(p.load.peak_rps),
            if top.capacity.memory_bound {
                format!(
                    " and the memory of its {} open connections",
                    thousands(p.load.connections)
                )
            } else {
                String::new()
            },
            money(m),
            p.cost.currency
        ));
    }
    out
}

/// What no option reaches, said before anything else: a budget every option exceeds, a peak
/// no option carries on [`REFERENCE_CORES`], a p99 target nothing measured met.
fn out_of_reach(eval: &Evaluation, p: &Profile) -> Vec<String> {
    let mut out = Vec::new();
    let currency = &p.cost.currency;
    if eval.ranking.iter().all(|c| c.capacity.cores.is_none())
        && eval
            .ranking
            .iter()
            .any(|c| c.score(Criterion::Cost).is_some_and(|s| s.score.is_some()))
    {
        out.push(format!(
            "No option meets p99 ≤ {} ms at any rate the run measured: nothing here can be \
             sized for this target.",
            ms(p.load.p99_ms)
        ));
    }
    if let Some(cheapest) = eval.scale.budget {
        let who = eval
            .ranking
            .iter()
            .filter_map(|c| Some((c, c.capacity.monthly_cost?)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((c, _)) = who {
            out.push(format!(
                "Every option is over the budget of {} {currency} a month: the cheapest, {}, \
                 needs {} cores at {} {currency} ({}× the budget); cost is scored against it.",
                money(p.cost.monthly_budget),
                c.id,
                thousands(c.capacity.cores.unwrap_or(0)),
                money(cheapest),
                thousands((cheapest / p.cost.monthly_budget).round() as u64)
            ));
        }
    }
    if eval.scale.reference_cores > REFERENCE_CORES {
        out.push(format!(
            "No option carries the {} req/s peak on {} cores with {:.0}% headroom: the fewest \
             any option needs is {}, so performance is scored on {} cores, a quarter of that \
             with the headroom.",
            rps(p.load.peak_rps),
            number(REFERENCE_CORES),
            (TARGET_HEADROOM - 1.0) * 100.0,
            thousands((eval.scale.reference_cores / GROWN_SHARE / TARGET_HEADROOM).round() as u64),
            thousands(eval.scale.reference_cores.round() as u64)
        ));
    }
    out
}

/// The language of a single-stack option; `None` for a hybrid or a language that is neither.
fn language_of(c: &Candidate) -> Option<Language> {
    match c.parts.as_slice() {
        [only] => Language::parse(&only.language),
        _ => None,
    }
}

/// Each criterion's points of 100 in `a`'s favour over `b` (negative: in `b`'s): its weight
/// times the difference of the two scores, a score `b` lacks counted as 0; largest first,
/// those under 0.05 points left out.
fn contributions(weights: &[Weight], a: &Candidate, b: &Candidate) -> Vec<(Criterion, f64)> {
    let mut out: Vec<(Criterion, f64)> = Criterion::ALL
        .iter()
        .filter_map(|&c| {
            let mine = a.score(c)?.score?;
            let theirs = b.score(c).and_then(|x| x.score).unwrap_or(0.0);
            let points = weights[c.index()].weight * (mine - theirs);
            (points.abs() >= 0.05).then_some((c, points))
        })
        .collect();
    out.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()));
    out
}

/// What decided between the top choice and the other language: the criteria with the points
/// each gave against the best option of the other language, or the knock-out that left that
/// language no option at all. For a two-service top choice, against the best single stack.
fn against_the_other_language(eval: &Evaluation, top: &Candidate) -> Vec<String> {
    let versus = |other: &Candidate, label: String| {
        let points = contributions(&eval.weights, top, other);
        let side = |favour: bool| -> Vec<String> {
            points
                .iter()
                .filter(|(_, v)| (*v > 0.0) == favour)
                .map(|(c, v)| format!("{} {:+.1}", c.name(), v))
                .collect()
        };
        let (for_top, for_other) = (side(true), side(false));
        let mut line = format!(
            "Against {label} ({:.1} to {:.1}), in points of 100: ",
            top.total, other.total
        );
        match (for_top.is_empty(), for_other.is_empty()) {
            (true, true) => line.push_str("no criterion tells them apart."),
            (false, true) => line.push_str(&format!("{}.", for_top.join(", "))),
            (true, false) => line.push_str(&format!(
                "{} in its favour; it ranks lower on what the scores leave out.",
                for_other.join(", ")
            )),
            (false, false) => line.push_str(&format!(
                "{}; {} in its favour.",
                for_top.join(", "),
                for_other.join(", ")
            )),
        }
        line
    };
    if top.is_hybrid() {
        return eval
            .ranking
            .iter()
            .find(|c| !c.is_hybrid())
            .map(|c| versus(c, format!("{} alone, the best single stack", c.id)))
            .into_iter()
            .collect();
    }
    let Some(mine) = language_of(top) else {
        return Vec::new();
    };
    let other_language = mine.other();
    if let Some(other) = eval
        .ranking
        .iter()
        .find(|c| language_of(c) == Some(other_language))
    {
        return vec![versus(
            other,
            format!("{}, the best {} option", other.id, other_language.name()),
        )];
    }
    // No option of the other language is left: say what removed them.
    let mut reasons: Vec<&str> = eval
        .excluded
        .iter()
        .filter(|e| Language::parse(&e.language) == Some(other_language))
        .map(|e| e.reason.as_str())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    if reasons.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "Every {} stack was set aside: {}.",
        other_language.name(),
        reasons.join("; ")
    )]
}

/// What the profile's `hybrid.overhead` did: the two-service option's total before it, and the
/// overhead at which the answer would change.
fn hybrid_overhead(eval: &Evaluation, p: &Profile) -> Vec<String> {
    let (Some(top), Some(hybrid)) = (
        eval.ranking.first(),
        eval.ranking.iter().find(|c| c.is_hybrid()),
    ) else {
        return Vec::new();
    };
    let overhead = p.hybrid.overhead;
    let before = hybrid.total + overhead;
    if top.is_hybrid() {
        let best_single = eval.ranking.iter().find(|c| !c.is_hybrid());
        let line = match best_single {
            Some(single) => format!(
                "The two services score {:.1} before the {} points of hybrid.overhead; {} \
                 would lead if running two stacks cost more than {:.1} points.",
                before,
                number(overhead),
                single.id,
                before - single.total
            ),
            None => format!(
                "The two services score {:.1} before the {} points of hybrid.overhead.",
                before,
                number(overhead)
            ),
        };
        return vec![line];
    }
    let gap = before - top.total;
    vec![if gap > 0.0 {
        format!(
            "The two-service option {} scores {:.1} before the {} points of hybrid.overhead, \
             {:.1} after; it would lead if running two stacks cost your team less than {:.1} \
             points.",
            hybrid.id,
            before,
            number(overhead),
            hybrid.total,
            gap
        )
    } else {
        format!(
            "The two-service option {} scores {:.1} even before the {} points of \
             hybrid.overhead: two services would not lead at any overhead.",
            hybrid.id,
            before,
            number(overhead)
        )
    }]
}

/// Caveats for every option: the kind of run, what is not measured, a stricter target.
pub(crate) fn notes(ctx: &Context, p: &Profile, run: &RunResult) -> Vec<String> {
    let mut out = Vec::new();
    let has = |name: &str| run.settings.scenarios.iter().any(|s| s == name);
    if run.quick {
        out.push("Measured in a QUICK RUN (fewer, shorter trials): re-run without --quick before deciding.".to_string());
    }
    if (p.load.p99_ms - ctx.run_target_ms).abs() > 1e-9 {
        out.push(format!(
            "Capacities are read at your p99 target ({} ms) from the run's open-loop probes, \
             which were placed around the run's own target ({} ms): from half to 1.1× each \
             stack's closed-loop maximum.{}",
            ms(p.load.p99_ms),
            ms(ctx.run_target_ms),
            if p.load.p99_ms < ctx.run_target_ms {
                format!(
                    " For probes placed at your target, run `stackwise run --p99 {}`.",
                    number(p.load.p99_ms)
                )
            } else {
                String::new()
            }
        ));
    }
    let probed: Vec<&measure::Scenario> = ctx
        .stacks
        .iter()
        .flat_map(|s| &s.scenarios)
        .filter(|sc| sc.at_target)
        .collect();
    if !probed.is_empty() && probed.iter().all(|sc| sc.per_core.unwrap_or(0.0) <= 0.0) {
        out.push(format!(
            "Nothing measured meets p99 ≤ {} ms: no stack's slowest probe met it in any scenario.",
            ms(p.load.p99_ms)
        ));
    }
    if p.workload.realtime > 0.0 {
        let ws: Vec<&str> = WorkPart::Realtime
            .scenarios()
            .filter(|id| catalogue::scenario(id).is_some_and(|sc| sc.kind.websocket()))
            .collect();
        let (run_ws, not_run): (Vec<&str>, Vec<&str>) = ws.iter().partition(|id| has(id));
        out.push(if run_ws.is_empty() {
            "The run measured no WebSocket scenario: real-time fit rests on upstream (many waiting connections) and on facts about WebSocket libraries.".to_string()
        } else if not_run.is_empty() {
            format!("Real-time fit rests on {}, upstream (many waiting connections) and facts about WebSocket libraries; memory per 1,000 idle connections sizes the cores for your connections (load.connections) where it needs more than the rate does.", run_ws.join(", "))
        } else {
            format!("Real-time fit rests on {}, upstream (many waiting connections) and facts about WebSocket libraries; the run did not measure {}.", run_ws.join(", "), not_run.join(", "))
        });
    }
    let wanted = [
        (p.workload.data > 0.0, "data"),
        (p.workload.ml > 0.0 || p.needs.ml_models, "ml"),
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(asked, id)| *asked && !has(id))
        .map(|(_, id)| *id)
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "The run did not measure {}: data/ML fit rests on curated facts there (run \
             `stackwise run --scenarios {}`).",
            missing.join(" or "),
            missing.join(",")
        ));
    }
    if p.workload.cpu > 0.0 && !has("cpu") && !has("mixed") {
        out.push("The run has neither cpu nor mixed: CPU work is not scored.".to_string());
    }
    if p.workload.io + p.workload.realtime > 0.0 && !has("upstream") {
        out.push(
            "The run has no upstream scenario: I/O calls and real-time are not measured."
                .to_string(),
        );
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// An amount with thousands separators and two decimals below 100.
pub(crate) fn money(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.2}")
    } else {
        thousands(v.round() as u64)
    }
}
