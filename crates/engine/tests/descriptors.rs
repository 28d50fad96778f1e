//! A run that meets the process's file descriptor limit: the failures are one kind of error,
//! counted a bounded number of times, because the connections that find no descriptor wait
//! instead of retrying in a loop. This binary holds one test, because it lowers the limit of
//! its whole process.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use stackwise_engine::{worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target};

#[test]
fn running_out_of_descriptors_is_one_error_kind_and_backs_off() {
    // A listener that never accepts: the kernel completes connections into its backlog, so
    // the engine's sockets are the only descriptors the run opens in this process.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(1024).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let target = Target::resolve(&format!("http://{addr}/")).unwrap();
    let request = RequestSpec::get(&target.url);
    let plan = Plan {
        target,
        requests: vec![request],
        load: Load::Closed { connections: 100 },
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
    };

    // Room for the runtime and about 30 sockets, not for 100.
    let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, open_now + 40, hard).unwrap();
    let began = Instant::now();
    let out = worker::run(&plan, &Live::new(), || {});
    let took = began.elapsed();
    setrlimit(Resource::RLIMIT_NOFILE, soft, hard).unwrap();
    let r = LoadReport::from_run(&plan, &out.unwrap()).unwrap();

    assert!(took < Duration::from_millis(1_500), "took {took:?}");
    let kinds = &r.summary.error_kinds;
    let failed = kinds.get("descriptors").copied().unwrap_or(0);
    assert!(failed > 0, "{kinds:?}");
    assert_eq!(kinds.len(), 1, "{kinds:?}");
    // About 70 connections found no descriptor; waiting 10, 20, 40 ... ms between attempts,
    // each tries about 7 times in the second. Retrying at once would be tens of thousands.
    assert!(failed <= 70 * 10, "{failed} descriptor errors");
    // The connections that did open sent their request and were left waiting.
    let open = r.engine.delivery.peak_connections;
    assert!((10..100).contains(&open), "peak {open}");
    assert_eq!(r.engine.delivery.in_flight_at_end, open);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("ran out of file descriptors")),
        "{:?}",
        r.warnings
    );
}
