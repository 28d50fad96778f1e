//! One engine run against one server with the server's processes sampled: the unit every part
//! of the protocol is made of (warm-ups excepted, which watch the engine's live counters).

use std::time::{Duration, Instant};

use stackwise_engine::{
    worker, Live, Load, LoadReport, Plan, RequestSpec, Stop, Target, WsMode, WsPlan,
};
use stackwise_results::catalogue::{Kind, Scenario};
use stackwise_results::{Held, ServerUsage, Trial};

use crate::sample::{wait_idle, Machine, Sampler};

/// How often the server's processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Longest wait for a server to finish requests abandoned at the end of a load run.
const DRAIN: Duration = Duration::from_secs(15);

/// An idle scenario's handshakes under way at once at the start, and at most (the engine adds
/// more when the server answers them too slowly for the rate), as `stackwise load` does.
const IDLE_HANDSHAKES: usize = 64;
const IDLE_MOST_HANDSHAKES: usize = 1024;

/// Time left out at each end of an idle run's hold before its memory is read: the last
/// handshakes' buffers, and the closing of the connections.
const HOLD_MARGIN: Duration = Duration::from_millis(200);

/// The engine's requests for `scenario`: a GET per request, or a POST per body it carries, each
/// under the request's tag, so that the `ml` scenario's batches are sent in turn and reported as
/// one.
fn requests(scenario: &Scenario) -> Vec<RequestSpec> {
    let spec = |r: &stackwise_results::catalogue::Request, body: &[u8]| RequestSpec {
        tag: r.tag.to_string(),
        weight: r.weight,
        method: r.body.method().into(),
        path: r.path.to_string(),
        headers: r
            .body
            .content_type()
            .map(|t| ("Content-Type".to_string(), t.to_string()))
            .into_iter()
            .collect(),
        body: body.to_vec(),
    };
    scenario
        .requests
        .iter()
        .flat_map(|r| match crate::models::bodies(r.body) {
            [] => vec![spec(r, &[])],
            bodies => bodies.iter().map(|b| spec(r, b)).collect(),
        })
        .collect()
}

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
    /// The CPUs the server runs on; the load engine may share them (the GIL scenarios on a
    /// machine of few cores), and then its share of them is measured.
    pub server_cpus: &'a [usize],
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
    /// An idle run: the server's memory before the connections and while they were held.
    pub held: Option<Held>,
    /// The load engine's CPU as a share of the server's CPUs, when it runs on some of them.
    pub engine_share: Option<f64>,
}

/// Most of the server's CPUs the load engine may use when it shares them before a trial is
/// not ranked: beyond it the engine takes CPU the server's throughput is measured on.
pub const ENGINE_SHARE_LIMIT: f64 = 0.05;

impl Subject<'_> {
    /// The engine's plan for `load` against this server: `settle` driven and not counted, then
    /// `measure` measured. A closed loop's connections start over the first half of the settle,
    /// so a server meets its concurrency gradually.
    ///
    /// An idle scenario's plan is always the same, whatever it is asked: the scenario's
    /// connections opened at its rate, then held (no settle, the ramp measured).
    pub fn plan(&self, load: Load, settle: Duration, measure: Duration) -> Result<Plan, String> {
        let path = self.scenario.requests[0].path.to_string();
        let mut stop = Stop::Duration(measure);
        let mut settle = settle;
        let (ws, load) = match self.scenario.kind {
            Kind::Http => (None, load),
            Kind::WsIdle { rate, hold } => {
                let n = self.scenario.connections;
                stop = Stop::Count(n as u64);
                settle = Duration::ZERO;
                (
                    Some(WsPlan {
                        mode: WsMode::Idle { hold },
                        path,
                        message_size: 0,
                    }),
                    Load::Constant {
                        rate: rate as f64,
                        connections: IDLE_HANDSHAKES.min(n),
                        max_connections: IDLE_MOST_HANDSHAKES.min(n),
                    },
                )
            }
            Kind::WsEcho { message_size } => (
                Some(WsPlan {
                    mode: WsMode::Echo,
                    path,
                    message_size,
                }),
                load,
            ),
            Kind::WsBroadcast {
                rooms,
                message_size,
            } => (
                Some(WsPlan {
                    mode: WsMode::Broadcast { rooms, senders: 1 },
                    path,
                    message_size,
                }),
                self.broadcast_load(load, rooms),
            ),
        };
        let base = match ws {
            Some(_) => self.base.replacen("http://", "ws://", 1),
            None => self.base.clone(),
        };
        let target = Target::resolve(&format!("{base}/")).map_err(|e| e.to_string())?;
        let (ramp, connect_first) = match (&load, &ws) {
            // Every member joins its room before a broadcast starts.
            (
                _,
                Some(WsPlan {
                    mode: WsMode::Broadcast { .. },
                    ..
                }),
            ) => (Duration::ZERO, false),
            (Load::Closed { .. }, _) => (settle / 2, true),
            (Load::Constant { .. }, _) => (Duration::ZERO, false),
        };
        let warmup = settle;
        let plan = Plan {
            requests: requests(self.scenario),
            target,
            load,
            stop,
            warmup,
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

    /// A broadcast's load in the engine's terms. The protocol counts deliveries, as the
    /// engine's results do: an open loop's rate of deliveries is a publishing rate of that over
    /// the room's size. Its connections are the rooms' members, always all of them.
    fn broadcast_load(&self, load: Load, rooms: usize) -> Load {
        let members = self.scenario.connections;
        match load {
            Load::Closed { .. } => Load::Closed {
                connections: members,
            },
            Load::Constant { rate, .. } => Load::Constant {
                rate: rate / (members / rooms.max(1)).max(1) as f64,
                connections: members,
                max_connections: members,
            },
        }
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
        let returned = Instant::now();
        let samples = sampler.finish();
        let out = out.map_err(|e| e.to_string())?;
        let load = LoadReport::from_run(&plan, &out).map_err(|e| e.to_string())?;
        let from = out.measure_start;
        let to = from + out.whole.elapsed;
        let (usage, machine) = samples.between(from, to);
        // The hold follows the measured ramp and lasts until the run returns.
        let held = load.ws.as_ref().and_then(|w| w.idle.as_ref()).map(|idle| {
            let (during, _) = samples.between(to + HOLD_MARGIN, returned - HOLD_MARGIN);
            Held {
                connections: idle.held,
                pss_before_bytes: samples.pss_before(from).unwrap_or(0),
                pss_held_bytes: during.pss_mean_bytes,
            }
        });
        let failure = samples
            .processes_changed(from, to)
            .or_else(|| silent(&load))
            .or_else(|| misdelivered(&load));
        // A server that stopped answering would keep the drain waiting for nothing.
        if failure.is_none() {
            self.drain();
        }
        let shared = self.server_cpus.iter().any(|c| self.load_cpus.contains(c));
        let engine_share = (shared && load.elapsed_s > 0.0).then(|| {
            load.engine.cpu_seconds / (load.elapsed_s * self.server_cpus.len().max(1) as f64)
        });
        Ok(Window {
            load,
            usage,
            machine,
            failure,
            held,
            engine_share,
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
            let agent = crate::net::agent(DRAIN);
            let url = format!("{}{}", self.base, r.path);
            let _ = match (r.body.content_type(), crate::models::bodies(r.body).first()) {
                (Some(media), Some(body)) => agent
                    .post(&url)
                    .header("Content-Type", media)
                    .send(&body[..]),
                _ => agent.get(&url).call(),
            };
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
    if let Some(share) = w.engine_share.filter(|&e| e > ENGINE_SHARE_LIMIT) {
        reasons.push(format!(
            "the load engine used {:.1}% of the server's CPUs, which it shares in this scenario \
             (at most {:.0}%)",
            share * 100.0,
            ENGINE_SHARE_LIMIT * 100.0
        ));
    }
    if let Some(other) = w.machine.other_load.filter(|&o| o > noise_limit) {
        reasons.push(format!(
            "noisy: other processes used {:.0}% of the machine",
            other * 100.0
        ));
    }
    if let Some(idle) = w.load.ws.as_ref().and_then(|ws| ws.idle.as_ref()) {
        let lost: u64 = idle.lost_in_hold.values().sum();
        if idle.held < idle.target {
            reasons.push(format!(
                "{} of {} connections held to the end ({} lost while held)",
                idle.held, idle.target, lost
            ));
        }
    }
    Trial {
        connections: connections as u64,
        held: w.held,
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

/// Why a broadcast window shows a server that broke its rooms' contract (docs/spec.md): a
/// message delivered twice or out of its sender's order, or, in a closed loop (where each room
/// has one message on its way), a delivery that never came. An open loop's lost deliveries are
/// a server falling behind the schedule: the probe misses its target instead.
pub fn misdelivered(load: &LoadReport) -> Option<String> {
    let b = load.ws.as_ref()?.broadcast.as_ref()?;
    let closed = load.plan.mode == stackwise_engine::load_report::Mode::Closed;
    let mut why = Vec::new();
    if b.duplicated > 0 {
        why.push(format!("{} deliveries twice", b.duplicated));
    }
    if b.out_of_order > 0 {
        why.push(format!(
            "{} deliveries out of their sender's order",
            b.out_of_order
        ));
    }
    // Members that could not join lose every delivery; their failed handshakes are the
    // errors that already set the trial aside.
    if closed && b.lost > 0 && load.summary.errors == 0 {
        why.push(format!("{} of {} deliveries lost", b.lost, b.expected));
    }
    (!why.is_empty()).then(|| format!("the server broke its rooms: {}", why.join(", ")))
}
