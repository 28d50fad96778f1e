//! One engine run against one server with the server's processes sampled: the unit every part
//! of the protocol is made of (warm-ups excepted, which watch the engine's live counters).

use std::time::Duration;

use stackwise_engine::{
    worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target, WsMode, WsPlan,
};
use stackwise_results::catalogue::{Kind, Scenario};
use stackwise_results::{ServerUsage, Trial};

use crate::sample::{wait_idle, Machine, Sampler};

/// How often the server's processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Longest wait for a server to finish requests abandoned at the end of a load run.
const DRAIN: Duration = Duration::from_secs(15);

/// The server under load and what the measurement's other processes are.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub scenario: &'static Scenario,
    /// The server's process group.
    pub server: i32,
    /// The process groups of the services started for it (a Redis joining its processes):
    /// their CPU and memory count as the server's.
    pub services: Vec<i32>,
    /// Roots of the measurement's other process trees (PostgreSQL, the other servers), whose
    /// CPU is not "other load".
    pub also_ours: Vec<i32>,
    pub load_cpus: &'a [usize],
    pub infra_cpus: &'a [usize],
}

/// What one engine run measured.
#[derive(Debug, Clone)]
pub struct Window {
    pub load: LoadReport,
    pub usage: ServerUsage,
    pub machine: Machine,
    /// The server failed in the window: it exited, a worker was replaced, or it stopped
    /// answering. The window is invalid and the stack is failed for the scenario.
    pub failure: Option<String>,
}

impl Subject<'_> {
    /// The engine's plan for `load` against this server: `settle` driven and not counted, then
    /// `measure` measured. A closed loop's connections start over the first half of the settle,
    /// so a server meets its concurrency gradually.
    pub fn plan(&self, load: Load, settle: Duration, measure: Duration) -> Result<Plan, String> {
        let ws = match self.scenario.kind {
            Kind::Http => None,
            Kind::WsEcho { message_size } => Some(WsPlan {
                mode: WsMode::Echo,
                path: self.scenario.requests[0].path.to_string(),
                message_size,
            }),
        };
        let base = match ws {
            Some(_) => self.base.replacen("http://", "ws://", 1),
            None => self.base.clone(),
        };
        let target = Target::resolve(&format!("{base}/")).map_err(|e| e.to_string())?;
        let (ramp, connect_first) = match load {
            Load::Closed { .. } => (settle / 2, true),
            Load::Constant { .. } => (Duration::ZERO, false),
        };
        let plan = Plan {
            requests: self
                .scenario
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
            stop: Stop::Duration(measure),
            warmup: settle,
            threads: self.load_cpus.len(),
            cpus: Some(self.load_cpus.to_vec()),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(30),
            windows: 1,
            ramp,
            connect_first,
            ws,
        };
        plan.validate().map_err(|e| e.to_string())?;
        Ok(plan)
    }

    /// Runs `load` against the server and samples its processes over the measured window; then
    /// waits for the server to go idle, so the next run does not inherit its backlog.
    pub fn drive(&self, load: Load, settle: Duration, measure: Duration) -> Result<Window, String> {
        let plan = self.plan(load, settle, measure)?;
        let sampler = Sampler::start(
            std::iter::once(self.server)
                .chain(self.services.iter().copied())
                .collect(),
            self.also_ours.clone(),
            SAMPLE_EVERY,
            Some(self.infra_cpus.to_vec()),
        );
        let out = worker::run(&plan, &Live::new(), || {});
        let samples = sampler.finish();
        let out = out.map_err(|e| e.to_string())?;
        let load = LoadReport::from_run(&plan, &out).map_err(|e| e.to_string())?;
        let from = out.measure_start;
        let to = from + out.whole.elapsed;
        let (usage, machine) = samples.between(from, to);
        let failure = samples
            .processes_changed(from, to)
            .or_else(|| silent(&load));
        // A server that stopped answering would keep the drain waiting for nothing.
        if failure.is_none() {
            self.drain();
        }
        Ok(Window {
            load,
            usage,
            machine,
            failure,
        })
    }
}

impl Subject<'_> {
    /// Waits until the server has worked through what a load run left it: requests whose
    /// clients are gone, queued in its accept backlog or in flight. Its CPU going quiet is not
    /// enough for a server that waits (a sleep, the database, an upstream call), so one more
    /// request is sent and waited for: it is answered after those queued before it.
    pub fn drain(&self) {
        wait_idle(self.server, DRAIN);
        // A WebSocket load's connections are closed by the end of the run: their messages
        // were answered or are lost with them.
        if self.scenario.kind.websocket() {
            return;
        }
        if let Some(r) = self.scenario.requests.first() {
            let _ = crate::net::agent(DRAIN)
                .get(&format!("{}{}", self.base, r.path))
                .call();
        }
    }
}

/// Why a closed-loop window shows a server that stopped answering: nothing came back, and
/// nothing failed either. A trial's window lasts at least one request cycle, so a live server
/// answers in it. An open-loop probe may well end before its first answers come back (fastapi
/// in `upstream` takes seconds at 55 req/s); a server that hangs in one misses the target with
/// its unanswered requests counted in the latency.
fn silent(load: &LoadReport) -> Option<String> {
    let s = &load.summary;
    let d = &load.engine.delivery;
    let closed = load.plan.mode == stackwise_engine::load_report::Mode::Closed;
    (closed && s.requests == 0 && s.errors == 0).then(|| {
        format!(
            "the server stopped answering: no response in the {:.1} s window ({} requests sent \
             in it)",
            load.elapsed_s, d.sent
        )
    })
}

/// A window as a trial of `round`, judged: never ranked when the engine was the bottleneck, a
/// request failed, or other processes used more than `noise_limit` of the machine.
pub fn trial(w: Window, connections: usize, round: Option<u64>, noise_limit: f64) -> Trial {
    let mut reasons: Vec<String> = w.failure.iter().cloned().collect();
    if w.load.engine.saturated {
        reasons.push(format!(
            "the load engine was saturated ({:.0}% of its cores)",
            w.load.engine.utilisation * 100.0
        ));
    }
    let s = &w.load.summary;
    if s.errors > 0 || s.non_2xx > 0 {
        reasons.push(format!(
            "{} errors and {} non-2xx responses",
            s.errors, s.non_2xx
        ));
    }
    if let Some(other) = w.machine.other_load.filter(|&o| o > noise_limit) {
        reasons.push(format!(
            "noisy: other processes used {:.0}% of the machine",
            other * 100.0
        ));
    }
    Trial {
        connections: connections as u64,
        round,
        valid: reasons.is_empty(),
        invalid_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        server: w.usage,
        load: w.load,
        other_load: w.machine.other_load,
        steal: w.machine.steal,
    }
}

/// Whether a trial was set aside for noise alone, so that a new window may stand in for it.
pub fn only_noisy(t: &Trial) -> bool {
    t.invalid_reason
        .as_deref()
        .is_some_and(|r| r.starts_with("noisy:"))
}
