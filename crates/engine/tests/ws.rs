//! The engine's WebSocket modes against in-process servers whose behaviour is known: echo in
//! closed and open loop, broadcast delivery latency against a fixed fan-out delay, losses,
//! duplicates and reordering counted exactly, refusals by kind, idle connections held.
//! Loopback only, every run bounded to a few seconds.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use stackwise_engine::load_report::WsModeName;
use stackwise_engine::record::ErrorKind;
use stackwise_engine::{
    worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target, WsMode, WsPlan,
};
use support::ws::{start_ws, WsBehaviour};

fn ws_plan(url: &str, mode: WsMode) -> Plan {
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map_or("/".to_string(), |p| format!("/{p}"));
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
        ws: Some(WsPlan {
            mode,
            path,
            message_size: 128,
        }),
    }
}

fn run(plan: &Plan) -> LoadReport {
    plan.validate().unwrap();
    let out = worker::run(plan, &Live::new(), || {}).unwrap();
    LoadReport::from_run(plan, &out).unwrap()
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[test]
fn closed_loop_echo_counts_every_message() {
    let server = start_ws(WsBehaviour::Echo { stall_after: None });
    let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
    p.stop = Stop::Count(2_000);
    let r = run(&p);
    assert_eq!(r.summary.requests, 2_000, "{:?}", r.summary);
    assert_eq!(r.summary.ok, 2_000);
    assert_eq!(r.summary.errors, 0);
    assert!(r.summary.status.is_empty());
    let ws = r.ws.as_ref().unwrap();
    assert_eq!(ws.mode, WsModeName::Echo);
    assert_eq!(ws.handshake.count, 4);
    assert_eq!(
        server.upgrades.load(std::sync::atomic::Ordering::Relaxed),
        4
    );
    assert!(r.summary.latency.corrected.p50_us < 50_000);
    // What the run reports can be read back and merged exactly.
    let text = serde_json::to_string(&r).unwrap();
    let back: LoadReport = serde_json::from_str(&text).unwrap();
    let merged = LoadReport::merge(&[back.clone(), back]).unwrap();
    assert_eq!(merged.summary.requests, 4_000);
    assert_eq!(merged.ws.unwrap().handshake.count, 8);
}

#[test]
fn open_loop_echo_charges_a_stall_from_the_intended_send_time() {
    // One connection, 200 messages/s; the server stops for 400 ms at its 100th message. The
    // messages meant to leave during the stall wait for the connection: measured from when they
    // should have left, they show the stall; measured from when they left, they do not.
    let server = start_ws(WsBehaviour::Echo {
        stall_after: Some((100, Duration::from_millis(400))),
    });
    let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
    p.load = Load::Constant {
        rate: 200.0,
        connections: 1,
        max_connections: 1,
    };
    p.stop = Stop::Duration(Duration::from_millis(1500));
    let r = run(&p);
    let l = &r.summary.latency;
    assert!(
        ms(l.corrected.max_us) >= 380.0,
        "corrected max {} ms",
        ms(l.corrected.max_us)
    );
    // About 80 messages were due during the stall: more than 10% of the 300 are late.
    assert!(
        ms(l.corrected.p90_us) >= 100.0,
        "corrected p90 {} ms",
        ms(l.corrected.p90_us)
    );
    assert!(
        ms(l.uncorrected.p90_us) < 50.0,
        "uncorrected p90 {} ms",
        ms(l.uncorrected.p90_us)
    );
    assert!(r.engine.delivery.late_sends > 50);
}

#[test]
fn broadcast_delivery_latency_is_the_servers_fan_out_delay() {
    // Two rooms of five, one publisher each, 100 messages/s in all; the server holds every
    // message 20 ms before it fans it out.
    let server = start_ws(WsBehaviour::broadcast(Duration::from_millis(20)));
    let mut p = ws_plan(
        &format!("ws://{}/ws/room/{{room}}", server.addr),
        WsMode::Broadcast {
            rooms: 2,
            senders: 1,
        },
    );
    p.load = Load::Constant {
        rate: 100.0,
        connections: 10,
        max_connections: 10,
    };
    p.warmup = Duration::from_millis(300);
    p.stop = Stop::Duration(Duration::from_secs(1));
    let r = run(&p);
    let b = r.ws.as_ref().unwrap().broadcast.clone().unwrap();
    assert_eq!(b.published, 100, "{b:?}");
    assert_eq!(b.expected, 500);
    assert_eq!(b.delivered, 500, "{b:?}");
    assert_eq!((b.lost, b.duplicated, b.out_of_order), (0, 0, 0));
    assert_eq!(b.senders.len(), 2);
    assert_eq!(r.summary.requests, 500);
    let p50 = ms(r.summary.latency.corrected.p50_us);
    // The server holds each message 20 ms; loopback and wake-ups add about a millisecond.
    assert!((20.0..35.0).contains(&p50), "delivery p50 {p50} ms");
    assert!(r.plan.url.ends_with("/ws/room/{room}"), "{}", r.plan.url);
}

#[test]
fn broadcast_against_a_stalled_room_counts_the_queueing_from_the_intended_time() {
    let server = start_ws(WsBehaviour::Broadcast {
        delay: Duration::from_millis(20),
        drop: None,
        dup: None,
        swap: None,
        stall_after: Some((30, Duration::from_millis(500))),
    });
    let mut p = ws_plan(
        &server.url("/ws/room/1"),
        WsMode::Broadcast {
            rooms: 1,
            senders: 1,
        },
    );
    p.load = Load::Constant {
        rate: 100.0,
        connections: 3,
        max_connections: 3,
    };
    p.stop = Stop::Duration(Duration::from_secs(1));
    let r = run(&p);
    let c = &r.summary.latency.corrected;
    assert!(ms(c.max_us) >= 480.0, "max {} ms", ms(c.max_us));
    assert!(ms(c.p90_us) >= 100.0, "p90 {} ms", ms(c.p90_us));
    let b = r.ws.unwrap().broadcast.unwrap();
    assert_eq!(b.lost, 0, "{b:?}");
}

#[test]
fn lost_duplicated_and_reordered_messages_are_counted_exactly() {
    // 100 messages to a room of four: the server drops every 10th from the 3rd, sends every 10th
    // from the 5th twice, and swaps the 7th of every ten with the 8th.
    let server = start_ws(WsBehaviour::Broadcast {
        delay: Duration::from_millis(1),
        drop: Some(3),
        dup: Some(5),
        swap: Some(7),
        stall_after: None,
    });
    let mut p = ws_plan(
        &server.url("/ws/room/x"),
        WsMode::Broadcast {
            rooms: 1,
            senders: 1,
        },
    );
    p.load = Load::Constant {
        rate: 200.0,
        connections: 4,
        max_connections: 4,
    };
    p.stop = Stop::Duration(Duration::from_millis(500));
    let r = run(&p);
    // Two shards of it merge exactly: counts add up, senders are listed one after another.
    let merged = LoadReport::merge(&[r.clone(), r.clone()]).unwrap();
    let m = merged.ws.unwrap().broadcast.unwrap();
    assert_eq!(
        (m.published, m.lost, m.duplicated, m.out_of_order),
        (200, 80, 80, 80)
    );
    assert_eq!((m.rooms, m.senders.len()), (2, 2));
    assert_eq!(merged.summary.requests, 720);
    let b = r.ws.unwrap().broadcast.unwrap();
    assert_eq!(b.published, 100, "{b:?}");
    assert_eq!(b.lost, 40, "{b:?}");
    assert_eq!(b.duplicated, 40, "{b:?}");
    assert_eq!(b.out_of_order, 40, "{b:?}");
    assert_eq!(b.delivered, 360);
    assert_eq!(b.senders[0].lost, 40);
    assert!(
        r.warnings.iter().any(|w| w.contains("lost 40 of 400")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_closed_loop_broadcast_publishes_when_its_message_comes_back() {
    let server = start_ws(WsBehaviour::broadcast(Duration::from_millis(10)));
    let mut p = ws_plan(
        &server.url("/ws/room/c"),
        WsMode::Broadcast {
            rooms: 1,
            senders: 1,
        },
    );
    p.load = Load::Closed { connections: 3 };
    p.stop = Stop::Duration(Duration::from_millis(600));
    let r = run(&p);
    let b = r.ws.unwrap().broadcast.unwrap();
    // One message at a time, each back after about 10 ms: some 60, never more than 60.
    assert!((30..=61).contains(&b.published), "{b:?}");
    assert_eq!(b.delivered, b.published * 3);
}

#[test]
fn refusals_are_one_clear_error_each() {
    for (behaviour, kind, words) in [
        (
            WsBehaviour::Status(200),
            ErrorKind::Upgrade,
            "answered HTTP 200",
        ),
        (
            WsBehaviour::Status(400),
            ErrorKind::Upgrade,
            "answered HTTP 400",
        ),
        (
            WsBehaviour::Close,
            ErrorKind::Closed,
            "closed the connection",
        ),
    ] {
        let server = start_ws(behaviour);
        let err = stackwise_engine::ws::probe(
            server.addr,
            &format!("Host: {}\r\n", server.addr),
            "/ws/echo",
            Duration::from_secs(2),
        )
        .unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(err.to_string().contains(words), "{err}");
        assert!(!err.to_string().contains('\n'));
        // In a run, every attempt is counted by kind; nothing hangs or panics.
        let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
        p.stop = Stop::Duration(Duration::from_millis(300));
        let r = run(&p);
        assert_eq!(r.summary.requests, 0);
        assert!(
            r.summary
                .error_kinds
                .get(kind.as_str())
                .is_some_and(|&n| n > 0),
            "{:?}",
            r.summary.error_kinds
        );
    }
}

#[test]
fn an_echo_in_several_frames_is_one_message() {
    let server = start_ws(WsBehaviour::FragmentedEcho);
    let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
    p.load = Load::Closed { connections: 2 };
    p.stop = Stop::Count(50);
    let r = run(&p);
    assert_eq!(r.summary.requests, 50, "{:?}", r.summary.error_kinds);
    assert_eq!(r.summary.errors, 0);
}

#[test]
fn an_echo_that_is_not_the_message_sent_is_a_mismatch() {
    let server = start_ws(WsBehaviour::WrongEcho);
    let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
    p.load = Load::Closed { connections: 1 };
    p.stop = Stop::Count(20);
    let r = run(&p);
    assert_eq!(r.summary.requests, 0);
    assert_eq!(r.summary.error_kinds.get("mismatch"), Some(&20));
}

#[test]
fn broken_framing_is_counted_as_framing() {
    let server = start_ws(WsBehaviour::BrokenFrame);
    let mut p = ws_plan(&server.url("/ws/echo"), WsMode::Echo);
    p.load = Load::Closed { connections: 2 };
    p.stop = Stop::Duration(Duration::from_millis(300));
    let r = run(&p);
    assert_eq!(r.summary.requests, 0);
    assert!(
        r.summary.error_kinds.get("framing").is_some_and(|&n| n > 0),
        "{:?}",
        r.summary.error_kinds
    );
}

#[test]
fn idle_opens_every_connection_holds_it_and_answers_pings() {
    let server = start_ws(WsBehaviour::Idle);
    let mut p = ws_plan(
        &server.url("/ws/echo"),
        WsMode::Idle {
            hold: Duration::from_millis(500),
        },
    );
    p.load = Load::Constant {
        rate: 1000.0,
        connections: 16,
        max_connections: 64,
    };
    p.stop = Stop::Count(300);
    let r = run(&p);
    let i = r.ws.as_ref().unwrap().idle.clone().unwrap();
    assert_eq!(r.summary.requests, 300, "{:?}", r.summary.error_kinds);
    assert_eq!(i.held, 300, "{i:?}");
    // Each held connection answered the server's ping.
    assert_eq!(server.pongs.load(std::sync::atomic::Ordering::Relaxed), 300);
    assert!(i.lost_in_hold.is_empty());
    assert_eq!(r.ws.unwrap().handshake.count, 300);
    // The measured window is the 0.3 s ramp; the hold follows it.
    assert!((0.25..0.75).contains(&r.elapsed_s), "{}", r.elapsed_s);
    assert!(
        !r.warnings.iter().any(|w| w.contains("were open")),
        "{:?}",
        r.warnings
    );
}
