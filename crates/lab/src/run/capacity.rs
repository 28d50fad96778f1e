//! The latency–throughput curve: open-loop probes at rates spanning the closed-loop maximum,
//! below and above it, from which the capacity at any p99 target is read
//! (`stackwise_results::summary::capacity_at`).
//!
//! The engine must never be the limit. A probe's connections follow Little's law from the
//! latency the trials saw (in flight = rate × latency), with room to grow; a probe whose
//! schedule slipped because every connection was busy, while the latency it did see met the
//! target, is redone with more connections and never counted against the server.

use stackwise_engine::{Load, LoadReport};
use stackwise_results::fmt;
use stackwise_results::summary::{answered_nothing, engine_limit, p99_ms, served_p99_ms};
use stackwise_results::{Capacity, Probe};

use super::drive::{trial, Subject, Window};
use super::protocol::Protocol;

/// Headroom over Little's law for a probe's first connections, and how far they may grow.
const HEADROOM: f64 = 1.5;
const GROWTH: usize = 4;
/// Times a starved probe is redone, each with four times the connections.
const STARVED_RETRIES: usize = 2;
/// Driven before each probe's window, not counted: the probes of a stack follow one another, so
/// only the first meets a server that has idled, and it is re-warmed first.
const PROBE_SETTLE: std::time::Duration = std::time::Duration::from_millis(150);
/// Closed-loop load before a stack's first probe, not recorded.
const REWARM: std::time::Duration = std::time::Duration::from_millis(400);
/// Met and missed rates further apart than this share of the maximum are bisected.
const GAP: f64 = 0.1;

/// What one probe says of the server at the target.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Met,
    Missed(String),
    /// The engine could not keep the schedule for want of connections, and what the server
    /// itself took met the target: redone with more connections, it may say something.
    Starved(String),
    /// The engine's own CPU was the limit: the probe says nothing of the server, and more
    /// connections would not help.
    EngineBound(String),
    /// Nothing was answered in the probe's time and nothing failed: at a rate this low the
    /// probe held nothing to time (a broadcast of a few deliveries a second to a room of 1,000
    /// sends no message in a second), so it says nothing either way.
    Empty(String),
}

/// Judges a probe at a p99 target of `target_ms`, on the request the scenario is judged on.
/// Latency counts from each request's intended send time, so a wait of the engine's for a free
/// connection counts too; a probe whose schedule slipped is judged a miss only when the server
/// itself, timed from the actual sends, took longer than the target.
pub fn verdict(r: &LoadReport, scenario: &str, target_ms: f64) -> Verdict {
    if r.engine.saturated {
        return Verdict::EngineBound(format!(
            "the load engine was saturated ({:.0}% of its cores)",
            r.engine.utilisation * 100.0
        ));
    }
    let d = &r.engine.delivery;
    let starved = || {
        format!(
            "{} requests could not be sent on time: every one of {} connections was busy",
            d.unsent, d.peak_connections
        )
    };
    if answered_nothing(r) {
        return Verdict::Empty(
            "no response in the probe's time: at this rate it held nothing to time".into(),
        );
    }
    let p99 = p99_ms(r, scenario);
    let mut why = Vec::new();
    if p99 > target_ms {
        if d.unsent > 0 && served_p99_ms(r, scenario) <= target_ms {
            return Verdict::Starved(starved());
        }
        why.push(format!(
            "p99 {} ms over the {} ms target",
            fmt::ms(p99),
            fmt::number(target_ms)
        ));
    }
    let s = &r.summary;
    if s.errors > 0 || s.non_2xx > 0 {
        why.push(format!(
            "{} errors and {} non-2xx responses",
            s.errors, s.non_2xx
        ));
    }
    // A broadcast that fell behind its schedule leaves deliveries that never came.
    if let Some(b) = r.ws.as_ref().and_then(|w| w.broadcast.as_ref()) {
        if b.lost > 0 {
            why.push(format!("{} of {} deliveries lost", b.lost, b.expected));
        }
    }
    if !why.is_empty() {
        return Verdict::Missed(why.join("; "));
    }
    if d.unsent > 0 {
        return Verdict::Starved(starved());
    }
    Verdict::Met
}

/// First connections for `rate` when requests take `latency_s`: Little's law with headroom.
pub fn connections_for(rate: f64, latency_s: f64) -> usize {
    ((rate * latency_s * HEADROOM).ceil() as usize).max(4)
}

/// One probe at `rate`, redone with more connections while it is starved. `run` drives the
/// server at a rate with (connections, most connections).
pub fn probe(
    rate: f64,
    first: usize,
    target_ms: f64,
    scenario: &str,
    noise_limit: f64,
    run: &mut dyn FnMut(Load) -> Result<Window, String>,
) -> Result<Probe, String> {
    let mut connections = first;
    let mut attempt = 0;
    loop {
        let load = Load::Constant {
            rate,
            connections,
            max_connections: connections * GROWTH,
        };
        let w = run(load)?;
        if let Some(why) = &w.failure {
            return Err(format!("{why} (probe at {rate:.0} req/s)"));
        }
        let v = verdict(&w.load, scenario, target_ms);
        let t = trial(w, connections, None, noise_limit);
        let (met, inconclusive, reason) = match v {
            Verdict::Starved(_) if attempt < STARVED_RETRIES => {
                connections *= GROWTH;
                attempt += 1;
                continue;
            }
            Verdict::Starved(why) | Verdict::EngineBound(why) | Verdict::Empty(why) => {
                (false, true, Some(why))
            }
            Verdict::Met => (true, false, None),
            Verdict::Missed(why) => (false, false, Some(why)),
        };
        return Ok(Probe {
            rate,
            met,
            reason,
            inconclusive,
            trial: t,
        });
    }
}

/// The rate to probe after `done`, if any: below the lowest when none met the target, above
/// the highest when none missed it, halfway when the highest met and the lowest missed are
/// more than [`GAP`] of the maximum apart. Never at or above a rate at which the load engine
/// was the limit: below it instead, so that the capacity is at least known as "≥".
pub fn extra_rate(done: &[Probe], max: f64) -> Option<f64> {
    let conclusive = || done.iter().filter(|p| !p.inconclusive);
    let limit = engine_limit(done);
    let missed = conclusive()
        .filter(|p| !p.met)
        .map(|p| p.rate)
        .reduce(f64::min);
    let met = conclusive()
        .filter(|p| p.met && missed.is_none_or(|m| p.rate < m))
        .map(|p| p.rate)
        .reduce(f64::max);
    // The engine's limit bounds what can be learnt as a miss would.
    let above = missed.into_iter().chain(limit).reduce(f64::min);
    let rate = match (met, above) {
        (None, None) => return None,
        (None, Some(lowest)) if missed.is_none() => (lowest / 2.0).floor(),
        (None, Some(lowest)) => (lowest / 4.0).floor(),
        (Some(highest), None) => (highest.max(max) * 1.25).round(),
        (Some(m), Some(x)) if x - m > GAP * max => ((m + x) / 2.0).round(),
        (Some(_), Some(_)) => return None,
    };
    (rate >= 1.0 && !done.iter().any(|p| p.rate == rate)).then_some(rate)
}

/// Some conclusive probe met the target and some missed it.
fn bracketed(done: &[Probe]) -> bool {
    let conclusive = || done.iter().filter(|p| !p.inconclusive);
    conclusive().any(|p| p.met) && conclusive().any(|p| !p.met)
}

/// Engine start, drain and bookkeeping around each probe, measured roughly.
const PROBE_OVERHEAD: std::time::Duration = std::time::Duration::from_millis(150);

/// About how long [`curve`] takes for a stack whose closed-loop maximum is `max`: the re-warm,
/// the probes and their extra one, each settled. Redone probes are not foreseen.
pub fn expected(p: &Protocol, max: f64) -> std::time::Duration {
    if p.probes == 0 || max <= 0.0 {
        return std::time::Duration::ZERO;
    }
    let each = |rate: f64| p.probe_length(rate) + PROBE_SETTLE + PROBE_OVERHEAD;
    let probes: std::time::Duration = p.probe_shares().iter().map(|s| each(s * max)).sum();
    PROBE_SETTLE + REWARM + PROBE_OVERHEAD + probes + each(max) * p.extra_probes as u32
}

/// Probes `s` at the protocol's shares of its closed-loop maximum `max` (requests per second),
/// whose requests took `latency_s` on average in the closed loop. Past `until`, the scenario's
/// share of the run's time, an extra probe that would only narrow a bracket already found is
/// left out; one that finds a bracket at all is not.
pub fn curve(
    s: &Subject<'_>,
    p: &Protocol,
    max: f64,
    latency_s: f64,
    until: std::time::Instant,
    step: &mut dyn FnMut(&str),
) -> Result<Capacity, String> {
    let target_ms = p.p99_target.as_secs_f64() * 1000.0;
    // The server idled while the others were measured: a Node server is slower for a while
    // after that, and the first probe would meet that transient rather than the server.
    let connections = s.scenario.connections;
    s.drive(Load::Closed { connections }, PROBE_SETTLE, REWARM)?;
    let mut rates: Vec<f64> = p
        .probe_shares()
        .into_iter()
        .map(|share| (share * max).round())
        .filter(|&r| r >= 1.0)
        .collect();
    rates.dedup();
    let measure = |rate: f64| {
        let length = p.probe_length(rate);
        probe(
            rate,
            connections_for(rate, latency_s),
            target_ms,
            s.scenario.id,
            p.noise_limit,
            &mut |load| s.drive(load, PROBE_SETTLE, length),
        )
    };
    let mut probes: Vec<Probe> = Vec::new();
    let mut extras = 0;
    let mut i = 0;
    loop {
        let rate = match rates.get(i) {
            Some(&r) => r,
            None if extras >= p.extra_probes => break,
            None if std::time::Instant::now() > until && bracketed(&probes) => break,
            None => match extra_rate(&probes, max) {
                Some(r) => {
                    extras += 1;
                    r
                }
                None => break,
            },
        };
        i += 1;
        step(&format!("probe {i} at {rate:.0} req/s"));
        probes.push(measure(rate)?);
    }
    // A miss below a rate that met contradicts it: measured once more, the first verdict kept
    // as inconclusive beside the second.
    let contradicted: Vec<usize> = (0..probes.len())
        .filter(|&i| {
            let q = &probes[i];
            !q.met && !q.inconclusive && probes.iter().any(|h| h.met && h.rate > q.rate)
        })
        .collect();
    for i in contradicted {
        let rate = probes[i].rate;
        step(&format!("probe at {rate:.0} req/s again"));
        probes[i].inconclusive = true;
        let why = probes[i].reason.take().unwrap_or_default();
        probes[i].reason = Some(format!(
            "{why}; contradicted by a higher rate that met the target, so measured again"
        ));
        probes.push(measure(rate)?);
    }
    // Read as summary::capacity_at reads it: the highest rate met below the lowest missed.
    let missed = probes
        .iter()
        .filter(|p| !p.met && !p.inconclusive)
        .map(|p| p.rate)
        .reduce(f64::min);
    let met = probes
        .iter()
        .filter(|p| p.met && missed.is_none_or(|m| p.rate < m))
        .map(|p| p.rate)
        .reduce(f64::max);
    Ok(Capacity {
        target_p99_ms: target_ms,
        rps: met.unwrap_or(0.0),
        missed_rps: missed,
        probes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use stackwise_results::ServerUsage;

    fn report(p99_ms: f64, unsent: u64) -> LoadReport {
        let text = include_str!("../../../stackwise/tests/fixtures/load-report.json");
        let mut r: LoadReport = serde_json::from_str(text).unwrap();
        // The server took that long from the actual sends too.
        r.summary.latency.corrected.p99_us = (p99_ms * 1000.0) as u64;
        r.summary.latency.uncorrected.p99_us = (p99_ms * 1000.0) as u64;
        r.summary.errors = 0;
        r.summary.non_2xx = 0;
        r.engine.saturated = false;
        r.engine.delivery.unsent = unsent;
        for t in &mut r.tags {
            t.summary.latency.corrected.p99_us = (p99_ms * 1000.0) as u64;
            t.summary.latency.uncorrected.p99_us = (p99_ms * 1000.0) as u64;
        }
        r
    }

    /// `r` as a broadcast's result: `expected` deliveries owed, of which `lost`, `duplicated`
    /// and `out_of_order`.
    fn broadcast(
        mut r: LoadReport,
        expected: u64,
        lost: u64,
        duplicated: u64,
        out_of_order: u64,
    ) -> LoadReport {
        use stackwise_engine::load_report::{BroadcastReport, WsModeName, WsReport};
        r.ws = Some(WsReport {
            mode: WsModeName::Broadcast,
            message_size: 128,
            handshake: r.summary.latency.corrected.clone(),
            handshake_histogram: String::new(),
            broadcast: Some(BroadcastReport {
                rooms: 4,
                room_size: 100,
                senders_per_room: 1,
                published: expected / 100,
                expected,
                delivered: expected - lost,
                lost,
                duplicated,
                out_of_order,
                delivered_per_s: 1000.0,
                drain_s: 1.0,
                senders: Vec::new(),
            }),
            idle: None,
        });
        r
    }

    #[test]
    fn a_broadcast_that_loses_deliveries_misses_the_target_and_one_that_misorders_fails() {
        use crate::run::drive::misdelivered;
        use stackwise_engine::load_report::Mode;

        // In a probe (open loop), lost deliveries are a server behind its schedule.
        let mut r = broadcast(report(5.0, 0), 10_000, 30, 0, 0);
        r.plan.mode = Mode::Constant;
        match verdict(&r, "ws-broadcast", 100.0) {
            Verdict::Missed(why) => assert!(why.contains("30 of 10000 deliveries lost"), "{why}"),
            v => panic!("{v:?}"),
        }
        assert_eq!(misdelivered(&r), None);
        assert_eq!(
            verdict(
                &broadcast(report(5.0, 0), 10_000, 0, 0, 0),
                "ws-broadcast",
                100.0
            ),
            Verdict::Met
        );

        // In a closed loop one message per room is on its way: losing one is a broken room,
        // as is a delivery twice or out of order, in any loop.
        let mut r = broadcast(report(5.0, 0), 10_000, 30, 0, 0);
        r.plan.mode = Mode::Closed;
        assert_eq!(
            misdelivered(&r).as_deref(),
            Some("the server broke its rooms: 30 of 10000 deliveries lost")
        );
        r.summary.errors = 3;
        assert_eq!(
            misdelivered(&r),
            None,
            "members that could not join are errors"
        );
        let mut r = broadcast(report(5.0, 0), 10_000, 0, 2, 5);
        r.plan.mode = Mode::Constant;
        assert_eq!(
            misdelivered(&r).as_deref(),
            Some(
                "the server broke its rooms: 2 deliveries twice, 5 deliveries out of their \
                 sender's order"
            )
        );
        // An HTTP result has no rooms to break.
        assert_eq!(misdelivered(&report(5.0, 0)), None);
    }

    #[test]
    fn a_probe_that_held_nothing_to_time_says_nothing() {
        // A broadcast to a room of 1,000 at a few hundred deliveries a second sends no message
        // in a short probe: nothing answered, nothing failed.
        let mut r = broadcast(report(0.0, 0), 0, 0, 0, 0);
        r.summary.requests = 0;
        assert!(matches!(
            verdict(&r, "ws-broadcast-1k", 100.0),
            Verdict::Empty(_)
        ));
        let p = probe(315.0, 4, 100.0, "ws-broadcast-1k", 0.1, &mut |_| {
            Ok(window(r.clone()))
        })
        .unwrap();
        assert!(!p.met && p.inconclusive, "{p:?}");
        // Errors with nothing answered are a miss.
        r.summary.errors = 5;
        assert!(matches!(
            verdict(&r, "ws-broadcast-1k", 100.0),
            Verdict::Missed(_)
        ));
    }

    fn window(r: LoadReport) -> Window {
        Window {
            load: r,
            usage: ServerUsage::default(),
            machine: Default::default(),
            failure: None,
            held: None,
            engine_share: None,
        }
    }

    #[test]
    fn a_starved_probe_is_redone_with_more_connections_not_counted_as_a_miss() {
        let mut seen = Vec::new();
        let p = probe(1000.0, 10, 100.0, "json", 0.1, &mut |load| {
            let Load::Constant { connections, .. } = load else {
                panic!("a probe is open-loop")
            };
            seen.push(connections);
            // Starved with 10 connections; enough with 40.
            Ok(window(report(5.0, if connections < 40 { 120 } else { 0 })))
        })
        .unwrap();
        assert_eq!(seen, [10, 40]);
        assert!(p.met && !p.inconclusive, "{p:?}");
    }

    #[test]
    fn a_probe_starved_every_time_is_inconclusive() {
        let p = probe(1000.0, 10, 100.0, "json", 0.1, &mut |_| {
            Ok(window(report(5.0, 50)))
        })
        .unwrap();
        assert!(!p.met && p.inconclusive, "{p:?}");
        assert!(p.reason.unwrap().contains("could not be sent on time"));
    }

    #[test]
    fn a_slow_server_misses_even_when_the_schedule_slipped() {
        let r = report(450.0, 300);
        assert!(matches!(verdict(&r, "json", 100.0), Verdict::Missed(_)));
    }

    #[test]
    fn a_wait_for_a_free_connection_is_not_held_against_the_server() {
        // Due-time p99 over the target, but the server took 5 ms from the actual sends: the
        // engine lacked connections.
        let mut r = report(450.0, 300);
        r.summary.latency.uncorrected.p99_us = 5_000;
        for t in &mut r.tags {
            t.summary.latency.uncorrected.p99_us = 5_000;
        }
        assert!(matches!(verdict(&r, "json", 100.0), Verdict::Starved(_)));
    }

    #[test]
    fn a_saturated_engine_says_nothing_of_the_server_and_is_not_redone() {
        let mut attempts = 0;
        let p = probe(90_000.0, 100, 100.0, "json", 0.1, &mut |_| {
            attempts += 1;
            let mut r = report(450.0, 5000);
            r.engine.saturated = true;
            r.engine.utilisation = 0.97;
            Ok(window(r))
        })
        .unwrap();
        assert_eq!(
            attempts, 1,
            "more connections do not give the engine more CPU"
        );
        assert!(!p.met && p.inconclusive, "{p:?}");
        assert!(p.reason.unwrap().contains("load engine was saturated"));
    }

    #[test]
    fn mixed_is_judged_on_json_alone() {
        let mut r = report(5.0, 0);
        // The whole mix's p99 is the CPU-heavy requests'; /json's own is 5 ms.
        r.summary.latency.corrected.p99_us = 900_000;
        let mut cpu = r.tags[0].clone();
        cpu.tag = "cpu".into();
        cpu.summary.latency.corrected.p99_us = 900_000;
        r.tags[0].tag = "json".into();
        r.tags.push(cpu);
        assert_eq!(verdict(&r, "mixed", 100.0), Verdict::Met);
        assert!(matches!(verdict(&r, "json", 100.0), Verdict::Missed(_)));
    }

    fn probed(rate: f64, met: bool) -> Probe {
        Probe {
            rate,
            met,
            reason: None,
            inconclusive: false,
            trial: trial(window(report(5.0, 0)), 10, None, 0.1),
        }
    }

    #[test]
    fn extra_probes_bracket_the_capacity() {
        let max = 1000.0;
        // Every probe met: one above the highest.
        let all_met = [probed(500.0, true), probed(1100.0, true)];
        assert_eq!(extra_rate(&all_met, max), Some(1375.0));
        // None met: one well below the lowest.
        let none_met = [probed(500.0, false), probed(1100.0, false)];
        assert_eq!(extra_rate(&none_met, max), Some(125.0));
        // Far apart: halfway; close: nothing more to learn.
        let apart = [probed(500.0, true), probed(1100.0, false)];
        assert_eq!(extra_rate(&apart, max), Some(800.0));
        let close = [probed(900.0, true), probed(950.0, false)];
        assert_eq!(extra_rate(&close, max), None);
        // Past the scenario's time only a probe that finds a bracket is still made.
        assert!(bracketed(&apart) && !bracketed(&all_met) && !bracketed(&none_met));
    }

    fn engine_bound(rate: f64) -> Probe {
        let mut p = probed(rate, false);
        p.inconclusive = true;
        p.trial.load.engine.saturated = true;
        p
    }

    #[test]
    fn extra_probes_stay_below_the_load_engine_s_limit() {
        // A server faster than the engine can drive: every probe engine-bound. One below, so
        // that the capacity is known as at least that.
        let max = 100_000.0;
        let all = [
            engine_bound(50_000.0),
            engine_bound(80_000.0),
            engine_bound(110_000.0),
        ];
        assert_eq!(extra_rate(&all, max), Some(25_000.0));
        // Met below the engine's limit: halfway to it, never above it.
        let some = [
            probed(50_000.0, true),
            engine_bound(80_000.0),
            engine_bound(110_000.0),
        ];
        assert_eq!(extra_rate(&some, max), Some(65_000.0));
        let close = [probed(75_000.0, true), engine_bound(80_000.0)];
        assert_eq!(extra_rate(&close, max), None);
    }

    #[test]
    fn little_s_law_sizes_the_first_connections() {
        assert_eq!(connections_for(1000.0, 0.02), 30);
        assert_eq!(connections_for(10.0, 0.001), 4);
    }
}
