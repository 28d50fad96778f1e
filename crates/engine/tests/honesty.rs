//! Runs whose server does not answer, or whose schedule has little to send: what is unanswered
//! at the end is counted and aged, never forgotten, and a timed run lasts its time. Loopback
//! only, every run bounded to about a second.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use stackwise_engine::{worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target};
use support::{start, Behaviour};

fn plan(url: &str) -> Plan {
    let target = Target::resolve(url).unwrap();
    let request = RequestSpec::get(&target.url);
    Plan {
        target,
        requests: vec![request],
        load: Load::Closed { connections: 4 },
        stop: Stop::Duration(Duration::from_secs(1)),
        warmup: Duration::ZERO,
        threads: 1,
        cpus: None,
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(60),
        windows: 1,
        ramp: Duration::ZERO,
        connect_first: false,
        ws: None,
    }
}

fn run(plan: &Plan) -> (LoadReport, Duration) {
    let began = Instant::now();
    let out = worker::run(plan, &Live::new(), || {}).unwrap();
    (LoadReport::from_run(plan, &out).unwrap(), began.elapsed())
}

#[test]
fn a_silent_server_leaves_requests_unanswered_and_they_are_counted_with_their_age() {
    let server = start(Behaviour::Silent);
    let (r, took) = run(&plan(&server.url("/")));
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
    let d = &r.engine.delivery;
    // Four connections, each sent one request at the start and waited the whole second.
    assert_eq!(d.sent, 4);
    assert_eq!(d.in_flight_at_end, 4);
    assert_eq!(r.summary.unanswered, 4);
    assert_eq!(r.tags[0].summary.unanswered, 4);
    assert_eq!(d.unanswered_age.count, 4);
    assert!(
        (900_000..=1_100_000).contains(&d.unanswered_age.max_us),
        "oldest {:?}",
        d.unanswered_age
    );
    assert!(d.unanswered_age.min_us >= 900_000, "{:?}", d.unanswered_age);
    // A closed loop's latency holds responses only, and there were none.
    assert_eq!(r.summary.requests, 0);
    assert_eq!(r.summary.errors, 0);
    assert_eq!(r.summary.latency.corrected.count, 0);
    assert_eq!(r.summary.latency.unanswered_in_corrected, 0);
    assert!(
        r.warnings.iter().any(|w| w.starts_with(
            "4 request(s) were still unanswered when the run ended; the oldest had waited 1.0"
        ) || w.starts_with(
            "4 request(s) were still unanswered when the run ended; the oldest had waited 0.9"
        )),
        "{:?}",
        r.warnings
    );
}

#[test]
fn an_open_loop_counts_unanswered_requests_in_its_corrected_latency() {
    let server = start(Behaviour::Silent);
    let mut p = plan(&server.url("/"));
    p.load = Load::Constant {
        rate: 100.0,
        connections: 4,
        max_connections: 200,
    };
    let (r, took) = run(&p);
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
    let d = &r.engine.delivery;
    // 100 slots in the second, each sent on a connection of its own, none answered.
    assert_eq!(d.sent, 100);
    assert_eq!(d.unsent, 0);
    assert_eq!(d.in_flight_at_end, 100);
    let lat = &r.summary.latency;
    assert_eq!(lat.unanswered_in_corrected, 100);
    assert_eq!(lat.corrected.count, 100);
    assert_eq!(lat.uncorrected.count, 0);
    // Slot i waited 1 s - i * 10 ms: a silent server shows as latencies of the run's length.
    assert!(
        (950_000..=1_100_000).contains(&lat.corrected.p99_us),
        "{:?}",
        lat.corrected
    );
    assert!(
        (450_000..=600_000).contains(&lat.corrected.p50_us),
        "{:?}",
        lat.corrected
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("100 request(s) were still unanswered")
            && w.contains("corrected latency counts each at its age")));

    // The counts and ages travel through JSON and merge exactly.
    let back: LoadReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.summary.unanswered, 100);
    assert_eq!(back.summary.latency.unanswered_in_corrected, 100);
    assert_eq!(
        back.engine.delivery.unanswered_age_histogram,
        d.unanswered_age_histogram
    );
    let merged = LoadReport::merge(&[r.clone(), back]).unwrap();
    assert_eq!(merged.engine.delivery.in_flight_at_end, 200);
    assert_eq!(merged.engine.delivery.unanswered_age.count, 200);
    assert_eq!(merged.summary.unanswered, 200);
    assert_eq!(merged.summary.latency.unanswered_in_corrected, 200);
    assert_eq!(
        merged.engine.delivery.unanswered_age.max_us,
        d.unanswered_age.max_us
    );
}

#[test]
fn answered_requests_leave_nothing_unanswered() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(1))));
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Duration(Duration::from_millis(300));
    let (r, _) = run(&p);
    assert!(r.summary.requests > 10);
    // At most the four requests on the wire when the time ran out.
    assert!(r.engine.delivery.in_flight_at_end <= 4);
    assert_eq!(
        r.engine.delivery.in_flight_at_end,
        r.engine.delivery.unanswered_age.count
    );
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Count(50);
    let (r, _) = run(&p);
    assert_eq!(r.summary.requests, 50);
    assert_eq!(r.engine.delivery.in_flight_at_end, 0);
    assert!(!r.warnings.iter().any(|w| w.contains("unanswered")));
}

#[test]
fn a_tiny_rate_lasts_its_duration_and_warns_of_nothing() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::ZERO)));
    let mut p = plan(&server.url("/"));
    p.threads = 2;
    p.load = Load::Constant {
        rate: 0.001,
        connections: 2,
        max_connections: 16,
    };
    p.request_timeout = Duration::from_secs(5);
    let (r, took) = run(&p);
    // One slot falls in the second (the first thread's first); the run still lasts the second.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1_500),
        "took {took:?}"
    );
    assert_eq!(r.elapsed_s, 1.0);
    assert_eq!(r.summary.requests, 1);
    assert_eq!(r.engine.delivery.unsent, 0);
    // The first send may leave late (its connection opens at the start), but no connection was
    // ever busy.
    assert!(
        !r.warnings
            .iter()
            .any(|w| w.contains("busy") || w.contains("sent")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_stopped_run_reports_the_time_it_measured() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(1))));
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Duration(Duration::from_secs(20));
    let live = Live::new();
    let out = worker::run(&p, &live, || {
        if live.done() >= 20 {
            live.stop();
        }
    })
    .unwrap();
    assert!(out.stopped);
    let r = LoadReport::from_run(&p, &out).unwrap();
    assert!(r.elapsed_s > 0.0 && r.elapsed_s < 2.0, "{}", r.elapsed_s);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("the run was stopped after")),
        "{:?}",
        r.warnings
    );
}
