//! The measured side of the advice: per stack and scenario, the capacity per core at the
//! profile's own p99 target, read from the run's latency–throughput probes (or, without a
//! capacity search, the closed-loop maximum), with the spread of the trials, taken from
//! [`stackwise_results::summary`] so the advice says what every report says.
//!
//! A scenario that failed, or whose trials were all invalid, is kept with the reason: the
//! scoring states it instead of scoring it as 0.

use stackwise_results::summary::{self, Spread};
use stackwise_results::{Ecosystem, Language, RunResult};

/// One stack of the run, as the advisor reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stack {
    pub id: String,
    pub framework: String,
    /// As the run names it (`JavaScript`, `Python`).
    pub language_name: String,
    pub language: Option<Language>,
    /// What its manifest says of its framework's ecosystem, if anything.
    pub ecosystem: Option<Ecosystem>,
    /// Why the stack could not be measured at all.
    pub error: Option<String>,
    pub scenarios: Vec<Scenario>,
}

/// One scenario of one stack.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scenario {
    pub name: String,
    /// Why its figures cannot be used: it failed, or no trial was valid.
    pub unusable: Option<String>,
    /// Trials not ranked, with why (the figures may still come from the capacity search).
    pub invalid: Vec<String>,
    /// Requests per second per server core that met the target, or the closed-loop maximum
    /// when the run made no capacity search.
    pub per_core: Option<f64>,
    /// True when `per_core` is the capacity at the p99 target.
    pub at_target: bool,
    /// No probe missed the target: `per_core` is at least what it says ("≥").
    pub lower_bound: bool,
    /// Throughput of the valid trials: its min/median and max/median ratios are the noise.
    pub throughput: Option<Spread>,
    /// p99 of the valid trials, in milliseconds (for `mixed`, of /json alone).
    pub p99_ms: Option<Spread>,
    /// An idle scenario: bytes held per 1,000 open connections.
    pub held_per_1000: Option<Spread>,
}

impl Stack {
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }
}

/// Every stack of the run with its scenarios, by id, capacities read at a p99 of `target_ms`:
/// the advice never depends on the order in which the run recorded its stacks.
pub(crate) fn stacks(run: &RunResult, target_ms: f64) -> Vec<Stack> {
    let cells = summary::cells(run);
    let cores = run.settings.server_cpus.len().max(1) as f64;
    let mut by_id: Vec<&stackwise_results::StackResult> = run.stacks.iter().collect();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    // A ceiling marks what the hardware allows; it is never a candidate.
    by_id
        .into_iter()
        .filter(|s| !s.ceiling)
        .map(|s| Stack {
            id: s.id.clone(),
            framework: s.framework.clone(),
            language_name: s.language.clone(),
            language: s.side(),
            ecosystem: s.ecosystem.clone(),
            error: s.error.clone(),
            scenarios: cells
                .iter()
                .filter(|c| c.stack == s.id)
                .map(|c| {
                    let closed_loop = c.max_rps.map(|(rps, _)| rps / cores);
                    let at = s
                        .scenarios
                        .iter()
                        .find(|x| x.scenario == c.scenario)
                        .and_then(|x| summary::capacity_at(x, target_ms));
                    let capacity = at.map(|a| a.rps / cores);
                    let per_core = capacity.or(closed_loop);
                    let unusable = match (&c.error, per_core) {
                        (Some(e), _) => Some(format!("not measured: {e}")),
                        (None, None) if !c.invalid.is_empty() => {
                            Some(format!("no valid trial ({})", c.invalid.join("; ")))
                        }
                        (None, None) => Some("no figures".to_string()),
                        (None, Some(_)) => None,
                    };
                    Scenario {
                        name: c.scenario.clone(),
                        unusable,
                        invalid: c.invalid.clone(),
                        per_core,
                        at_target: capacity.is_some(),
                        lower_bound: at.is_some_and(|a| a.is_lower_bound() && a.rps > 0.0),
                        throughput: c.throughput,
                        p99_ms: c.p99_ms,
                        held_per_1000: c.held_per_1000_bytes,
                    }
                })
                .collect(),
        })
        .collect()
}

/// Where within its measured range a stack's figures are taken, for the noise check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// At the slowest trial: capacity × min/median throughput, the highest p99.
    Low,
    /// At the fastest trial: capacity × max/median throughput, the lowest p99.
    High,
}

impl Scenario {
    /// Capacity per core with the trials' spread applied to it.
    pub fn per_core_at(&self, side: Option<Side>) -> Option<f64> {
        let cap = self.per_core?;
        let ratio = match (side, self.throughput) {
            (Some(Side::Low), Some(t)) if t.median > 0.0 => t.min / t.median,
            (Some(Side::High), Some(t)) if t.median > 0.0 => t.max / t.median,
            _ => 1.0,
        };
        Some(cap * ratio)
    }

    /// Median p99 (or its worst or best trial on a side), in milliseconds.
    pub fn p99_at(&self, side: Option<Side>) -> Option<f64> {
        let p = self.p99_ms?;
        Some(match side {
            None => p.median,
            Some(Side::Low) => p.max,
            Some(Side::High) => p.min,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ceiling marks what the hardware allows: it is never a candidate, and the others keep
    /// their figures.
    #[test]
    fn a_ceiling_is_never_a_candidate() {
        let mut run = crate::reference::results();
        let all = stacks(&run, 100.0);
        run.stacks[0].ceiling = true;
        let ceiling = run.stacks[0].id.clone();
        let candidates = stacks(&run, 100.0);
        assert_eq!(candidates.len(), all.len() - 1);
        assert!(candidates.iter().all(|s| s.id != ceiling));
    }
}
