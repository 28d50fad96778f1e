//! WebSocket connections: the opening handshake, frames in and out, and what broadcast
//! messages carry.
//!
//! The handshake is written here rather than borrowed, because how a server refuses it is a
//! result: a status other than 101, a 101 that is not a WebSocket handshake, or a close are
//! each an error of their own kind. It never offers an extension, so per-message compression is
//! never negotiated. Frames are read and written by `fastwebsockets`: the reader and the writer
//! of one connection own the two halves of its socket, so a room member can publish while it
//! receives; the writer serialises every frame, pongs included, so frames never interleave.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket, WebSocketError};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::record::ErrorKind;

/// The GUID RFC 6455 appends to the key to prove the server read the handshake.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Longest handshake answer read; anything longer is not a WebSocket server's answer.
const MAX_HANDSHAKE: usize = 16 * 1024;
/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 16 << 20;

/// How a handshake failed, with what a person needs to know to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    pub kind: ErrorKind,
    pub detail: String,
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// The reading half of a socket, as the frame reader sees it. The reader never writes (pings
/// and closes are answered through the [`Writer`]), so its writing side refuses.
#[derive(Debug)]
pub(crate) struct ReadSide {
    half: OwnedReadHalf,
    /// Bytes read with the handshake answer that belong to the first frames.
    early: Vec<u8>,
}

impl AsyncRead for ReadSide {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.early.is_empty() {
            let n = this.early.len().min(buf.remaining());
            buf.put_slice(&this.early[..n]);
            this.early.drain(..n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.half).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadSide {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::other(
            "the reading half of a WebSocket connection never writes",
        )))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A frame reader over `half`, answering nothing itself.
fn frame_reader(half: OwnedReadHalf, early: Vec<u8>) -> WebSocket<ReadSide> {
    let mut ws = WebSocket::after_handshake(ReadSide { half, early }, Role::Client);
    // Pings, pongs and closes are answered through the writer, so frames never interleave.
    ws.set_auto_pong(false);
    ws.set_auto_close(false);
    ws.set_max_message_size(MAX_MESSAGE);
    ws
}

/// The sending half: every frame of the connection leaves through it, one at a time.
#[derive(Debug)]
pub(crate) struct Writer {
    side: Mutex<Sending>,
}

/// What the writer holds while it sends: the socket, and buffers kept from one frame to the
/// next so that a message costs no allocation.
#[derive(Debug)]
struct Sending {
    half: OwnedWriteHalf,
    /// The payload, masked.
    masked: Vec<u8>,
    /// The frame as written.
    wire: Vec<u8>,
}

impl Writer {
    fn new(half: OwnedWriteHalf) -> Writer {
        Writer {
            side: Mutex::new(Sending {
                half,
                masked: Vec::new(),
                wire: Vec::new(),
            }),
        }
    }

    /// Sends one whole frame, masked as a client must.
    pub(crate) async fn send(&self, opcode: OpCode, payload: &[u8]) -> Result<(), ErrorKind> {
        let mut guard = self.side.lock().await;
        let Sending { half, masked, wire } = &mut *guard;
        masked.clear();
        masked.extend_from_slice(payload);
        let mut frame = Frame::new(
            true,
            opcode,
            Some(fastrand::u32(..).to_ne_bytes()),
            Payload::BorrowedMut(masked),
        );
        // With a mask set, this applies it, in place.
        frame.mask();
        let bytes = frame.write(wire);
        half.write_all(bytes)
            .await
            .map_err(|e| ErrorKind::of_io(&e))
    }
}

/// The receiving half.
pub(crate) struct Reader {
    ws: WebSocket<ReadSide>,
    writer: Rc<Writer>,
    /// A message arriving in several frames, until its last.
    partial: Vec<u8>,
    /// Whether a message's first frame has come and its last not yet.
    fragmented: bool,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl Reader {
    /// The next text or binary message, its payload passed to `on_message`. Pings are answered
    /// and pongs skipped on the way; a close from the server is answered and is an error
    /// ([`ErrorKind::Closed`]).
    pub(crate) async fn next<T>(
        &mut self,
        mut on_message: impl FnMut(&[u8]) -> T,
    ) -> Result<T, ErrorKind> {
        loop {
            let frame = self.ws.read_frame().await.map_err(kind_of)?;
            match frame.opcode {
                OpCode::Ping => self.writer.send(OpCode::Pong, &frame.payload).await?,
                OpCode::Pong => {}
                OpCode::Close => {
                    let _ = self.writer.send(OpCode::Close, &[]).await;
                    return Err(ErrorKind::Closed);
                }
                // A message in one frame, when none is being assembled.
                OpCode::Text | OpCode::Binary if frame.fin && !self.fragmented => {
                    return Ok(on_message(&frame.payload));
                }
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    // A new message may not start inside another; a continuation needs a start.
                    let starts = frame.opcode != OpCode::Continuation;
                    if starts == self.fragmented {
                        return Err(ErrorKind::Framing);
                    }
                    self.fragmented = true;
                    if self.partial.len() + frame.payload.len() > MAX_MESSAGE {
                        return Err(ErrorKind::Framing);
                    }
                    self.partial.extend_from_slice(&frame.payload);
                    if frame.fin {
                        let out = on_message(&self.partial);
                        self.partial.clear();
                        self.fragmented = false;
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// An open WebSocket connection, in its two halves.
#[derive(Debug)]
pub(crate) struct WsConn {
    pub(crate) reader: Reader,
    pub(crate) writer: Rc<Writer>,
}

impl WsConn {
    /// The connection as an idle one is held: without a read buffer until the server sends
    /// something, so that 10,000 held connections cost little more than their sockets.
    pub(crate) fn into_idle(self) -> Idle {
        let side = self.reader.ws.into_inner();
        if side.early.is_empty() {
            return Idle {
                half: Some(side.half),
                reader: None,
                writer: self.writer,
            };
        }
        Idle {
            half: None,
            reader: Some(Reader {
                ws: frame_reader(side.half, side.early),
                writer: self.writer.clone(),
                partial: Vec::new(),
                fragmented: false,
            }),
            writer: self.writer,
        }
    }
}

/// A held idle connection: its reading half bare, or once the server has sent anything but a
/// ping, a full reader over it.
#[derive(Debug)]
pub(crate) struct Idle {
    half: Option<OwnedReadHalf>,
    reader: Option<Reader>,
    writer: Rc<Writer>,
}

impl Idle {
    /// Keeps the connection open, answering pings, until the server ends it; returns why.
    /// A ping or a close is read from a peek, without a buffer; anything else gets a full
    /// reader from then on, which reads it from its first byte, since a peek consumes nothing.
    pub(crate) async fn hold(&mut self) -> ErrorKind {
        loop {
            if let Some(reader) = self.reader.as_mut() {
                if let Err(kind) = reader.next(|_| ()).await {
                    return kind;
                }
                continue;
            }
            let Some(half) = self.half.as_mut() else {
                return ErrorKind::Io;
            };
            let mut head = [0u8; 2 + 125];
            let n = match half.peek(&mut head).await {
                Ok(0) => return ErrorKind::Closed,
                Ok(n) => n,
                Err(e) => return ErrorKind::of_io(&e),
            };
            // Unmasked, final, no reserved bits, a control frame whole in the peek.
            let (b0, b1) = (head[0], head.get(1).copied().unwrap_or(0x80));
            let len = usize::from(b1 & 0x7f);
            let whole = n >= 2 && b0 & 0xf0 == 0x80 && b1 & 0x80 == 0 && len <= 125 && n >= 2 + len;
            let opcode = b0 & 0x0f;
            if whole && (opcode == 0x9 || opcode == 0x8) {
                // Exactly this frame leaves the socket.
                match half.try_read(&mut head[..2 + len]) {
                    Ok(_) => {}
                    // Readiness was cleared in between: look again.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return ErrorKind::of_io(&e),
                }
                if opcode == 0x8 {
                    let _ = self.writer.send(OpCode::Close, &[]).await;
                    return ErrorKind::Closed;
                }
                if let Err(kind) = self.writer.send(OpCode::Pong, &head[2..2 + len]).await {
                    return kind;
                }
                continue;
            }
            if let Some(half) = self.half.take() {
                self.reader = Some(Reader {
                    ws: frame_reader(half, Vec::new()),
                    writer: self.writer.clone(),
                    partial: Vec::new(),
                    fragmented: false,
                });
            }
        }
    }
}

/// What a frame error means for the report.
fn kind_of(e: WebSocketError) -> ErrorKind {
    match e {
        WebSocketError::IoError(e) => ErrorKind::of_io(&e),
        WebSocketError::UnexpectedEOF | WebSocketError::ConnectionClosed => ErrorKind::Closed,
        _ => ErrorKind::Framing,
    }
}

/// The headers that name the server in every upgrade to `target`: `Host`, and `Authorization`
/// for credentials in the URL (`ws://user:password@host/`), as for HTTP.
pub fn origin_headers(target: &crate::Target) -> String {
    let mut out = format!("Host: {}\r\n", target.host);
    if let Some(credentials) = &target.authorization {
        out.push_str(&format!("Authorization: {credentials}\r\n"));
    }
    out
}

/// The upgrade request for `path` with `origin` (see [`origin_headers`]) and `key`. No
/// `Sec-WebSocket-Extensions`: the client never offers per-message compression.
pub fn upgrade_request(origin: &str, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\n{origin}Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// The `Sec-WebSocket-Accept` a server must answer to `key`.
pub fn accept_for(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

fn refused(kind: ErrorKind, detail: impl Into<String>) -> HandshakeError {
    HandshakeError {
        kind,
        detail: detail.into(),
    }
}

/// Connects to `addr` and performs the opening handshake for `path`, with `origin` (see
/// [`origin_headers`]), connecting within `connect_timeout` and upgrading within `timeout`.
pub(crate) async fn open(
    addr: SocketAddr,
    origin: &str,
    path: &str,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<WsConn, HandshakeError> {
    let stream = match tokio::time::timeout(connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(refused(
                ErrorKind::of_connect(&e),
                format!("cannot connect to {addr}: {e}"),
            ))
        }
        Err(_) => {
            return Err(refused(
                ErrorKind::ConnectTimeout,
                format!("no connection to {addr} within {connect_timeout:?}"),
            ))
        }
    };
    let _ = stream.set_nodelay(true);
    match tokio::time::timeout(timeout, handshake(stream, origin, path)).await {
        Ok(result) => result,
        Err(_) => Err(refused(
            ErrorKind::Timeout,
            format!("the server did not answer the WebSocket upgrade within {timeout:?}"),
        )),
    }
}

async fn handshake(
    mut stream: TcpStream,
    origin: &str,
    path: &str,
) -> Result<WsConn, HandshakeError> {
    let io_error = |e: io::Error| {
        refused(
            ErrorKind::of_io(&e),
            format!("the WebSocket upgrade failed: {e}"),
        )
    };
    let key = base64::engine::general_purpose::STANDARD.encode(fastrand::u128(..).to_ne_bytes());
    stream
        .write_all(upgrade_request(origin, path, &key).as_bytes())
        .await
        .map_err(io_error)?;
    let mut buf = Vec::with_capacity(512);
    let used = loop {
        if buf.len() >= MAX_HANDSHAKE {
            return Err(refused(
                ErrorKind::Handshake,
                "the answer to the WebSocket upgrade has no end to its headers",
            ));
        }
        stream.readable().await.map_err(io_error)?;
        let mut chunk = [0u8; 1024];
        let n = match stream.try_read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(io_error(e)),
        };
        if n == 0 {
            return Err(refused(
                ErrorKind::Closed,
                "the server closed the connection instead of answering the WebSocket upgrade",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Partial) => continue,
            Err(e) => {
                return Err(refused(
                    ErrorKind::Handshake,
                    format!("the answer to the WebSocket upgrade is not HTTP: {e}"),
                ))
            }
            Ok(httparse::Status::Complete(used)) => {
                check_answer(&response, &key)?;
                break used;
            }
        }
    };
    let (read, write) = stream.into_split();
    let writer = Rc::new(Writer::new(write));
    Ok(WsConn {
        reader: Reader {
            ws: frame_reader(read, buf.split_off(used)),
            writer: writer.clone(),
            partial: Vec::new(),
            fragmented: false,
        },
        writer,
    })
}

/// Whether `response` accepts the upgrade asked for with `key`.
fn check_answer(response: &httparse::Response<'_, '_>, key: &str) -> Result<(), HandshakeError> {
    let status = response.code.unwrap_or(0);
    if status != 101 {
        return Err(refused(
            ErrorKind::Upgrade,
            format!(
                "the server refused the WebSocket upgrade: it answered HTTP {status} {}",
                response.reason.unwrap_or("")
            ),
        ));
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let bad = |why: String| Err(refused(ErrorKind::Handshake, why));
    if !header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
        return bad("the server answered 101 without 'Upgrade: websocket'".into());
    }
    if header("sec-websocket-accept").as_deref() != Some(accept_for(key).as_str()) {
        return bad("the server's Sec-WebSocket-Accept does not match the key sent".into());
    }
    if let Some(ext) = header("sec-websocket-extensions") {
        return bad(format!(
            "the server answered with extensions no one asked for: '{ext}'"
        ));
    }
    Ok(())
}

/// Checks that the server at `addr` accepts a WebSocket upgrade on `path`, once, before a run,
/// so a wrong URL is one clear line rather than a run of errors.
pub fn probe(
    addr: SocketAddr,
    origin: &str,
    path: &str,
    timeout: Duration,
) -> Result<(), HandshakeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| refused(ErrorKind::Io, e.to_string()))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let conn = open(addr, origin, path, timeout, timeout).await?;
        let _ = conn
            .writer
            .send(OpCode::Close, &1000u16.to_be_bytes())
            .await;
        Ok(())
    })
}

/// What a broadcast message carries, in its first bytes, as text: the run it belongs to, the
/// sender, its sequence number, when it was meant to leave and left, in nanoseconds since the
/// run's start, and the part of the measured window it counts in. The rest is padding to the
/// message size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Tells this process's messages from another's in the same room.
    pub run: u32,
    /// The sender's number over the whole run (room by room).
    pub sender: u32,
    pub seq: u64,
    pub intended_ns: u64,
    pub sent_ns: u64,
    /// The part of the measured window it counts in, from 1; 0 for a warm-up message. The
    /// sender decides, as it does for every request.
    pub window: u32,
}

impl Stamp {
    /// Writes the stamp into `out`, padded with `.` to `size` bytes.
    pub fn write(&self, size: usize, out: &mut Vec<u8>) {
        use std::io::Write;
        out.clear();
        let _ = write!(
            out,
            "sw {:08x} {} {} {} {} {} ",
            self.run, self.sender, self.seq, self.intended_ns, self.sent_ns, self.window
        );
        if out.len() < size {
            out.resize(size, b'.');
        }
    }

    /// The stamp at the start of `message`, if it has one.
    pub fn read(message: &[u8]) -> Option<Stamp> {
        let head = message.get(..message.len().min(128))?;
        let text = std::str::from_utf8(head).ok().or_else(|| {
            // The padding may be cut anywhere; the stamp itself is ASCII.
            let end = head
                .iter()
                .position(|b| !b.is_ascii())
                .unwrap_or(head.len());
            std::str::from_utf8(&head[..end]).ok()
        })?;
        let mut parts = text.split(' ');
        if parts.next()? != "sw" {
            return None;
        }
        let run = u32::from_str_radix(parts.next()?, 16).ok()?;
        let mut num = || parts.next()?.parse::<u64>().ok();
        Some(Stamp {
            run,
            sender: u32::try_from(num()?).ok()?,
            seq: num()?,
            intended_ns: num()?,
            sent_ns: num()?,
            window: u32::try_from(num()?).ok()?,
        })
    }
}

/// How far behind the highest sequence number a member keeps track, in messages of one sender:
/// a message arriving later than that counts as a duplicate. It bounds the memory of a long run
/// to 8 KiB per member and sender.
pub const SEEN_WINDOW: u64 = 64 * 1024;

/// What one member of a room has seen of one sender: which sequence numbers, to tell
/// duplicates, and the highest, to tell messages that arrive out of order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Seen {
    /// One bit per sequence number from `base`.
    bits: std::collections::VecDeque<u64>,
    /// The sequence number of the first bit; a multiple of 64.
    base: u64,
    highest: Option<u64>,
}

/// How a message stands against what was seen before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    First { in_order: bool },
    Duplicate,
}

impl Seen {
    pub(crate) fn arrive(&mut self, seq: u64) -> Arrival {
        if seq < self.base {
            return Arrival::Duplicate;
        }
        let words = (SEEN_WINDOW / 64) as usize;
        if (seq - self.base) / 64 >= words as u64 * 2 {
            // Far ahead of everything kept: start the window afresh rather than grow to it.
            self.bits.clear();
            self.base = (seq / 64 + 1 - words as u64) * 64;
        }
        let word = ((seq - self.base) / 64) as usize;
        let bit = seq % 64;
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        if self.bits[word] & (1 << bit) != 0 {
            return Arrival::Duplicate;
        }
        self.bits[word] |= 1 << bit;
        let in_order = self.highest.is_none_or(|h| seq > h);
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        while self.bits.len() as u64 * 64 > SEEN_WINDOW {
            self.bits.pop_front();
            self.base += 64;
        }
        Arrival::First { in_order }
    }
}

/// Per-connection state of room membership, kept apart from the connection so it is not lost
/// when a task is cancelled.
pub(crate) type SeenBySender = Rc<RefCell<Vec<Seen>>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_the_rfc_example() {
        // RFC 6455, section 1.3.
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let target = crate::Target::resolve("ws://me:secret@127.0.0.1:9/ws/echo").unwrap();
        let request = upgrade_request(&origin_headers(&target), "/ws/echo", "k");
        assert!(!request.to_ascii_lowercase().contains("extensions"));
        assert!(request.starts_with("GET /ws/echo HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"));
        assert!(
            request.contains("\r\nAuthorization: Basic bWU6c2VjcmV0\r\n"),
            "{request}"
        );
    }

    #[test]
    fn stamps_round_trip_and_pad() {
        let s = Stamp {
            run: 0xdead_beef,
            sender: 7,
            seq: 123_456,
            intended_ns: 9_000_000_000,
            sent_ns: 9_000_000_100,
            window: 1,
        };
        let mut out = Vec::new();
        s.write(128, &mut out);
        assert_eq!(out.len(), 128);
        assert_eq!(Stamp::read(&out), Some(s));
        assert_eq!(Stamp::read(b"hello"), None);
    }

    #[test]
    fn arrivals_tell_duplicates_and_order() {
        let mut seen = Seen::default();
        assert_eq!(seen.arrive(0), Arrival::First { in_order: true });
        assert_eq!(seen.arrive(2), Arrival::First { in_order: true });
        assert_eq!(seen.arrive(1), Arrival::First { in_order: false });
        assert_eq!(seen.arrive(2), Arrival::Duplicate);
        assert_eq!(seen.arrive(200), Arrival::First { in_order: true });
        // Far past the window, the oldest are forgotten: memory stays bounded.
        let far = 10 * SEEN_WINDOW;
        assert_eq!(seen.arrive(far), Arrival::First { in_order: true });
        assert!(seen.bits.len() as u64 * 64 <= SEEN_WINDOW);
        assert_eq!(seen.arrive(far - 1), Arrival::First { in_order: false });
        assert_eq!(seen.arrive(3), Arrival::Duplicate);
    }
}
