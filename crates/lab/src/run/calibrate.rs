//! The machine's speed, measured the same way at the start and at the end of a run: the load
//! engine against a built-in static server (the delay service at 0 ms) pinned where the
//! contestants run. The same VM has run 2.5–4× slower on one day than on another; two readings
//! apart tell whether it also drifted during the run.

use std::time::Duration;

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
    Ok(Calibration {
        at: at.to_string(),
        throughput_rps: report.summary.throughput_rps,
        steal,
    })
}
