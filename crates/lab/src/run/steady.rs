//! Bringing a server to a steady state before anything counts: it is driven in the closed loop
//! at the scenario's connections until its throughput over consecutive short windows stops
//! rising or falling, or the warm-up's cap is reached. A fresh Node server after 0.5 s served 5.5k req/s with a 0.94 s
//! stall, and 14.7k req/s with a 5.8 ms max after 5 s: a fixed short warm-up measured the JIT,
//! not the server.

use std::time::{Duration, Instant};

use stackwise_engine::{worker, Live, Load, WsMode, WsPlan};
use stackwise_results::Warmup;

use super::drive::Subject;

/// Length of the windows compared; a slow server's windows are stretched to hold
/// [`WINDOW_RESPONSES`] responses, so that counting one more or less does not look like drift.
pub const WINDOW: Duration = Duration::from_millis(250);
pub const WINDOW_RESPONSES: f64 = 50.0;
/// Windows compared, and how closely: the mean of the last [`AGREEING`] within this share of
/// the mean of the ones before them.
pub const AGREEING: usize = 3;
pub const TOLERANCE: f64 = 0.05;
/// The connections start over this much of the warm-up, which the rule then ignores.
const RAMP: Duration = Duration::from_millis(500);

/// Throughput per window, from `(time, finished requests)` readings: consecutive windows of
/// `window` ending at the last reading, oldest first.
pub fn windows(readings: &[(Duration, u64)], window: Duration) -> Vec<f64> {
    let Some(&(end, _)) = readings.last() else {
        return Vec::new();
    };
    // Requests finished by `t`, linearly between readings.
    let done_at = |t: Duration| -> Option<f64> {
        let i = readings.iter().position(|(at, _)| *at >= t)?;
        if i == 0 {
            return (readings[0].0 == t).then_some(readings[0].1 as f64);
        }
        let ((t0, d0), (t1, d1)) = (readings[i - 1], readings[i]);
        let share = (t - t0).as_secs_f64() / (t1 - t0).as_secs_f64().max(1e-9);
        Some(d0 as f64 + (d1 as f64 - d0 as f64) * share)
    };
    let mut out = Vec::new();
    let mut to = end;
    while let Some(from) = to.checked_sub(window) {
        let (Some(a), Some(b)) = (done_at(from), done_at(to)) else {
            break;
        };
        out.push((b - a) / window.as_secs_f64());
        to = from;
    }
    out.reverse();
    out
}

/// Whether the server has stopped warming up: the mean of the last [`AGREEING`] windows is
/// within [`TOLERANCE`] of the mean of the ones before them, so its throughput no longer
/// trends. The windows themselves need not agree with each other: on a shared VM the
/// machine's own speed moves by 10-15% between windows of 250 ms (a fixed loop of CPU work,
/// measured), so a rule that asked each window to be within 5% of the others waited for a
/// quiet moment rather than for the server, and most warm-ups ran to their cap. A server still
/// climbing 3-5% a window fails the comparison of the two means.
pub fn settled(rates: &[f64]) -> bool {
    if rates.len() < 2 * AGREEING {
        return false;
    }
    let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
    let last = &rates[rates.len() - AGREEING..];
    let before = &rates[rates.len() - 2 * AGREEING..rates.len() - AGREEING];
    let m = mean(last);
    m > 0.0 && last.iter().all(|&r| r > 0.0) && (mean(before) - m).abs() <= TOLERANCE * m
}

/// Drives the server until its throughput settles (after at least `least`), or for `cap`.
pub fn warm_up(s: &Subject<'_>, least: Duration, cap: Duration) -> Result<Warmup, String> {
    let connections = s.scenario.connections;
    let mut plan = s.plan(Load::Closed { connections }, Duration::ZERO, cap)?;
    let broadcast = matches!(
        plan.ws,
        Some(WsPlan {
            mode: WsMode::Broadcast { .. },
            ..
        })
    );
    // A broadcast's members all join before it starts: nothing to ramp.
    if !broadcast {
        plan.ramp = RAMP.min(cap / 4);
    }
    let live = Live::new();
    let began = Instant::now();
    let mut readings: Vec<(Duration, u64)> = Vec::new();
    let mut window = WINDOW;
    let mut settled_at = None;
    let out = worker::run(&plan, &live, || {
        // After the stop, what is left of the run is its cancellation, not throughput.
        if settled_at.is_some() {
            return;
        }
        let now = began.elapsed();
        readings.push((now, live.done()));
        if now < least.max(plan.ramp) {
            return;
        }
        // Only what came after the ramp counts.
        let start = readings.partition_point(|(t, _)| *t < plan.ramp);
        let after = &readings[start..];
        let (Some(&(t0, d0)), Some(&(t1, d1))) = (after.first(), after.last()) else {
            return;
        };
        let rate = (d1 - d0) as f64 / (t1 - t0).as_secs_f64().max(1e-9);
        if rate > 0.0 {
            window = WINDOW.max(Duration::from_secs_f64(WINDOW_RESPONSES / rate));
        }
        if settled(&windows(after, window)) {
            settled_at = Some(now);
            live.stop();
        }
    });
    out.map_err(|e| e.to_string())?;
    // A broadcast goes on for its drain after the last publish, delivering nothing new: that
    // is the run's end, not the server's throughput.
    if broadcast {
        let last = readings.last().map(|r| r.1);
        let plateau = readings
            .iter()
            .rev()
            .take_while(|r| Some(r.1) == last)
            .count();
        readings.truncate(readings.len() + 1 - plateau.max(1));
    }
    // The requests cut off by the stop must not spill into the first trial.
    s.drain();
    let start = readings.partition_point(|(t, _)| *t < plan.ramp);
    Ok(Warmup {
        seconds: began.elapsed().as_secs_f64(),
        settled: settled_at.is_some(),
        windows_rps: rates_after_ramp(&readings[start..], window),
    })
}

/// The windows' rates of a warm-up, or, for a server so slow that not one window fits in it
/// (a few requests a second, each taking a window of 50 responses tens of seconds), the one
/// rate of everything after the ramp: it answered, just slowly.
fn rates_after_ramp(after: &[(Duration, u64)], window: Duration) -> Vec<f64> {
    let rates = windows(after, window);
    if !rates.is_empty() {
        return rates;
    }
    match (after.first(), after.last()) {
        (Some(&(t0, d0)), Some(&(t1, d1))) if t1 > t0 => {
            vec![(d1 - d0) as f64 / (t1 - t0).as_secs_f64()]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn windows_are_read_between_readings() {
        // 1,000 requests a second, read every 100 ms.
        let readings: Vec<_> = (0..=10).map(|i| (ms(i * 100), i * 100)).collect();
        let w = windows(&readings, ms(250));
        assert_eq!(w.len(), 4);
        assert!(w.iter().all(|r| (r - 1000.0).abs() < 1e-6), "{w:?}");
        assert!(windows(&readings[..2], ms(250)).is_empty());
    }

    #[test]
    fn a_server_too_slow_for_one_window_still_has_its_rate() {
        // 4 requests a second for 3 s: a window of 50 responses would take 12.5 s.
        let readings: Vec<_> = (0..=30).map(|i| (ms(i * 100), i * 4 / 10)).collect();
        assert!(windows(&readings, ms(12_500)).is_empty());
        let rates = rates_after_ramp(&readings, ms(12_500));
        assert_eq!(rates.len(), 1);
        assert!((rates[0] - 4.0).abs() < 0.2, "{rates:?}");
        assert!(rates_after_ramp(&readings[..1], ms(250)).is_empty());
    }

    #[test]
    fn a_server_is_settled_once_its_throughput_stops_trending() {
        assert!(!settled(&[100.0, 200.0, 300.0]));
        assert!(!settled(&[1000.0, 1000.0]));
        assert!(settled(&[
            500.0, 1000.0, 1020.0, 990.0, 1040.0, 990.0, 1000.0
        ]));
        // The last three 12% above the three before: still climbing.
        assert!(!settled(&[1000.0, 1000.0, 1000.0, 1120.0, 1120.0, 1120.0]));
        assert!(!settled(&[0.0; 6]));
        // A window in which nothing finished is a stall, not a steady state.
        assert!(!settled(&[1000.0, 1000.0, 1000.0, 1500.0, 0.0, 1500.0]));
        // Rising 3% a window: the two threes are 9% apart.
        let rising: Vec<f64> = (0..6).map(|i| 1000.0 * 1.03f64.powi(i)).collect();
        assert!(!settled(&rising));
        // Flat but noisy, as a shared VM's windows are: settled.
        assert!(settled(&[1000.0, 1120.0, 890.0, 1060.0, 930.0, 1040.0]));
    }
}
