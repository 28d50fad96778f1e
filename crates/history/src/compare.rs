//! What changed between two runs: first whatever could explain a difference (host, runtime and
//! framework versions, settings), then each stack × scenario both measured, figure by figure,
//! with whether a throughput change is beyond the trials' noise, then what only one side has.
//!
//! Pure data over two [`RunResult`]s, summarised with [`stackwise_results::summary`] so the
//! figures are those every report shows; rendering is the caller's.

use std::collections::BTreeSet;
use std::fmt;

use stackwise_results::summary::{cells, find, Cell, Spread};
use stackwise_results::RunResult;

/// Two runs compared, A the earlier (or reference) one.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    /// Host, versions and settings that differ, in a fixed order.
    pub differences: Vec<Difference>,
    /// Every stack × scenario present in both, in A's order.
    pub cells: Vec<CellChange>,
    /// Stacks, scenarios and cells only A has.
    pub only_a: Vec<Only>,
    /// Stacks, scenarios and cells only B has.
    pub only_b: Vec<Only>,
}

/// One setting or version that is not the same in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Such as `kernel`, `node` or `express version`.
    pub what: String,
    /// Its value in A and in B; `-` when a side does not have it.
    pub a: String,
    pub b: String,
}

/// One stack × scenario measured in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CellChange {
    pub stack: String,
    pub scenario: String,
    /// Requests per second per server core.
    pub per_core: Change,
    /// p99 latency in milliseconds.
    pub p99_ms: Change,
    /// Capacity at the p99 target, requests per second per server core.
    pub capacity_per_core: (Option<f64>, Option<f64>),
    /// Why a side was not measured.
    pub error_a: Option<String>,
    pub error_b: Option<String>,
}

/// A figure's trials in A and in B.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub a: Option<Spread>,
    pub b: Option<Spread>,
}

impl Change {
    /// B's median relative to A's, in percent.
    pub fn percent(&self) -> Option<f64> {
        percent(self.a?.median, self.b?.median)
    }

    /// Whether the two ranges of trials overlap, so the run does not establish a change.
    pub fn within_noise(&self) -> Option<bool> {
        Some(self.a?.overlaps(&self.b?))
    }
}

/// `b` relative to `a` in percent; `None` when `a` is 0.
pub fn percent(a: f64, b: f64) -> Option<f64> {
    (a != 0.0).then(|| (b - a) / a * 100.0)
}

/// Something only one of the two runs has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Only {
    Stack(String),
    Scenario(String),
    /// A cell of a stack and a scenario both runs have, measured in one only (an interrupted
    /// run, say).
    Cell {
        stack: String,
        scenario: String,
    },
}

impl fmt::Display for Only {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Only::Stack(s) => write!(f, "stack {s}"),
            Only::Scenario(s) => write!(f, "scenario {s}"),
            Only::Cell { stack, scenario } => write!(f, "{stack} {scenario}"),
        }
    }
}

/// Compares run `b` with run `a`.
pub fn compare(a: &RunResult, b: &RunResult) -> Comparison {
    let (cells_a, cells_b) = (cells(a), cells(b));
    let stacks_a: Vec<&str> = a.stacks.iter().map(|s| s.id.as_str()).collect();
    let stacks_b: Vec<&str> = b.stacks.iter().map(|s| s.id.as_str()).collect();
    let (scen_a, scen_b) = (&a.settings.scenarios, &b.settings.scenarios);

    let mut changes = Vec::new();
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    for stack in stacks_a.iter().filter(|s| stacks_b.contains(s)) {
        for scenario in scen_a.iter().filter(|s| scen_b.contains(s)) {
            match (
                find(&cells_a, stack, scenario),
                find(&cells_b, stack, scenario),
            ) {
                (Some(ca), Some(cb)) => changes.push(change(ca, cb)),
                (Some(_), None) => only_a.push(cell_only(stack, scenario)),
                (None, Some(_)) => only_b.push(cell_only(stack, scenario)),
                (None, None) => {}
            }
        }
    }
    let one_sided = |mine: &[&str], theirs: &[&str], mine_sc: &[String], theirs_sc: &[String]| {
        let stacks = mine
            .iter()
            .filter(|s| !theirs.contains(s))
            .map(|s| Only::Stack((*s).to_string()));
        let scenarios = mine_sc
            .iter()
            .filter(|s| !theirs_sc.contains(s))
            .map(|s| Only::Scenario(s.clone()));
        stacks.chain(scenarios).collect::<Vec<_>>()
    };
    let mut a_side = one_sided(&stacks_a, &stacks_b, scen_a, scen_b);
    a_side.append(&mut only_a);
    let mut b_side = one_sided(&stacks_b, &stacks_a, scen_b, scen_a);
    b_side.append(&mut only_b);

    Comparison {
        a: a.id.clone(),
        b: b.id.clone(),
        differences: differences(a, b),
        cells: changes,
        only_a: a_side,
        only_b: b_side,
    }
}

fn cell_only(stack: &str, scenario: &str) -> Only {
    Only::Cell {
        stack: stack.to_string(),
        scenario: scenario.to_string(),
    }
}

fn change(a: &Cell, b: &Cell) -> CellChange {
    CellChange {
        stack: a.stack.clone(),
        scenario: a.scenario.clone(),
        per_core: Change {
            a: a.per_core,
            b: b.per_core,
        },
        p99_ms: Change {
            a: a.p99_ms,
            b: b.p99_ms,
        },
        capacity_per_core: (a.capacity_per_core, b.capacity_per_core),
        error_a: a.error.clone(),
        error_b: b.error.clone(),
    }
}

/// Host, versions and settings that differ.
fn differences(a: &RunResult, b: &RunResult) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut diff = |what: &str, x: String, y: String| {
        if x != y {
            out.push(Difference {
                what: what.to_string(),
                a: x,
                b: y,
            });
        }
    };
    let (ha, hb) = (&a.host, &b.host);
    diff("cpu model", ha.cpu_model.clone(), hb.cpu_model.clone());
    diff("cores", ha.cores.to_string(), hb.cores.to_string());
    diff("kernel", ha.kernel.clone(), hb.kernel.clone());
    diff("memory", gib(ha.memory_bytes), gib(hb.memory_bytes));
    let runtimes: BTreeSet<&String> = a.versions.keys().chain(b.versions.keys()).collect();
    for name in runtimes {
        let v = |r: &RunResult| r.versions.get(name).cloned().unwrap_or_else(|| "-".into());
        diff(name, v(a), v(b));
    }
    for sa in &a.stacks {
        let Some(sb) = b.stacks.iter().find(|s| s.id == sa.id) else {
            continue;
        };
        let framework =
            |s: &stackwise_results::StackResult| format!("{} {}", s.framework, s.framework_version);
        diff(
            &format!("{} framework", sa.id),
            framework(sa),
            framework(sb),
        );
        diff(
            &format!("{} workers", sa.id),
            sa.workers.to_string(),
            sb.workers.to_string(),
        );
    }
    let (sa, sb) = (&a.settings, &b.settings);
    let mode = |r: &RunResult| if r.quick { "quick" } else { "full" }.to_string();
    diff("run", mode(a), mode(b));
    diff("duration", secs(sa.duration_s), secs(sb.duration_s));
    diff("warm-up", secs(sa.warmup_s), secs(sb.warmup_s));
    diff("trials", sa.trials.to_string(), sb.trials.to_string());
    diff("probe", secs(sa.probe_s), secs(sb.probe_s));
    diff(
        "p99 target",
        format!("{} ms", sa.p99_target_ms),
        format!("{} ms", sb.p99_target_ms),
    );
    diff(
        "capacity probes",
        sa.capacity_probes.to_string(),
        sb.capacity_probes.to_string(),
    );
    diff("server cpus", cpus(&sa.server_cpus), cpus(&sb.server_cpus));
    diff("load cpus", cpus(&sa.load_cpus), cpus(&sb.load_cpus));
    diff("database", sa.database.clone(), sb.database.clone());
    diff("tool", a.tool.clone(), b.tool.clone());
    out
}

fn secs(s: f64) -> String {
    format!("{s} s")
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn cpus(list: &[u64]) -> String {
    list.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
