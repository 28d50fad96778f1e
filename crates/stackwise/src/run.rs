//! `stackwise run`: options resolved, the lab's protocol driven with a progress bar, results.json
//! saved after every scenario, and a summary table at the end.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;

use stackwise_history::History;
use stackwise_lab::manifest::{discover, select, select_for_run, Stack};
use stackwise_lab::run::{run as run_lab, Protocol, RunOptions};
use stackwise_results::catalogue;
use stackwise_results::RunResult;

use crate::export::run::{render, RunFormat};

use crate::cli::RunArgs;
use crate::settings::{cpus_arg, default_cache_dir, default_cpus};
use crate::usage;

fn duration(flag: &str, value: Option<&str>, default: Duration) -> anyhow::Result<Duration> {
    match value {
        None => Ok(default),
        Some(v) => humantime::parse_duration(v)
            .map_err(|e| usage(format!("invalid {flag} '{v}': {e} (try 3s or 500ms)"))),
    }
}

/// A run id from the clock: sortable, readable, unique per second.
fn run_id() -> String {
    let stamp = stackwise_engine::report::rfc3339(SystemTime::now());
    stamp
        .replace(['-', ':'], "")
        .replace('T', "-")
        .trim_end_matches('Z')
        .to_string()
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    if !args.stacks_dir.is_dir() {
        return Err(usage(format!(
            "no stacks folder at '{}' (run from the repository, or pass --stacks-dir)",
            args.stacks_dir.display()
        )));
    }
    let all = discover(&args.stacks_dir).map_err(|e| usage(e.to_string()))?;
    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let (id, options) = match &args.resume {
        Some(id) => resumed(args, id, &all, cache_dir)?,
        None => (run_id(), fresh(args, &all, cache_dir)?),
    };
    if let Some(url) = &options.database_url {
        if stackwise_lab::postgres::DbInfo::parse(url).is_none() {
            return Err(usage(format!(
                "invalid --database-url '{url}': expected postgres://USER:PASSWORD@HOST:PORT/NAME"
            )));
        }
    }
    options.protocol.check().map_err(usage)?;
    // The history is opened before anything is measured: a file it cannot use is found now,
    // not after twenty minutes of measuring.
    let history_path = stackwise_history::default_path(&args.results_dir);
    std::fs::create_dir_all(&args.results_dir)
        .with_context(|| format!("cannot create '{}'", args.results_dir.display()))?;
    History::open(&history_path).map_err(|e| {
        usage(format!(
            "cannot use the run history '{}': {e} (move it aside, or pass another --results-dir)",
            history_path.display()
        ))
    })?;
    crate::guard_processes();
    let (id, dir) = match &args.resume {
        Some(_) => (id.clone(), args.results_dir.join(&id)),
        None => claim_run_dir(&args.results_dir, &id)?,
    };
    let options = RunOptions {
        logs_dir: dir.join("logs"),
        ..options
    };
    let path = dir.join("results.json");
    let total = (options.stacks.len() * options.scenarios.len()) as u64;
    let target = if args.no_progress {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(5)
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

/// The options of a new run, from the command line.
fn fresh(args: &RunArgs, all: &[Stack], cache_dir: PathBuf) -> anyhow::Result<RunOptions> {
    let stacks = select_for_run(all, &args.stacks).map_err(|e| usage(e.to_string()))?;
    let scenarios: Vec<String> = if args.scenarios.is_empty() {
        let ids: Vec<&str> = if args.quick {
            catalogue::quick_ids().collect()
        } else {
            catalogue::ids().collect()
        };
        ids.into_iter().map(str::to_string).collect()
    } else {
        for s in &args.scenarios {
            if catalogue::scenario(s).is_none() {
                return Err(usage(format!(
                    "unknown scenario '{s}'; known scenarios: {}",
                    catalogue::ids().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        args.scenarios.clone()
    };
    let base = if args.quick {
        Protocol::quick()
    } else {
        Protocol::default_run()
    };
    let min_rounds = args.trials.unwrap_or(base.min_rounds);
    if min_rounds == 0 {
        return Err(usage("--trials must be at least 1"));
    }
    let max_rounds = args.max_rounds.unwrap_or(base.max_rounds.max(min_rounds));
    if max_rounds < min_rounds {
        return Err(usage(format!(
            "--max-rounds ({max_rounds}) must be at least --trials ({min_rounds})"
        )));
    }
    if !(args.p99.is_finite() && args.p99 > 0.0) {
        return Err(usage(format!(
            "--p99 must be a positive number of milliseconds, got {}",
            args.p99
        )));
    }
    if !(0.0..=100.0).contains(&args.noise_limit) {
        return Err(usage(format!(
            "--noise-limit must be a percentage from 0 to 100, got {}",
            args.noise_limit
        )));
    }
    let protocol = Protocol {
        noise_limit: args.noise_limit / 100.0,
        window: duration("--duration", args.duration.as_deref(), base.window)?,
        warmup_cap: duration("--warmup", args.warmup.as_deref(), base.warmup_cap)?,
        settle: duration("--settle", args.settle.as_deref(), base.settle)?,
        budget: duration("--budget", args.budget.as_deref(), base.budget)?,
        min_rounds,
        max_rounds,
        probe_max: duration("--probe", args.probe.as_deref(), base.probe_max)?,
        probes: args.capacity_probes.unwrap_or(base.probes),
        p99_target: Duration::from_secs_f64(args.p99 / 1000.0),
        seed: args.seed,
        ..base
    };
    let (load_default, server_default) = default_cpus();
    let load_cpus = cpus_arg("--load-cpus", args.load_cpus.as_deref(), load_default)?;
    Ok(RunOptions {
        stacks,
        scenarios,
        cache_dir,
        logs_dir: PathBuf::new(),
        database_url: args.database_url.clone(),
        server_cpus: cpus_arg("--server-cpus", args.server_cpus.as_deref(), server_default)?,
        infra_cpus: load_cpus.clone(),
        load_cpus,
        protocol,
        start_timeout: Duration::from_secs(120),
        resume: None,
    })
}

/// The options of an interrupted run, from what it saved: the same stacks, scenarios and
/// settings, so that the finished run is one measurement.
fn resumed(
    args: &RunArgs,
    id: &str,
    all: &[Stack],
    cache_dir: PathBuf,
) -> anyhow::Result<(String, RunOptions)> {
    let path = args.results_dir.join(id).join("results.json");
    if !path.is_file() {
        return Err(usage(format!(
            "no run '{id}' to resume: '{}' does not exist",
            path.display()
        )));
    }
    let saved = RunResult::load(&path).map_err(usage)?;
    if saved.schema_version != stackwise_results::SCHEMA_VERSION {
        return Err(usage(format!(
            "cannot resume '{id}': it was measured with version {} of the protocol, and this \
             stackwise measures with version {}; start a new run",
            saved.schema_version,
            stackwise_results::SCHEMA_VERSION
        )));
    }
    if saved.finished_at.is_some() {
        return Err(usage(format!(
            "run '{id}' is already finished; nothing to resume"
        )));
    }
    let s = &saved.settings;
    let stacks = select(all, &s.stacks).map_err(|e| usage(format!("cannot resume '{id}': {e}")))?;
    let online = stackwise_engine::cpu::online_cpus();
    if let Some(c) = s
        .server_cpus
        .iter()
        .chain(&s.load_cpus)
        .find(|&&c| c as usize >= online)
    {
        return Err(usage(format!(
            "cannot resume '{id}' here: it ran on CPU {c}, and this machine has {online}"
        )));
    }
    let cpus = |v: &[u64]| v.iter().map(|&c| c as usize).collect::<Vec<_>>();
    let options = RunOptions {
        stacks,
        scenarios: s.scenarios.clone(),
        cache_dir,
        logs_dir: PathBuf::new(),
        database_url: args.database_url.clone(),
        server_cpus: cpus(&s.server_cpus),
        load_cpus: cpus(&s.load_cpus),
        infra_cpus: cpus(&s.infra_cpus),
        protocol: Protocol::of(&saved),
        start_timeout: Duration::from_secs(120),
        resume: Some(saved.clone()),
    };
    Ok((saved.id, options))
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
    let advice = match crate::report::profile_path(None) {
        Some(file) => Some(crate::advise::advice_for(&file, result)?),
        None => None,
    };
    let html = stackwise_report::render(result, &crate::report::extras(result, advice.as_ref()));
    std::fs::write(&path, html).with_context(|| format!("cannot write '{}'", path.display()))?;
    written.push(path.display().to_string());
    Ok(written)
}
