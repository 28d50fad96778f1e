//! What a load run does, as plain data: the target, the requests and their weights, the load
//! shape and the stop condition.
//!
//! A [`Plan`] is validated when it is built, so the run itself never meets a zero rate or an
//! empty mix. The one load loop in `worker.rs` interprets it; nothing else decides how load is
//! applied.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use url::Url;

/// How many requests are in flight and when each is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// `connections` connections, each sending its next request when the last one completes.
    Closed { connections: usize },
    /// Requests sent on a fixed schedule of `rate` per second, latency measured from each one's
    /// intended send time. `connections` are opened at the start; more are opened, up to
    /// `max_connections`, when every open one is busy and the schedule is falling behind.
    Constant {
        rate: f64,
        connections: usize,
        max_connections: usize,
    },
}

/// When the measured part of a run ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this long (not counting the warm-up); requests still in flight then are cancelled.
    Duration(Duration),
    /// After this many requests have been sent (not counting the warm-up) and answered.
    Count(u64),
}

/// What a WebSocket run does on its connections. A plan without one speaks HTTP/1.1.
#[derive(Debug, Clone, PartialEq)]
pub struct WsPlan {
    pub mode: WsMode,
    /// The request path of the upgrade; in broadcast, `{room}` in it is replaced by each room's
    /// number.
    pub path: String,
    /// Bytes of each message sent (echo and broadcast).
    pub message_size: usize,
}

/// The three WebSocket workloads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WsMode {
    /// Each connection sends a message and the server echoes it; the load shape paces the sends.
    Echo,
    /// The connections are split evenly into `rooms` rooms; in each, `senders` of them publish
    /// (paced by the load shape) and every member records the delivery of every message.
    Broadcast { rooms: usize, senders: usize },
    /// Connections opened at the load shape's rate (each send is a handshake) up to the count,
    /// then held open and idle for `hold`.
    Idle { hold: Duration },
}

/// Smallest broadcast message: room for the header each message carries (sender, sequence
/// number, intended and actual send time).
pub const MIN_BROADCAST_MESSAGE: usize = 96;

/// One kind of request in the mix.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Name the results are reported under.
    pub tag: String,
    /// Relative share of the mix.
    pub weight: u32,
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RequestSpec {
    /// A GET of `url`'s path and query, tagged with the path.
    pub fn get(url: &Url) -> RequestSpec {
        let path = path_and_query(url);
        RequestSpec {
            tag: url.path().to_string(),
            weight: 1,
            method: "GET".to_string(),
            path,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The bytes sent on the wire for this request to `target`.
    pub(crate) fn encode(&self, target: &Target) -> Vec<u8> {
        let host = target.host.as_str();
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !has("host") {
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(host.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(credentials) = target.authorization.as_deref() {
            if !has("authorization") {
                out.extend_from_slice(b"Authorization: ");
                out.extend_from_slice(credentials.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let needs_length =
            !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PUT" | "PATCH");
        if needs_length && !has("content-length") && !has("transfer-encoding") {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    pub(crate) fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    /// Why this request cannot be sent as given, if it cannot: anything that would let a header
    /// or the path end early or smuggle another request, or a framing the body contradicts.
    fn check(&self) -> Result<(), String> {
        if !self.path.starts_with('/') || self.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!(
                "path '{}' must start with '/' and hold no spaces or control characters",
                self.path.escape_debug()
            ));
        }
        if self.method.is_empty() || !self.method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("'{}' is not an HTTP method", self.method));
        }
        let control = |b: u8| (b < b' ' && b != b'\t') || b == 0x7f;
        for (name, value) in &self.headers {
            let bad_name =
                name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
            if bad_name || value.bytes().any(control) {
                return Err(format!(
                    "invalid header '{}: {}': header names are visible characters without ':', \
                     and neither names nor values may hold control characters (CR, LF, NUL, ...)",
                    name.escape_debug(),
                    value.escape_debug()
                ));
            }
            if name.eq_ignore_ascii_case("content-length") {
                let body = self.body.len();
                if value.trim().parse::<usize>() != Ok(body) {
                    return Err(format!(
                        "the header 'Content-Length: {value}' contradicts the body, which has \
                         {body} byte(s); leave Content-Length out and it is set from the body"
                    ));
                }
            }
        }
        let has = |n: &str| self.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        if has("transfer-encoding") && has("content-length") {
            return Err(
                "Transfer-Encoding and Content-Length together make the request's length \
                 ambiguous; give one of them"
                    .to_string(),
            );
        }
        Ok(())
    }
}

/// Where the load goes: one HTTP/1.1 origin.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as the user gave it.
    pub url: Url,
    /// The addresses the host resolved to; connections use the first.
    pub addrs: Vec<SocketAddr>,
    /// The `Host` header value.
    pub host: String,
    /// The `Authorization` header value for credentials in the URL (`user:password@host`),
    /// sent as HTTP Basic, as curl does, unless a request sets its own.
    pub authorization: Option<String>,
}

impl Target {
    /// Parses and resolves `url`: `http://`, or `ws://` for WebSocket runs.
    pub fn resolve(url: &str) -> Result<Target, PlanError> {
        // A broadcast URL names its rooms with `{room}`, which a URL cannot hold as is.
        let url = Url::parse(&url.replace("{room}", "0"))
            .map_err(|e| PlanError::Url(url.to_string(), e.to_string()))?;
        if !matches!(url.scheme(), "http" | "ws") {
            return Err(PlanError::Scheme(url.scheme().to_string()));
        }
        let host = url
            .host_str()
            .ok_or_else(|| PlanError::Url(url.to_string(), "no host".into()))?
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let lookup = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (lookup, port)
            .to_socket_addrs()
            .map_err(|e| PlanError::Resolve(host.clone(), e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(PlanError::Resolve(host, "no addresses".into()));
        }
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let authorization = (!url.username().is_empty() || url.password().is_some()).then(|| {
            use base64::Engine as _;
            let credentials = format!(
                "{}:{}",
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or(""))
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        });
        Ok(Target {
            url,
            addrs,
            host: host_header,
            authorization,
        })
    }

    /// The URL as reports show it: a password in it is masked.
    pub fn display_url(&self) -> String {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        url.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }
}

/// `s` with its %XX escapes decoded, as the URL's user name and password are stored.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Path and query of `url`, as sent in the request line.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// A complete, validated description of a load run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    pub requests: Vec<RequestSpec>,
    pub load: Load,
    pub stop: Stop,
    /// Driven before the measurement starts. Nothing sent in it is counted, except that a
    /// closed loop stopped by time counts every answer that arrives in the measured window.
    pub warmup: Duration,
    /// Worker threads, each with its own single-threaded runtime and its share of the load.
    pub threads: usize,
    /// CPUs the worker threads are pinned to, in turn; `None` leaves placement to the kernel.
    pub cpus: Option<Vec<usize>>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Equal parts the measured time is split into, each reported apart (see
    /// [`crate::LoadReport::windows`]); 1 for one measurement. Needs a duration.
    pub windows: usize,
    /// Closed loop: the connections start one after another, evenly over this time, instead of
    /// all at once, so a cold server meets its full concurrency gradually. Must end within the
    /// warm-up.
    pub ramp: Duration,
    /// Closed loop: each connection is opened at its start and sends its first request only
    /// when the ramp ends, so the server takes in every connection while idle. Node.js takes in
    /// one new connection per turn of its event loop, and under load those turns are long:
    /// 256 connections opened into a busy server took 4–15 s to be taken in
    /// (docs/upstream-tail.md).
    pub connect_first: bool,
    /// A WebSocket run: what its connections do. `None` for HTTP/1.1.
    pub ws: Option<WsPlan>,
}

/// Everything that can be wrong with a plan, found before any load is sent.
#[derive(Debug, Error, PartialEq)]
pub enum PlanError {
    #[error("invalid URL '{0}': {1}")]
    Url(String, String),
    #[error("unsupported scheme '{0}': only http:// and ws:// are supported (no TLS)")]
    Scheme(String),
    #[error("cannot resolve host '{0}': {1}")]
    Resolve(String, String),
    #[error("the rate must be a positive number of requests per second, got {0}")]
    Rate(f64),
    #[error("connections must be at least 1")]
    Connections,
    #[error("max connections ({max}) must be at least the initial connections ({initial})")]
    MaxConnections { max: usize, initial: usize },
    #[error("the duration must be longer than zero")]
    Duration,
    #[error("the request count must be at least 1")]
    Count,
    #[error("threads must be at least 1")]
    Threads,
    #[error("the request mix is empty")]
    EmptyMix,
    #[error("request '{0}' has weight 0; every request in the mix needs a weight of at least 1")]
    Weight(String),
    #[error("request '{0}': {1}")]
    Request(String, String),
    #[error("the CPU list is empty")]
    NoCpus,
    #[error("CPU {cpu} does not exist on this machine ({available} CPUs)")]
    Cpu { cpu: usize, available: usize },
    #[error("{what} must be longer than zero")]
    Timeout { what: &'static str },
    #[error("the measured time can only be split into windows when it is a duration, and into at least one")]
    Windows,
    #[error(
        "the ramp ({ramp:?}) must end within the warm-up ({warmup:?}), before measuring starts"
    )]
    Ramp { ramp: Duration, warmup: Duration },
    #[error("{0}")]
    Ws(String),
}

impl Plan {
    /// Checks every value a run depends on.
    pub fn validate(&self) -> Result<(), PlanError> {
        match self.load {
            Load::Closed { connections: 0 } => return Err(PlanError::Connections),
            Load::Constant {
                rate,
                connections,
                max_connections,
            } => {
                if !(rate.is_finite() && rate > 0.0) {
                    return Err(PlanError::Rate(rate));
                }
                if connections == 0 {
                    return Err(PlanError::Connections);
                }
                if max_connections < connections {
                    return Err(PlanError::MaxConnections {
                        max: max_connections,
                        initial: connections,
                    });
                }
            }
            Load::Closed { .. } => {}
        }
        match self.stop {
            Stop::Duration(d) if d.is_zero() => return Err(PlanError::Duration),
            Stop::Count(0) => return Err(PlanError::Count),
            _ => {}
        }
        if self.threads == 0 {
            return Err(PlanError::Threads);
        }
        if self.windows == 0 || (self.windows > 1 && !matches!(self.stop, Stop::Duration(_))) {
            return Err(PlanError::Windows);
        }
        if self.ramp > self.warmup {
            return Err(PlanError::Ramp {
                ramp: self.ramp,
                warmup: self.warmup,
            });
        }
        if self.connect_timeout.is_zero() {
            return Err(PlanError::Timeout {
                what: "the connect timeout",
            });
        }
        if self.request_timeout.is_zero() {
            return Err(PlanError::Timeout {
                what: "the request timeout",
            });
        }
        if self.requests.is_empty() {
            return Err(PlanError::EmptyMix);
        }
        for r in &self.requests {
            if r.weight == 0 {
                return Err(PlanError::Weight(r.tag.clone()));
            }
            r.check()
                .map_err(|why| PlanError::Request(r.tag.clone(), why))?;
        }
        if let Some(ws) = &self.ws {
            self.check_ws(ws).map_err(PlanError::Ws)?;
        }
        if let Some(cpus) = &self.cpus {
            if cpus.is_empty() {
                return Err(PlanError::NoCpus);
            }
            let available = crate::cpu::online_cpus();
            if let Some(&cpu) = cpus.iter().find(|&&c| c >= available) {
                return Err(PlanError::Cpu { cpu, available });
            }
        }
        Ok(())
    }

    /// Why a WebSocket plan cannot run as given, if it cannot.
    fn check_ws(&self, ws: &WsPlan) -> Result<(), String> {
        if self.target.url.scheme() != "ws" {
            return Err("a WebSocket run needs a ws:// URL".into());
        }
        if !ws.path.starts_with('/') || ws.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(format!(
                "path '{}' must start with '/' and hold no spaces or control characters",
                ws.path.escape_debug()
            ));
        }
        let connections = self.initial_connections();
        match ws.mode {
            WsMode::Echo => {}
            WsMode::Broadcast { rooms, senders } => {
                if !matches!(self.stop, Stop::Duration(_)) {
                    return Err("a broadcast runs for a duration (-d), not a count".into());
                }
                if rooms == 0 || senders == 0 {
                    return Err("a broadcast needs at least one room and one sender".into());
                }
                if rooms > 1 && !ws.path.contains("{room}") {
                    return Err(format!(
                        "{rooms} rooms need a URL that names the room with {{room}}, such as \
                         ws://127.0.0.1:8080/ws/room/{{room}}"
                    ));
                }
                if !connections.is_multiple_of(rooms) || senders > connections / rooms {
                    return Err(format!(
                        "{connections} connections cannot make {rooms} equal rooms of at least \
                         {senders} sender(s): give -c as a multiple of --rooms"
                    ));
                }
                if ws.message_size < MIN_BROADCAST_MESSAGE {
                    return Err(format!(
                        "a broadcast message must have at least {MIN_BROADCAST_MESSAGE} bytes \
                         for the sender, sequence number and send times it carries"
                    ));
                }
            }
            WsMode::Idle { hold } => {
                if !matches!(self.load, Load::Constant { .. })
                    || !matches!(self.stop, Stop::Count(_))
                {
                    return Err("an idle run opens a count of connections at a rate".into());
                }
                if hold.is_zero() {
                    return Err("the hold must be longer than zero".into());
                }
            }
        }
        if matches!(ws.mode, WsMode::Echo | WsMode::Broadcast { .. }) && ws.message_size == 0 {
            return Err("the message size must be at least 1 byte".into());
        }
        Ok(())
    }

    /// Connections opened at the start, over all threads.
    pub fn initial_connections(&self) -> usize {
        match self.load {
            Load::Closed { connections } | Load::Constant { connections, .. } => connections,
        }
    }

    /// The bytes of each request, in mix order, shared by every connection.
    pub(crate) fn encoded_requests(&self) -> Arc<[Arc<[u8]>]> {
        self.requests
            .iter()
            .map(|r| Arc::from(r.encode(&self.target)))
            .collect()
    }
}

/// Splits `total` into `parts` shares that differ by at most one, larger shares first.
pub(crate) fn split(total: u64, parts: usize) -> Vec<u64> {
    let parts = parts as u64;
    (0..parts)
        .map(|i| total / parts + u64::from(i < total % parts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_fair_and_exact() {
        assert_eq!(split(10, 3), vec![4, 3, 3]);
        assert_eq!(split(2, 4), vec![1, 1, 0, 0]);
        assert_eq!(split(9, 1), vec![9]);
    }

    #[test]
    fn encodes_host_headers_and_body() {
        let target = Target::resolve("http://127.0.0.1:8080/a?b=1").unwrap();
        let mut spec = RequestSpec::get(&target.url);
        assert_eq!(
            spec.encode(&target),
            b"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        );
        spec.method = "POST".into();
        spec.headers.push(("X-A".into(), "1".into()));
        spec.body = b"hi".to_vec();
        let mut h = target.clone();
        h.host = "h".into();
        assert_eq!(
            spec.encode(&h),
            b"POST /a?b=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn credentials_in_the_url_are_sent_as_basic_auth_and_masked() {
        // curl -u 'Aladdin:open sesame' sends this header (RFC 7617's example).
        let target = Target::resolve("http://Aladdin:open%20sesame@127.0.0.1:9/x").unwrap();
        assert_eq!(
            target.authorization.as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(target.host, "127.0.0.1:9");
        assert_eq!(target.display_url(), "http://Aladdin:***@127.0.0.1:9/x");
        let mut spec = RequestSpec::get(&target.url);
        let wire = String::from_utf8(spec.encode(&target)).unwrap();
        assert!(
            wire.contains("\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
            "{wire}"
        );
        // A request's own Authorization header wins.
        spec.headers
            .push(("Authorization".into(), "Bearer t".into()));
        let wire = String::from_utf8(spec.encode(&target)).unwrap();
        assert_eq!(wire.matches("Authorization").count(), 1, "{wire}");
        assert!(Target::resolve("http://127.0.0.1:9/")
            .unwrap()
            .authorization
            .is_none());
    }

    #[test]
    fn requests_that_cannot_be_sent_as_given_are_refused() {
        let target = Target::resolve("http://127.0.0.1:9/").unwrap();
        let get = RequestSpec::get(&target.url);
        let with = |headers: &[(&str, &str)], body: &[u8]| {
            let mut r = get.clone();
            r.headers = headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            r.body = body.to_vec();
            r.check()
        };
        assert!(with(&[("X-A", "1\tb")], b"").is_ok());
        for value in ["a\rb", "a\nb", "a\0b", "a\x1bb", "a\x7fb"] {
            let err = with(&[("X-A", value)], b"").unwrap_err();
            assert!(err.contains("control characters"), "{value:?}: {err}");
        }
        assert!(with(&[("X\0A", "1")], b"").is_err());
        assert!(with(&[("Content-Length", "5")], b"hello").is_ok());
        let err = with(&[("Content-Length", "10")], b"").unwrap_err();
        assert!(err.contains("contradicts the body"), "{err}");
        assert!(with(&[("Content-Length", "x")], b"").is_err());
        let err = with(
            &[("Transfer-Encoding", "chunked"), ("Content-Length", "0")],
            b"",
        )
        .unwrap_err();
        assert!(
            err.contains("Transfer-Encoding and Content-Length"),
            "{err}"
        );
        let mut nul = get.clone();
        nul.path = "/a\0b".into();
        assert!(nul.check().is_err());
        // Chunked framing given by the user gets no Content-Length added.
        let mut chunked = get.clone();
        chunked.method = "POST".into();
        chunked.headers = vec![("Transfer-Encoding".into(), "chunked".into())];
        chunked.body = b"0\r\n\r\n".to_vec();
        assert!(chunked.check().is_ok());
        let wire = String::from_utf8(chunked.encode(&target)).unwrap();
        assert!(!wire.contains("Content-Length"), "{wire}");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(Target::resolve("nope"), Err(PlanError::Url(..))));
        assert!(matches!(
            Target::resolve("https://127.0.0.1/"),
            Err(PlanError::Scheme(_))
        ));
        let t = Target::resolve("http://127.0.0.1:9/x").unwrap();
        assert_eq!(t.host, "127.0.0.1:9");
        assert_eq!(t.addr().port(), 9);
    }
}
