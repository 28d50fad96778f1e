//! `stackwise run`: options resolved, the lab's protocol driven with a progress bar, results.json
//! saved after every scenario, and a summary table at the end.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;

use stackwise_history::History;
use stackwise_lab::run::run as run_lab;
use stackwise_results::RunResult;

use crate::cli::RunArgs;
use crate::export::run::{render, RunFormat};
use crate::settings::run_settings;
use crate::usage;

/// A run id from the clock: sortable, readable, unique per second.
fn run_id() -> String {
    let stamp = stackwise_engine::load_report::rfc3339(SystemTime::now());
    stamp
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string()
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let settings = run_settings(args)?;
    let results_dir = &settings.results_dir;
    // The history is opened before anything is measured: a file it cannot use is found now,
    // not after twenty minutes of measuring.
    let history_path = stackwise_history::default_path(results_dir);
    std::fs::create_dir_all(results_dir)
        .with_context(|| format!("cannot create '{}'", results_dir.display()))?;
    History::open(&history_path).map_err(|e| {
        usage(format!(
            "cannot use the run history '{}': {e} (move it aside, or pass another --results-dir)",
            history_path.display()
        ))
    })?;
    crate::guard_processes();
    let (id, dir) = match &settings.resume {
        Some(saved) => (saved.id.clone(), results_dir.join(&saved.id)),
        None => claim_run_dir(results_dir, &run_id())?,
    };
    let options = settings.options(dir.join("logs"));
    let path = dir.join("results.json");
    let total = (options.stacks.len() * options.scenarios.len()) as u64;
    let target = if settings.progress {
        ProgressDrawTarget::stderr_with_hz(5)
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ETA {eta} {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut save_error = None;
    let result = run_lab(
        &options,
        &id,
        &mut |step| {
            bar.set_length(step.total as u64);
            bar.set_position(step.done as u64);
            bar.set_message(format!("{} {} {}", step.stack, step.scenario, step.doing));
        },
        &mut |r| {
            if let Err(e) = r.save(&path) {
                save_error.get_or_insert(e.to_string());
            }
            // The history follows the file: an interrupted run is listed too.
            let recorded = History::open(&history_path).and_then(|mut h| h.record(r));
            if let Err(e) = recorded {
                save_error.get_or_insert(e.to_string());
            }
        },
    )
    .map_err(anyhow::Error::new)?;
    bar.finish_and_clear();
    stackwise_lab::process::wait_if_interrupted();
    if let Some(e) = save_error {
        return Err(anyhow::anyhow!(e)).context("the run could not be saved");
    }
    print!("{}", render(&result, RunFormat::Table));
    let exports = write_exports(&result, &dir)?;
    println!("\nresults: {}", path.display());
    println!("history: {} (stackwise runs)", history_path.display());
    println!("exports: {}", exports.join(", "));
    let failed = result
        .stacks
        .iter()
        .any(|s| s.error.is_some() || s.scenarios.iter().any(|c| c.error.is_some()));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Makes the new run's folder: `id`, or `id-2`, `id-3`... when runs started in the same
/// second, so that two runs never share a folder or a history row.
fn claim_run_dir(results_dir: &std::path::Path, id: &str) -> anyhow::Result<(String, PathBuf)> {
    for n in 1..1000 {
        let candidate = if n == 1 {
            id.to_string()
        } else {
            format!("{id}-{n}")
        };
        let dir = results_dir.join(&candidate);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((candidate, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create '{}'", dir.display())),
        }
    }
    Err(anyhow::anyhow!(
        "no free run folder for '{id}' under '{}'",
        results_dir.display()
    ))
}

/// Writes the run's summary in every format, and the HTML report, beside results.json; returns
/// the paths.
fn write_exports(result: &RunResult, dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    for (format, name) in [
        (RunFormat::Markdown, "summary.md"),
        (RunFormat::Csv, "summary.csv"),
        (RunFormat::Json, "summary.json"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, render(result, format))
            .with_context(|| format!("cannot write '{}'", path.display()))?;
        written.push(path.display().to_string());
    }
    let path = dir.join("report.html");
    // With the team's profile at hand, the report carries the recommendation too.
    let advice = match crate::settings::advise::profile_or_default(None) {
        Some(file) => Some(crate::advise::advice_for(&file, result)?),
        None => None,
    };
    let html = stackwise_html::render(result, &crate::html_report::extras(result, advice.as_ref()));
    std::fs::write(&path, html).with_context(|| format!("cannot write '{}'", path.display()))?;
    written.push(path.display().to_string());
    Ok(written)
}
