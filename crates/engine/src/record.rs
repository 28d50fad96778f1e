//! Raw measurements, as each worker thread records them.
//!
//! Every worker owns one [`Recording`]: per request tag, two HDR histograms (latency from the
//! intended send time, and from the actual send time), status counts and errors by kind, plus
//! counters for the schedule and the connections, and what only WebSocket has: handshakes,
//! each broadcast sender's deliveries, and the connections an idle run held. Nothing is
//! summarised here; recordings are merged exactly at the end and everything else is computed
//! from them in `load_report.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram can hold, in microseconds (one hour); larger values are clamped.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Significant digits kept: values are exact to 0.1%.
pub const SIGFIGS: u8 = 3;

/// A new latency histogram in microseconds, of fixed size however long the run.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, SIGFIGS).expect("constant bounds are valid")
}

/// Why a request got no response.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The server refused the connection (nothing listening).
    ConnectRefused,
    /// The connection was not established within the connect timeout.
    ConnectTimeout,
    /// Connecting failed otherwise (unreachable network, no local ports left, ...).
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// The server reset the connection.
    Reset,
    /// The server closed the connection before the response was complete.
    Closed,
    /// The response was not valid HTTP/1.1.
    Protocol,
    /// The process ran out of file descriptors (EMFILE/ENFILE): the engine, not the server,
    /// could not open a socket. Raise the limit (`ulimit -n`).
    Descriptors,
    /// Any other socket error.
    Io,
    /// WebSocket: the server answered the upgrade with a status other than 101.
    Upgrade,
    /// WebSocket: the server answered 101 but not as RFC 6455 asks (no `Upgrade: websocket`,
    /// a wrong `Sec-WebSocket-Accept`, an extension no one asked for).
    Handshake,
    /// WebSocket: a frame broke the protocol (reserved bits, bad UTF-8, a fragmented control
    /// frame, a message too large, ...).
    Framing,
    /// WebSocket echo: the message that came back is not the one sent.
    Mismatch,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectTimeout,
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Closed,
        ErrorKind::Protocol,
        ErrorKind::Descriptors,
        ErrorKind::Io,
        ErrorKind::Upgrade,
        ErrorKind::Handshake,
        ErrorKind::Framing,
        ErrorKind::Mismatch,
    ];

    /// Classifies a socket error met while sending or receiving.
    pub fn of_io(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        if out_of_descriptors(e) {
            return ErrorKind::Descriptors;
        }
        match e.kind() {
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::Reset,
            K::UnexpectedEof => ErrorKind::Closed,
            K::TimedOut => ErrorKind::Timeout,
            K::ConnectionRefused => ErrorKind::ConnectRefused,
            _ => ErrorKind::Io,
        }
    }

    /// Classifies an error met while connecting.
    pub fn of_connect(e: &std::io::Error) -> ErrorKind {
        if out_of_descriptors(e) {
            return ErrorKind::Descriptors;
        }
        match e.kind() {
            std::io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
            std::io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
            _ => ErrorKind::Connect,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ConnectRefused => "connect_refused",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Closed => "closed",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Descriptors => "descriptors",
            ErrorKind::Io => "io",
            ErrorKind::Upgrade => "upgrade",
            ErrorKind::Handshake => "handshake",
            ErrorKind::Framing => "framing",
            ErrorKind::Mismatch => "mismatch",
        }
    }

    /// Whether the request never reached the server: it failed while connecting.
    pub fn before_sending(self) -> bool {
        matches!(
            self,
            ErrorKind::ConnectRefused
                | ErrorKind::ConnectTimeout
                | ErrorKind::Connect
                | ErrorKind::Descriptors
                | ErrorKind::Upgrade
                | ErrorKind::Handshake
        )
    }
}

/// EMFILE (this process) or ENFILE (the whole system): no file descriptor left for a socket.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == nix::libc::EMFILE || code == nix::libc::ENFILE
    )
}

/// What one tag's requests did.
#[derive(Debug, Clone)]
pub struct TagRecording {
    /// Latency from the intended send time (coordinated omission corrected), µs.
    pub corrected: Histogram<u64>,
    /// Latency from the moment the request was actually written, µs.
    pub uncorrected: Histogram<u64>,
    /// Responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Requests that got no response, by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Requests sent that had neither a response nor an error when the run ended. In an open
    /// loop each is also in `corrected`, at its age then (a lower bound of its latency).
    pub unanswered: u64,
    /// Response bytes read.
    pub bytes: u64,
    /// WebSocket: answers without an HTTP status (echoes, deliveries, handshakes).
    pub messages: u64,
}

impl TagRecording {
    pub fn new() -> TagRecording {
        TagRecording {
            corrected: latency_histogram(),
            uncorrected: latency_histogram(),
            status: BTreeMap::new(),
            errors: BTreeMap::new(),
            unanswered: 0,
            bytes: 0,
            messages: 0,
        }
    }

    pub fn merge(&mut self, other: &TagRecording) {
        self.corrected
            .add(&other.corrected)
            .expect("histograms share bounds");
        self.uncorrected
            .add(&other.uncorrected)
            .expect("histograms share bounds");
        for (code, n) in &other.status {
            *self.status.entry(*code).or_default() += n;
        }
        for (kind, n) in &other.errors {
            *self.errors.entry(*kind).or_default() += n;
        }
        self.unanswered += other.unanswered;
        self.bytes += other.bytes;
        self.messages += other.messages;
    }

    /// Answers: HTTP responses of any status, and WebSocket messages.
    pub fn responses(&self) -> u64 {
        self.status.values().sum::<u64>() + self.messages
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

impl Default for TagRecording {
    fn default() -> Self {
        TagRecording::new()
    }
}

/// Everything one worker (or, merged, a whole run) measured.
#[derive(Debug, Clone)]
pub struct Recording {
    /// One per request in the mix, in mix order.
    pub tags: Vec<TagRecording>,
    /// Requests written in the measured window.
    pub sent: u64,
    /// Sends that left more than [`LATE_AFTER`] after their intended time (open loop only).
    pub late: u64,
    /// Scheduled sends that were due in the measured window but never left (open loop only).
    pub unsent: u64,
    /// Connections established, including reconnects.
    pub connections_opened: u64,
    /// Most connections open at once.
    pub peak_connections: u64,
    /// Open loop: how late each measured send left after its intended time, µs. This is the
    /// engine's own timing error (or waiting for a free connection), and the whole difference
    /// between corrected and uncorrected latency.
    pub send_lag: Histogram<u64>,
    /// How long each request in `tags[..].unanswered` had waited, from its actual send time to
    /// the end of the run, µs.
    pub unanswered_age: Histogram<u64>,
    /// WebSocket: how long each opening handshake took, from the start of the TCP connect to the
    /// server's 101, µs.
    pub handshake: Histogram<u64>,
    /// WebSocket broadcast: each sender's messages, by the sender's number in the run.
    pub senders: Vec<SenderCounts>,
    /// WebSocket idle: connections still open when the hold ended.
    pub held: u64,
    /// WebSocket idle: connections lost during the hold, by kind.
    pub hold_errors: BTreeMap<ErrorKind, u64>,
}

/// What became of one broadcast sender's measured messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderCounts {
    /// Messages it published in the measured window.
    pub published: u64,
    /// First arrivals of those messages at a member of its room (itself included).
    pub delivered: u64,
    /// Arrivals of a message a member had already received.
    pub duplicated: u64,
    /// First arrivals after a later message of the same sender had reached that member.
    pub out_of_order: u64,
}

impl SenderCounts {
    fn add(&mut self, o: &SenderCounts) {
        self.published += o.published;
        self.delivered += o.delivered;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
    }
}

/// How late a send may leave before it counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(2);

impl Recording {
    pub fn new(tags: usize) -> Recording {
        Recording {
            tags: (0..tags).map(|_| TagRecording::new()).collect(),
            sent: 0,
            late: 0,
            unsent: 0,
            connections_opened: 0,
            peak_connections: 0,
            send_lag: latency_histogram(),
            unanswered_age: latency_histogram(),
            handshake: latency_histogram(),
            senders: Vec::new(),
            held: 0,
            hold_errors: BTreeMap::new(),
        }
    }

    /// Broadcast sender `sender`'s counts.
    pub fn sender(&mut self, sender: usize) -> &mut SenderCounts {
        if self.senders.len() <= sender {
            self.senders.resize(sender + 1, SenderCounts::default());
        }
        &mut self.senders[sender]
    }

    /// Adds `other`, recorded at the same time by another worker.
    pub fn merge(&mut self, other: &Recording) {
        for (mine, theirs) in self.tags.iter_mut().zip(&other.tags) {
            mine.merge(theirs);
        }
        self.sent += other.sent;
        self.late += other.late;
        self.unsent += other.unsent;
        self.connections_opened += other.connections_opened;
        // Workers run side by side, so their peaks add up to an upper bound of the joint peak.
        self.peak_connections += other.peak_connections;
        self.send_lag
            .add(&other.send_lag)
            .expect("histograms share bounds");
        self.unanswered_age
            .add(&other.unanswered_age)
            .expect("histograms share bounds");
        self.handshake
            .add(&other.handshake)
            .expect("histograms share bounds");
        for (i, s) in other.senders.iter().enumerate() {
            self.sender(i).add(s);
        }
        self.held += other.held;
        for (kind, n) in &other.hold_errors {
            *self.hold_errors.entry(*kind).or_default() += n;
        }
    }

    /// Adds a recording of a later stretch of the same workers: everything adds up, except the
    /// peak of open connections, which is the higher of the two.
    pub fn merge_in_time(&mut self, later: &Recording) {
        let peak = self.peak_connections.max(later.peak_connections);
        self.merge(later);
        self.peak_connections = peak;
    }

    /// Records a response to request `tag`.
    #[inline]
    pub fn response(
        &mut self,
        tag: usize,
        status: u16,
        corrected: Duration,
        uncorrected: Duration,
    ) {
        let t = &mut self.tags[tag];
        t.corrected.saturating_record(micros(corrected));
        t.uncorrected.saturating_record(micros(uncorrected));
        *t.status.entry(status).or_default() += 1;
    }

    /// Records a WebSocket message that came back (echo) or was delivered (broadcast), or a
    /// handshake that completed (idle): an answer without an HTTP status.
    #[inline]
    pub fn message(&mut self, tag: usize, corrected: Duration, uncorrected: Duration, bytes: u64) {
        let t = &mut self.tags[tag];
        t.corrected.saturating_record(micros(corrected));
        t.uncorrected.saturating_record(micros(uncorrected));
        t.messages += 1;
        t.bytes += bytes;
    }

    #[inline]
    pub fn error(&mut self, tag: usize, kind: ErrorKind) {
        *self.tags[tag].errors.entry(kind).or_default() += 1;
    }

    /// Records a request to `tag` still unanswered when the run ended, `age` after it was
    /// written. An open loop passes `lower_bound`, the time since it was meant to be sent: its
    /// latency is at least that, and the corrected histogram must not forget it.
    pub fn unanswered(&mut self, tag: usize, age: Duration, lower_bound: Option<Duration>) {
        let t = &mut self.tags[tag];
        t.unanswered += 1;
        if let Some(bound) = lower_bound {
            t.corrected.saturating_record(micros(bound));
        }
        self.unanswered_age.saturating_record(micros(age));
    }
}

/// Latency in whole microseconds, at least 1 so that it fits the histogram's range.
#[inline]
pub fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_exactly() {
        let mut a = Recording::new(2);
        let mut b = Recording::new(2);
        a.response(0, 200, Duration::from_millis(5), Duration::from_millis(1));
        b.response(0, 200, Duration::from_millis(7), Duration::from_millis(7));
        b.response(1, 503, Duration::from_millis(1), Duration::from_millis(1));
        b.error(1, ErrorKind::Reset);
        a.sent = 1;
        b.sent = 3;
        a.merge(&b);
        assert_eq!(a.sent, 4);
        assert_eq!(a.tags[0].corrected.len(), 2);
        assert_eq!(
            a.tags[0].corrected.max(),
            a.tags[0].corrected.highest_equivalent(7000)
        );
        assert_eq!(a.tags[1].status[&503], 1);
        assert_eq!(a.tags[1].errors[&ErrorKind::Reset], 1);
    }

    #[test]
    fn classifies_io_errors() {
        use std::io::{Error, ErrorKind as K};
        assert_eq!(
            ErrorKind::of_io(&Error::from(K::ConnectionReset)),
            ErrorKind::Reset
        );
        assert_eq!(
            ErrorKind::of_io(&Error::from(K::UnexpectedEof)),
            ErrorKind::Closed
        );
        assert_eq!(
            ErrorKind::of_connect(&Error::from(K::ConnectionRefused)),
            ErrorKind::ConnectRefused
        );
        for code in [nix::libc::EMFILE, nix::libc::ENFILE] {
            let e = Error::from_raw_os_error(code);
            assert_eq!(ErrorKind::of_connect(&e), ErrorKind::Descriptors);
            assert_eq!(ErrorKind::of_io(&e), ErrorKind::Descriptors);
        }
    }
}
