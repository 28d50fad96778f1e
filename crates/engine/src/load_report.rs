//! The result of a load run: one serialisable model, computed from raw recordings.
//!
//! Everything here is a pure function of a [`Plan`] and the merged [`Recording`](crate::record::Recording): percentiles,
//! rates, the engine's saturation verdict and the warnings. The raw histograms travel inside the
//! result (base64 of HdrHistogram's V2 encoding), so results of shards of one run merge exactly
//! ([`LoadReport::merge`]) and nothing needs the original process. The committed JSON Schema
//! (`schema/load-report.schema.json`) is generated from these types.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cpu;
use crate::hdr::{self, HdrError};
use crate::plan::{Load, Plan, Stop, WsMode};
use crate::record::{
    latency_histogram, ErrorKind, Recording, SenderCounts, TagRecording, LATE_AFTER,
};
use crate::worker::RunOutput;

/// Version of this format; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// The result of one `stackwise load` run, or of several shards of one run merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadReport {
    /// Version of this format.
    pub schema_version: u32,
    /// The program that measured, with its version.
    pub tool: String,
    /// When the run started (warm-up included), RFC 3339, UTC.
    pub started_at: String,
    /// What was asked for.
    pub plan: PlanReport,
    /// Length of the measured window, in seconds (warm-up excluded).
    pub elapsed_s: f64,
    /// All requests of the mix together.
    pub summary: Summary,
    /// Each request of the mix on its own, in mix order.
    pub tags: Vec<TagReport>,
    /// The load engine's own CPU use, and whether it limited the result.
    pub engine: EngineReport,
    /// Things a reader must know before trusting the numbers.
    pub warnings: Vec<String>,
    /// How many engine processes' results this one joins (1 for a single run).
    pub shards: u32,
    /// A WebSocket run (`ws://`): its mode and what only WebSocket has. Absent for HTTP. In a
    /// WebSocket run the summary and the tag count messages, not HTTP responses: in echo each
    /// echo, in broadcast each first delivery of a message to a member, in idle each completed
    /// handshake; `status` stays empty and `ok` counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws: Option<WsReport>,
}

/// What a WebSocket run did beyond the common figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WsReport {
    /// `echo`: each message answered by its echo; `broadcast`: rooms whose members receive
    /// every message published in the room; `idle`: connections opened and held.
    pub mode: WsModeName,
    /// Bytes of each message sent (echo and broadcast).
    pub message_size: u64,
    /// Opening handshakes, from the start of the TCP connect to the server's 101, in
    /// microseconds (not corrected: a handshake has no intended time, except in idle, whose
    /// summary latency is the handshake from its scheduled time).
    pub handshake: Percentiles,
    /// The raw histogram behind `handshake`, encoded as in `Histograms`.
    pub handshake_histogram: String,
    /// Broadcast only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<BroadcastReport>,
    /// Idle only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleReport>,
}

/// The WebSocket workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WsModeName {
    Echo,
    Broadcast,
    Idle,
}

/// Broadcast fan-out: every message published, against its deliveries. The summary's latency
/// is the delivery latency of every first delivery, from the message's intended send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastReport {
    /// Rooms.
    pub rooms: u64,
    /// Members of each room, publishers included.
    pub room_size: u64,
    /// Publishers in each room.
    pub senders_per_room: u64,
    /// Messages published in the measured window, all senders together.
    pub published: u64,
    /// Deliveries those messages owed: each to every member of its room, its sender included.
    pub expected: u64,
    /// First deliveries received.
    pub delivered: u64,
    /// Deliveries owed and not received within the drain after the run (a member that could
    /// not join loses all of its).
    pub lost: u64,
    /// Deliveries of a message a member had already received.
    pub duplicated: u64,
    /// First deliveries that arrived after a later message of the same sender.
    pub out_of_order: u64,
    /// First deliveries per second: the fan-out rate the server achieved.
    pub delivered_per_s: f64,
    /// How long members kept receiving after the last publish, in seconds.
    pub drain_s: f64,
    /// The same counts, sender by sender (numbered room by room).
    pub senders: Vec<SenderReport>,
}

/// One broadcast sender's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SenderReport {
    /// Its room.
    pub room: u64,
    /// Its number over the run.
    pub sender: u64,
    pub published: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
}

/// Idle connections: the ramp and the hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdleReport {
    /// Connections asked for.
    pub target: u64,
    /// Connections opened per second asked for.
    pub connect_rate: f64,
    /// How long the connections were held once the ramp's schedule ended, in seconds. The
    /// result's measured window (`elapsed_s`, the engine's CPU) is the ramp: from the start
    /// to the last handshake.
    pub hold_s: f64,
    /// Connections still open when the hold ended.
    pub held: u64,
    /// Connections lost during the hold, by kind.
    pub lost_in_hold: BTreeMap<String, u64>,
}

/// The load that was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanReport {
    /// The target URL as given, a password in it masked.
    pub url: String,
    /// `closed`: each connection sends when its last response arrives; `constant`: a fixed rate.
    pub mode: Mode,
    /// Connections asked for (in a constant-rate run, the ones opened at the start).
    pub connections: u64,
    /// Constant rate: the most connections the engine may open to keep the schedule.
    pub max_connections: Option<u64>,
    /// Constant rate: requests per second asked for.
    pub rate: Option<f64>,
    /// Measured duration asked for, in seconds; absent when the run stops after a count.
    pub duration_s: Option<f64>,
    /// Measured requests asked for; absent when the run stops after a duration.
    pub count: Option<u64>,
    /// Warm-up driven before measuring, in seconds.
    pub warmup_s: f64,
    /// Connect timeout, in seconds.
    pub connect_timeout_s: f64,
    /// Request timeout, in seconds.
    pub request_timeout_s: f64,
    /// Worker threads that drove the load.
    pub threads: u64,
    /// CPUs the worker threads were pinned to, if any.
    pub cpus: Option<Vec<u64>>,
    /// The request mix.
    pub requests: Vec<RequestReport>,
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Closed,
    Constant,
}

/// One request of the mix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReport {
    /// Name its results are reported under.
    pub tag: String,
    /// Relative share of the mix.
    pub weight: u32,
    pub method: String,
    /// Path and query.
    pub path: String,
}

/// Counts and latency of a set of requests in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Responses received, whatever their status.
    pub requests: u64,
    /// Responses per second.
    pub throughput_rps: f64,
    /// Responses with a 2xx status.
    pub ok: u64,
    /// Responses with any other status; kept apart from transport errors.
    pub non_2xx: u64,
    /// Responses by status code.
    pub status: BTreeMap<String, u64>,
    /// Requests that got no response.
    pub errors: u64,
    /// Requests that got no response, by kind: connect_refused, connect_timeout, connect,
    /// timeout, reset, closed, protocol, descriptors (the engine ran out of file descriptors),
    /// io.
    pub error_kinds: BTreeMap<String, u64>,
    /// Requests written that had neither a response nor an error when the measured window
    /// ended (cancelled then); neither in `requests` nor in `errors`. See
    /// `latency.unanswered_in_corrected` for where they count in the latency.
    #[serde(default)]
    pub unanswered: u64,
    /// Response bytes read, heads included.
    pub bytes_read: u64,
    /// Latency of the responses, in microseconds.
    pub latency: Latency,
}

/// Latency measured two ways. In a closed loop both are the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// From the time each request was meant to be sent: includes time spent waiting for a free
    /// connection, so server stalls show (coordinated omission corrected).
    pub corrected: Percentiles,
    /// From the time each request was actually written. Responses only.
    pub uncorrected: Percentiles,
    /// Values in `corrected` that are not responses but requests unanswered when the run ended,
    /// each at its age then, from its intended send time: a lower bound of its latency, so a
    /// server that stops answering shows in the percentiles. Constant rate only; 0 in a closed
    /// loop, whose latency holds responses only.
    #[serde(default)]
    pub unanswered_in_corrected: u64,
}

/// Distribution of latencies, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    pub min_us: u64,
    pub mean_us: f64,
    pub stdev_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p99_9_us: u64,
    pub p99_99_us: u64,
    pub max_us: u64,
}

/// One request of the mix: its counts, latency and raw histograms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagReport {
    /// The request's tag.
    pub tag: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// The raw histograms behind `latency`.
    pub histograms: Histograms,
}

/// Raw HDR histograms (microseconds, 1 µs to 1 h, 3 significant digits), each as base64 of
/// HdrHistogram's compressed V2 encoding: the payload of an interval log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Histograms {
    pub corrected: String,
    pub uncorrected: String,
}

/// The schedule and the connections, asked for against achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Requests written in the measured window.
    pub sent: u64,
    /// Requests written per second.
    pub send_rate: f64,
    /// Constant rate: sends that left more than `late_after_ms` after their intended time.
    pub late_sends: u64,
    /// The lateness beyond which a send counts as late, in milliseconds.
    pub late_after_ms: f64,
    /// Constant rate: sends that fell due in the measured window but could not be made because
    /// every allowed connection was busy.
    pub unsent: u64,
    /// Requests written but neither answered nor failed when the run ended (cancelled); the
    /// sum of `unanswered` over the tags.
    pub in_flight_at_end: u64,
    /// How long the requests in `in_flight_at_end` had waited when the run ended, from their
    /// actual send time, in microseconds; `max_us` is the oldest.
    #[serde(default)]
    pub unanswered_age: Percentiles,
    /// The raw histogram behind `unanswered_age`, encoded as in `Histograms`.
    #[serde(default)]
    pub unanswered_age_histogram: String,
    /// Connections established, reconnects included.
    pub connections_opened: u64,
    /// Most connections open at once (summed over worker threads).
    pub peak_connections: u64,
    /// Constant rate: how late sends left after their intended time, in microseconds: the
    /// engine's own timing error plus any wait for a free connection. It is the whole
    /// difference between corrected and uncorrected latency.
    pub send_lag: Percentiles,
    /// The raw histogram behind `send_lag`, encoded as in `Histograms`.
    pub send_lag_histogram: String,
}

/// How hard the load engine itself worked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngineReport {
    /// CPU time (user + system) the engine used in the measured window, in seconds.
    pub cpu_seconds: f64,
    /// Cores the engine could use: its worker threads, or fewer if pinned to fewer CPUs.
    pub cores: f64,
    /// `cpu_seconds / (elapsed_s * cores)`: 1.0 means every core it had was busy.
    pub utilisation: f64,
    /// The engine was the bottleneck (utilisation at or above `saturation_threshold`): the
    /// result measures the engine, not the server.
    pub saturated: bool,
    /// Utilisation from which the engine counts as saturated.
    pub saturation_threshold: f64,
    /// Share of the whole machine's CPU used by other processes during the window (0 to 1),
    /// a server under test on the same machine included.
    pub other_load: Option<f64>,
    /// The schedule and the connections, asked for against achieved.
    pub delivery: Delivery,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            min_us: h.min(),
            mean_us: h.mean(),
            stdev_us: h.stdev(),
            p50_us: h.value_at_quantile(0.50),
            p90_us: h.value_at_quantile(0.90),
            p99_us: h.value_at_quantile(0.99),
            p99_9_us: h.value_at_quantile(0.999),
            p99_99_us: h.value_at_quantile(0.9999),
            max_us: h.max(),
        }
    }
}

/// `t` as RFC 3339 in UTC, to the second: `2026-11-18T11:06:40Z`. A time before 1970 (a clock
/// set wrong) reads as 1970-01-01T00:00:00Z rather than failing.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t.max(SystemTime::UNIX_EPOCH)).to_string()
}

/// `open`: the run had a constant rate, so its corrected latency holds the unanswered requests.
fn summarise(t: &TagRecording, elapsed: f64, open: bool) -> Summary {
    let requests = t.responses();
    let ok: u64 = t
        .status
        .iter()
        .filter(|(c, _)| (200..300).contains(*c))
        .map(|(_, n)| n)
        .sum::<u64>()
        + t.messages;
    Summary {
        requests,
        throughput_rps: rate(requests, elapsed),
        ok,
        non_2xx: requests - ok,
        status: t.status.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
        errors: t.error_count(),
        error_kinds: t
            .errors
            .iter()
            .map(|(k, n)| (k.as_str().to_string(), *n))
            .collect(),
        unanswered: t.unanswered,
        bytes_read: t.bytes,
        latency: Latency {
            corrected: Percentiles::of(&t.corrected),
            uncorrected: Percentiles::of(&t.uncorrected),
            unanswered_in_corrected: if open { t.unanswered } else { 0 },
        },
    }
}

fn rate(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

impl LoadReport {
    /// The report of a finished run of `plan`: its whole measured window.
    pub fn from_run(plan: &Plan, run: &RunOutput) -> Result<LoadReport, HdrError> {
        LoadReport::of_window(plan, run, &run.whole, plan.stop)
    }

    /// One report per part of the measured window, in order, when the plan splits it (see
    /// [`Plan::windows`]): each is a measurement of its own, with its own histograms, counts and
    /// engine CPU, as if it were a run of that length whose warm-up was everything before it.
    pub fn windows(plan: &Plan, run: &RunOutput) -> Result<Vec<LoadReport>, HdrError> {
        run.windows
            .iter()
            .map(|w| LoadReport::of_window(plan, run, w, Stop::Duration(w.elapsed)))
            .collect()
    }

    fn of_window(
        plan: &Plan,
        run: &RunOutput,
        window: &crate::worker::WindowOutput,
        stop: Stop,
    ) -> Result<LoadReport, HdrError> {
        let cores = match &plan.cpus {
            Some(cpus) => run.threads.min(cpus.len()),
            None => run.threads.min(cpu::allowed_cpus()),
        } as f64;
        let (mode, rate, max_connections) = match plan.load {
            Load::Closed { .. } => (Mode::Closed, None, None),
            Load::Constant {
                rate,
                max_connections,
                ..
            } => (Mode::Constant, Some(rate), Some(max_connections as u64)),
        };
        let (duration_s, count) = match stop {
            Stop::Duration(d) => (Some(d.as_secs_f64()), None),
            Stop::Count(n) => (None, Some(n)),
        };
        let url = match &plan.ws {
            // A broadcast URL is shown as given, with its {room}.
            Some(w) if w.path.contains("{room}") => {
                plan.target
                    .display_url()
                    .replacen(plan.target.url.path(), &w.path, 1)
            }
            _ => plan.target.display_url(),
        };
        let plan_report = PlanReport {
            url,
            mode,
            connections: plan.initial_connections() as u64,
            max_connections,
            rate,
            duration_s,
            count,
            warmup_s: plan.warmup.as_secs_f64(),
            connect_timeout_s: plan.connect_timeout.as_secs_f64(),
            request_timeout_s: plan.request_timeout.as_secs_f64(),
            threads: run.threads as u64,
            cpus: plan
                .cpus
                .as_ref()
                .map(|c| c.iter().map(|&c| c as u64).collect()),
            requests: plan
                .requests
                .iter()
                .map(|r| RequestReport {
                    tag: r.tag.clone(),
                    weight: r.weight,
                    method: r.method.clone(),
                    path: r.path.clone(),
                })
                .collect(),
        };
        let rec = &window.recording;
        let cpu_seconds = window.cpu.as_secs_f64();
        let ws = ws_report(plan, rec, window.elapsed.as_secs_f64())?;
        let mut report = LoadReport::assemble(
            rfc3339(run.started_at),
            plan_report,
            window.elapsed.as_secs_f64(),
            by_tag(plan, &rec.tags)
                .into_iter()
                .map(|(tag, t)| {
                    let h = Histograms::of(&t)?;
                    Ok((tag, t, h))
                })
                .collect::<Result<_, HdrError>>()?,
            cpu_seconds,
            cores,
            window.other_load,
            (
                rec.sent,
                rec.late,
                rec.unsent,
                rec.connections_opened,
                rec.peak_connections,
            ),
            &rec.send_lag,
            &rec.unanswered_age,
            1,
        )?;
        report.ws = ws;
        report.warnings = report.compute_warnings();
        Ok(report)
    }

    /// Builds the report from merged raw data; everything derived is computed here, once.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        started_at: String,
        plan: PlanReport,
        elapsed_s: f64,
        tags: Vec<(String, TagRecording, Histograms)>,
        cpu_seconds: f64,
        cores: f64,
        other_load: Option<f64>,
        (sent, late, unsent, opened, peak): (u64, u64, u64, u64, u64),
        send_lag: &Histogram<u64>,
        unanswered_age: &Histogram<u64>,
        shards: u32,
    ) -> Result<LoadReport, HdrError> {
        let mut all = TagRecording::new();
        for (_, t, _) in &tags {
            all.merge(t);
        }
        let open = plan.mode == Mode::Constant;
        let summary = summarise(&all, elapsed_s, open);
        let utilisation = if elapsed_s > 0.0 && cores > 0.0 {
            cpu_seconds / (elapsed_s * cores)
        } else {
            0.0
        };
        let engine = EngineReport {
            cpu_seconds,
            cores,
            utilisation,
            saturated: utilisation >= cpu::SATURATED,
            saturation_threshold: cpu::SATURATED,
            other_load,
            delivery: Delivery {
                sent,
                send_rate: rate(sent, elapsed_s),
                late_sends: late,
                late_after_ms: LATE_AFTER.as_secs_f64() * 1000.0,
                unsent,
                in_flight_at_end: all.unanswered,
                unanswered_age: Percentiles::of(unanswered_age),
                unanswered_age_histogram: hdr::encode(unanswered_age)?,
                connections_opened: opened,
                peak_connections: peak,
                send_lag: Percentiles::of(send_lag),
                send_lag_histogram: hdr::encode(send_lag)?,
            },
        };
        let tags = tags
            .into_iter()
            .map(|(tag, t, histograms)| TagReport {
                tag,
                summary: summarise(&t, elapsed_s, open),
                histograms,
            })
            .collect();
        let mut report = LoadReport {
            schema_version: SCHEMA_VERSION,
            tool: format!("stackwise {}", env!("CARGO_PKG_VERSION")),
            started_at,
            plan,
            elapsed_s,
            summary,
            tags,
            engine,
            warnings: Vec::new(),
            shards,
            ws: None,
        };
        report.warnings = report.compute_warnings();
        Ok(report)
    }

    fn compute_warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let e = &self.engine;
        if e.saturated {
            w.push(format!(
                "the load engine was the bottleneck: it used {:.0}% of its {} core(s), so these \
                 figures measure the engine, not the server; give it more CPUs (--cpus) or threads",
                e.utilisation * 100.0,
                e.cores
            ));
        }
        if self.summary.errors > 0 {
            w.push(format!(
                "{} request(s) failed without a response",
                self.summary.errors
            ));
        }
        if let Some(&n) = self
            .summary
            .error_kinds
            .get(ErrorKind::Descriptors.as_str())
        {
            w.push(format!(
                "{n} connect attempt(s) failed because the load engine ran out of file \
                 descriptors; those figures measure the engine's limit, not the server: raise \
                 it (ulimit -n) or use fewer connections"
            ));
        }
        let d = &e.delivery;
        if d.in_flight_at_end > 0 {
            let counted = if self.summary.latency.unanswered_in_corrected > 0 {
                "; the corrected latency counts each at its age then, a lower bound"
            } else {
                ""
            };
            w.push(format!(
                "{} request(s) were still unanswered when the run ended; the oldest had waited \
                 {:.2} s{counted}",
                d.in_flight_at_end,
                d.unanswered_age.max_us as f64 / 1e6
            ));
        }
        if self.summary.non_2xx > 0 {
            w.push(format!(
                "{} response(s) had a non-2xx status",
                self.summary.non_2xx
            ));
        }
        if d.unsent > 0 {
            let cap = self.plan.max_connections.unwrap_or(self.plan.connections);
            w.push(if d.peak_connections >= cap {
                format!(
                    "{} scheduled request(s) could not be sent: all {cap} allowed connections \
                     were busy; the target cannot sustain this rate",
                    d.unsent
                )
            } else {
                format!(
                    "{} scheduled request(s) were not sent before the run ended",
                    d.unsent
                )
            });
        }
        if d.late_sends > 0 {
            w.push(format!(
                "{} request(s) left more than {} ms after their scheduled time; corrected latency \
                 includes that wait",
                d.late_sends, d.late_after_ms
            ));
        }
        if self.plan.mode == Mode::Closed && d.peak_connections < self.plan.connections {
            w.push(format!(
                "only {} of {} connections could be opened",
                d.peak_connections, self.plan.connections
            ));
        }
        if let Some(b) = self.ws.as_ref().and_then(|w| w.broadcast.as_ref()) {
            if b.lost + b.duplicated + b.out_of_order > 0 {
                w.push(format!(
                    "the broadcast lost {} of {} deliveries, duplicated {} and delivered {} out of \
                     order",
                    b.lost, b.expected, b.duplicated, b.out_of_order
                ));
            }
        }
        if let Some(i) = self.ws.as_ref().and_then(|w| w.idle.as_ref()) {
            if i.held < i.target {
                w.push(format!(
                    "only {} of {} connections were open when the hold ended",
                    i.held, i.target
                ));
            }
        }
        if let Some(asked) = self.plan.duration_s {
            if self.elapsed_s + 1e-6 < asked {
                w.push(format!(
                    "the run was stopped after {:.2} s of the {asked} s asked for; the figures \
                     cover only that time",
                    self.elapsed_s
                ));
            }
        }
        w
    }

    /// Joins the results of shards of one run (the same URL, mode, mix and stop condition, each
    /// driving a share of the load at the same time) into one, exactly: histograms are added, not
    /// averaged.
    pub fn merge(shards: &[LoadReport]) -> Result<LoadReport, MergeError> {
        let first = shards.first().ok_or(MergeError::Empty)?;
        for (i, s) in shards.iter().enumerate() {
            if s.schema_version != SCHEMA_VERSION {
                return Err(MergeError::Version(i, s.schema_version));
            }
            let p = &s.plan;
            let q = &first.plan;
            let same = p.url == q.url
                && p.mode == q.mode
                && s.ws.as_ref().map(|w| w.mode) == first.ws.as_ref().map(|w| w.mode)
                && p.requests == q.requests
                && p.duration_s == q.duration_s
                && p.warmup_s == q.warmup_s;
            if !same {
                return Err(MergeError::Mismatch(i));
            }
        }
        let sum_opt = |f: fn(&PlanReport) -> Option<f64>| -> Option<f64> {
            shards.iter().map(|s| f(&s.plan)).sum()
        };
        let mut plan = first.plan.clone();
        plan.connections = shards.iter().map(|s| s.plan.connections).sum();
        plan.max_connections = shards.iter().map(|s| s.plan.max_connections).sum();
        plan.rate = sum_opt(|p| p.rate);
        plan.count = shards.iter().map(|s| s.plan.count).sum();
        plan.threads = shards.iter().map(|s| s.plan.threads).sum();
        plan.cpus = None;
        let mut tags = Vec::with_capacity(first.tags.len());
        for t in 0..first.tags.len() {
            let mut merged = TagRecording::new();
            for (i, s) in shards.iter().enumerate() {
                let part = s.tags.get(t).ok_or(MergeError::Mismatch(i))?;
                merged.merge(&part.to_recording().map_err(|e| MergeError::Hdr(i, e))?);
            }
            let histograms = Histograms::of(&merged).map_err(|e| MergeError::Hdr(0, e))?;
            tags.push((first.tags[t].tag.clone(), merged, histograms));
        }
        let sum = |f: fn(&LoadReport) -> u64| shards.iter().map(f).sum::<u64>();
        let mut send_lag = latency_histogram();
        for (i, s) in shards.iter().enumerate() {
            let h = hdr::decode(&s.engine.delivery.send_lag_histogram)
                .map_err(|e| MergeError::Hdr(i, e))?;
            send_lag
                .add(&h)
                .map_err(|e| MergeError::Hdr(i, HdrError::Decode(format!("{e:?}"))))?;
        }
        let mut unanswered_age = latency_histogram();
        for (i, s) in shards.iter().enumerate() {
            // Results written before ages were recorded have none.
            let encoded = &s.engine.delivery.unanswered_age_histogram;
            if encoded.is_empty() {
                continue;
            }
            let h = hdr::decode(encoded).map_err(|e| MergeError::Hdr(i, e))?;
            unanswered_age
                .add(&h)
                .map_err(|e| MergeError::Hdr(i, HdrError::Decode(format!("{e:?}"))))?;
        }
        let other_load = shards
            .iter()
            .filter_map(|s| s.engine.other_load)
            .fold(None, |m: Option<f64>, o| Some(m.map_or(o, |m| m.max(o))));
        let started_at = shards
            .iter()
            .map(|s| s.started_at.clone())
            .min()
            .unwrap_or_default();
        let elapsed_s = shards.iter().map(|s| s.elapsed_s).fold(0.0, f64::max);
        let mut merged = LoadReport::assemble(
            started_at,
            plan,
            elapsed_s,
            tags,
            shards.iter().map(|s| s.engine.cpu_seconds).sum(),
            shards.iter().map(|s| s.engine.cores).sum(),
            other_load,
            (
                sum(|s| s.engine.delivery.sent),
                sum(|s| s.engine.delivery.late_sends),
                sum(|s| s.engine.delivery.unsent),
                sum(|s| s.engine.delivery.connections_opened),
                sum(|s| s.engine.delivery.peak_connections),
            ),
            &send_lag,
            &unanswered_age,
            shards.iter().map(|s| s.shards).sum(),
        )
        .map_err(|e| MergeError::Hdr(0, e))?;
        merged.ws = merge_ws(shards, merged.elapsed_s)?;
        // A shard whose engine was saturated taints the whole.
        if shards.iter().any(|s| s.engine.saturated) {
            merged.engine.saturated = true;
        }
        merged.warnings = merged.compute_warnings();
        Ok(merged)
    }

    /// The latency histograms of every tag added together: (corrected, uncorrected).
    pub fn total_histograms(&self) -> Result<(Histogram<u64>, Histogram<u64>), HdrError> {
        let mut corrected = latency_histogram();
        let mut uncorrected = latency_histogram();
        for t in &self.tags {
            let r = t.to_recording()?;
            corrected
                .add(&r.corrected)
                .map_err(|e| HdrError::Decode(format!("{e:?}")))?;
            uncorrected
                .add(&r.uncorrected)
                .map_err(|e| HdrError::Decode(format!("{e:?}")))?;
        }
        Ok((corrected, uncorrected))
    }
}

impl Histograms {
    fn of(t: &TagRecording) -> Result<Histograms, HdrError> {
        Ok(Histograms {
            corrected: hdr::encode(&t.corrected)?,
            uncorrected: hdr::encode(&t.uncorrected)?,
        })
    }
}

impl TagReport {
    /// Back to raw data: the histograms decoded, the counters parsed.
    pub fn to_recording(&self) -> Result<TagRecording, HdrError> {
        let mut t = TagRecording::new();
        t.corrected
            .add(&hdr::decode(&self.histograms.corrected)?)
            .map_err(|e| HdrError::Decode(format!("{e:?}")))?;
        t.uncorrected
            .add(&hdr::decode(&self.histograms.uncorrected)?)
            .map_err(|e| HdrError::Decode(format!("{e:?}")))?;
        for (code, n) in &self.summary.status {
            let code = code
                .parse()
                .map_err(|_| HdrError::Decode(format!("status '{code}' is not a number")))?;
            t.status.insert(code, *n);
        }
        for (kind, n) in &self.summary.error_kinds {
            let kind = ErrorKind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| HdrError::Decode(format!("unknown error kind '{kind}'")))?;
            t.errors.insert(kind, *n);
        }
        t.unanswered = self.summary.unanswered;
        t.bytes = self.summary.bytes_read;
        t.messages = self.summary.requests - t.status.values().sum::<u64>();
        Ok(t)
    }
}

/// The WebSocket part of a window's report, from its recording.
fn ws_report(plan: &Plan, rec: &Recording, elapsed_s: f64) -> Result<Option<WsReport>, HdrError> {
    let Some(ws) = &plan.ws else {
        return Ok(None);
    };
    let (mode, broadcast, idle) = match ws.mode {
        WsMode::Echo => (WsModeName::Echo, None, None),
        WsMode::Broadcast { rooms, senders } => {
            let size = (plan.initial_connections() / rooms) as u64;
            let all = rooms * senders;
            let mut counts = rec.senders.clone();
            counts.resize(all.max(counts.len()), SenderCounts::default());
            let list = counts
                .iter()
                .enumerate()
                .map(|(i, c)| sender_report((i / senders) as u64, i as u64, c, size))
                .collect();
            (
                WsModeName::Broadcast,
                Some(broadcast_report(
                    rooms as u64,
                    size,
                    senders as u64,
                    list,
                    elapsed_s,
                )),
                None,
            )
        }
        WsMode::Idle { hold } => {
            let (target, connect_rate) = match (plan.stop, plan.load.clone()) {
                (Stop::Count(n), Load::Constant { rate, .. }) => (n, rate),
                _ => (0, 0.0),
            };
            let idle = IdleReport {
                target,
                connect_rate,
                hold_s: hold.as_secs_f64(),
                held: rec.held,
                lost_in_hold: rec
                    .hold_errors
                    .iter()
                    .map(|(k, n)| (k.as_str().to_string(), *n))
                    .collect(),
            };
            (WsModeName::Idle, None, Some(idle))
        }
    };
    Ok(Some(WsReport {
        mode,
        message_size: ws.message_size as u64,
        handshake: Percentiles::of(&rec.handshake),
        handshake_histogram: hdr::encode(&rec.handshake)?,
        broadcast,
        idle,
    }))
}

fn sender_report(room: u64, sender: u64, c: &SenderCounts, room_size: u64) -> SenderReport {
    SenderReport {
        room,
        sender,
        published: c.published,
        delivered: c.delivered,
        lost: (c.published * room_size).saturating_sub(c.delivered),
        duplicated: c.duplicated,
        out_of_order: c.out_of_order,
    }
}

fn broadcast_report(
    rooms: u64,
    room_size: u64,
    senders_per_room: u64,
    senders: Vec<SenderReport>,
    elapsed_s: f64,
) -> BroadcastReport {
    let sum = |f: fn(&SenderReport) -> u64| senders.iter().map(f).sum::<u64>();
    let delivered = sum(|s| s.delivered);
    BroadcastReport {
        rooms,
        room_size,
        senders_per_room,
        published: sum(|s| s.published),
        expected: sum(|s| s.published) * room_size,
        delivered,
        lost: sum(|s| s.lost),
        duplicated: sum(|s| s.duplicated),
        out_of_order: sum(|s| s.out_of_order),
        delivered_per_s: rate(delivered, elapsed_s),
        drain_s: crate::worker::BROADCAST_DRAIN.as_secs_f64(),
        senders,
    }
}

/// The WebSocket parts of shards joined: counts added, histograms added, senders listed
/// shard after shard (each shard drives rooms of its own).
fn merge_ws(shards: &[LoadReport], elapsed_s: f64) -> Result<Option<WsReport>, MergeError> {
    let Some(first) = shards.first().and_then(|s| s.ws.clone()) else {
        return Ok(None);
    };
    let mut handshake = latency_histogram();
    let mut senders = Vec::new();
    let mut idle = first.idle.clone();
    if let Some(i) = idle.as_mut() {
        *i = IdleReport {
            target: 0,
            connect_rate: 0.0,
            held: 0,
            lost_in_hold: BTreeMap::new(),
            ..i.clone()
        };
    }
    for (i, s) in shards.iter().enumerate() {
        let w = s.ws.as_ref().ok_or(MergeError::Mismatch(i))?;
        let h = hdr::decode(&w.handshake_histogram).map_err(|e| MergeError::Hdr(i, e))?;
        handshake
            .add(&h)
            .map_err(|e| MergeError::Hdr(i, HdrError::Decode(format!("{e:?}"))))?;
        if let Some(b) = &w.broadcast {
            senders.extend(b.senders.iter().cloned());
        }
        if let (Some(all), Some(part)) = (idle.as_mut(), &w.idle) {
            all.target += part.target;
            all.connect_rate += part.connect_rate;
            all.held += part.held;
            for (k, n) in &part.lost_in_hold {
                *all.lost_in_hold.entry(k.clone()).or_default() += n;
            }
        }
    }
    let broadcast = first.broadcast.as_ref().map(|b| {
        let rooms = shards
            .iter()
            .filter_map(|s| s.ws.as_ref()?.broadcast.as_ref().map(|b| b.rooms))
            .sum();
        broadcast_report(rooms, b.room_size, b.senders_per_room, senders, elapsed_s)
    });
    Ok(Some(WsReport {
        mode: first.mode,
        message_size: first.message_size,
        handshake: Percentiles::of(&handshake),
        handshake_histogram: hdr::encode(&handshake).map_err(|e| MergeError::Hdr(0, e))?,
        broadcast,
        idle,
    }))
}

/// Why shard results cannot be merged.
#[derive(Debug, Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Empty,
    #[error("shard {0} has format version {1}; this stackwise reads version {SCHEMA_VERSION}")]
    Version(usize, u32),
    #[error("shard {0} is not a shard of the same run (its URL, mode, mix, duration or warm-up differ from the first)")]
    Mismatch(usize),
    #[error("shard {0}: {1}")]
    Hdr(usize, HdrError),
}

/// The JSON Schema of [`LoadReport`], as committed in `schema/load-report.schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(LoadReport);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    s.push('\n');
    s
}

/// The recordings of a run's requests, one per tag: requests under the same tag (one path sent
/// with several bodies in turn) are reported as one, in the order their tags first appear.
fn by_tag(plan: &Plan, recordings: &[TagRecording]) -> Vec<(String, TagRecording)> {
    let mut out: Vec<(String, TagRecording)> = Vec::new();
    for (r, t) in plan.requests.iter().zip(recordings) {
        match out.iter_mut().find(|(tag, _)| *tag == r.tag) {
            Some((_, merged)) => merged.merge(t),
            None => out.push((r.tag.clone(), t.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
        let fraction = t + Duration::from_millis(999);
        assert_eq!(rfc3339(fraction), "2026-11-18T11:06:40Z");
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        // 1..=10_000 µs, once each: every percentile is known exactly (to 3 digits).
        let mut h = latency_histogram();
        for v in 1..=10_000 {
            h.record(v).unwrap();
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 10_000);
        assert_eq!(p.min_us, 1);
        assert_eq!(p.p50_us, h.highest_equivalent(5_000));
        assert_eq!(p.p90_us, h.highest_equivalent(9_000));
        assert_eq!(p.p99_us, h.highest_equivalent(9_900));
        assert_eq!(p.p99_9_us, h.highest_equivalent(9_990));
        assert_eq!(p.max_us, h.highest_equivalent(10_000));
        assert!((p.mean_us - 5_000.5).abs() < 5.0);
        assert_eq!(Percentiles::of(&latency_histogram()).count, 0);
    }

    fn plan_report() -> PlanReport {
        PlanReport {
            url: "http://127.0.0.1:1/".into(),
            mode: Mode::Closed,
            connections: 4,
            max_connections: None,
            rate: None,
            duration_s: Some(1.0),
            count: None,
            warmup_s: 0.0,
            connect_timeout_s: 1.0,
            request_timeout_s: 1.0,
            threads: 1,
            cpus: Some(vec![0]),
            requests: vec![RequestReport {
                tag: "/".into(),
                weight: 1,
                method: "GET".into(),
                path: "/".into(),
            }],
        }
    }

    fn report_with_cpu(cpu_seconds: f64) -> LoadReport {
        let mut t = TagRecording::new();
        t.corrected.record(100).unwrap();
        t.uncorrected.record(100).unwrap();
        t.status.insert(200, 1);
        let h = Histograms::of(&t).unwrap();
        LoadReport::assemble(
            "1970-01-01T00:00:00Z".into(),
            plan_report(),
            2.0,
            vec![("/".into(), t, h)],
            cpu_seconds,
            1.0,
            None,
            (1, 0, 0, 4, 4),
            &latency_histogram(),
            &latency_histogram(),
            1,
        )
        .unwrap()
    }

    #[test]
    fn an_engine_busy_on_all_its_cores_is_called_the_bottleneck() {
        let busy = report_with_cpu(1.9);
        assert!((busy.engine.utilisation - 0.95).abs() < 1e-9);
        assert!(busy.engine.saturated);
        assert!(busy.warnings[0].contains("the load engine was the bottleneck"));
        let idle = report_with_cpu(0.5);
        assert!(!idle.engine.saturated);
        assert!(idle.warnings.is_empty(), "{:?}", idle.warnings);
    }

    #[test]
    fn a_saturated_shard_taints_the_merge() {
        let merged = LoadReport::merge(&[report_with_cpu(1.9), report_with_cpu(0.1)]).unwrap();
        assert!(merged.engine.saturated);
        assert_eq!(merged.summary.requests, 2);
        assert_eq!(merged.engine.cores, 2.0);
    }
}
