//! The scenario catalogue: every scenario stackwise knows, written once.
//!
//! `verify` checks, `run` drives and budgets, `--quick` selects, the summaries tag latency, the
//! claims check and the advisor weigh by what this table says, so a scenario is added here and
//! nowhere else. It is the measurable half of docs/spec.md; the contract's wording lives there.

use std::time::Duration;

/// One request of a scenario's mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Name its results are reported under; also the check that verifies it.
    pub tag: &'static str,
    /// Relative share of the mix.
    pub weight: u32,
    /// Path and query, starting with `/`.
    pub path: &'static str,
}

/// A part of a team's workload, as a project profile names its shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Database-backed API requests.
    Crud,
    /// Calls to other services.
    Io,
    /// Long-lived connections: chat, notifications, live dashboards.
    Realtime,
    /// CPU-heavy request handling.
    Cpu,
    /// Data processing.
    Data,
    /// Machine-learning inference.
    Ml,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Crud,
        Part::Io,
        Part::Realtime,
        Part::Cpu,
        Part::Data,
        Part::Ml,
    ];

    /// The part in a few words, as advice names it.
    pub fn label(self) -> &'static str {
        match self {
            Part::Crud => "API/CRUD",
            Part::Io => "calls to other services",
            Part::Realtime => "real-time connections",
            Part::Cpu => "CPU-heavy work",
            Part::Data => "data processing",
            Part::Ml => "ML inference",
        }
    }

    /// The scenarios that stand for this part.
    pub fn scenarios(self) -> impl Iterator<Item = &'static str> {
        standing_for(self)
    }
}

/// How a scenario talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP/1.1 requests.
    Http,
    /// WebSocket messages on `/ws/echo`, each answered by the server: its requests are the
    /// messages, of `message_size` bytes.
    WsEcho { message_size: usize },
}

impl Kind {
    /// Whether the server runs as it does for WebSockets (its manifest's `[websocket]`).
    pub fn websocket(self) -> bool {
        !matches!(self, Kind::Http)
    }
}

/// One scenario: what is sent, how hard, what must be checked first, what it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    pub id: &'static str,
    pub kind: Kind,
    /// The claim it tests, in a few words.
    pub claim: &'static str,
    pub requests: &'static [Request],
    /// Closed-loop connections of the trials.
    pub connections: usize,
    /// The least warm-up before its throughput can settle, whatever the steady-state rule says
    /// earlier.
    pub min_warmup: Duration,
    /// The tag whose latency the scenario is judged on, when not every request's: `mixed`
    /// reports /json's, with /cpu's apart.
    pub latency_tag: Option<&'static str>,
    /// Part of a `--quick` run.
    pub quick: bool,
    /// The parts of a workload it stands for.
    pub parts: &'static [Part],
}

const fn get(tag: &'static str, path: &'static str) -> Request {
    Request {
        tag,
        weight: 1,
        path,
    }
}

/// A scenario of one request, tagged with the scenario's id, on 64 connections.
const fn one(id: &'static str, claim: &'static str, requests: &'static [Request]) -> Scenario {
    Scenario {
        id,
        kind: Kind::Http,
        claim,
        requests,
        connections: 64,
        min_warmup: Duration::ZERO,
        latency_tag: None,
        quick: false,
        parts: &[Part::Crud],
    }
}

impl Scenario {
    /// The checks `verify` must pass before the scenario is timed: one per request tag.
    pub fn checks(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.requests.iter().map(|r| r.tag)
    }

    /// The requests in one line, such as `GET /json` or `9× GET /json + 1× GET /cpu?n=100000`,
    /// or a WebSocket's messages, `128 B messages on ws /ws/echo`.
    pub fn target(&self) -> String {
        if let Kind::WsEcho { message_size } = self.kind {
            let paths: Vec<_> = self.requests.iter().map(|r| r.path).collect();
            return format!("{message_size} B messages on ws {}", paths.join(" + "));
        }
        let mixed = self.requests.len() > 1;
        self.requests
            .iter()
            .map(|r| {
                if mixed {
                    format!("{}× GET {}", r.weight, r.path)
                } else {
                    format!("GET {}", r.path)
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Every scenario, in the order runs and reports list them.
pub const SCENARIOS: [Scenario; 10] = [
    Scenario {
        quick: true,
        ..one("json", "framework overhead", &[get("json", "/json")])
    },
    Scenario {
        parts: &[],
        ..one(
            "plaintext",
            "HTTP stack ceiling",
            &[get("plaintext", "/plaintext")],
        )
    },
    Scenario {
        quick: true,
        ..one("db", "one database round trip", &[get("db", "/db")])
    },
    one(
        "queries",
        "many awaits per request",
        &[get("queries", "/queries?n=20")],
    ),
    one(
        "fortunes",
        "server-side rendering",
        &[get("fortunes", "/fortunes")],
    ),
    one("updates", "writes", &[get("updates", "/updates?n=20")]),
    // Many connections waiting on a slow dependency: the non-blocking I/O claim. Node takes in
    // one new connection per turn of its event loop, and fetch makes those turns long: 256
    // connections opened into a busy server took 4-15 s to be taken in, a p99 of seconds that
    // only the first request of each late connection had (docs/upstream-tail.md). The lab opens
    // every connection before the first request, so the trials measure the steady state.
    Scenario {
        connections: 256,
        quick: true,
        parts: &[Part::Io, Part::Realtime],
        ..one(
            "upstream",
            "non-blocking I/O with many connections",
            &[get("upstream", "/upstream?ms=20")],
        )
    },
    Scenario {
        quick: true,
        parts: &[Part::Cpu],
        ..one(
            "cpu",
            "CPU-bound code: V8's JIT against CPython",
            &[get("cpu", "/cpu?n=10000")],
        )
    },
    // Head-of-line blocking: is /json held up behind CPU-heavy requests?
    Scenario {
        id: "mixed",
        kind: Kind::Http,
        claim: "head-of-line blocking: event loop against workers",
        requests: &[
            Request {
                tag: "json",
                weight: 9,
                path: "/json",
            },
            Request {
                tag: "cpu",
                weight: 1,
                path: "/cpu?n=100000",
            },
        ],
        connections: 64,
        min_warmup: Duration::ZERO,
        latency_tag: Some("json"),
        quick: false,
        parts: &[Part::Cpu],
    },
    // Real-time: a message in, the same message out, on connections that stay open. Only the
    // stacks whose manifest has a [websocket] table take part, run as that table says.
    Scenario {
        kind: Kind::WsEcho { message_size: 128 },
        parts: &[Part::Realtime],
        ..one(
            "ws-echo",
            "real-time: WebSocket messages on open connections",
            &[get("ws-echo", "/ws/echo")],
        )
    },
];

/// The scenario `id`.
pub fn scenario(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// Every scenario's id, in catalogue order.
pub fn ids() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().map(|s| s.id)
}

/// The ids of a `--quick` run.
pub fn quick_ids() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().filter(|s| s.quick).map(|s| s.id)
}

/// Every check `verify` knows, in catalogue order, each once.
pub fn checks() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in SCENARIOS.iter().flat_map(Scenario::checks) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The tag whose latency scenario `id` reports, when not every request's.
pub fn latency_tag(id: &str) -> Option<&'static str> {
    scenario(id).and_then(|s| s.latency_tag)
}

/// The scenarios that stand for `part`.
pub fn standing_for(part: Part) -> impl Iterator<Item = &'static str> {
    SCENARIOS
        .iter()
        .filter(move |s| s.parts.contains(&part))
        .map(|s| s.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_requests_and_is_verified_before_it_is_timed() {
        for s in &SCENARIOS {
            assert!(!s.requests.is_empty() && s.connections > 0, "{}", s.id);
            assert!(s.checks().count() > 0, "{} is never verified", s.id);
            assert!(
                s.requests.iter().all(|r| r.path.starts_with('/')),
                "{}",
                s.id
            );
        }
        let ids: Vec<_> = ids().collect();
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(ids, unique);
    }

    #[test]
    fn the_catalogue_says_what_the_contract_says() {
        assert_eq!(
            scenario("mixed").map(|s| s.checks().collect::<Vec<_>>()),
            Some(vec!["json", "cpu"])
        );
        assert_eq!(latency_tag("mixed"), Some("json"));
        assert_eq!(latency_tag("json"), None);
        assert_eq!(scenario("upstream").map(|s| s.connections), Some(256));
        assert_eq!(
            scenario("cpu").map(Scenario::target).as_deref(),
            Some("GET /cpu?n=10000")
        );
        assert_eq!(
            scenario("mixed").map(Scenario::target).as_deref(),
            Some("9× GET /json + 1× GET /cpu?n=100000")
        );
        assert_eq!(checks().len(), 9, "mixed adds no check of its own");
        assert_eq!(
            quick_ids().collect::<Vec<_>>(),
            ["json", "db", "upstream", "cpu"]
        );
        assert_eq!(
            standing_for(Part::Cpu).collect::<Vec<_>>(),
            ["cpu", "mixed"]
        );
        assert_eq!(
            scenario("ws-echo").map(Scenario::target).as_deref(),
            Some("128 B messages on ws /ws/echo")
        );
        assert!(scenario("ws-echo").is_some_and(|s| s.kind.websocket()));
        assert!(!scenario("json").is_some_and(|s| s.kind.websocket()));
    }
}
