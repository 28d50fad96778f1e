//! Paired trials: rounds in which every stack of the scenario gets one trial window, in a
//! shuffled order, so that a drift of the machine's speed hits all of them alike and ratios
//! between stacks are taken within a round. Rounds go on until every stack's ratio to the
//! fastest is known within the protocol's precision, or the time budget is spent.

use std::time::Instant;

use stackwise_engine::Load;
use stackwise_results::summary::{ratios, Spread};
use stackwise_results::{Rounds, ScenarioResult};

use super::drive::{only_noisy, trial};
use super::protocol::Protocol;
use super::Slot;

/// Request cycles (see [`Slot::cycle`]) a trial settles for, and measures at least: a saturated
/// closed loop is in its steady state once its first requests complete.
const SETTLE_CYCLES: u32 = 1;
const WINDOW_CYCLES: u32 = 1;

/// The widest interval among the stacks' ratios to the fastest, as a share of the ratio; `None`
/// before there is a ratio for every measured stack.
pub fn widest(measured: &[(&str, &ScenarioResult)]) -> Option<f64> {
    let r = ratios(measured);
    if r.len() < measured.len() {
        return None;
    }
    r.iter().map(|(_, s)| s.precision()).reduce(f64::max)
}

/// Whether the rounds may stop after `done` rounds.
pub fn stop_after(done: usize, p: &Protocol, widest: Option<f64>, spent: bool) -> Option<&str> {
    if done >= p.max_rounds {
        return Some(Rounds::MOST);
    }
    if done < p.min_rounds {
        return None;
    }
    if widest.is_some_and(|w| w <= p.precision) {
        return Some(Rounds::TIGHT);
    }
    spent.then_some(Rounds::BUDGET)
}

/// Runs the rounds over the live slots, appending each trial to its slot's result. No round
/// starts after the least unless it can end by `deadline` (judged by the last round's length).
/// The slots may be of two `scenarios` measured in the same rounds (the catalogue's
/// `rounds_with`): then each round times every slot of both in one shuffled order, each
/// scenario's stopping rule looks at its own stacks, and each gets its own record, naming the
/// other.
pub fn run(
    slots: &mut [Slot],
    scenarios: &[&str],
    p: &Protocol,
    deadline: Instant,
    step: &mut dyn FnMut(&str, &str),
) -> Vec<Rounds> {
    let name = scenarios.join("+");
    let seed = p.seed
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut orders: Vec<Vec<usize>> = Vec::new();
    let stopped = loop {
        let mut order: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].live()).collect();
        if order.is_empty() {
            break Rounds::NONE_LEFT;
        }
        rng.shuffle(&mut order);
        let round = orders.len() as u64;
        let round_began = Instant::now();
        for &i in &order {
            let slot = &mut slots[i];
            step(&slot.id, &format!("round {}", round + 1));
            // A slow server's requests take long: its closed loop needs a few of them to settle
            // and a few more to measure.
            let settle = p.settle.max(slot.cycle * SETTLE_CYCLES);
            let cycles = WINDOW_CYCLES * slot.scenario.kind.window_cycles();
            let window = p.window.max(slot.cycle * cycles);
            loop {
                let subject = slot.subject();
                let connections = subject.scenario.connections;
                let measured = subject.drive(Load::Closed { connections }, settle, window);
                let (t, failure) = match measured {
                    Ok(w) => {
                        let failure = w.failure.clone();
                        (trial(w, connections, Some(round), p.noise_limit), failure)
                    }
                    Err(e) => {
                        slot.fail(format!("load failed: {e}"));
                        break;
                    }
                };
                if let Some(why) = failure {
                    slot.scen.trials.push(t);
                    slot.fail(why);
                    break;
                }
                let redo = only_noisy(&t) && slot.redos < p.max_redos;
                if t.valid {
                    slot.set_cycle(t.load.summary.throughput_rps);
                }
                slot.scen.trials.push(t);
                if !slot.check_alive() || !redo {
                    break;
                }
                slot.redos += 1;
            }
        }
        orders.push(order);
        // The widest interval of any of the scenarios, each among its own stacks.
        let widest_now = scenarios
            .iter()
            .map(|id| {
                let measured: Vec<(&str, &ScenarioResult)> = slots
                    .iter()
                    .filter(|s| s.scenario.id == *id && s.live() && !s.ceiling)
                    .map(|s| (s.id.as_str(), &s.scen))
                    .collect();
                widest(&measured)
            })
            .try_fold(0.0f64, |w, x| x.map(|x| w.max(x)));
        let spent = Instant::now() + round_began.elapsed() > deadline;
        if let Some(why) = stop_after(orders.len(), p, widest_now, spent) {
            break why;
        }
    };
    scenarios
        .iter()
        .map(|id| Rounds {
            scenario: id.to_string(),
            seed,
            orders: orders
                .iter()
                .map(|order| {
                    order
                        .iter()
                        .filter(|&&i| slots[i].scenario.id == *id)
                        .map(|&i| slots[i].id.clone())
                        .collect()
                })
                .collect(),
            stopped: stopped.to_string(),
            seconds: 0.0,
            budget_s: 0.0,
            phases: Default::default(),
            shared_with: scenarios
                .iter()
                .find(|other| *other != id)
                .map(|other| other.to_string()),
        })
        .collect()
}

/// The closed-loop maximum of a stack's trials and the mean latency behind it (seconds), for
/// the capacity probes: the median throughput of its valid trials.
pub fn closed_loop(scen: &ScenarioResult) -> Option<(f64, f64)> {
    let valid: Vec<_> = scen.trials.iter().filter(|t| t.valid).collect();
    let rps = Spread::of(
        &valid
            .iter()
            .map(|t| t.load.summary.throughput_rps)
            .collect::<Vec<_>>(),
    )?
    .median;
    let latency = Spread::of(
        &valid
            .iter()
            .map(|t| t.load.summary.latency.uncorrected.mean_us / 1e6)
            .collect::<Vec<_>>(),
    )?
    .median;
    (rps >= 1.0).then_some((rps, latency))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_stop_when_tight_after_the_least_or_when_spent() {
        let p = Protocol::default_run();
        assert_eq!(stop_after(1, &p, Some(0.01), false), None, "too few rounds");
        assert_eq!(
            stop_after(p.min_rounds, &p, Some(0.01), false),
            Some(Rounds::TIGHT)
        );
        assert_eq!(stop_after(p.min_rounds, &p, Some(0.2), false), None);
        assert_eq!(
            stop_after(p.min_rounds, &p, Some(0.2), true),
            Some(Rounds::BUDGET)
        );
        assert_eq!(
            stop_after(p.min_rounds, &p, None, true),
            Some(Rounds::BUDGET)
        );
        assert_eq!(
            stop_after(p.max_rounds, &p, Some(0.2), false),
            Some(Rounds::MOST)
        );
    }
}
