//! `stackwise load` and `stackwise merge`: run the engine (or join shard results), then write
//! every requested output. Files are written before anything is printed, so a closed pipe on
//! stdout cannot lose a result.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stackwise_engine::{worker, Live, LoadReport, Plan, Stop};

use crate::cli::{LoadArgs, MergeArgs};
use crate::settings::load::{LoadSettings, Outputs};
use crate::{export, settings, usage};

pub fn load(args: &LoadArgs) -> anyhow::Result<ExitCode> {
    let LoadSettings {
        plan,
        outputs,
        progress,
    } = settings::load_settings(args)?;
    if let Some(note) = settings::fit_descriptors(&plan)? {
        eprintln!("stackwise: {note}");
    }
    preflight(&plan)?;
    let live = Live::new();
    let bar = progress_bar(&plan, progress);
    let started = Instant::now();
    let run = worker::run(&plan, &live, || {
        let done = live.done();
        let errors = live.errors();
        match plan.stop {
            Stop::Duration(_) => bar.set_position(started.elapsed().as_millis() as u64),
            Stop::Count(_) => bar.set_position(done),
        }
        bar.set_message(format!(
            "{} requests, {} errors",
            export::terminal::thousands(done),
            export::terminal::thousands(errors)
        ));
    })
    .context("the load run failed")?;
    bar.finish_and_clear();
    let report = LoadReport::from_run(&plan, &run).context("cannot encode the histograms")?;
    emit(&report, &outputs)?;
    match nothing_answered(&report) {
        // The result is out; the error line says why the run failed.
        Some(why) => Err(anyhow::anyhow!(why)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Why a run failed as a whole, if it did: no request got an HTTP response, so its figures
/// describe no server behaviour. Responses of any status count; 4xx and 5xx are answers.
pub fn nothing_answered(report: &LoadReport) -> Option<String> {
    let s = &report.summary;
    if s.requests > 0 {
        return None;
    }
    // A broadcast is answered by deliveries, which nothing waits for.
    if let Some(b) = report.ws.as_ref().and_then(|w| w.broadcast.as_ref()) {
        if b.published > 0 && s.errors == 0 {
            return Some(format!(
                "no delivery: {} message(s) were published and none reached a member within the \
                 run and its {} s drain",
                export::terminal::thousands(b.published),
                b.drain_s
            ));
        }
    }
    let d = &report.engine.delivery;
    let oldest = d.unanswered_age.max_us as f64 / 1e6;
    if s.errors == 0 {
        return Some(if d.in_flight_at_end > 0 {
            format!(
                "no response: the server accepted connections and answered nothing within the \
                 run ({} request(s) unanswered, the oldest for {oldest:.2} s)",
                export::terminal::thousands(d.in_flight_at_end)
            )
        } else {
            "no response: no request was sent within the run".to_string()
        });
    }
    let mut kinds: Vec<(&String, &u64)> = s.error_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    let mut why: Vec<String> = kinds
        .iter()
        .map(|(k, n)| {
            let hint = match k.as_str() {
                "protocol" => " (the server's answers were not HTTP/1.1)",
                "upgrade" => " (the server refused the WebSocket upgrade)",
                "handshake" => " (the server's 101 was not a WebSocket handshake)",
                "framing" => " (the server's WebSocket frames broke the protocol)",
                "mismatch" => " (the echo was not the message sent)",
                "descriptors" => " (the engine ran out of file descriptors)",
                _ => "",
            };
            format!("{} {k}{hint}", export::terminal::thousands(**n))
        })
        .collect();
    if d.in_flight_at_end > 0 {
        why.push(format!(
            "{} unanswered at the end",
            export::terminal::thousands(d.in_flight_at_end)
        ));
    }
    Some(format!("no request succeeded: {}", why.join(", ")))
}

pub fn merge(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let settings = settings::merge_settings(args)?;
    let shards = settings
        .shards
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read '{}': {e}", path.display())))?;
            serde_json::from_str::<LoadReport>(&text).map_err(|e| {
                usage(format!(
                    "'{}' is not a stackwise load result: {e}",
                    path.display()
                ))
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = LoadReport::merge(&shards).map_err(|e| usage(e.to_string()))?;
    emit(&merged, &settings.outputs)?;
    // The shards together answer for the run as one `load` would.
    match nothing_answered(&merged) {
        Some(why) => Err(anyhow::anyhow!(why)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Fails fast, with a one-line error, when the target does not accept connections at all, or
/// (ws://) refuses the WebSocket upgrade.
fn preflight(plan: &Plan) -> anyhow::Result<()> {
    let addr = plan.target.addr();
    std::net::TcpStream::connect_timeout(&addr, plan.connect_timeout)
        .map(drop)
        .map_err(|e| {
            usage(format!(
                "cannot connect to {} ({addr}): {e}",
                plan.target.display_url()
            ))
        })?;
    if let Some(ws) = &plan.ws {
        let path = ws.path.replace("{room}", "0");
        // Long enough for a slow server's first answer, short enough to fail fast.
        let wait = plan
            .connect_timeout
            .max(plan.request_timeout.min(Duration::from_secs(5)));
        let origin = stackwise_engine::ws::origin_headers(&plan.target);
        stackwise_engine::ws::probe(addr, &origin, &path, wait)
            .map_err(|e| usage(format!("{}: {e}", plan.target.display_url())))?;
    }
    Ok(())
}

fn progress_bar(plan: &Plan, shown: bool) -> ProgressBar {
    let (len, template) = match plan.stop {
        Stop::Duration(d) => (
            (d + plan.warmup).as_millis() as u64,
            "{spinner} [{elapsed_precise}] {wide_bar} {msg}",
        ),
        Stop::Count(n) => (
            n,
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        ),
    };
    let target = if shown {
        ProgressDrawTarget::stderr_with_hz(10)
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

fn emit(report: &LoadReport, outputs: &Outputs) -> anyhow::Result<()> {
    if let Some(path) = &outputs.output {
        std::fs::write(path, export::json::render(report)?)
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    if let Some(path) = &outputs.hdr_log {
        export::hdr_log::write(report, path)?;
    }
    let text = if outputs.json {
        // The summary shows warnings; with JSON on stdout they still reach the person watching.
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        export::json::render(report)?
    } else {
        export::terminal::render(report)
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that went away (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
