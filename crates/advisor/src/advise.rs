//! The recommendation: from a run's measurements and a [`Profile`] to ranked stacks with
//! scores and evidence, capacity and cost, a hybrid answer when the profile calls for one, and
//! a sensitivity analysis that says "tie" when the answer is not established.
//!
//! The method, in order:
//!
//! 1. **Knock-outs**: stacks that cannot serve the profile at all (models that must run
//!    in-process, a hiring constraint, a stack the run could not measure) are set aside with
//!    the reason, never scored.
//! 2. **Weights** derived from the profile ([`score::weights`]), shown with why.
//! 3. **Scores** 0–100 per stack and criterion, each a documented function of its inputs and
//!    each with its evidence: a measured figure of the run, a curated fact, or a profile field.
//!    Measured criteria are scored against the profile's own targets, so a stack three times
//!    faster than needed gains nothing over one that is fast enough.
//! 4. **Total**: the weighted mean of the scores a stack has (a criterion it lacks a figure
//!    for is left out and said so).
//! 5. **Sensitivity** ([`sensitivity`]): the smallest change of each input that flips the top
//!    choice; a tie when ±20% of the weights or the measurements' noise flips it.
//!
//! Everything is a pure function of its inputs; rendering lives in [`render`].

mod knowledge;
mod measure;
pub mod render;
mod score;
pub mod sensitivity;

use serde::Serialize;
use stackwise_results::RunResult;

use crate::profile::Profile;

pub(crate) use score::{money, number, rps};
pub use score::{performance_score, HYBRID_SHARE, REFERENCE_CORES, TARGET_HEADROOM};
pub use sensitivity::{Flip, Sensitivity, Tie};

/// Hours in a month, for monthly cost: 365 × 24 / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The criteria, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// Can it carry the peak at the p99 target (CRUD, I/O and CPU scenarios)?
    Performance,
    /// The monthly cost of the cores it needs, against the budget.
    Cost,
    /// Real-time connections: many waiting connections (measured) and WebSocket libraries.
    Realtime,
    /// CPU-heavy work: CPU scenarios, and whether other requests stall behind it (`mixed`).
    Cpu,
    /// Data processing and ML inference: each language's libraries.
    DataMl,
    /// What the team knows and can hire.
    Team,
    /// What the product needs from the framework: admin, server pages, ORM, strict typing.
    Ecosystem,
}

impl Criterion {
    pub const ALL: [Criterion; 7] = [
        Criterion::Performance,
        Criterion::Cost,
        Criterion::Realtime,
        Criterion::Cpu,
        Criterion::DataMl,
        Criterion::Team,
        Criterion::Ecosystem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Criterion::Performance => "performance at this load",
            Criterion::Cost => "cost",
            Criterion::Realtime => "real-time fit",
            Criterion::Cpu => "CPU-work fit",
            Criterion::DataMl => "data/ML fit",
            Criterion::Team => "team skills",
            Criterion::Ecosystem => "ecosystem needs",
        }
    }

    /// A short column heading.
    pub fn short(self) -> &'static str {
        match self {
            Criterion::Performance => "perf",
            Criterion::Cost => "cost",
            Criterion::Realtime => "realtime",
            Criterion::Cpu => "cpu",
            Criterion::DataMl => "data/ml",
            Criterion::Team => "team",
            Criterion::Ecosystem => "ecosystem",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A criterion's weight: its share of the total (all weights add up to 1) and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    pub criterion: Criterion,
    pub weight: f64,
    pub why: String,
}

/// What a score rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A figure of the run.
    Measured {
        run: String,
        stack: String,
        scenario: String,
        figure: String,
    },
    /// A curated fact (`data/facts.toml`).
    Fact {
        id: String,
        statement: String,
        /// Where it comes from and the year it describes; `None` for a curated judgement
        /// that `data/facts.toml` does not hold yet.
        source: Option<String>,
        year: Option<String>,
    },
    /// A field of the profile.
    Profile { field: String, value: String },
    /// What is missing, and why.
    Missing { what: String },
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::Measured {
                run,
                stack,
                scenario,
                figure,
            } => write!(f, "measured: {stack} {scenario}, {figure} (run {run})"),
            Evidence::Fact {
                id,
                statement,
                source,
                year,
            } => {
                write!(f, "fact: {statement}")?;
                match (source, year) {
                    (Some(s), Some(y)) => write!(f, " ({s}, {y}; fact {id})"),
                    (Some(s), None) => write!(f, " ({s}; fact {id})"),
                    _ => write!(
                        f,
                        " (curated judgement {id}, not sourced in data/facts.toml yet)"
                    ),
                }
            }
            Evidence::Profile { field, value } => write!(f, "profile: {field} = {value}"),
            Evidence::Missing { what } => write!(f, "missing: {what}"),
        }
    }
}

/// One stack's score on one criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub criterion: Criterion,
    /// 0–100; `None` when there is nothing to score it on (said in `summary`).
    pub score: Option<f64>,
    /// The score's reason in one sentence.
    pub summary: String,
    pub evidence: Vec<Evidence>,
}

/// A stack within an option, and what it owns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub stack: String,
    pub framework: String,
    pub language: String,
    /// The parts of the workload it serves, such as `real-time`, `ML inference`.
    pub owns: Vec<String>,
}

/// Cores for the profile's peak at its p99 target, and what they cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityEstimate {
    /// Cores the peak needs, unrounded; `None` when a relevant scenario met the target at no
    /// rate, or nothing relevant was measured.
    pub cores_exact: Option<f64>,
    /// Whole cores (at least 1).
    pub cores: Option<u64>,
    /// `cores` × core-hour price × [`HOURS_PER_MONTH`].
    pub monthly_cost: Option<f64>,
    /// The workload's blended capacity per core: peak / `cores_exact`.
    pub per_core_rps: Option<f64>,
    /// How it was worked out, per workload part.
    pub basis: Vec<String>,
    /// The memory of the profile's connections, not the rate, set the real-time service's
    /// cores.
    pub memory_bound: bool,
}

/// One option: a single stack, or a hybrid of a Node and a Python stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The stack id, or `node+python` ids joined with `+` for a hybrid.
    pub id: String,
    pub parts: Vec<Part>,
    pub scores: Vec<Score>,
    /// Weighted mean of the scores present, minus the profile's `hybrid.overhead` for a hybrid;
    /// 0–100.
    pub total: f64,
    pub capacity: CapacityEstimate,
    /// What the reader must know about its figures: criteria left out, invalid trials.
    pub notes: Vec<String>,
}

impl Candidate {
    pub fn is_hybrid(&self) -> bool {
        self.parts.len() > 1
    }

    pub fn score(&self, c: Criterion) -> Option<&Score> {
        self.scores.iter().find(|s| s.criterion == c)
    }
}

/// A stack set aside before scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excluded {
    pub stack: String,
    /// The stack's language as its manifest names it.
    pub language: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// Where the measurements came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub run_id: String,
    /// True for the bundled reference results, false for the user's own run.
    pub reference: bool,
    pub quick: bool,
    /// CPU model, cores and kernel of the machine that measured.
    pub host: String,
    /// The p99 target the run's capacity search used, in milliseconds.
    pub p99_target_ms: f64,
}

impl Source {
    pub fn label(&self) -> String {
        let kind = if self.reference {
            "bundled reference results measured by stackwise"
        } else {
            "your run"
        };
        let quick = if self.quick { ", QUICK RUN" } else { "" };
        format!("{kind} {} on {}{quick}", self.run_id, self.host)
    }
}

/// The whole recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub source: Source,
    pub profile: Profile,
    pub weights: Vec<Weight>,
    /// Every option scored, best first.
    pub ranking: Vec<Candidate>,
    pub excluded: Vec<Excluded>,
    /// The top choice's reasons in plain sentences.
    pub reasons: Vec<String>,
    pub sensitivity: Sensitivity,
    /// Caveats that apply to every option.
    pub notes: Vec<String>,
}

impl Advice {
    /// The top choice, if any stack survived the knock-outs.
    pub fn top(&self) -> Option<&Candidate> {
        self.ranking.first()
    }
}

/// Every option scored, best first, without the sensitivity analysis: what [`advise`] ranks,
/// at a fraction of the cost.
pub fn rank(profile: &Profile, run: &RunResult) -> Vec<Candidate> {
    let ctx = score::Context::new(run, profile);
    score::evaluate(&ctx, profile, &score::Tweak::default()).ranking
}

/// The recommendation for `profile` from `run`; `reference` says the run is the bundled
/// reference results rather than the user's own.
pub fn advise(profile: &Profile, run: &RunResult, reference: bool) -> Advice {
    let ctx = score::Context::new(run, profile);
    let eval = score::evaluate(&ctx, profile, &score::Tweak::default());
    let sensitivity = sensitivity::analyse(&ctx, profile, &eval);
    let reasons = score::reasons(&eval, profile);
    Advice {
        source: Source {
            run_id: run.id.clone(),
            reference,
            quick: run.quick,
            host: format!(
                "{}, {} cores, {}",
                run.host.cpu_model, run.host.cores, run.host.kernel
            ),
            p99_target_ms: run.settings.p99_target_ms,
        },
        profile: profile.clone(),
        notes: score::notes(&ctx, profile, run),
        weights: eval.weights,
        ranking: eval.ranking,
        excluded: eval.excluded,
        reasons,
        sensitivity,
    }
}
