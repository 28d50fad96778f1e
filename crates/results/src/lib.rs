//! The result of a `stackwise run`: one serialisable model, saved as `results.json` after every
//! scenario so that an interruption loses nothing, read back by reports and the advisor.
//!
//! The lab fills it; nothing here starts a process or renders anything. Load figures are the
//! engine's own [`LoadReport`]s, raw histograms included, so every statistic can be recomputed;
//! [`histograms`] decodes those, so a reader never needs the engine's encoding.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stackwise_engine::LoadReport;

pub mod catalogue;
mod ecosystem;
pub mod fmt;
pub mod histograms;
mod language;
pub mod summary;

pub use ecosystem::{Ecosystem, Level};
pub use language::Language;

/// Version of this format; raised when a field changes meaning or goes away.
///
/// 3: trials are paired in rounds (`Trial::round`), every stack of a scenario measured in the
/// same rounds; the warm-up lasts until throughput settles (`ScenarioResult::warmup`); capacity
/// probes span the closed-loop maximum; calibration and noise (`RunResult::calibration`,
/// `Trial::steal`) are recorded; the sweep is no longer run.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest version [`RunResult::load`] reads: version 2 lacks only what version 3 added, and
/// its figures are summarised as they were measured (trials not paired).
pub const OLDEST_READABLE: u32 = 2;

/// One run of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunResult {
    /// Version of this format.
    pub schema_version: u32,
    /// The program that measured, with its version.
    pub tool: String,
    /// Identifies the run, such as `20261122-174311`.
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Set when every planned scenario has been measured.
    pub finished_at: Option<String>,
    /// A shortened run (`--quick`): fewer and shorter trials; not for decisions.
    pub quick: bool,
    /// The machine.
    pub host: Host,
    /// Versions of the runtimes and the database: each stack's `runtime` (node, python) as its
    /// stacks reported it, and postgres.
    pub versions: BTreeMap<String, String>,
    pub settings: Settings,
    /// One entry per stack, in run order.
    pub stacks: Vec<StackResult>,
    /// The machine's speed at the start and at the end of the run: the load engine against a
    /// built-in static server on the server CPUs. A change between the two says the machine
    /// drifted during the run.
    #[serde(default)]
    pub calibration: Vec<Calibration>,
    /// How each scenario's rounds went: their order and why they stopped.
    #[serde(default)]
    pub rounds: Vec<Rounds>,
}

impl Rounds {
    /// Why rounds stop, as `stopped` says it.
    pub const TIGHT: &'static str = "every ratio within the precision";
    pub const BUDGET: &'static str = "time budget spent";
    pub const MOST: &'static str = "most rounds run";
    pub const NONE_LEFT: &'static str = "no stack left to measure";
}

/// One calibration: a closed loop against the built-in static server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Calibration {
    /// `start` or `end`.
    pub at: String,
    /// Requests per second the engine got from the static server.
    pub throughput_rps: f64,
    /// CPU time the hypervisor took from this machine meanwhile (0..1, all CPUs).
    pub steal: Option<f64>,
    /// The speed of the first server CPU itself: a fixed loop of CPU work run alone on it, its
    /// rate (loops per second) in consecutive steps of [`Calibration::STEP_MS`]. On a quiet
    /// machine the steps agree within a percent or two; on a shared VM they move by 10% and
    /// more, which no count of other processes or steal shows, and which bounds how closely
    /// any trial window can be measured. Empty in results from before it was measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpu_steps: Vec<f64>,
}

impl Calibration {
    /// Length of each step of [`Calibration::cpu_steps`].
    pub const STEP_MS: u64 = 100;
}

/// The rounds of one scenario: in each, every stack measured gets one trial window, in an order
/// shuffled from `seed`, so that a drift of the machine's speed hits every stack alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rounds {
    pub scenario: String,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Stack ids in the order they were measured, one list per round.
    pub orders: Vec<Vec<String>>,
    /// Why no further round was run: the intervals were tight, the time budget was spent, or
    /// the most rounds were run.
    pub stopped: String,
    /// Wall seconds of the whole scenario: start-up, verification, warm-ups, rounds and probes.
    pub seconds: f64,
    /// The scenario's share of the run's budget, in seconds.
    #[serde(default)]
    pub budget_s: f64,
    /// Where the seconds went.
    #[serde(default)]
    pub phases: Phases,
    /// The scenario measured in the same rounds as this one (the catalogue's `rounds_with`):
    /// each round gave every stack a trial in both, the trials numbered by the same rounds, so
    /// the ratio between the two is paired. Both scenarios' records name each other and carry
    /// the same seed, wall time and phases (the two ran as one); `orders` holds this one's
    /// stacks in the shared order. None: measured on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
}

/// Wall seconds of each part of a scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phases {
    /// Starting every stack's server at once, until each answered.
    pub start_s: f64,
    pub verify_s: f64,
    pub warmup_s: f64,
    pub rounds_s: f64,
    pub capacity_s: f64,
}

/// The machine that measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Host {
    pub cpu_model: String,
    /// CPUs online.
    pub cores: u64,
    pub kernel: String,
    pub memory_bytes: u64,
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// CPUs the servers ran on.
    pub server_cpus: Vec<u64>,
    /// CPUs the load engine ran on.
    pub load_cpus: Vec<u64>,
    /// CPUs PostgreSQL and the delay service ran on.
    pub infra_cpus: Vec<u64>,
    /// Measured seconds per trial window.
    pub duration_s: f64,
    /// Longest warm-up before the trials, discarded; it ends earlier when throughput settles.
    pub warmup_s: f64,
    /// Least time each trial is driven on its new connections before its window, not counted.
    #[serde(default)]
    pub settle_s: f64,
    /// Fewest rounds of trials per scenario (before version 3: trials per scenario).
    pub trials: u64,
    /// Most rounds per scenario.
    #[serde(default)]
    pub max_rounds: u64,
    /// Rounds stop once every stack's ratio to the fastest is known within ± this share
    /// (95% interval).
    #[serde(default)]
    pub precision: f64,
    /// Seconds the run was given, from its first scenario to its last: each scenario gets an
    /// even share of what is left, and no new round starts once the share, less the time its
    /// capacity probes will take, is spent.
    #[serde(default)]
    pub budget_s: f64,
    /// Seed of the rounds' shuffled orders.
    #[serde(default)]
    pub seed: u64,
    /// Share of the machine (0..1) other processes could use in a window before it was set
    /// aside as noisy.
    #[serde(default)]
    pub noise_limit: f64,
    /// Longest measured seconds of each capacity probe (before version 3: of each probe).
    pub probe_s: f64,
    /// The latency target of the capacity search: p99 in milliseconds.
    pub p99_target_ms: f64,
    /// Most open-loop rates tried per capacity search.
    pub capacity_probes: u64,
    /// Stacks planned, in order.
    pub stacks: Vec<String>,
    /// Scenarios planned, in order.
    pub scenarios: Vec<String>,
    /// Where PostgreSQL came from: `throwaway` (started for the run on `infra_cpus`) or
    /// `external` (`--database-url`).
    pub database: String,
}

/// What one stack did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StackResult {
    pub id: String,
    pub name: String,
    pub language: String,
    pub framework: String,
    pub framework_version: String,
    pub database: String,
    /// Worker processes it ran with, and the rule that gave the number.
    pub workers: u64,
    /// Threads per worker process, when its manifest sets them (gunicorn's gthread worker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    pub workers_rule: String,
    /// Install: wall seconds of the install that made the copy, installed bytes, packages.
    pub install_seconds: f64,
    pub installed_bytes: u64,
    pub dependencies: u64,
    /// Non-blank, non-comment lines of its implementation: the files its manifest names in
    /// `sources`.
    pub lines_of_code: u64,
    /// The version of the runtime it ran on, as its manifest's `runtime_version` command
    /// reported it in its installed copy (`22.11.0`); none when not recorded.
    #[serde(default)]
    pub runtime_version: Option<String>,
    /// Why it ran on another runtime release than the one asked for (its manifest's
    /// `runtime_release` or `--runtime`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_note: Option<String>,
    /// A reference implementation marking what the hardware allows: shown as the ceiling,
    /// never ranked among the contestants nor recommended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ceiling: bool,
    /// Seconds from start to the first correct answer, per server start.
    pub startup_s: Vec<f64>,
    /// Memory right after start, before any load, in bytes (summed PSS of its processes).
    pub idle_pss_bytes: Option<u64>,
    /// Why the stack could not be measured at all, if it could not.
    pub error: Option<String>,
    pub scenarios: Vec<ScenarioResult>,
    /// What is known of its framework's ecosystem, from its manifest; none when the manifest
    /// has no `[ecosystem]` table (or the run predates the field), and then the advisor gives
    /// the stack no ecosystem score and says so.
    #[serde(default)]
    pub ecosystem: Option<Ecosystem>,
    /// How it serves the WebSocket scenarios, from its manifest's `[websocket]` table; none for
    /// a stack without WebSocket endpoints (it takes no part in them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketServing>,
    /// The library that answers the `data` scenario's `POST /aggregate` (its manifest's
    /// `[data]`), such as pandas or plain code; none: the stack does not take part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_library: Option<String>,
    /// The library that runs the `ml` scenario's model (its manifest's `[ml]`), such as
    /// onnxruntime; none: the stack does not take part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ml_library: Option<String>,
    /// Whether the same library also answers the `ml-image` scenario's `POST /predict/image`
    /// (its `[ml]` says `image = true`); false for results older than the field.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ml_image: bool,
}

impl StackResult {
    /// The side its `language` puts it on; `None` for a language that is neither.
    pub fn side(&self) -> Option<Language> {
        Language::parse(&self.language)
    }

    /// Its workers as a table shows them: `3`, or `3 (ws 1)` when it also ran a WebSocket
    /// scenario with another count.
    pub fn workers_text(&self) -> String {
        let ran_ws = self
            .scenarios
            .iter()
            .any(|c| catalogue::scenario(&c.scenario).is_some_and(|sc| sc.kind.websocket()));
        let workers = match self.threads {
            Some(t) => format!("{} × {t} threads", self.workers),
            None => self.workers.to_string(),
        };
        match &self.websocket {
            Some(ws) if ran_ws && ws.workers != self.workers => {
                format!("{workers} (ws {})", ws.workers)
            }
            _ => workers,
        }
    }

    /// The worker processes it ran `scenario` with: those of its WebSocket serving for a
    /// WebSocket scenario, else `workers`.
    pub fn workers_in(&self, scenario: &str) -> u64 {
        match (&self.websocket, catalogue::scenario(scenario)) {
            (Some(ws), Some(sc)) if sc.kind.websocket() => ws.workers,
            _ => self.workers,
        }
    }
}

/// How a stack serves WebSockets: a room spans the whole server, so the worker count may
/// differ from its HTTP serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebSocketServing {
    /// What serves the endpoints, pinned.
    pub library: String,
    /// Worker processes in the WebSocket scenarios, and the rule that gave the number.
    pub workers: u64,
    pub workers_rule: String,
    /// Services started beside the server (`redis`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
}

/// What one stack did in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioResult {
    pub scenario: String,
    /// The request(s) driven, such as `GET /queries?n=20`.
    pub target: String,
    /// The CPUs its server ran on, when not the run's server CPUs (the GIL scenarios); its
    /// throughput per core is over these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpus: Option<Vec<u64>>,
    /// Its server's worker processes, when not the stack's (other CPUs, or WebSockets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<u64>,
    /// Threads per worker process, when not the stack's (other CPUs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Why the scenario was not measured (failed to start or to verify), if it was not.
    pub error: Option<String>,
    /// Connections of the trials (closed loop).
    pub connections: u64,
    /// Repeated measurements at `connections`, one after another on the same connections.
    pub trials: Vec<Trial>,
    /// The closed-loop sweep's other connection levels, one probe each, in the order run (version
    /// 2; version 3 probes above the maximum in the open loop instead).
    #[serde(default)]
    pub sweep: Vec<Trial>,
    /// How long the server was driven before its trials, and whether its throughput settled.
    #[serde(default)]
    pub warmup: Option<Warmup>,
    /// The open-loop search for the highest rate that meets the latency target.
    pub capacity: Option<Capacity>,
}

/// How a server was brought to a steady state before it was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Warmup {
    /// Seconds it was driven.
    pub seconds: f64,
    /// Its throughput settled: the last windows agreed within the rule of docs/protocol.md.
    /// False when the warm-up's cap came first.
    pub settled: bool,
    /// Requests per second of each window, in order.
    pub windows_rps: Vec<f64>,
}

/// The latency–throughput curve in the open loop and the capacity at the run's latency target:
/// the highest rate whose p99 stayed under the target with no errors, below the lowest rate that
/// missed it. Capacity at any other target is read from the same probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Capacity {
    /// The target: p99 in milliseconds.
    pub target_p99_ms: f64,
    /// The highest rate that met the target, in requests per second; 0 when none did.
    pub rps: f64,
    /// The lowest rate that missed it, when one did: the true capacity lies in between.
    pub missed_rps: Option<f64>,
    /// Every rate tried, in the order tried.
    pub probes: Vec<Probe>,
}

/// One open-loop run of the capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Probe {
    /// Requests per second asked for.
    pub rate: f64,
    /// It met the target: p99 under it, no errors, no non-2xx, the schedule kept.
    pub met: bool,
    /// Why it did not.
    pub reason: Option<String>,
    /// The engine could not send on time even with more connections: the probe says nothing
    /// of the server, met or missed.
    #[serde(default)]
    pub inconclusive: bool,
    pub trial: Trial,
}

/// One measured trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trial {
    /// Connections (closed loop).
    pub connections: u64,
    /// An idle WebSocket trial (ws-idle): the server's memory before it and while its
    /// connections were held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    /// The engine's full result, raw histograms included.
    pub load: LoadReport,
    /// What the server's processes used during the trial.
    pub server: ServerUsage,
    /// The round it belongs to (version 3), from 0.
    #[serde(default)]
    pub round: Option<u64>,
    /// False when the trial must not be ranked (the engine was saturated, errors, or a noisy
    /// machine).
    pub valid: bool,
    /// Why the trial is not valid.
    pub invalid_reason: Option<String>,
    /// Share of the machine's CPU (0 to 1, all cores) used during the trial by processes that
    /// are not part of the measurement: not the server, the engine, PostgreSQL or the delay
    /// service. Above [`OTHER_LOAD_WARNING`], reports warn.
    pub other_load: Option<f64>,
    /// Share of the machine's CPU time the hypervisor took during the trial (0 to 1, all
    /// cores); part of `other_load` too.
    #[serde(default)]
    pub steal: Option<f64>,
}

/// What a server held for idle connections in one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Held {
    /// Connections open at the end of the hold.
    pub connections: u64,
    /// The server's summed PSS just before the trial opened its first connection.
    pub pss_before_bytes: u64,
    /// Its mean summed PSS while they were held.
    pub pss_held_bytes: u64,
}

/// Other processes' share of the machine above which a trial's figures are flagged.
pub const OTHER_LOAD_WARNING: f64 = 0.05;

/// What a server's whole process tree used during a trial. Forked workers share pages with
/// their parent, so summed RSS counts shared pages once per process; summed PSS divides each
/// shared page among its sharers and is the memory the tree really holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerUsage {
    /// CPU time the server's processes used during the trial, in seconds.
    pub cpu_seconds: f64,
    /// Summed RSS of the server's processes: peak and mean over the samples, in bytes.
    pub rss_peak_bytes: u64,
    pub rss_mean_bytes: u64,
    /// Summed PSS: peak and mean over the samples, in bytes.
    pub pss_peak_bytes: u64,
    pub pss_mean_bytes: u64,
    /// Samples taken.
    pub samples: u64,
    /// The samples themselves, in time order.
    #[serde(default)]
    pub series: Vec<UsageSample>,
}

/// One reading of the server's processes during a trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UsageSample {
    /// Seconds from the start of the trial.
    pub at_s: f64,
    /// CPU seconds the processes had used since the start of the trial.
    pub cpu_s: f64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    /// Live processes.
    pub processes: u64,
}

impl RunResult {
    /// Writes the result atomically (a temporary file renamed into place), so a crash never
    /// leaves a half-written file.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, path)
    }

    /// Reads a saved result of this version or an older one it can read.
    pub fn load(path: &Path) -> Result<RunResult, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        RunResult::parse(&text).map_err(|e| format!("'{}' {e}", path.display()))
    }

    /// Parses a result, checking its version first so that a result of another version gets
    /// one clear line rather than a missing-field error.
    pub fn parse(text: &str) -> Result<RunResult, String> {
        #[derive(Deserialize)]
        struct Versioned {
            schema_version: Option<u32>,
        }
        let v: Versioned = serde_json::from_str(text)
            .map_err(|e| format!("is not a stackwise run result: {e}"))?;
        match v.schema_version {
            Some(v) if (OLDEST_READABLE..=SCHEMA_VERSION).contains(&v) => {}
            Some(v) => {
                return Err(format!(
                    "is a run result of version {v}; this stackwise reads versions \
                     {OLDEST_READABLE} to {SCHEMA_VERSION}"
                ))
            }
            None => return Err("is not a stackwise run result: no schema_version".into()),
        }
        serde_json::from_str(text).map_err(|e| format!("is not a stackwise run result: {e}"))
    }
}

/// The JSON Schema of [`RunResult`], as committed in `schema/run-result.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RunResult);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled reference results as an older stackwise saved them: without `fields` in
    /// each stack record, and without the scenarios whose id starts with `dropped`.
    fn older_reference(fields: &[&str], dropped: &str) -> String {
        let text = include_str!("../../../data/reference/results.json");
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        for s in v["stacks"].as_array_mut().unwrap() {
            let s = s.as_object_mut().unwrap();
            for f in fields {
                s.remove(*f);
            }
            if let Some(scenarios) = s.get_mut("scenarios").and_then(|x| x.as_array_mut()) {
                scenarios.retain(|x| {
                    !x["scenario"]
                        .as_str()
                        .is_some_and(|id| !dropped.is_empty() && id.starts_with(dropped))
                });
            }
        }
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn a_result_saved_before_runtime_versions_per_stack_loads() {
        let text = older_reference(&["runtime_version"], "");
        let text = text.as_str();
        assert!(!text.contains("runtime_version"));
        let r = RunResult::parse(text).unwrap();
        assert!(!r.stacks.is_empty());
        assert!(r.stacks.iter().all(|s| s.runtime_version.is_none()));

        // Recorded, it is saved and read back.
        let mut r = r;
        r.stacks[0].runtime_version = Some("22.11.0".into());
        let back = RunResult::parse(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.stacks[0].runtime_version.as_deref(), Some("22.11.0"));
        assert!(json_schema().contains("\"runtime_version\""));
    }

    #[test]
    fn a_stack_names_its_websocket_workers_where_it_ran_websockets() {
        let text = older_reference(&["websocket"], "ws-");
        let mut r = RunResult::parse(&text).unwrap();
        let s = &mut r.stacks[0];
        assert!(s.websocket.is_none());
        s.workers = 2;
        assert_eq!(s.workers_text(), "2");
        assert_eq!(s.workers_in("ws-echo"), 2);

        s.websocket = Some(WebSocketServing {
            library: "ws 8".into(),
            workers: 1,
            workers_rule: "one process: rooms live in its memory".into(),
            services: Vec::new(),
        });
        // No WebSocket scenario ran: the HTTP count alone.
        assert_eq!(s.workers_text(), "2");
        let mut echo = s.scenarios[0].clone();
        echo.scenario = "ws-echo".into();
        s.scenarios.push(echo);
        assert_eq!(s.workers_text(), "2 (ws 1)");
        assert_eq!(s.workers_in("ws-echo"), 1);
        assert_eq!(s.workers_in(&s.scenarios[0].scenario.clone()), 2);

        let back = RunResult::parse(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.stacks[0].websocket.as_ref().unwrap().workers, 1);
        assert!(json_schema().contains("\"websocket\""));
    }
}
