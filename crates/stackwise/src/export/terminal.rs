//! The human summary printed after a run: plain text, aligned, readable without colour.

use std::fmt::Write;

pub use stackwise_results::fmt::thousands;
use stackwise_results::fmt::{ms, rate};

use stackwise_engine::load_report::{Mode, Percentiles, Summary};
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

fn summary_block(out: &mut String, s: &Summary, elapsed: f64, open: bool) {
    let _ = writeln!(
        out,
        "Requests    {} responses in {}, {} req/s",
        thousands(s.requests),
        seconds(elapsed),
        rate(s.throughput_rps)
    );
    let _ = writeln!(
        out,
        "            2xx {}, non-2xx {}, errors {}",
        thousands(s.ok),
        thousands(s.non_2xx),
        thousands(s.errors)
    );
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
    let _ = writeln!(out, "Status      {}", counts(&s.status));
    let _ = writeln!(out, "Errors      {}", counts(&s.error_kinds));
}

/// The whole summary.
pub fn render(r: &LoadReport) -> String {
    let mut out = String::new();
    let p = &r.plan;
    let open = p.mode == Mode::Constant;
    let shape = match p.mode {
        Mode::Closed => format!("closed loop, {} connections", thousands(p.connections)),
        Mode::Constant => format!(
            "constant rate {} req/s, {} connections (up to {})",
            asked_rate(p.rate.unwrap_or_default()),
            thousands(p.connections),
            thousands(p.max_connections.unwrap_or(p.connections))
        ),
    };
    let stop = match (p.duration_s, p.count) {
        (Some(d), _) => seconds(d),
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
    summary_block(&mut out, &r.summary, r.elapsed_s, open);

    let d = &r.engine.delivery;
    if open {
        let _ = writeln!(
            out,
            "Schedule    asked {} req/s, sent {} req/s, late sends {}, unsent {}",
            asked_rate(p.rate.unwrap_or_default()),
            rate(d.send_rate),
            thousands(d.late_sends),
            thousands(d.unsent)
        );
    }
    let _ = writeln!(
        out,
        "Connections asked {}, peak open {}, opened {}",
        thousands(p.connections),
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
            summary_block(&mut out, &t.summary, r.elapsed_s, open);
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
