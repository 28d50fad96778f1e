//! The protocol's settings, written once: what a default run and a `--quick` run do, which the
//! command line may change one by one. docs/protocol.md explains each.

use std::time::Duration;

/// How a scenario is measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Measured time of each trial window.
    pub window: Duration,
    /// Driven before each trial window on its new connections, not counted. A server idles
    /// while the others are measured, and Node servers come back slowly: with 250 ms the
    /// trials of fastify and node-http in json spread by 28% and 34% (coefficient of variation
    /// over six rounds), with 1 s by 14% and 17%.
    pub settle: Duration,
    /// Longest warm-up; it ends earlier once throughput settles.
    pub warmup_cap: Duration,
    /// Rounds of trials: at least, at most, and until every stack's ratio to the fastest is
    /// known within ± `precision` (95% interval) or the scenario's share of `budget` is spent.
    pub min_rounds: usize,
    pub max_rounds: usize,
    pub precision: f64,
    /// Time for the whole run, from its first scenario to its last; each scenario gets an even
    /// share of what is left when it starts.
    pub budget: Duration,
    /// Open-loop probes for the latency–throughput curve: how many, spanning the closed-loop
    /// maximum, each long enough for [`PROBE_RESPONSES`] responses within these bounds.
    pub probes: usize,
    /// Probes after those: below, above, or between met and missed (see `capacity::extra_rate`).
    pub extra_probes: usize,
    pub probe_min: Duration,
    pub probe_max: Duration,
    /// The run's latency target; capacity at any other is read from the same probes.
    pub p99_target: Duration,
    /// Share of the machine (0..1) other processes may use during a window before it is redone.
    pub noise_limit: f64,
    /// Most windows redone per stack and scenario for noise.
    pub max_redos: usize,
    /// Measured time of each calibration, at the start and at the end of the run.
    pub calibration: Duration,
    /// Seed of the rounds' shuffles.
    pub seed: u64,
    /// A shortened run, labelled as such everywhere.
    pub quick: bool,
}

/// Responses each capacity probe aims for ([`stackwise_results::summary::PROBE_RESPONSES`]).
pub const PROBE_RESPONSES: f64 = stackwise_results::summary::PROBE_RESPONSES as f64;

impl Protocol {
    /// The default run, budgeted at fifteen minutes for seven stacks and nine scenarios on two
    /// cores (docs/protocol.md, "Time", has the measured times).
    pub fn default_run() -> Protocol {
        Protocol {
            window: Duration::from_millis(1000),
            settle: Duration::from_millis(500),
            warmup_cap: Duration::from_millis(3500),
            min_rounds: 3,
            max_rounds: 12,
            precision: 0.05,
            budget: Duration::from_secs(15 * 60),
            probes: 3,
            extra_probes: 1,
            probe_min: Duration::from_millis(400),
            probe_max: Duration::from_millis(800),
            p99_target: Duration::from_millis(100),
            noise_limit: 0.10,
            max_redos: 2,
            calibration: Duration::from_secs(1),
            seed: 0,
            quick: false,
        }
    }

    /// A first look: the same rules, fewer and shorter windows, and no capacity probes, budgeted
    /// at three minutes for seven stacks and four scenarios on two cores.
    pub fn quick() -> Protocol {
        Protocol {
            window: Duration::from_millis(400),
            settle: Duration::from_millis(300),
            warmup_cap: Duration::from_millis(1500),
            // Two rounds already pair every stack twice; more when the budget allows.
            min_rounds: 2,
            max_rounds: 5,
            precision: 0.10,
            budget: Duration::from_secs(3 * 60),
            // No latency-throughput curve: a first look ranks throughput; capacity at a target
            // needs the default run.
            probes: 0,
            extra_probes: 0,
            probe_min: Duration::from_millis(250),
            probe_max: Duration::from_millis(500),
            max_redos: 1,
            calibration: Duration::from_millis(500),
            quick: true,
            ..Protocol::default_run()
        }
    }

    /// Refuses settings no run can be measured with, naming the flag, before anything starts.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("--duration", self.window),
            ("--warmup", self.warmup_cap),
            ("--budget", self.budget),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, d)| d.is_zero()) {
            return Err(format!("{flag} must be longer than 0"));
        }
        if self.probes > 0 && self.probe_max.is_zero() {
            return Err("--probe must be longer than 0 (or pass --capacity-probes 0)".into());
        }
        if self.min_rounds == 0 {
            return Err("--trials must be at least 1".into());
        }
        if self.max_rounds < self.min_rounds {
            return Err(format!(
                "--max-rounds ({}) must be at least --trials ({})",
                self.max_rounds, self.min_rounds
            ));
        }
        Ok(())
    }

    /// The probes' rates as shares of the closed-loop maximum: evenly from half of it to 10%
    /// above it, so the curve shows the knee and the overload past it.
    pub fn probe_shares(&self) -> Vec<f64> {
        match self.probes {
            0 => Vec::new(),
            1 => vec![0.9],
            n => (0..n)
                .map(|i| 0.5 + 0.6 * i as f64 / (n - 1) as f64)
                .collect(),
        }
    }

    /// How long a probe at `rate` runs: long enough for [`PROBE_RESPONSES`] responses, within
    /// the bounds.
    pub fn probe_length(&self, rate: f64) -> Duration {
        let want = Duration::from_secs_f64(PROBE_RESPONSES / rate.max(1e-3));
        want.clamp(self.probe_min, self.probe_max.max(self.probe_min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_span_the_maximum() {
        let p = Protocol::default_run();
        let shares = p.probe_shares();
        assert_eq!(shares.len(), 3);
        assert!(
            shares[0] < 0.6 && *shares.last().unwrap_or(&0.0) > 1.0,
            "{shares:?}"
        );
        assert!(Protocol::quick().probe_shares().is_empty());
        assert_eq!(
            Protocol {
                probes: 2,
                ..p.clone()
            }
            .probe_shares(),
            vec![0.5, 1.1]
        );
        assert!(Protocol {
            probes: 0,
            ..p.clone()
        }
        .probe_shares()
        .is_empty());
    }

    #[test]
    fn settings_no_run_can_use_are_refused_naming_the_flag() {
        assert_eq!(Protocol::default_run().check(), Ok(()));
        assert_eq!(Protocol::quick().check(), Ok(()));
        let zero = Protocol {
            window: Duration::ZERO,
            ..Protocol::default_run()
        };
        assert_eq!(zero.check(), Err("--duration must be longer than 0".into()));
        let rounds = Protocol {
            min_rounds: 5,
            max_rounds: 3,
            ..Protocol::default_run()
        };
        assert!(rounds.check().unwrap_err().contains("--max-rounds (3)"));
    }

    #[test]
    fn a_probe_is_as_long_as_two_thousand_responses_need_within_bounds() {
        let p = Protocol::default_run();
        assert_eq!(p.probe_length(4000.0), Duration::from_millis(500));
        assert_eq!(p.probe_length(2500.0), Duration::from_millis(800));
        assert_eq!(p.probe_length(100_000.0), p.probe_min);
        assert_eq!(p.probe_length(35.0), p.probe_max);
    }
}
