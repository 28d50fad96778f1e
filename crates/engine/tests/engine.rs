//! The engine against in-process servers whose behaviour is known: accuracy, coordinated
//! omission, errors by kind, mixes and merging. Loopback only, every run bounded in time.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use stackwise_engine::load_report::Percentiles;
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
        request_timeout: Duration::from_secs(5),
        windows: 1,
        ramp: Duration::ZERO,
        connect_first: false,
        ws: None,
    }
}

fn run(plan: &Plan) -> LoadReport {
    let out = worker::run(plan, &Live::new(), || {}).unwrap();
    LoadReport::from_run(plan, &out).unwrap()
}

/// Engine figures include the loopback round trip on top of what the server did; they must match
/// the server's truth within 2% or 100 µs, whichever is larger.
fn assert_close(what: &str, engine_us: u64, truth_us: u64) {
    let tolerance = (truth_us as f64 * 0.02).max(100.0);
    let diff = (engine_us as f64 - truth_us as f64).abs();
    assert!(
        diff <= tolerance,
        "{what}: engine {engine_us} µs, server {truth_us} µs, tolerance {tolerance:.0} µs"
    );
}

fn assert_percentiles_match(what: &str, p: &Percentiles, truth: &hdrhistogram::Histogram<u64>) {
    assert_close(
        &format!("{what} p50"),
        p.p50_us,
        truth.value_at_quantile(0.50),
    );
    assert_close(
        &format!("{what} p90"),
        p.p90_us,
        truth.value_at_quantile(0.90),
    );
    assert_close(
        &format!("{what} p99"),
        p.p99_us,
        truth.value_at_quantile(0.99),
    );
}

#[test]
fn closed_loop_percentiles_match_what_the_server_did() {
    // Every 20th request takes 300 ms, the others 100 ms: p50 and p90 are fast, p99 slow. Delays
    // this long make 2% larger than the wake-up latency of a busy virtual CPU.
    let server = start(Behaviour::Delay(Box::new(|n| {
        Duration::from_millis(if n % 20 == 19 { 300 } else { 100 })
    })));
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Count(100);
    let r = run(&p);
    assert_eq!(r.summary.requests, 100);
    assert_eq!(r.summary.errors, 0);
    let truth = server.truth();
    assert_eq!(truth.len(), 100);
    assert_percentiles_match("closed", &r.summary.latency.corrected, &truth);
    // The known design of the server, too (its sleeps may overshoot by up to a millisecond).
    let p50 = r.summary.latency.corrected.p50_us;
    assert!((100_000..102_500).contains(&p50), "p50 {p50}");
    assert!(r.summary.latency.corrected.p99_us >= 300_000);
    // In a closed loop both latencies are the same measurement.
    assert_eq!(r.summary.latency.corrected, r.summary.latency.uncorrected);
}

#[test]
fn open_loop_percentiles_match_what_the_server_did() {
    let server = start(Behaviour::Delay(Box::new(|n| {
        Duration::from_millis(if n % 20 == 19 { 300 } else { 100 })
    })));
    let mut p = plan(&server.url("/"));
    p.load = Load::Constant {
        rate: 50.0,
        connections: 16,
        max_connections: 64,
    };
    p.stop = Stop::Count(100);
    let r = run(&p);
    assert_eq!(r.summary.requests, 100);
    let truth = server.truth();
    assert_percentiles_match("uncorrected", &r.summary.latency.uncorrected, &truth);
    // Connections were free, so the corrected figures differ only by the engine's own send lag,
    // which it measures: the time its thread takes to wake at a slot (tens of µs on hardware,
    // up to about a millisecond on a virtual machine whose idle CPUs halt).
    let lag = &r.engine.delivery.send_lag;
    assert_eq!(lag.count, 100);
    let c = &r.summary.latency.corrected;
    for (what, value, q) in [("p50", c.p50_us, 0.5), ("p90", c.p90_us, 0.9)] {
        let truth = truth.value_at_quantile(q);
        let slack = (truth as f64 * 0.02).max(100.0) as u64 + lag.p99_us;
        assert!(
            value.abs_diff(truth) <= slack,
            "corrected {what}: engine {value} µs, server {truth} µs, slack {slack} µs"
        );
    }
    assert!(lag.p50_us < 1_000, "send lag {lag:?}");
    // Late sends here can only be scheduling noise (another process on the CPU), never a lack of
    // connections.
    assert!(
        r.engine.delivery.late_sends <= 10,
        "{:?}",
        r.engine.delivery
    );
    assert_eq!(r.engine.delivery.unsent, 0);
}

#[test]
fn a_stall_shows_in_corrected_latency_only() {
    // 1,000 requests/s on at most 2 connections; 1 s in, the server stops for 500 ms.
    let server = start(Behaviour::StallOnce {
        after: Duration::from_secs(1),
        stall: Duration::from_millis(500),
    });
    let mut p = plan(&server.url("/"));
    p.load = Load::Constant {
        rate: 1000.0,
        connections: 2,
        max_connections: 2,
    };
    p.stop = Stop::Duration(Duration::from_secs(3));
    let r = run(&p);
    let lat = &r.summary.latency;
    assert!(r.summary.requests > 2_900, "{}", r.summary.requests);
    // About 500 of 3,000 requests were due during the stall: the corrected p99 sees it...
    assert!(
        lat.corrected.p99_us >= 400_000,
        "corrected p99 {}",
        lat.corrected.p99_us
    );
    assert!(
        lat.corrected.max_us >= 480_000,
        "corrected max {}",
        lat.corrected.max_us
    );
    // ...while only the two requests in flight waited once sent, far fewer than 1%.
    assert!(
        lat.uncorrected.p99_us < 50_000,
        "uncorrected p99 {}",
        lat.uncorrected.p99_us
    );
    assert!(lat.uncorrected.max_us >= 480_000);
    // Every request due in the stall had to wait for a connection: it left late.
    let late = r.engine.delivery.late_sends;
    assert!((480..=650).contains(&late), "late sends {late}");
    assert_eq!(r.engine.delivery.unsent, 0);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("after their scheduled time")));
}

#[test]
fn an_overloaded_schedule_opens_connections_up_to_the_cap_then_reports_unsent() {
    // Each request takes 100 ms; 200/s needs ~20 connections, the cap allows 5.
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(100))));
    let mut p = plan(&server.url("/"));
    p.load = Load::Constant {
        rate: 200.0,
        connections: 1,
        max_connections: 5,
    };
    p.stop = Stop::Duration(Duration::from_secs(1));
    let r = run(&p);
    let d = &r.engine.delivery;
    assert_eq!(d.peak_connections, 5);
    // 5 connections at 10 requests/s each can send about 50 of the 200 due.
    assert!((40..=60).contains(&d.sent), "sent {}", d.sent);
    assert!(d.unsent >= 130, "unsent {}", d.unsent);
    assert!(r.warnings.iter().any(|w| w.contains("could not be sent")));
}

fn error_run(behaviour: Behaviour, timeout: Duration) -> (LoadReport, Duration) {
    let server = start(behaviour);
    let mut p = plan(&server.url("/"));
    p.request_timeout = timeout;
    let began = Instant::now();
    let r = run(&p);
    (r, began.elapsed())
}

#[test]
fn resets_are_counted_as_resets() {
    let (r, took) = error_run(Behaviour::Reset, Duration::from_secs(5));
    assert!(
        r.summary.error_kinds["reset"] > 10,
        "{:?}",
        r.summary.error_kinds
    );
    assert_eq!(r.summary.requests, 0);
    assert!(took < Duration::from_secs(3));
}

#[test]
fn clean_closes_and_garbage_are_counted_apart() {
    let (r, _) = error_run(Behaviour::Close, Duration::from_secs(5));
    assert!(
        r.summary.error_kinds["closed"] > 10,
        "{:?}",
        r.summary.error_kinds
    );
    let (r, _) = error_run(Behaviour::Garbage, Duration::from_secs(5));
    assert!(
        r.summary.error_kinds["protocol"] > 10,
        "{:?}",
        r.summary.error_kinds
    );
    assert_eq!(r.summary.error_kinds.len(), 1);
}

#[test]
fn server_errors_are_responses_not_transport_errors() {
    let (r, _) = error_run(Behaviour::Status(500), Duration::from_secs(5));
    assert!(r.summary.requests > 10);
    assert_eq!(r.summary.non_2xx, r.summary.requests);
    assert_eq!(r.summary.status["500"], r.summary.requests);
    assert_eq!(r.summary.errors, 0);
    assert!(r.warnings.iter().any(|w| w.contains("non-2xx")));
}

#[test]
fn a_silent_server_times_out_and_the_run_ends_on_time() {
    let (r, took) = error_run(Behaviour::Silent, Duration::from_millis(300));
    // 4 connections, each timing out every 300 ms for 1 s.
    let timeouts = r.summary.error_kinds["timeout"];
    assert!((8..=16).contains(&timeouts), "timeouts {timeouts}");
    assert_eq!(r.summary.requests, 0);
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
}

#[test]
fn a_silent_server_cannot_hold_the_run_past_its_duration() {
    let (r, took) = error_run(Behaviour::Silent, Duration::from_secs(60));
    assert_eq!(r.summary.errors, 0);
    assert_eq!(r.engine.delivery.in_flight_at_end, 4);
    assert!(took < Duration::from_millis(1_500), "took {took:?}");
}

#[test]
fn refused_connections_are_counted() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut p = plan(&format!("http://127.0.0.1:{port}/"));
    p.stop = Stop::Duration(Duration::from_millis(300));
    let r = run(&p);
    assert!(r.summary.error_kinds["connect_refused"] > 0);
    assert_eq!(r.engine.delivery.sent, 0);
    assert_eq!(r.engine.delivery.in_flight_at_end, 0);
}

#[test]
fn chunked_responses_and_warmup() {
    let server = start(Behaviour::Chunked);
    let mut p = plan(&server.url("/"));
    p.warmup = Duration::from_millis(300);
    p.stop = Stop::Count(500);
    let r = run(&p);
    assert_eq!(r.summary.requests, 500);
    assert_eq!(r.summary.errors, 0);
    // The warm-up was driven but not counted.
    let served = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    assert!(served > 500, "served {served}");
    assert_eq!(r.engine.delivery.connections_opened, 4);
}

#[test]
fn a_weighted_mix_is_followed_exactly_and_reported_per_tag() {
    let server = start(Behaviour::ByPath {
        slow: Duration::from_millis(20),
    });
    let mut p = plan(&server.url("/"));
    let mut fast = RequestSpec::get(&p.target.url);
    fast.tag = "fast".into();
    fast.path = "/fast".into();
    fast.weight = 9;
    let mut slow = fast.clone();
    slow.tag = "slow".into();
    slow.path = "/slow".into();
    slow.weight = 1;
    p.requests = vec![fast, slow];
    p.stop = Stop::Count(1000);
    let r = run(&p);
    assert_eq!(r.tags[0].tag, "fast");
    assert_eq!(r.tags[0].summary.requests, 900);
    assert_eq!(r.tags[1].summary.requests, 100);
    assert!(r.tags[1].summary.latency.corrected.p50_us >= 20_000);
    assert!(r.tags[0].summary.latency.corrected.p50_us < 20_000);
}

#[test]
fn requests_under_one_tag_are_sent_in_turn_and_reported_as_one() {
    // The ml scenario sends eight bodies to one path: one tag, in the order tags first appear.
    let server = start(Behaviour::ByPath {
        slow: Duration::from_millis(20),
    });
    let mut p = plan(&server.url("/"));
    let mut fast = RequestSpec::get(&p.target.url);
    fast.tag = "fast".into();
    fast.path = "/fast".into();
    fast.method = "POST".into();
    let specs: Vec<RequestSpec> = (0..4)
        .map(|i| RequestSpec {
            body: format!("body {i}").into_bytes(),
            ..fast.clone()
        })
        .chain(std::iter::once(RequestSpec {
            tag: "slow".into(),
            path: "/slow".into(),
            ..fast.clone()
        }))
        .collect();
    p.requests = specs;
    p.stop = Stop::Count(500);
    let r = run(&p);
    let tags: Vec<_> = r.tags.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(tags, ["fast", "slow"]);
    assert_eq!(r.tags[0].summary.requests, 400);
    assert_eq!(r.tags[1].summary.requests, 100);
    assert_eq!(r.summary.requests, 500);
}

#[test]
fn shards_merge_exactly() {
    let server = start(Behaviour::Delay(Box::new(|n| {
        Duration::from_micros(200 + (n % 7) * 300)
    })));
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Count(300);
    let a = run(&p);
    p.stop = Stop::Count(200);
    let b = run(&p);
    // Shards of one run share their stop condition; these two differ only in count.
    let merged = LoadReport::merge(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(merged.shards, 2);
    assert_eq!(merged.summary.requests, 500);
    let (mut ha, _) = a.total_histograms().unwrap();
    let (hb, _) = b.total_histograms().unwrap();
    ha.add(&hb).unwrap();
    let (hm, _) = merged.total_histograms().unwrap();
    assert_eq!(hm, ha);
    assert_eq!(merged.summary.latency.corrected, Percentiles::of(&ha));
    assert_eq!(merged.plan.connections, 8);

    // Results of different runs are refused.
    let mut other = a.clone();
    other.plan.url = "http://127.0.0.1:1/else".into();
    assert!(LoadReport::merge(&[a, other]).is_err());
}

#[test]
fn threads_split_the_load_and_pin() {
    let server = start(Behaviour::Status(200));
    let mut p = plan(&server.url("/"));
    p.threads = 2;
    p.cpus = Some(vec![0]);
    p.load = Load::Closed { connections: 5 };
    p.stop = Stop::Count(1001);
    let r = run(&p);
    assert_eq!(r.summary.requests, 1001);
    assert_eq!(r.plan.threads, 2);
    assert_eq!(r.engine.delivery.peak_connections, 5);
    // Two threads on one CPU have one core between them.
    assert_eq!(r.engine.cores, 1.0);
}

#[test]
fn the_engine_measures_its_own_cpu() {
    let server = start(Behaviour::Status(200));
    let mut p = plan(&server.url("/"));
    p.cpus = Some(vec![0]);
    let r = run(&p);
    let e = &r.engine;
    assert!(r.summary.requests > 100);
    // It sent requests as fast as it could for a second: it used real CPU, no more than it had.
    assert!(e.cpu_seconds > 0.05, "{e:?}");
    assert!(e.utilisation > 0.05 && e.utilisation <= 1.2, "{e:?}");
    assert_eq!(e.cores, 1.0);
    assert_eq!(e.saturated, e.utilisation >= e.saturation_threshold);
}

#[test]
fn connects_that_hang_time_out() {
    // A listener with a backlog of one that never accepts: once its queue is full, the kernel
    // drops further SYNs, so connecting hangs until the engine gives up.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(1).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let _fill: Vec<_> = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()
        })
        .collect();
    let mut p = plan(&format!("http://{addr}/"));
    p.load = Load::Closed { connections: 2 };
    p.connect_timeout = Duration::from_millis(200);
    let began = Instant::now();
    let r = run(&p);
    let timeouts = r
        .summary
        .error_kinds
        .get("connect_timeout")
        .copied()
        .unwrap_or(0);
    // Two connections, each giving up every 200 ms for 1 s.
    assert!((6..=12).contains(&timeouts), "{:?}", r.summary.error_kinds);
    assert!(began.elapsed() < Duration::from_millis(1_500));
}

#[test]
fn windows_are_repeated_measurements_on_the_same_connections() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(2))));
    for (load, rate) in [
        (Load::Closed { connections: 4 }, None),
        (
            Load::Constant {
                rate: 200.0,
                connections: 4,
                max_connections: 16,
            },
            Some(200.0),
        ),
    ] {
        let mut p = plan(&server.url("/"));
        p.load = load;
        p.warmup = Duration::from_millis(100);
        p.stop = Stop::Duration(Duration::from_millis(900));
        p.windows = 3;
        let out = worker::run(&p, &Live::new(), || {}).unwrap();
        let whole = LoadReport::from_run(&p, &out).unwrap();
        let parts = LoadReport::windows(&p, &out).unwrap();
        assert_eq!(parts.len(), 3);
        let sum: u64 = parts.iter().map(|w| w.summary.requests).sum();
        assert_eq!(sum, whole.summary.requests);
        for (i, w) in parts.iter().enumerate() {
            assert!(
                (w.elapsed_s - 0.3).abs() < 1e-9,
                "window {i} lasts {}",
                w.elapsed_s
            );
            assert_eq!(w.plan.duration_s, Some(w.elapsed_s));
            assert!(w.summary.requests > 0, "window {i} measured nothing");
            assert_eq!(w.summary.errors, 0);
            if let Some(rate) = rate {
                let asked = rate * 0.3;
                assert!(
                    (w.summary.requests as f64 - asked).abs() <= 2.0,
                    "window {i}: {} of {asked}",
                    w.summary.requests
                );
            }
            // Connections are opened before the first window and kept.
            if i > 0 && rate.is_none() {
                assert_eq!(
                    w.engine.delivery.connections_opened, 0,
                    "window {i} reconnected"
                );
                assert_eq!(w.engine.delivery.peak_connections, 4);
            }
        }
        let cpu: f64 = parts.iter().map(|w| w.engine.cpu_seconds).sum();
        assert!((cpu - whole.engine.cpu_seconds).abs() < 1e-6);
        // The whole is the sum of its parts, histograms included: its corrected latency holds
        // every response, and at a constant rate also the requests still unanswered at the end,
        // each at its age (a request in flight as the run stops, now and then on a busy
        // machine).
        let (corrected, _) = whole.total_histograms().unwrap();
        assert_eq!(
            corrected.len(),
            sum + whole.summary.latency.unanswered_in_corrected
        );
        if rate.is_none() {
            assert_eq!(whole.summary.latency.unanswered_in_corrected, 0);
        }
    }
}

#[test]
fn windows_need_a_duration() {
    let mut p = plan("http://127.0.0.1:9/");
    p.windows = 2;
    p.stop = Stop::Count(10);
    assert!(p.validate().is_err());
    p.windows = 0;
    p.stop = Stop::Duration(Duration::from_secs(1));
    assert!(p.validate().is_err());
}

#[test]
fn a_ramp_starts_connections_one_after_another_within_the_warmup() {
    let mut p = plan("http://127.0.0.1:9/");
    p.ramp = Duration::from_millis(500);
    p.warmup = Duration::from_millis(100);
    assert!(p.validate().is_err(), "a ramp longer than the warm-up");

    // Four connections over 300 ms: the first request of the last one leaves ~225 ms after the
    // start, so during the first 100 ms only the first connection (and maybe the second) sends.
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(1))));
    let mut p = plan(&server.url("/"));
    p.warmup = Duration::from_millis(300);
    p.ramp = Duration::from_millis(300);
    p.stop = Stop::Duration(Duration::from_millis(300));
    p.validate().unwrap();
    let began = Instant::now();
    let r = run(&p);
    assert!(began.elapsed() >= Duration::from_millis(600));
    assert_eq!(r.summary.errors, 0);
    assert_eq!(r.engine.delivery.peak_connections, 4);
    let starts = server.connection_starts();
    assert_eq!(starts.len(), 4, "{starts:?}");
    let spread = *starts.last().unwrap() - starts[0];
    assert!(
        spread >= Duration::from_millis(200),
        "connections opened within {spread:?}"
    );
}

#[test]
fn a_stopped_run_ends_at_once_and_leaves_no_request_behind() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::from_millis(1))));
    let mut p = plan(&server.url("/"));
    p.stop = Stop::Duration(Duration::from_secs(20));
    let live = Live::new();
    let began = Instant::now();
    let mut stopped_at = None;
    let out = worker::run(&p, &live, || {
        // Stop once the server has answered some requests: the caller's "settled".
        if stopped_at.is_none() && live.done() >= 50 {
            live.stop();
            stopped_at = Some(Instant::now());
        }
    })
    .unwrap();
    let stopped_at = stopped_at.expect("the run answered 50 requests");
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(2) && stopped_at.elapsed() < Duration::from_millis(500),
        "a 20 s run told to stop after 50 requests took {took:?}"
    );
    let report = LoadReport::from_run(&p, &out).unwrap();
    assert!(report.summary.requests >= 50, "{}", report.summary.requests);
    assert_eq!(report.summary.errors, 0);
}

#[test]
fn connect_first_opens_every_connection_before_the_first_request() {
    let server = start(Behaviour::Delay(Box::new(|_| Duration::ZERO)));
    let mut p = plan(&server.url("/"));
    p.load = Load::Closed { connections: 8 };
    p.ramp = Duration::from_millis(400);
    p.warmup = Duration::from_millis(500);
    p.stop = Stop::Duration(Duration::from_millis(200));
    p.connect_first = true;
    let began = Instant::now();
    let mut readings = Vec::new();
    let out = worker::run(&p, &Live::new(), || {
        readings.push((
            began.elapsed(),
            server.requests.load(std::sync::atomic::Ordering::Relaxed),
        ))
    })
    .unwrap();
    let ramp_end = began + p.ramp;
    let accepted = server.connection_starts();
    assert_eq!(accepted.len(), 8, "every connection opened once");
    assert!(
        accepted.iter().all(|&at| at < ramp_end),
        "every connection was open before the ramp ended"
    );
    // Well before the ramp ends, nothing has been sent.
    let early: Vec<_> = readings
        .iter()
        .filter(|(at, _)| *at < Duration::from_millis(330))
        .collect();
    assert!(
        !early.is_empty() && early.iter().all(|(_, n)| *n == 0),
        "{early:?}"
    );
    let report = LoadReport::from_run(&p, &out).unwrap();
    assert!(report.summary.requests > 0 && report.summary.errors == 0);
}
