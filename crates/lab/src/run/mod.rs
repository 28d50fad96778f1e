//! `stackwise run`: the measurement protocol of docs/protocol.md (version 3).
//!
//! A scenario at a time, every selected stack's server is started fresh, at once, pinned to the
//! server CPUs (idle ones cost nothing); each is verified (a wrong answer is never timed) and
//! driven until its throughput settles; then the stacks are measured in paired rounds, and each
//! is probed in the open loop at rates spanning its closed-loop maximum. The machine's speed is
//! calibrated at the start and the end. The result is handed to `save` after every scenario, so
//! an interruption loses nothing, and a run can be resumed from what was saved.
//!
//! # Layout
//!
//! - [`protocol`]: the settings of a default and a quick run.
//! - [`drive`]: one engine run against one server with its processes sampled; trials judged.
//! - [`steady`]: the warm-up that lasts until throughput settles.
//! - [`rounds`]: paired trials in shuffled rounds until the ratios are known well enough.
//! - [`capacity`]: open-loop probes for the latency–throughput curve.
//! - [`calibrate`]: the machine's speed at the start and the end.
//! - [`host`]: facts about the machine and the stacks' runtimes.
//! - [`loc`]: lines of code of a stack's own sources.

pub mod calibrate;
pub mod capacity;
pub mod drive;
pub mod host;
pub mod loc;
pub mod protocol;
pub mod rounds;
pub mod steady;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use stackwise_engine::limits;
use stackwise_results::catalogue::{self, Scenario};
use stackwise_results::{
    Phases, RunResult, ScenarioResult, Settings, StackResult, WebSocketServing, SCHEMA_VERSION,
};

use crate::delay::DelayService;
use crate::manifest::{Serving, Stack};
use crate::postgres::Database;
use crate::process::{group_alive, interrupted, wait_if_interrupted};
use crate::provision::Provisioned;
use crate::sample::read_group;
use crate::server::{start, Running, ServerEnv};
use crate::verify::{Checker, VerifyError};

pub use protocol::Protocol;

impl Protocol {
    /// The protocol a saved run was measured with.
    pub fn of(saved: &RunResult) -> Protocol {
        let s = &saved.settings;
        let base = if saved.quick {
            Protocol::quick()
        } else {
            Protocol::default_run()
        };
        Protocol {
            window: Duration::from_secs_f64(s.duration_s),
            warmup_cap: Duration::from_secs_f64(s.warmup_s),
            settle: if s.settle_s > 0.0 {
                Duration::from_secs_f64(s.settle_s)
            } else {
                base.settle
            },
            min_rounds: s.trials as usize,
            max_rounds: (s.max_rounds as usize).max(s.trials as usize),
            precision: if s.precision > 0.0 {
                s.precision
            } else {
                base.precision
            },
            budget: if s.budget_s > 0.0 {
                Duration::from_secs_f64(s.budget_s)
            } else {
                base.budget
            },
            probes: s.capacity_probes as usize,
            probe_max: Duration::from_secs_f64(s.probe_s),
            p99_target: Duration::from_secs_f64(s.p99_target_ms / 1000.0),
            seed: s.seed,
            noise_limit: if s.noise_limit > 0.0 {
                s.noise_limit
            } else {
                base.noise_limit
            },
            ..base
        }
    }
}

/// The longest request cycle a trial waits for: fastapi in `upstream` takes about 7 s; a server
/// much slower than that is measured in windows of this length rather than for minutes.
const MOST_CYCLE: Duration = Duration::from_secs(30);

/// Connections each server worker process may hold open to PostgreSQL: the largest default
/// pool of the contestants (`DB_POOL_MAX`).
const POOL_PER_WORKER: u64 = 16;

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
    pub protocol: Protocol,
    pub start_timeout: Duration,
    /// A saved, unfinished run to finish: its id, settings and measured scenarios are kept,
    /// and only what it lacks is run.
    pub resume: Option<RunResult>,
}

/// Where the run is, for progress display.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub stack: &'a str,
    pub scenario: &'a str,
    /// What is happening: installing, starting, verifying, warming up, trial N.
    pub doing: String,
    /// Stack × scenario cells finished so far, of `total`.
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
) -> Result<RunResult, VerifyError> {
    // What fails because an interruption just ended its processes is never saved: the signal
    // handler exits the process first.
    let mut save = |r: &RunResult| {
        wait_if_interrupted();
        save(r);
    };
    std::fs::create_dir_all(&options.logs_dir)
        .map_err(|e| VerifyError::Io(options.logs_dir.clone(), e))?;
    let mut result = match &options.resume {
        Some(saved) => resumed(saved),
        None => fresh(options, id),
    };
    // Saved before anything starts, so that a run interrupted at any moment can be resumed.
    save(&result);
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
    check_connections(options, &db)?;
    result
        .versions
        .entry("postgres".into())
        .or_insert_with(|| db.version.clone());
    let models_dir = crate::models::install(&options.cache_dir)
        .map_err(|e| VerifyError::Io(options.cache_dir.join("models"), e))?;
    let env = ServerEnv {
        db: db.info.clone(),
        upstream_url: delay.url(),
        models_dir,
        cpus: options.server_cpus.clone(),
    };
    let p = &options.protocol;
    let cells = options.stacks.len() * options.scenarios.len();
    let mut done = result.rounds.len() * options.stacks.len();
    let mut report = |stack: &str, scenario: &str, doing: &str, done: usize| {
        progress(Step {
            stack,
            scenario,
            doing: doing.to_string(),
            done,
            total: cells,
        })
    };

    // Every stack is installed first: a scenario's servers all start together.
    let mut installed: Vec<(usize, Provisioned)> = Vec::new();
    for stack in &options.stacks {
        wait_if_interrupted();
        let m = &stack.manifest;
        report(&m.id, "", "installing", done);
        let log = options.logs_dir.join(format!("{}.log", m.id));
        let index = match result.stacks.iter().position(|s| s.id == m.id) {
            Some(i) => i,
            None => {
                result.stacks.push(stack_result(stack, options));
                result.stacks.len() - 1
            }
        };
        match crate::provision::provision(stack, &options.cache_dir, &log) {
            Ok(provisioned) => {
                let sr = &mut result.stacks[index];
                sr.install_seconds = provisioned.install.seconds;
                sr.installed_bytes = provisioned.install.size_bytes;
                sr.dependencies = provisioned.install.dependencies;
                sr.runtime_version = host::runtime_version(&provisioned);
                sr.runtime_note = provisioned.runtime.fallback.clone();
                if let Some(version) = &sr.runtime_version {
                    record_version(&mut result.versions, &m.runtime, version);
                }
                installed.push((index, provisioned));
            }
            Err(e) => result.stacks[index].error = Some(format!("install failed: {e}")),
        }
    }
    save(&result);

    if result.calibration.is_empty() {
        report("", "", "calibrating the machine", done);
        let c = calibrate::calibrate(
            "start",
            &options.server_cpus,
            &options.load_cpus,
            p.calibration,
        );
        result.calibration.extend(c.ok());
    }
    let pending: Vec<&'static Scenario> = options
        .scenarios
        .iter()
        .filter(|name| !result.rounds.iter().any(|r| &r.scenario == *name))
        .filter_map(|name| catalogue::scenario(name))
        .collect();
    let first_began = Instant::now();
    let mut left = pending.len();
    for group in measured_together(&pending) {
        let scenario = group[0];
        let name = &group.iter().map(|s| s.id).collect::<Vec<_>>().join(" + ");
        wait_if_interrupted();
        // An even share of what is left of the budget, for each scenario of the group.
        let share =
            p.budget.saturating_sub(first_began.elapsed()) * group.len() as u32 / left as u32;
        left -= group.len();
        let began = Instant::now();
        let mut phases = Phases::default();
        // A server holding many connections needs a descriptor for each: it inherits the
        // limit, raised here as far as the hard limit allows.
        let descriptors = scenario
            .kind
            .holds_connections()
            .then(|| limits::ensure_descriptors(scenario.connections as u64 + SERVER_DESCRIPTORS))
            .and_then(Result::err);
        let mut slots: Vec<Slot> = group
            .iter()
            .flat_map(|&sc| start_all(&installed, &result, sc, &env, options, &db))
            .collect();
        count_every_server_as_ours(&mut slots);
        if let Some(e) = descriptors {
            for slot in slots.iter_mut().filter(|s| s.live()) {
                slot.fail(format!("the server {e}"));
            }
        }
        phases.start_s = began.elapsed().as_secs_f64();
        let mut step = |stack: &str, doing: &str| report(stack, name, doing, done);
        let t = Instant::now();
        verify_all(&mut slots, &db, &delay, &mut step);
        phases.verify_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // Idle connections are opened and held: there is no throughput to settle.
        for slot in slots
            .iter_mut()
            .filter(|s| s.live() && !scenario.kind.holds_connections())
        {
            slot.warm_up(p, &mut step);
        }
        phases.warmup_s = t.elapsed().as_secs_f64();
        // The rounds leave the probes their time.
        let probed = !scenario.kind.holds_connections();
        let probing: Duration = slots
            .iter()
            .filter(|s| s.live() && probed)
            .map(|s| capacity::expected(p, s.rate()))
            .sum();
        let deadline = (began + share)
            .checked_sub(probing)
            .unwrap_or(began)
            .max(Instant::now());
        let t = Instant::now();
        let ids: Vec<&str> = group.iter().map(|s| s.id).collect();
        let mut rounds = rounds::run(&mut slots, &ids, p, deadline, &mut step);
        phases.rounds_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for slot in slots
            .iter_mut()
            .filter(|s| s.live() && probed && p.probes > 0)
        {
            let Some((max, latency)) = rounds::closed_loop(&slot.scen) else {
                continue;
            };
            let id = slot.id.clone();
            let subject = slot.subject();
            let until = began + share;
            match capacity::curve(&subject, p, max, latency, until, &mut |doing| {
                step(&id, doing)
            }) {
                Ok(c) => slot.scen.capacity = Some(c),
                Err(e) => slot.fail(format!("while probing capacity: {e}")),
            }
            slot.check_alive();
        }
        phases.capacity_s = t.elapsed().as_secs_f64();
        // What failed while the lab was being torn down says nothing of the stack.
        wait_if_interrupted();
        for r in &mut rounds {
            r.seconds = began.elapsed().as_secs_f64();
            r.budget_s = share.as_secs_f64();
            r.phases = phases.clone();
        }
        for slot in slots {
            let (index, started, scen) = slot.finish();
            let sr = &mut result.stacks[index];
            if let Some((startup, idle_pss)) = started {
                sr.startup_s.push(startup);
                sr.idle_pss_bytes.get_or_insert(idle_pss);
            }
            sr.scenarios.push(scen);
        }
        result.rounds.extend(rounds);
        done += options.stacks.len() * group.len();
        save(&result);
    }
    report("", "", "calibrating the machine", done);
    if let Ok(c) = calibrate::calibrate(
        "end",
        &options.server_cpus,
        &options.load_cpus,
        p.calibration,
    ) {
        result.calibration.push(c);
    }
    result.finished_at = Some(stackwise_engine::load_report::rfc3339(SystemTime::now()));
    save(&result);
    Ok(result)
}

/// The pending scenarios in run order, each alone or with the scenario the catalogue measures
/// in the same rounds (`rounds_with`) when both are pending: `[parallel-1, parallel]`.
fn measured_together(pending: &[&'static Scenario]) -> Vec<Vec<&'static Scenario>> {
    let pending_id = |id: &str| pending.iter().any(|s| s.id == id);
    let mut groups = Vec::new();
    for &sc in pending {
        if sc.rounds_with.is_some_and(pending_id) {
            continue; // measured with the one it names
        }
        let mut group = vec![sc];
        group.extend(
            pending
                .iter()
                .filter(|other| other.rounds_with == Some(sc.id)),
        );
        groups.push(group);
    }
    groups
}

/// Every other server started for the scenario (and for the one measured in the same rounds,
/// idle while this one is timed) is the lab's own, not other load on the machine.
fn count_every_server_as_ours(slots: &mut [Slot]) {
    let pgids: Vec<Vec<i32>> = slots.iter().map(Slot::pgids).collect();
    for (i, slot) in slots.iter_mut().enumerate() {
        let others = pgids.iter().enumerate().filter(|(j, _)| *j != i);
        slot.also_ours
            .extend(others.flat_map(|(_, groups)| groups.iter().copied()));
    }
}

/// Adds `version` to what the run records of `runtime`: each runtime once, and every distinct
/// version its stacks reported (`3.12.3, 3.13.1` when two virtual environments differ).
fn record_version(versions: &mut BTreeMap<String, String>, runtime: &str, version: &str) {
    match versions.get_mut(runtime) {
        None => {
            versions.insert(runtime.to_string(), version.to_string());
        }
        Some(known) => {
            if !known.split(", ").any(|v| v == version) {
                known.push_str(", ");
                known.push_str(version);
            }
        }
    }
}

/// Refuses a database that cannot take the connections of one scenario's servers at once.
fn check_connections(options: &RunOptions, db: &Database) -> Result<(), VerifyError> {
    let cpus = options.server_cpus.len();
    let need = options
        .stacks
        .iter()
        .map(|s| s.manifest.workers.workers(cpus) as u64 * POOL_PER_WORKER)
        .sum::<u64>()
        // The checks' own connection and psql's superuser reserve.
        + 10;
    let have = db
        .info
        .connect()
        .ok()
        .and_then(|mut c| c.query_one("SHOW max_connections", &[]).ok())
        .and_then(|row| row.get::<_, String>(0).parse::<u64>().ok());
    match have {
        Some(have) if have < need => Err(VerifyError::TooFewConnections { have, need }),
        _ => Ok(()),
    }
}

fn fresh(options: &RunOptions, id: &str) -> RunResult {
    let p = &options.protocol;
    let to_u64 = |v: &[usize]| v.iter().map(|&c| c as u64).collect::<Vec<_>>();
    RunResult {
        schema_version: SCHEMA_VERSION,
        tool: format!("stackwise {}", env!("CARGO_PKG_VERSION")),
        id: id.to_string(),
        started_at: stackwise_engine::load_report::rfc3339(SystemTime::now()),
        finished_at: None,
        quick: p.quick,
        host: host::host(),
        // Each stack's runtime is asked once it is installed.
        versions: Default::default(),
        settings: Settings {
            server_cpus: to_u64(&options.server_cpus),
            load_cpus: to_u64(&options.load_cpus),
            infra_cpus: to_u64(&options.infra_cpus),
            duration_s: p.window.as_secs_f64(),
            warmup_s: p.warmup_cap.as_secs_f64(),
            settle_s: p.settle.as_secs_f64(),
            trials: p.min_rounds as u64,
            max_rounds: p.max_rounds as u64,
            precision: p.precision,
            budget_s: p.budget.as_secs_f64(),
            seed: p.seed,
            noise_limit: p.noise_limit,
            probe_s: p.probe_max.as_secs_f64(),
            p99_target_ms: p.p99_target.as_secs_f64() * 1000.0,
            capacity_probes: p.probes as u64,
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
        calibration: Vec::new(),
        rounds: Vec::new(),
    }
}

/// A saved run to finish: scenarios whose rounds were recorded are kept; a scenario cut off
/// part-way is measured again for every stack, so its stacks stay paired; a stack that failed
/// as a whole is tried again.
fn resumed(saved: &RunResult) -> RunResult {
    let mut r = RunResult {
        finished_at: None,
        ..saved.clone()
    };
    r.stacks.retain(|s| s.error.is_none());
    let done: Vec<String> = r.rounds.iter().map(|x| x.scenario.clone()).collect();
    for s in &mut r.stacks {
        s.scenarios.retain(|c| done.contains(&c.scenario));
    }
    r.calibration.retain(|c| c.at == "start");
    r
}

fn stack_result(stack: &Stack, options: &RunOptions) -> StackResult {
    let m = &stack.manifest;
    StackResult {
        id: m.id.clone(),
        name: m.name.clone(),
        language: m.language.clone(),
        framework: m.framework.clone(),
        framework_version: m.framework_version.clone(),
        database: m.database.clone(),
        workers: m.workers.workers(options.server_cpus.len()) as u64,
        threads: m
            .threads
            .map(|t| t.workers(options.server_cpus.len()) as u64),
        workers_rule: m.workers_rule.clone(),
        install_seconds: 0.0,
        installed_bytes: 0,
        dependencies: 0,
        lines_of_code: loc::lines_of_code(stack),
        runtime_version: None,
        runtime_note: None,
        ceiling: m.ceiling,
        startup_s: Vec::new(),
        idle_pss_bytes: None,
        error: None,
        scenarios: Vec::new(),
        ecosystem: m.ecosystem.clone(),
        websocket: m.websocket.as_ref().map(|ws| WebSocketServing {
            library: ws.library.clone(),
            workers: ws.workers.workers(options.server_cpus.len()) as u64,
            workers_rule: ws.workers_rule.clone(),
            services: ws.services.iter().map(|s| s.name().to_string()).collect(),
        }),
        data_library: m.data.as_ref().map(|d| d.library.clone()),
        ml_library: m.ml.as_ref().map(|d| d.library.clone()),
        ml_image: m.ml.as_ref().is_some_and(|d| d.image),
    }
}

/// One stack in one scenario: its server while it runs, and what it measured.
#[derive(Debug)]
pub struct Slot {
    /// Where its result goes in `RunResult::stacks`.
    index: usize,
    pub id: String,
    /// It marks what the hardware allows: measured, never part of the ratios.
    pub ceiling: bool,
    running: Option<Running>,
    /// Seconds from start to the first correct answer, and memory right after (summed PSS).
    started: Option<(f64, u64)>,
    pub scen: ScenarioResult,
    /// Windows redone for noise so far.
    pub redos: usize,
    /// Which processes the server had once warmed up, and how many (see `sample::Reading`):
    /// a worker that exits or is replaced later changes them.
    members: Option<(u64, u64)>,
    /// The same, right after it started.
    members_at_start: (u64, u64),
    /// How long one request took in the closed loop at the end of the warm-up (Little's law:
    /// connections over throughput): trials settle and measure for a few of these.
    pub cycle: Duration,
    scenario: &'static Scenario,
    also_ours: Vec<i32>,
    load_cpus: Vec<usize>,
    infra_cpus: Vec<usize>,
    /// The CPUs its server runs on in this scenario.
    server_cpus: Vec<usize>,
}

impl Slot {
    /// The process groups of its server and of the services it started (none when it did not
    /// start).
    fn pgids(&self) -> Vec<i32> {
        self.running
            .iter()
            .flat_map(|r| std::iter::once(r.pgid()).chain(r.service_pgids()))
            .collect()
    }

    /// Still being measured: its server runs and nothing has failed.
    pub fn live(&self) -> bool {
        self.running.is_some() && self.scen.error.is_none()
    }

    pub fn subject(&self) -> drive::Subject<'_> {
        let (base, server, services) = self
            .running
            .as_ref()
            .map_or((String::new(), 0, Vec::new()), |r| {
                (r.base_url(), r.pgid(), r.service_pgids())
            });
        drive::Subject {
            base,
            scenario: self.scenario,
            server,
            services,
            also_ours: self.also_ours.clone(),
            load_cpus: &self.load_cpus,
            infra_cpus: &self.infra_cpus,
            server_cpus: &self.server_cpus,
        }
    }

    /// Records why it cannot be measured further and stops its server.
    pub fn fail(&mut self, why: String) {
        if self.scen.error.is_none() {
            self.scen.error = Some(why);
        }
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }

    /// Whether its server still runs; if not, it is failed with the server's last output.
    pub fn check_alive(&mut self) -> bool {
        let Some(r) = &self.running else {
            return false;
        };
        if interrupted() {
            wait_if_interrupted();
        }
        if !group_alive(r.pgid()) {
            let tail = r.log_tail(10);
            self.fail(format!(
                "the server exited during the measurement; last output:\n{tail}"
            ));
            return false;
        }
        let now = read_group(r.pgid());
        match self.members {
            Some((members, processes)) if members != now.members => {
                let tail = r.log_tail(10);
                self.fail(format!(
                    "the server's processes changed during the measurement ({processes} after \
                     its warm-up, {} now): a worker exited or was restarted; last output:\n{tail}",
                    now.processes
                ));
                false
            }
            Some(_) => true,
            None => {
                self.members = Some((now.members, now.processes));
                true
            }
        }
    }

    /// The closed-loop throughput last seen (from the request cycle), or 0 before any.
    pub fn rate(&self) -> f64 {
        if self.cycle.is_zero() {
            return 0.0;
        }
        self.scenario.connections as f64 / self.cycle.as_secs_f64()
    }

    /// Sets the request cycle from a closed-loop throughput at the scenario's connections,
    /// within [`MOST_CYCLE`].
    pub fn set_cycle(&mut self, rps: f64) {
        if rps > 0.0 {
            let cycle = self.scenario.connections as f64 / rps;
            self.cycle = Duration::from_secs_f64(cycle.min(MOST_CYCLE.as_secs_f64()));
        }
    }

    /// Checks the scenario's answers; a wrong one fails the stack.
    fn verify(&mut self, db: &Database, delay: &DelayService) {
        let Some(running) = &self.running else {
            return;
        };
        let verified = if self.scenario.kind.websocket() {
            self.scenario.checks().try_for_each(|check| {
                crate::verify::websocket_check(check, running.port)
                    .map_err(|e| format!("{check}: {e}"))
            })
        } else {
            Checker::new(&running.base_url(), db, delay).and_then(|mut c| {
                self.scenario
                    .checks()
                    .try_for_each(|check| c.scenario(check).map_err(|e| format!("{check}: {e}")))
            })
        };
        if let Err(e) = verified {
            wait_if_interrupted();
            self.fail(format!("verify failed: {e}"));
        }
    }

    /// Drives the server until its throughput settles.
    fn warm_up(&mut self, p: &Protocol, step: &mut dyn FnMut(&str, &str)) {
        step(&self.id, "warming up");
        let least = self.scenario.min_warmup;
        match steady::warm_up(&self.subject(), least, p.warmup_cap.max(least)) {
            Ok(w) => {
                // The last windows' median: one window cut short says little.
                let last = &w.windows_rps[w.windows_rps.len().saturating_sub(3)..];
                let rate = stackwise_results::summary::Spread::of(last).map_or(0.0, |r| r.median);
                let seconds = w.seconds;
                self.scen.warmup = Some(w);
                if rate <= 0.0 {
                    // Nothing answered at the end: a worker that died, or a server that hangs.
                    if let Some(r) = &self.running {
                        let now = read_group(r.pgid());
                        let (members, processes) = self.members_at_start;
                        if now.members != members {
                            return self.fail(format!(
                                "the server's processes changed during its warm-up ({processes} \
                                 at start, {} now): a worker exited or was restarted",
                                now.processes
                            ));
                        }
                    }
                    return self.fail(format!(
                        "the server stopped answering: no response in the last part of its \
                         {seconds:.1} s warm-up"
                    ));
                }
                self.set_cycle(rate);
            }
            Err(e) => self.fail(format!("load failed: {e}")),
        }
        self.check_alive();
    }

    fn finish(mut self) -> (usize, Option<(f64, u64)>, ScenarioResult) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
        (self.index, self.started, self.scen)
    }
}

/// Descriptors a server needs besides its connections: its files, pools and pipes.
const SERVER_DESCRIPTORS: u64 = 1024;

/// Checks whose answers depend on nothing but the request: servers may be checked at once.
/// The others read what PostgreSQL or the delay service saw, which a second server's checks
/// would change.
const STATELESS: [&str; 8] = [
    "json",
    "plaintext",
    "cpu",
    "data",
    "ml",
    "ml-image",
    "ws-echo",
    "ws-room",
];

/// Verifies every started server: at once when the scenario's checks are stateless (json's
/// waits 1.1 s to see the Date header change), else one after another.
fn verify_all(
    slots: &mut [Slot],
    db: &Database,
    delay: &DelayService,
    step: &mut dyn FnMut(&str, &str),
) {
    let Some(first) = slots.first() else {
        return;
    };
    if first.scenario.checks().all(|c| STATELESS.contains(&c)) {
        step("", "verifying every stack");
        std::thread::scope(|scope| {
            for slot in slots.iter_mut() {
                scope.spawn(|| slot.verify(db, delay));
            }
        });
        return;
    }
    for slot in slots.iter_mut() {
        step(&slot.id, "verifying");
        slot.verify(db, delay);
    }
}

/// Starts every installed stack's server for `scenario` at once and waits for each to answer.
fn start_all(
    installed: &[(usize, Provisioned)],
    result: &RunResult,
    scenario: &'static Scenario,
    env: &ServerEnv,
    options: &RunOptions,
    db: &Database,
) -> Vec<Slot> {
    let serving = match scenario.kind.websocket() {
        true => Serving::WebSocket,
        false => Serving::Http,
    };
    // The GIL scenarios give the servers one core, or every core they can have.
    let cpus = scenario
        .cores
        .pick(&options.server_cpus, &options.load_cpus);
    let env = &ServerEnv {
        cpus: cpus.clone(),
        ..env.clone()
    };
    let started: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = installed
            .iter()
            // A stack without WebSocket endpoints has no part in a WebSocket scenario, one
            // without a [data] or [ml] table none in `data` or `ml`.
            .filter(|(_, prov)| prov.stack.manifest.serves(scenario))
            .map(|(index, prov)| {
                let log = options.logs_dir.join(format!("{}.log", prov.stack.id()));
                scope.spawn(move || {
                    let running = start(prov, env, &log, options.start_timeout, serving);
                    (*index, running)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    started
        .into_iter()
        .map(|(index, running)| {
            let id = result.stacks[index].id.clone();
            let mut scen = ScenarioResult {
                scenario: scenario.id.to_string(),
                target: scenario.target(),
                server_cpus: (cpus != options.server_cpus)
                    .then(|| cpus.iter().map(|&c| c as u64).collect()),
                workers: running
                    .as_ref()
                    .ok()
                    .map(|r| r.workers as u64)
                    .filter(|&w| w != result.stacks[index].workers),
                threads: running
                    .as_ref()
                    .ok()
                    .and_then(|r| r.threads.map(|t| t as u64))
                    .filter(|&t| Some(t) != result.stacks[index].threads),
                error: None,
                connections: scenario.connections as u64,
                trials: Vec::new(),
                sweep: Vec::new(),
                warmup: None,
                capacity: None,
            };
            let running = match running {
                Ok(r) => Some(r),
                Err(e) => {
                    scen.error = Some(format!("start failed: {e}"));
                    None
                }
            };
            let reading = running.as_ref().map(|r| read_group(r.pgid()));
            let started = running
                .as_ref()
                .zip(reading)
                .map(|(r, g)| (r.startup.as_secs_f64(), g.pss_bytes));
            Slot {
                index,
                id,
                ceiling: result.stacks[index].ceiling,
                running,
                started,
                scen,
                redos: 0,
                members: None,
                members_at_start: reading.map_or((0, 0), |g| (g.members, g.processes)),
                cycle: Duration::ZERO,
                scenario,
                // The other servers are added once every server is started.
                also_ours: db.pgid().into_iter().collect(),
                load_cpus: options.load_cpus.clone(),
                infra_cpus: options.infra_cpus.clone(),
                server_cpus: cpus.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gil_scenarios_share_their_rounds_when_both_are_run_and_not_otherwise() {
        let ids = |names: &[&str]| -> Vec<Vec<&str>> {
            let pending: Vec<&'static Scenario> = names
                .iter()
                .map(|n| catalogue::scenario(n).expect("in the catalogue"))
                .collect();
            measured_together(&pending)
                .iter()
                .map(|g| g.iter().map(|s| s.id).collect())
                .collect()
        };
        assert_eq!(
            ids(&["json", "parallel-1", "cpu", "parallel"]),
            [vec!["json"], vec!["parallel-1", "parallel"], vec!["cpu"]]
        );
        // Named the other way round, the one core is still measured first.
        assert_eq!(
            ids(&["parallel", "parallel-1"]),
            [vec!["parallel-1", "parallel"]]
        );
        assert_eq!(ids(&["parallel"]), [vec!["parallel"]]);
        assert_eq!(ids(&["parallel-1"]), [vec!["parallel-1"]]);
    }

    #[test]
    fn each_runtime_is_recorded_once_with_every_version_its_stacks_reported() {
        let mut versions = BTreeMap::from([("postgres".to_string(), "17.2".to_string())]);
        record_version(&mut versions, "node", "22.11.0");
        record_version(&mut versions, "python", "3.12.3");
        record_version(&mut versions, "node", "22.11.0");
        record_version(&mut versions, "python", "3.13.1");
        record_version(&mut versions, "python", "3.12.3");
        assert_eq!(versions.len(), 3);
        assert_eq!(versions["node"], "22.11.0");
        assert_eq!(versions["python"], "3.12.3, 3.13.1");
        assert_eq!(versions["postgres"], "17.2");
    }
}
