//! The human summary printed after a run: plain text, aligned, readable without colour.

use std::fmt::Write;

pub use stackwise_results::fmt::thousands;
use stackwise_results::fmt::{ms, rate};

use stackwise_engine::load_report::{Mode, Percentiles, Summary, WsModeName, WsReport};
use stackwise_engine::LoadReport;

/// A rate asked for: one decimal, or as given when below one a second (0.001 is not 0.0).
fn asked_rate(r: f64) -> String {
    if r < 1.0 {
        format!("{r}")
    } else {
        format!("{r:.1}")
    }
}

fn seconds(s: f64) -> String {
    if s >= 1.0 && s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}

/// Microseconds as milliseconds, rounded as every output rounds them.
fn ms_of(us: u64) -> String {
    ms(us as f64 / 1000.0)
}

fn latency_row(out: &mut String, label: &str, p: &Percentiles) {
    let _ = writeln!(
        out,
        "  {label:<12}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        ms_of(p.min_us),
        ms_of(p.p50_us),
        ms_of(p.p90_us),
        ms_of(p.p99_us),
        ms_of(p.p99_9_us),
        ms_of(p.p99_99_us),
        ms_of(p.max_us)
    );
}

fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".to_string();
    }
    map.iter()
        .map(|(k, n)| format!("{k} x{}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a run's answers are called: HTTP responses, or what a WebSocket mode counts.
fn nouns(ws: Option<&WsReport>) -> (&'static str, &'static str, &'static str) {
    match ws.map(|w| w.mode) {
        None => ("Requests", "responses", "req/s"),
        Some(WsModeName::Echo) => ("Messages", "echoes", "msg/s"),
        Some(WsModeName::Broadcast) => ("Deliveries", "deliveries", "msg/s"),
        Some(WsModeName::Idle) => ("Handshakes", "connections opened", "conn/s"),
    }
}

fn summary_block(out: &mut String, s: &Summary, elapsed: f64, open: bool, ws: Option<&WsReport>) {
    let (label, noun, unit) = nouns(ws);
    let _ = writeln!(
        out,
        "{label:<12}{} {noun} in {}, {} {unit}",
        thousands(s.requests),
        seconds(elapsed),
        rate(s.throughput_rps)
    );
    if ws.is_some() {
        let _ = writeln!(out, "            errors {}", thousands(s.errors));
    } else {
        let _ = writeln!(
            out,
            "            2xx {}, non-2xx {}, errors {}",
            thousands(s.ok),
            thousands(s.non_2xx),
            thousands(s.errors)
        );
    }
    let _ = writeln!(
        out,
        "Latency (ms)    {:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "min", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    if open {
        latency_row(out, "corrected", &s.latency.corrected);
        latency_row(out, "uncorrected", &s.latency.uncorrected);
    } else {
        latency_row(out, "", &s.latency.corrected);
    }
    if ws.is_none() {
        let _ = writeln!(out, "Status      {}", counts(&s.status));
    }
    let _ = writeln!(out, "Errors      {}", counts(&s.error_kinds));
}

/// What only a WebSocket run has: handshakes, and the broadcast or idle counts.
fn ws_block(out: &mut String, w: &WsReport) {
    let _ = writeln!(
        out,
        "Handshake (ms)  {:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "min", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
    latency_row(out, "", &w.handshake);
    if let Some(b) = &w.broadcast {
        let _ = writeln!(
            out,
            "Fan-out     {} room(s) of {}, {} sender(s) each: {} published, {} of {} deliveries \
             ({} msg/s)",
            thousands(b.rooms),
            thousands(b.room_size),
            thousands(b.senders_per_room),
            thousands(b.published),
            thousands(b.delivered),
            thousands(b.expected),
            rate(b.delivered_per_s)
        );
        let _ = writeln!(
            out,
            "            lost {}, duplicated {}, out of order {} (drain {})",
            thousands(b.lost),
            thousands(b.duplicated),
            thousands(b.out_of_order),
            seconds(b.drain_s)
        );
    }
    if let Some(i) = &w.idle {
        let _ = writeln!(
            out,
            "Hold        {} of {} connections open after {} held; lost in the hold: {}",
            thousands(i.held),
            thousands(i.target),
            seconds(i.hold_s),
            counts(&i.lost_in_hold)
        );
    }
}

fn w_size(ws: Option<&WsReport>) -> u64 {
    ws.map_or(0, |w| w.message_size)
}

/// The whole summary.
pub fn render(r: &LoadReport) -> String {
    let mut out = String::new();
    let p = &r.plan;
    let open = p.mode == Mode::Constant;
    let ws = r.ws.as_ref();
    let unit = nouns(ws).2;
    let shape = match (p.mode, ws.and_then(|w| w.idle.as_ref())) {
        (_, Some(i)) => format!(
            "{} connections opened at {} conn/s",
            thousands(i.target),
            asked_rate(i.connect_rate)
        ),
        (Mode::Closed, None) => format!("closed loop, {} connections", thousands(p.connections)),
        (Mode::Constant, None) => format!(
            "constant rate {} {}, {} connections (up to {})",
            asked_rate(p.rate.unwrap_or_default()),
            if ws.is_some_and(|w| w.mode == WsModeName::Broadcast) {
                "published/s"
            } else if ws.is_some() {
                "msg/s"
            } else {
                unit
            },
            thousands(p.connections),
            thousands(p.max_connections.unwrap_or(p.connections))
        ),
    };
    let shape = match ws.map(|w| w.mode) {
        Some(WsModeName::Echo) => format!("WebSocket echo of {} B messages, {shape}", w_size(ws)),
        Some(WsModeName::Broadcast) => {
            format!("WebSocket broadcast of {} B messages, {shape}", w_size(ws))
        }
        Some(WsModeName::Idle) => format!("WebSocket idle, {shape}"),
        None => shape,
    };
    let stop = match (p.duration_s, p.count) {
        _ if ws.is_some_and(|w| w.idle.is_some()) => {
            format!(
                "held for {}",
                seconds(ws.and_then(|w| w.idle.as_ref()).map_or(0.0, |i| i.hold_s))
            )
        }
        (Some(d), _) => seconds(d),
        (None, Some(n)) if ws.is_some() => format!("{} messages", thousands(n)),
        (None, Some(n)) => format!("{} requests", thousands(n)),
        (None, None) => String::new(),
    };
    let warmup = if p.warmup_s > 0.0 {
        format!(" (+{} warm-up)", seconds(p.warmup_s))
    } else {
        String::new()
    };
    let placement = match &p.cpus {
        Some(c) => format!(
            "{} thread(s) on CPU {}",
            p.threads,
            c.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        ),
        None => format!("{} thread(s)", p.threads),
    };
    let _ = writeln!(out, "{} {}", r.tool, p.url);
    let _ = writeln!(out, "  {shape}, {stop}{warmup}, {placement}");
    if r.shards > 1 {
        let _ = writeln!(out, "  merged from {} shards", r.shards);
    }
    let _ = writeln!(out);
    summary_block(&mut out, &r.summary, r.elapsed_s, open, ws);
    if let Some(w) = ws {
        ws_block(&mut out, w);
    }

    let d = &r.engine.delivery;
    if open {
        let _ = writeln!(
            out,
            "Schedule    asked {} {unit}, sent {} {unit}, late sends {}, unsent {}",
            asked_rate(p.rate.unwrap_or_default()),
            rate(d.send_rate),
            thousands(d.late_sends),
            thousands(d.unsent)
        );
    }
    let _ = writeln!(
        out,
        "Connections asked {}, peak open {}, opened {}",
        thousands(
            ws.and_then(|w| w.idle.as_ref())
                .map_or(p.connections, |i| i.target)
        ),
        thousands(d.peak_connections),
        thousands(d.connections_opened)
    );
    if d.in_flight_at_end > 0 {
        let _ = writeln!(
            out,
            "Unanswered  {} at the end, the oldest after {:.2} s{}",
            thousands(d.in_flight_at_end),
            d.unanswered_age.max_us as f64 / 1e6,
            if r.summary.latency.unanswered_in_corrected > 0 {
                " (in corrected latency at that age)"
            } else {
                ""
            }
        );
    }
    let e = &r.engine;
    let _ = writeln!(
        out,
        "Engine      {:.2} CPU-s on {} core(s): {:.0}% busy{}",
        e.cpu_seconds,
        e.cores,
        e.utilisation * 100.0,
        if e.saturated { " (SATURATED)" } else { "" }
    );

    if r.tags.len() > 1 {
        for t in &r.tags {
            let _ = writeln!(out);
            let _ = writeln!(out, "[{}]", t.tag);
            summary_block(&mut out, &t.summary, r.elapsed_s, open, ws);
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out);
        for w in &r.warnings {
            let _ = writeln!(out, "WARNING: {w}");
        }
    }
    out
}
