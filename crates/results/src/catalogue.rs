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
    /// What it carries: nothing (a GET), or one of the lab's bodies (a POST).
    pub body: Body,
}

/// A request's body, made by the lab (docs/spec.md says what each holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// None: the request is a GET.
    None,
    /// The `data` scenario's CSV of orders, the same bytes for every stack: a POST of
    /// `text/csv`.
    Orders,
    /// The `ml` scenario's batches of digit rows from the model's reference, sent in turn: a
    /// POST of `application/json`.
    Digits,
    /// The `ml-image` scenario's images, raw float32 tensors made from the reference's seeds,
    /// sent in turn: a POST of `application/octet-stream`.
    Image,
}

impl Body {
    /// The request's method.
    pub fn method(self) -> &'static str {
        match self {
            Body::None => "GET",
            Body::Orders | Body::Digits | Body::Image => "POST",
        }
    }

    /// The body's media type, for a body there is.
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            Body::None => None,
            Body::Orders => Some("text/csv"),
            Body::Digits => Some("application/json"),
            Body::Image => Some("application/octet-stream"),
        }
    }
}

impl Request {
    /// The request line's method and path, such as `POST /aggregate`.
    pub fn line(&self) -> String {
        format!("{} {}", self.body.method(), self.path)
    }
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
    /// WebSocket rooms on `/ws/room/{room}`: the scenario's connections split evenly into
    /// `rooms` rooms, one member of each publishing `message_size`-byte messages that the server
    /// delivers to every member. Its requests are the deliveries, one message to one member.
    WsBroadcast { rooms: usize, message_size: usize },
    /// WebSocket connections opened to `/ws/echo` at `rate` a second up to the scenario's
    /// connections, then held idle for `hold`: its requests are the opening handshakes, and
    /// what it is for is the memory the server holds for them. No warm-up, no probes.
    WsIdle { rate: usize, hold: Duration },
}

impl Kind {
    /// Whether its requests are deliveries of messages published to rooms.
    pub fn broadcast(self) -> bool {
        matches!(self, Kind::WsBroadcast { .. })
    }

    /// Whether the server runs as it does for WebSockets (its manifest's `[websocket]`).
    pub fn websocket(self) -> bool {
        !matches!(self, Kind::Http)
    }

    /// What one of its "requests" is, for a kind whose requests are not HTTP requests.
    pub fn request_means(self) -> Option<&'static str> {
        match self {
            Kind::Http => None,
            Kind::WsEcho { .. } => Some("a WebSocket message and its echo"),
            Kind::WsBroadcast { .. } => Some("one delivery of a room's message to one member"),
            Kind::WsIdle { .. } => Some("an opening handshake of a connection then held idle"),
        }
    }

    /// Request cycles a trial window holds at least. A broadcast's cycle is one message per
    /// room: its deliveries come a room at a time, so a window of a few messages would count
    /// them in steps of a room's size.
    pub fn window_cycles(self) -> u32 {
        match self {
            Kind::WsBroadcast { .. } => 10,
            _ => 1,
        }
    }

    /// The unit of its throughput.
    pub fn rate_unit(self) -> &'static str {
        match self {
            Kind::Http => "req/s",
            Kind::WsEcho { .. } => "messages/s",
            Kind::WsBroadcast { .. } => "deliveries/s",
            Kind::WsIdle { .. } => "handshakes/s",
        }
    }

    /// Whether its trials open connections and hold them (ws-idle): the server is neither
    /// warmed up nor probed at rates, and what counts is the memory held.
    pub fn holds_connections(self) -> bool {
        matches!(self, Kind::WsIdle { .. })
    }
}

/// The CPUs a scenario's servers run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cores {
    /// The run's server CPUs.
    Server,
    /// The first of the run's server CPUs alone.
    One,
    /// Every CPU a server can be given: the run's server CPUs when they are more than one,
    /// else every CPU of the run (server and load CPUs), the load engine sharing them.
    Parallel,
}

impl Cores {
    /// The CPUs for servers, from the run's server and load CPUs.
    pub fn pick(self, server: &[usize], load: &[usize]) -> Vec<usize> {
        match self {
            Cores::Server => server.to_vec(),
            Cores::One => server.iter().take(1).copied().collect(),
            Cores::Parallel if server.len() > 1 => server.to_vec(),
            Cores::Parallel => {
                let mut all: Vec<usize> = server.iter().chain(load).copied().collect();
                all.sort_unstable();
                all.dedup();
                all
            }
        }
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
    /// Part of a run that names no scenarios; the others are run when named.
    pub default_run: bool,
    /// The CPUs its servers run on.
    pub cores: Cores,
    /// The parts of a workload it stands for.
    pub parts: &'static [Part],
    /// A scenario measured in the same rounds as this one when both are run, each stack's
    /// servers of both started together, so that the ratio between the two is taken round by
    /// round: the GIL's scaling factor, `parallel` over `parallel-1`.
    pub rounds_with: Option<&'static str>,
}

const fn get(tag: &'static str, path: &'static str) -> Request {
    Request {
        tag,
        weight: 1,
        path,
        body: Body::None,
    }
}

const fn post(tag: &'static str, path: &'static str, body: Body) -> Request {
    Request {
        tag,
        weight: 1,
        path,
        body,
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
        default_run: true,
        cores: Cores::Server,
        parts: &[Part::Crud],
        rounds_with: None,
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
        let paths = || {
            let paths: Vec<_> = self.requests.iter().map(|r| r.path).collect();
            paths.join(" + ")
        };
        match self.kind {
            Kind::Http => {}
            Kind::WsEcho { message_size } => {
                return format!("{message_size} B messages on ws {}", paths());
            }
            Kind::WsBroadcast {
                rooms,
                message_size,
            } => {
                return format!(
                    "{message_size} B messages to {rooms} room{} of {} on ws {}",
                    if rooms == 1 { "" } else { "s" },
                    self.connections / rooms.max(1),
                    paths()
                );
            }
            Kind::WsIdle { rate, hold } => {
                return format!(
                    "{} connections opened at {rate}/s on ws {}, held {} s",
                    self.connections,
                    paths(),
                    hold.as_secs_f64()
                );
            }
        }
        let mixed = self.requests.len() > 1;
        self.requests
            .iter()
            .map(|r| {
                if mixed {
                    format!("{}× {}", r.weight, r.line())
                } else {
                    r.line()
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Every scenario, in the order runs and reports list them.
pub const SCENARIOS: [Scenario; 18] = [
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
                body: Body::None,
            },
            Request {
                tag: "cpu",
                weight: 1,
                path: "/cpu?n=100000",
                body: Body::None,
            },
        ],
        connections: 64,
        min_warmup: Duration::ZERO,
        latency_tag: Some("json"),
        quick: false,
        default_run: true,
        cores: Cores::Server,
        parts: &[Part::Cpu],
        rounds_with: None,
    },
    // The GIL, measured: CPU-bound requests heavy enough (about 100 ms each in CPython) that
    // the load engine needs little CPU, on one server core and then on every core a server can
    // be given. A stack's throughput on many over one is its scaling factor: near 1 for one
    // process whose threads take turns under the GIL, near the cores for worker processes.
    // Run when named: `--scenarios parallel-1,parallel`, and then in the same rounds: each
    // stack's two servers (one core, every core) are started together and each round times
    // both, so the factor is taken round by round and a drift of the machine's speed between
    // two scenarios minutes apart does not enter it. They stand for no part of a workload: the
    // cpu scenario sizes CPU work, these judge the GIL claim.
    Scenario {
        connections: 16,
        default_run: false,
        cores: Cores::One,
        parts: &[],
        ..one(
            "parallel-1",
            "the GIL: CPU-bound requests on one server core",
            &[get("cpu", "/cpu?n=100000")],
        )
    },
    Scenario {
        connections: 16,
        default_run: false,
        cores: Cores::Parallel,
        parts: &[],
        rounds_with: Some("parallel-1"),
        ..one(
            "parallel",
            "the GIL: CPU-bound requests on every server core",
            &[get("cpu", "/cpu?n=100000")],
        )
    },
    // Data processing in the request: a CSV of 20,000 orders in, totals by region and category
    // out, with what the stack's users would use (pandas, polars, nodejs-polars, plain code).
    // Stacks take part when their manifest names the library ([data]). Each request carries
    // 1.1 MB, so fewer connections than the small requests.
    Scenario {
        connections: 16,
        parts: &[Part::Data],
        ..one(
            "data",
            "data processing: a CSV of orders aggregated",
            &[post("data", "/aggregate", Body::Orders)],
        )
    },
    // Inference in the request: batches of 32 digit images classified by the shipped model
    // (onnxruntime, or scikit-learn's own predict in a variant). Stacks take part when their
    // manifest names the library ([ml]).
    Scenario {
        parts: &[Part::Ml],
        ..one(
            "ml",
            "ML inference: a model in the API process",
            &[post("ml", "/predict", Body::Digits)],
        )
    },
    // Inference heavy enough that the model's work, not the request's handling, is what is
    // timed: one 224×224 image per request through a SqueezeNet with synthetic weights (about
    // 6 ms on one core, some 500 times the digits model's batch), same library and threads as
    // `ml`. Each request carries 602 KB, so fewer connections. Run when named
    // (`--scenarios ml-image`): the default run is long enough.
    Scenario {
        connections: 16,
        default_run: false,
        parts: &[Part::Ml],
        ..one(
            "ml-image",
            "ML inference: a CNN's compute in the API process",
            &[post("ml-image", "/predict/image", Body::Image)],
        )
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
    // Real-time fan-out: one member of each room publishes, the server delivers each message
    // to every member, publisher included. Rooms of 100, then one room of 1,000.
    Scenario {
        kind: Kind::WsBroadcast {
            rooms: 4,
            message_size: 128,
        },
        connections: 400,
        parts: &[Part::Realtime],
        ..one(
            "ws-broadcast",
            "real-time: fan-out of each message to rooms of 100",
            &[get("ws-room", "/ws/room/{room}")],
        )
    },
    Scenario {
        kind: Kind::WsBroadcast {
            rooms: 1,
            message_size: 128,
        },
        connections: 1000,
        parts: &[Part::Realtime],
        ..one(
            "ws-broadcast-1k",
            "real-time: fan-out of each message to a room of 1,000",
            &[get("ws-room", "/ws/room/{room}")],
        )
    },
    // Many open connections, each idle: what the server holds per 1,000 of them, and how fast
    // it takes them in.
    Scenario {
        kind: Kind::WsIdle {
            rate: 5_000,
            hold: Duration::from_secs(2),
        },
        connections: 10_000,
        parts: &[Part::Realtime],
        ..one(
            "ws-idle",
            "real-time: memory per 1,000 idle connections",
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

/// The ids of a run that names no scenarios.
pub fn default_ids() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().filter(|s| s.default_run).map(|s| s.id)
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
    fn parallel_cores_are_the_server_cpus_or_else_every_cpu() {
        assert_eq!(Cores::Server.pick(&[1], &[0]), [1]);
        assert_eq!(Cores::One.pick(&[4, 5, 6], &[0]), [4]);
        assert_eq!(Cores::Parallel.pick(&[1], &[0]), [0, 1]);
        assert_eq!(Cores::Parallel.pick(&[2, 3], &[0, 1]), [2, 3]);
    }

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
        assert_eq!(checks().len(), 13, "mixed adds no check of its own");
        assert_eq!(
            quick_ids().collect::<Vec<_>>(),
            ["json", "db", "upstream", "cpu"]
        );
        assert_eq!(
            standing_for(Part::Cpu).collect::<Vec<_>>(),
            ["cpu", "mixed"]
        );
        assert_eq!(standing_for(Part::Data).collect::<Vec<_>>(), ["data"]);
        assert!(default_ids().all(|id| !id.starts_with("parallel")));
        assert_eq!(default_ids().count(), SCENARIOS.len() - 3);
        assert!(default_ids().all(|id| id != "ml-image"), "run when named");
        assert_eq!(scenario("parallel").map(|s| s.cores), Some(Cores::Parallel));
        assert_eq!(
            standing_for(Part::Ml).collect::<Vec<_>>(),
            ["ml", "ml-image"]
        );
        let Some(image) = scenario("ml-image") else {
            panic!("no ml-image")
        };
        assert_eq!(image.target(), "POST /predict/image");
        assert_eq!(image.checks().collect::<Vec<_>>(), ["ml-image"]);
        assert_eq!(
            (
                image.requests[0].body.method(),
                image.requests[0].body.content_type()
            ),
            ("POST", Some("application/octet-stream"))
        );
        assert_eq!(image.connections, 16);
        assert_eq!(
            scenario("data").map(Scenario::target).as_deref(),
            Some("POST /aggregate")
        );
        assert_eq!(
            scenario("ml").map(|s| (
                s.requests[0].body.method(),
                s.requests[0].body.content_type()
            )),
            Some(("POST", Some("application/json")))
        );
        assert_eq!(
            scenario("ws-echo").map(Scenario::target).as_deref(),
            Some("128 B messages on ws /ws/echo")
        );
        assert_eq!(
            scenario("ws-broadcast").map(Scenario::target).as_deref(),
            Some("128 B messages to 4 rooms of 100 on ws /ws/room/{room}")
        );
        assert_eq!(
            scenario("ws-broadcast-1k").map(Scenario::target).as_deref(),
            Some("128 B messages to 1 room of 1000 on ws /ws/room/{room}")
        );
        assert_eq!(
            scenario("ws-idle").map(Scenario::target).as_deref(),
            Some("10000 connections opened at 5000/s on ws /ws/echo, held 2 s")
        );
        assert!(scenario("ws-idle").is_some_and(|s| s.kind.holds_connections()));
        assert_eq!(
            standing_for(Part::Realtime).collect::<Vec<_>>(),
            [
                "upstream",
                "ws-echo",
                "ws-broadcast",
                "ws-broadcast-1k",
                "ws-idle"
            ]
        );
        assert!(scenario("ws-echo").is_some_and(|s| s.kind.websocket()));
        assert!(!scenario("json").is_some_and(|s| s.kind.websocket()));
    }
}
