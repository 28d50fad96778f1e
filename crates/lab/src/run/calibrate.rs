//! The machine's speed, measured the same way at the start and at the end of a run: the load
//! engine against a built-in static server (the delay service at 0 ms) pinned where the
//! contestants run. The same VM has run 2.5–4× slower on one day than on another; two readings
//! apart tell whether it also drifted during the run. Each also times a fixed loop of CPU work
//! alone on the first server CPU in short steps: how much the CPU's own speed moves from one
//! moment to the next, the noise no trial window can get below.

use std::time::{Duration, Instant};

use stackwise_engine::{worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target};
use stackwise_results::Calibration;

use crate::delay::DelayService;
use stackwise_engine::cpu::machine_steal_ticks as steal_ticks;

/// Measures once; `at` is `start` or `end`.
pub fn calibrate(
    at: &str,
    server_cpus: &[usize],
    load_cpus: &[usize],
    length: Duration,
) -> Result<Calibration, String> {
    let server = DelayService::start(Some(server_cpus.to_vec())).map_err(|e| e.to_string())?;
    let target =
        Target::resolve(&format!("{}/delay?ms=0", server.url())).map_err(|e| e.to_string())?;
    let plan = Plan {
        requests: vec![RequestSpec::get(&target.url)],
        target,
        load: Load::Closed { connections: 64 },
        stop: Stop::Duration(length),
        warmup: Duration::from_millis(250),
        threads: load_cpus.len(),
        cpus: Some(load_cpus.to_vec()),
        connect_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(10),
        windows: 1,
        ramp: Duration::ZERO,
        connect_first: false,
        ws: None,
    };
    plan.validate().map_err(|e| e.to_string())?;
    let before = steal_ticks();
    let out = worker::run(&plan, &Live::new(), || {}).map_err(|e| e.to_string())?;
    let after = steal_ticks();
    let report = LoadReport::from_run(&plan, &out).map_err(|e| e.to_string())?;
    let steal = match (before, after) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
            Some(s1.saturating_sub(s0) as f64 / (t1 - t0) as f64)
        }
        _ => None,
    };
    drop(server);
    Ok(Calibration {
        at: at.to_string(),
        throughput_rps: report.summary.throughput_rps,
        steal,
        cpu_steps: server_cpus
            .first()
            .map(|&cpu| cpu_steps(cpu, length * 2))
            .unwrap_or_default(),
    })
}

/// The rate of a fixed loop of CPU work on `cpu` alone, in consecutive steps of
/// [`Calibration::STEP_MS`] over `length` (loops per second); empty when the thread cannot be
/// pinned there.
pub fn cpu_steps(cpu: usize, length: Duration) -> Vec<f64> {
    let step = Duration::from_millis(Calibration::STEP_MS);
    let timed = std::thread::spawn(move || {
        stackwise_engine::cpu::pin_current_thread(cpu).ok()?;
        let mut steps = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let began = Instant::now();
        let mut step_began = began;
        let mut loops = 0u64;
        while began.elapsed() < length {
            // About 10 µs of dependent integer work: too short to blur a step's edge.
            for _ in 0..4096 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
            std::hint::black_box(x);
            loops += 1;
            let now = Instant::now();
            if now - step_began >= step {
                steps.push(loops as f64 / (now - step_began).as_secs_f64());
                step_began = now;
                loops = 0;
            }
        }
        Some(steps)
    });
    timed.join().ok().flatten().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_steps_time_the_loop_in_steps_of_the_stated_length() {
        let steps = cpu_steps(0, Duration::from_millis(450));
        assert!((3..=5).contains(&steps.len()), "{steps:?}");
        assert!(steps.iter().all(|&r| r > 0.0), "{steps:?}");
        // A CPU this process may not use: nothing measured, nothing made up.
        assert!(cpu_steps(4095, Duration::from_millis(200)).is_empty());
    }
}
