//! The result of a `stackwise run`: one serialisable model, saved as `results.json` after every
//! scenario so that an interruption loses nothing, read back by reports and the advisor.
//!
//! The lab fills it; nothing here starts a process or renders anything. Load figures are the
//! engine's own [`LoadReport`]s, raw histograms included, so every statistic can be recomputed.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stackwise_engine::LoadReport;

pub mod catalogue;
pub mod fmt;
pub mod summary;

/// Version of this format; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Versions of the runtimes and the database: node, python, postgres.
    pub versions: BTreeMap<String, String>,
    pub settings: Settings,
    /// One entry per stack, in run order.
    pub stacks: Vec<StackResult>,
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
    /// Measured seconds per trial.
    pub duration_s: f64,
    /// Warm-up seconds before the trials, discarded.
    pub warmup_s: f64,
    /// Trials per scenario.
    pub trials: u64,
    /// Measured seconds of each probe: a connection level of the sweep, a rate of the capacity
    /// search.
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
    pub workers_rule: String,
    /// Install: wall seconds of the install that made the copy, installed bytes, packages.
    pub install_seconds: f64,
    pub installed_bytes: u64,
    pub dependencies: u64,
    /// Non-blank, non-comment lines of its implementation (excluding lockfiles and manifests).
    pub lines_of_code: u64,
    /// Seconds from start to the first correct answer, per server start.
    pub startup_s: Vec<f64>,
    /// Memory right after start, before any load, in bytes (summed PSS of its processes).
    pub idle_pss_bytes: Option<u64>,
    /// Why the stack could not be measured at all, if it could not.
    pub error: Option<String>,
    pub scenarios: Vec<ScenarioResult>,
}

/// What one stack did in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioResult {
    pub scenario: String,
    /// The request(s) driven, such as `GET /queries?n=20`.
    pub target: String,
    /// Why the scenario was not measured (failed to start or to verify), if it was not.
    pub error: Option<String>,
    /// Connections of the trials (closed loop).
    pub connections: u64,
    /// Repeated measurements at `connections`, one after another on the same connections.
    pub trials: Vec<Trial>,
    /// The closed-loop sweep's other connection levels, one probe each, in the order run.
    pub sweep: Vec<Trial>,
    /// The open-loop search for the highest rate that meets the latency target.
    pub capacity: Option<Capacity>,
}

/// The capacity at the latency target: the highest rate, found by bisection between 0 and the
/// closed-loop maximum, whose p99 stayed under the target with no errors.
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
    pub trial: Trial,
}

/// One measured trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trial {
    /// Connections (closed loop).
    pub connections: u64,
    /// The engine's full result, raw histograms included.
    pub load: LoadReport,
    /// What the server's processes used during the trial.
    pub server: ServerUsage,
    /// False when the trial must not be ranked (the engine was saturated, or errors).
    pub valid: bool,
    /// Why the trial is not valid.
    pub invalid_reason: Option<String>,
    /// Share of the machine's CPU (0 to 1, all cores) used during the trial by processes that
    /// are not part of the measurement: not the server, the engine, PostgreSQL or the delay
    /// service. Above [`OTHER_LOAD_WARNING`], reports warn.
    pub other_load: Option<f64>,
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

    pub fn load(path: &Path) -> Result<RunResult, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("'{}' is not a stackwise run result: {e}", path.display()))
    }
}

/// The JSON Schema of [`RunResult`], as committed in `schema/run-result.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RunResult);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}
