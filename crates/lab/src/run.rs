//! `stackwise run`: the measurement protocol of DESIGN.md, stack by stack, scenario by scenario.
//!
//! For each stack × scenario: a fresh server pinned to the server CPUs, the scenario verified (a
//! wrong answer is never timed), then three measurements with the load engine pinned to its own
//! CPUs while the server's process tree is sampled:
//!
//! 1. trials: a discarded warm-up, then the trials one after another on the same connections
//!    (one engine run split into windows), at the scenario's connections;
//! 2. the closed-loop sweep: the other connection levels, one probe each, for the maximum;
//! 3. the capacity search: open-loop probes at fixed rates, bisecting between 0 and that
//!    maximum, for the highest rate whose p99 meets the target with no errors.
//!
//! The result is handed to `save` after every scenario, so an interruption loses nothing, and
//! a run can be resumed from what was saved.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use stackwise_engine::{worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target};
use stackwise_results::catalogue::{self, Scenario};
use stackwise_results::{
    Capacity, Host, Probe, RunResult, ScenarioResult, ServerUsage, Settings, StackResult, Trial,
    SCHEMA_VERSION,
};

use crate::delay::DelayService;
use crate::manifest::Stack;
use crate::postgres::Database;
use crate::sample::{read_group, wait_idle, Sampler};
use crate::server::{start, ServerEnv};
use crate::verify::Checker;

/// Driven but not counted at the start of every probe: a probe opens its connections anew, and
/// a burst of hundreds of connects waiting in a server's accept queue is a start-up transient,
/// not the steady state it measures.
const PROBE_SETTLE: Duration = Duration::from_millis(150);

/// Connection levels of the closed-loop sweep.
pub const SWEEP: [usize; 3] = [16, 64, 256];

/// An open-loop probe may open up to this many times its initial connections when the server
/// falls behind: room for latency to grow at a given rate (Little's law) without a runaway.
/// With a cap of 1,024, a server that fell behind for a moment was sent hundreds of new
/// connections and fell further behind: node-http's json probe missed at half its closed-loop
/// maximum, and met at 0.62 of it with four times.
const PROBE_GROWTH: usize = 4;

/// How often the server's processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Longest wait for a server to finish requests abandoned at the end of a load run.
const DRAIN: Duration = Duration::from_secs(15);

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub stacks: Vec<Stack>,
    pub scenarios: Vec<String>,
    pub cache_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub database_url: Option<String>,
    pub server_cpus: Vec<usize>,
    pub load_cpus: Vec<usize>,
    pub infra_cpus: Vec<usize>,
    /// Measured time of each trial.
    pub duration: Duration,
    pub warmup: Duration,
    pub trials: usize,
    /// Measured time of each sweep level and capacity probe.
    pub probe: Duration,
    /// Run the sweep's other connection levels.
    pub sweep: bool,
    /// The capacity search's latency target (p99) and most probes; 0 probes skips it.
    pub p99_target: Duration,
    pub capacity_probes: usize,
    pub quick: bool,
    pub start_timeout: Duration,
    /// A saved, unfinished run to finish: its id, settings and measurements are kept, and only
    /// what it lacks is run.
    pub resume: Option<RunResult>,
}

/// Where the run is, for progress display.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub stack: &'a str,
    pub scenario: &'a str,
    /// What is happening: installing, starting, verifying, warming up, trial N.
    pub doing: String,
    /// Scenarios finished so far, of `total`.
    pub done: usize,
    pub total: usize,
}

/// Runs the comparison; `save` gets the result after every scenario; `progress` hears each
/// step. A stack or scenario that fails is recorded with its error and the run goes on.
pub fn run(
    options: &RunOptions,
    id: &str,
    progress: &mut dyn FnMut(Step<'_>),
    save: &mut dyn FnMut(&RunResult),
) -> Result<RunResult, crate::verify::VerifyError> {
    use crate::verify::VerifyError;
    std::fs::create_dir_all(&options.logs_dir)
        .map_err(|e| VerifyError::Io(options.logs_dir.clone(), e))?;
    let delay =
        DelayService::start(Some(options.infra_cpus.clone())).map_err(VerifyError::Delay)?;
    let db = match &options.database_url {
        Some(url) => Database::existing(url)?,
        None => Database::throwaway(
            Some(&options.infra_cpus),
            &options.logs_dir.join("postgres.log"),
            &options.cache_dir,
        )?,
    };
    let env = ServerEnv {
        db: db.info.clone(),
        upstream_url: delay.url(),
        cpus: options.server_cpus.clone(),
    };
    let mut versions = runtime_versions();
    versions.insert("postgres".into(), db.version.clone());
    let to_u64 = |v: &[usize]| v.iter().map(|&c| c as u64).collect::<Vec<_>>();
    let fresh = RunResult {
        schema_version: SCHEMA_VERSION,
        tool: format!("stackwise {}", env!("CARGO_PKG_VERSION")),
        id: id.to_string(),
        started_at: stackwise_engine::report::rfc3339(SystemTime::now()),
        finished_at: None,
        quick: options.quick,
        host: host(),
        versions,
        settings: Settings {
            server_cpus: to_u64(&options.server_cpus),
            load_cpus: to_u64(&options.load_cpus),
            infra_cpus: to_u64(&options.infra_cpus),
            duration_s: options.duration.as_secs_f64(),
            warmup_s: options.warmup.as_secs_f64(),
            trials: options.trials as u64,
            probe_s: options.probe.as_secs_f64(),
            p99_target_ms: options.p99_target.as_secs_f64() * 1000.0,
            capacity_probes: options.capacity_probes as u64,
            stacks: options
                .stacks
                .iter()
                .map(|s| s.manifest.id.clone())
                .collect(),
            scenarios: options.scenarios.clone(),
            database: if options.database_url.is_some() {
                "external"
            } else {
                "throwaway"
            }
            .into(),
        },
        stacks: Vec::new(),
    };
    let mut result = match &options.resume {
        Some(saved) => RunResult {
            finished_at: None,
            ..saved.clone()
        },
        None => fresh,
    };
    // Resuming: a stack that failed as a whole is tried again; measured scenarios are kept.
    result.stacks.retain(|s| s.error.is_none());
    let measured = |result: &RunResult, stack: &str, scenario: &str| {
        result
            .stacks
            .iter()
            .any(|s| s.id == stack && s.scenarios.iter().any(|c| c.scenario == scenario))
    };
    let total = options
        .stacks
        .iter()
        .flat_map(|st| options.scenarios.iter().map(move |sc| (st, sc)))
        .filter(|(st, sc)| !measured(&result, &st.manifest.id, sc))
        .count();
    let mut done = 0;
    for stack in &options.stacks {
        let m = &stack.manifest;
        if options
            .scenarios
            .iter()
            .all(|sc| measured(&result, &m.id, sc))
        {
            continue;
        }
        let mut sr = StackResult {
            id: m.id.clone(),
            name: m.name.clone(),
            language: m.language.clone(),
            framework: m.framework.clone(),
            framework_version: m.framework_version.clone(),
            database: m.database.clone(),
            workers: m.workers.workers(options.server_cpus.len()) as u64,
            workers_rule: m.workers_rule.clone(),
            install_seconds: 0.0,
            installed_bytes: 0,
            dependencies: 0,
            lines_of_code: lines_of_code(&stack.dir),
            startup_s: Vec::new(),
            idle_pss_bytes: None,
            error: None,
            scenarios: Vec::new(),
        };
        let log = options.logs_dir.join(format!("{}.log", m.id));
        let mut step = |scenario: &str, doing: &str, done: usize| {
            progress(Step {
                stack: &m.id,
                scenario,
                doing: doing.to_string(),
                done,
                total,
            })
        };
        step("", "installing", done);
        let provisioned = match crate::provision::provision(stack, &options.cache_dir, &log) {
            Ok(p) => p,
            Err(e) => {
                sr.error = Some(format!("install failed: {e}"));
                done += options.scenarios.len();
                result.stacks.push(sr);
                save(&result);
                continue;
            }
        };
        sr.install_seconds = provisioned.install.seconds;
        sr.installed_bytes = provisioned.install.size_bytes;
        sr.dependencies = provisioned.install.dependencies;
        // A resumed stack keeps what it measured, and stays where it was in the run order.
        let index = match result.stacks.iter().position(|s| s.id == m.id) {
            Some(i) => i,
            None => {
                result.stacks.push(sr);
                result.stacks.len() - 1
            }
        };
        for scenario in &options.scenarios {
            let Some(work) = catalogue::scenario(scenario) else {
                continue;
            };
            if measured(&result, &m.id, scenario) {
                continue;
            }
            let mut scen = ScenarioResult {
                scenario: scenario.clone(),
                target: work.target(),
                error: None,
                connections: work.connections as u64,
                trials: Vec::new(),
                sweep: Vec::new(),
                capacity: None,
            };
            let also_ours: Vec<i32> = db.pgid().into_iter().collect();
            step(scenario, "starting", done);
            match start(&provisioned, &env, &log, options.start_timeout) {
                Err(e) => scen.error = Some(format!("start failed: {e}")),
                Ok(running) => {
                    let sr = &mut result.stacks[index];
                    sr.startup_s.push(running.startup.as_secs_f64());
                    if sr.idle_pss_bytes.is_none() {
                        sr.idle_pss_bytes = Some(read_group(running.pgid()).pss_bytes);
                    }
                    step(scenario, "verifying", done);
                    let verified =
                        Checker::new(&running.base_url(), &db, &delay).and_then(|mut c| {
                            work.checks().try_for_each(|check| {
                                c.scenario(check).map_err(|e| format!("{check}: {e}"))
                            })
                        });
                    match verified {
                        Err(e) => scen.error = Some(format!("verify failed: {e}")),
                        Ok(()) => {
                            let subject = Subject {
                                base: running.base_url(),
                                work,
                                options,
                                server: running.pgid(),
                                also_ours: &also_ours,
                            };
                            if let Err(e) = measure(&subject, &mut scen, &mut |doing| {
                                step(scenario, doing, done)
                            }) {
                                scen.error = Some(format!("load failed: {e}"));
                            }
                        }
                    }
                    running.stop();
                }
            }
            done += 1;
            result.stacks[index].scenarios.push(scen);
            save(&result);
        }
    }
    result.finished_at = Some(stackwise_engine::report::rfc3339(SystemTime::now()));
    save(&result);
    Ok(result)
}

/// What every load run of one scenario shares.
struct Subject<'a> {
    base: String,
    work: &'static Scenario,
    options: &'a RunOptions,
    /// The server's process group, and the roots of the measurement's other processes
    /// (PostgreSQL).
    server: i32,
    also_ours: &'a [i32],
}

/// The three measurements of one scenario into `scen`: trials, sweep, capacity search.
fn measure(
    p: &Subject<'_>,
    scen: &mut ScenarioResult,
    step: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let o = p.options;
    let work = p.work;
    let connections = work.connections;
    step(&format!("warm-up and {} trials", o.trials));
    // A quick run is labelled as not for decisions and keeps its short warm-up.
    let warmup = if o.quick {
        o.warmup
    } else {
        o.warmup.max(work.min_warmup)
    };
    let trials = drive(
        p,
        Load::Closed { connections },
        warmup,
        o.duration * o.trials as u32,
        o.trials,
    )?;
    scen.trials = trials
        .into_iter()
        .map(|(load, usage, other)| trial(connections, load, usage, other))
        .collect();
    if o.sweep {
        for level in SWEEP.into_iter().filter(|&c| c != connections) {
            step(&format!("sweep: {level} connections"));
            let (load, usage, other) = drive(
                p,
                Load::Closed { connections: level },
                PROBE_SETTLE,
                o.probe,
                1,
            )?
            .pop()
            .ok_or("the engine reported no window")?;
            scen.sweep.push(trial(level, load, usage, other));
        }
    }
    // The closed-loop maximum: the trials' median or a better sweep level. A run in which the
    // engine was saturated still bounds the server's maximum from below, so it may set the
    // search's range; one with errors may not.
    let clean = |t: &&Trial| t.load.summary.errors == 0 && t.load.summary.non_2xx == 0;
    let median = stackwise_results::summary::Spread::of(
        &scen
            .trials
            .iter()
            .filter(clean)
            .map(|t| t.load.summary.throughput_rps)
            .collect::<Vec<_>>(),
    )
    .map(|s| s.median);
    let max = scen
        .sweep
        .iter()
        .filter(clean)
        .map(|t| t.load.summary.throughput_rps)
        .chain(median)
        .reduce(f64::max);
    if o.capacity_probes > 0 {
        if let Some(max) = max.filter(|&m| m >= 1.0) {
            scen.capacity = Some(search_capacity(p, connections, max, step)?);
        }
    }
    Ok(())
}

/// Bisects between 0 and the closed-loop maximum for the highest open-loop rate that meets
/// the latency target, trying at most `capacity_probes` rates.
fn search_capacity(
    p: &Subject<'_>,
    connections: usize,
    max: f64,
    step: &mut dyn FnMut(&str),
) -> Result<Capacity, String> {
    let o = p.options;
    let target_ms = o.p99_target.as_secs_f64() * 1000.0;
    let (mut met, mut missed) = (0.0f64, max);
    let mut capacity = Capacity {
        target_p99_ms: target_ms,
        rps: 0.0,
        missed_rps: None,
        probes: Vec::new(),
    };
    for i in 0..o.capacity_probes {
        // Rates are whole requests per second; below one a probe would send nothing.
        let rate = ((met + missed) / 2.0).round();
        if rate < 1.0 || rate <= met || rate >= missed && capacity.missed_rps.is_some() {
            break;
        }
        step(&format!(
            "capacity probe {}/{} at {rate:.0} req/s",
            i + 1,
            o.capacity_probes
        ));
        let load = Load::Constant {
            rate,
            connections,
            max_connections: connections * PROBE_GROWTH,
        };
        let (report, usage, other) = drive(p, load, PROBE_SETTLE, o.probe, 1)?
            .pop()
            .ok_or("the engine reported no window")?;
        let reason = unmet(&report, target_ms);
        if reason.is_none() {
            met = rate;
            capacity.rps = rate;
        } else {
            missed = rate;
            capacity.missed_rps = Some(rate);
        }
        capacity.probes.push(Probe {
            rate,
            met: reason.is_none(),
            reason,
            trial: trial(connections, report, usage, other),
        });
    }
    Ok(capacity)
}

/// Why an open-loop probe did not meet the target, if it did not.
fn unmet(r: &LoadReport, target_ms: f64) -> Option<String> {
    let mut why = Vec::new();
    let p99 = r.summary.latency.corrected.p99_us as f64 / 1000.0;
    if p99 > target_ms {
        why.push(format!("p99 {p99:.1} ms over the {target_ms:.0} ms target"));
    }
    if r.summary.errors > 0 || r.summary.non_2xx > 0 {
        why.push(format!(
            "{} errors and {} non-2xx responses",
            r.summary.errors, r.summary.non_2xx
        ));
    }
    let d = &r.engine.delivery;
    if d.unsent > 0 {
        why.push(format!(
            "{} requests could not be sent on time: every connection was busy",
            d.unsent
        ));
    }
    if r.engine.saturated {
        why.push("the load engine was saturated".into());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// One engine run against the server with its process tree sampled; one result per window:
/// the engine's report, the server's use and other processes' share of the machine. Waits for
/// the server to go idle afterwards, so the next run does not inherit its backlog.
fn drive(
    p: &Subject<'_>,
    load: Load,
    warmup: Duration,
    duration: Duration,
    windows: usize,
) -> Result<Vec<(LoadReport, ServerUsage, Option<f64>)>, String> {
    let o = p.options;
    let target = Target::resolve(&format!("{}/", p.base)).map_err(|e| e.to_string())?;
    // A closed loop's connections start over the first half of the warm-up: a cold server
    // meeting hundreds of first requests at once builds a backlog that can take longer than
    // the warm-up to drain.
    let ramp = match load {
        Load::Closed { .. } => warmup / 2,
        Load::Constant { .. } => Duration::ZERO,
    };
    let plan = Plan {
        requests: p
            .work
            .requests
            .iter()
            .map(|r| RequestSpec {
                tag: r.tag.to_string(),
                weight: r.weight,
                method: "GET".into(),
                path: r.path.to_string(),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .collect(),
        target,
        load,
        stop: Stop::Duration(duration),
        warmup,
        threads: o.load_cpus.len(),
        cpus: Some(o.load_cpus.clone()),
        connect_timeout: Duration::from_secs(3),
        request_timeout: Duration::from_secs(30),
        windows,
        ramp,
    };
    plan.validate().map_err(|e| e.to_string())?;
    let sampler = Sampler::start(
        p.server,
        p.also_ours.to_vec(),
        SAMPLE_EVERY,
        Some(o.infra_cpus.clone()),
    );
    let out = worker::run(&plan, &Live::new(), || {});
    let samples = sampler.finish();
    wait_idle(p.server, DRAIN);
    let out = out.map_err(|e| e.to_string())?;
    let reports = LoadReport::windows(&plan, &out).map_err(|e| e.to_string())?;
    let mut from = out.measure_start;
    Ok(reports
        .into_iter()
        .zip(&out.windows)
        .map(|(report, w)| {
            let to = from + w.elapsed;
            let (usage, other) = samples.between(from, to);
            from = to;
            (report, usage, other)
        })
        .collect())
}

fn trial(
    connections: usize,
    load: LoadReport,
    server: ServerUsage,
    other_load: Option<f64>,
) -> Trial {
    let mut reasons = Vec::new();
    if load.engine.saturated {
        reasons.push(format!(
            "the load engine was saturated ({:.0}% of its cores)",
            load.engine.utilisation * 100.0
        ));
    }
    if load.summary.errors > 0 || load.summary.non_2xx > 0 {
        reasons.push(format!(
            "{} errors and {} non-2xx responses",
            load.summary.errors, load.summary.non_2xx
        ));
    }
    Trial {
        connections: connections as u64,
        valid: reasons.is_empty(),
        invalid_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        server,
        load,
        other_load,
    }
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

fn runtime_versions() -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if let Some(node) = first_line("node", &["--version"]) {
        v.insert("node".into(), node.trim_start_matches('v').to_string());
    }
    if let Some(py) = first_line("python3", &["--version"]) {
        v.insert(
            "python".into(),
            py.trim_start_matches("Python ").to_string(),
        );
    }
    v
}

fn host() -> Host {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    Host {
        cpu_model,
        cores: stackwise_engine::cpu::online_cpus() as u64,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        memory_bytes,
    }
}

/// Non-blank lines that are not only a comment, in the stack's own source files.
pub fn lines_of_code(dir: &std::path::Path) -> u64 {
    const SOURCE: &[&str] = &["js", "mjs", "ts", "py", "ejs", "html", "hbs"];
    const SKIP: &[&str] = &["node_modules", ".venv", "dist", "__pycache__"];
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        if path.is_dir() {
            total += lines_of_code(&path);
        } else if path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| SOURCE.contains(&x))
        {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            total += text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("//")
                        && !l.starts_with('#')
                        && !l.starts_with("/*")
                        && !l.starts_with('*')
                })
                .count() as u64;
        }
    }
    total
}
