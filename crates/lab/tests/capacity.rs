//! The protocol against a server whose truth is known: one request at a time, 10 ms each, so
//! its capacity is 100 requests per second and nothing queues below that rate. The capacity
//! the run reads from its probes must land within 10% of it, bracketed by a miss. Needs
//! PostgreSQL (a throwaway cluster is made) and python3.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use stackwise_lab::run::{run, Protocol};
use stackwise_results::summary::capacity_at;

const SERVER: &str = include_str!("fixtures/fixed_server.py");
const MANIFEST: &str = include_str!("fixtures/fixed_stack.toml");

#[test]
fn capacity_at_a_target_lands_where_queueing_says() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("stacks/fixed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.py"), SERVER).unwrap();
    std::fs::write(dir.join("stack.toml"), MANIFEST).unwrap();
    let protocol = Protocol {
        window: Duration::from_secs(1),
        warmup_cap: Duration::from_secs(3),
        min_rounds: 2,
        max_rounds: 2,
        // Seven probes from half the maximum to 10% above it: 0.9 and 1.0 of it among them.
        probes: 7,
        extra_probes: 2,
        probe_min: Duration::from_secs(1),
        probe_max: Duration::from_secs(2),
        p99_target: Duration::from_millis(50),
        // The test shares the machine with others; noise may not stop it.
        noise_limit: 1.0,
        calibration: Duration::from_millis(300),
        ..Protocol::default_run()
    };
    let options = support::options(root.path(), &dir, "json", protocol);
    let result = run(&options, "capacity-test", &mut |_| {}, &mut |_| {}).unwrap();
    let sc = &result.stacks[0].scenarios[0];
    assert!(sc.error.is_none(), "{:?}", sc.error);
    let cap = capacity_at(sc, 50.0).unwrap();
    let probes: Vec<_> = sc
        .capacity
        .as_ref()
        .unwrap()
        .probes
        .iter()
        .map(|p| (p.rate, p.met, p.reason.clone()))
        .collect();
    println!("capacity {} req/s; probes {probes:?}", cap.rps);
    assert!(
        (90.0..=110.0).contains(&cap.rps),
        "capacity {} req/s, truth 100; probes {probes:?}",
        cap.rps
    );
    assert!(
        cap.missed_rps.is_some(),
        "the capacity is bracketed by a miss above it; probes {probes:?}"
    );
    // Well below the service rate nothing queues: the lowest probe's p99 is the service time.
    let lowest = &sc.capacity.as_ref().unwrap().probes[0];
    let p99 = lowest.trial.load.summary.latency.corrected.p99_us as f64 / 1000.0;
    assert!(p99 < 25.0, "p99 {p99} ms at {} req/s", lowest.rate);
}
