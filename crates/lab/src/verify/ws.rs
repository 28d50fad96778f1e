//! Checking a contestant's WebSocket endpoints against docs/spec.md: the handshake (a `101`
//! with the right accept key and no extension negotiated, though the client offers
//! per-message compression), `/ws/echo`'s answers, and `/ws/room/{id}`'s delivery: every
//! member receives every message exactly once, each sender's in its order, all members in one
//! order, and nothing from another room. Every failure is one line.
//!
//! The handshake is written here so its answer can be read as it is (a `200`, a missing accept
//! key, an extension the server took); the frames after it are tungstenite's.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

type Check = Result<(), String>;

/// Longest wait for one frame: a message that does not come within it was not sent.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a member of another room is listened to for a message it must not get.
const QUIET: Duration = Duration::from_millis(500);
/// Time a server is given after a handshake to enrol the new member: an asynchronous server
/// may answer the upgrade a moment before its handler adds the connection to the room.
const SETTLE: Duration = Duration::from_millis(200);
/// Messages each room member sends in the delivery check.
const PER_SENDER: usize = 25;

/// A verified client connection.
struct Client {
    socket: WebSocket<TcpStream>,
    path: String,
}

/// What the server answered to the upgrade, when it was not a WebSocket handshake.
fn handshake(port: u16, path: &str) -> Result<Client, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("GET {path}: cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(READ_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| format!("GET {path}: {e}"))?;
    let key = key();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("GET {path}: cannot send the upgrade: {e}"))?;
    let head = read_head(&mut stream).map_err(|e| format!("GET {path}: {e}"))?;
    let (status, headers) = parse_head(&head).map_err(|e| format!("GET {path}: {e}"))?;
    if status != 101 {
        return Err(format!(
            "GET {path} answered {status} to a WebSocket upgrade, not 101 Switching Protocols"
        ));
    }
    let header = |name: &str| headers.get(name).map(String::as_str).unwrap_or("");
    if !header("upgrade").eq_ignore_ascii_case("websocket") {
        return Err(format!(
            "GET {path}: the 101 has Upgrade '{}', not 'websocket'",
            header("upgrade")
        ));
    }
    let expected = stackwise_engine::ws::accept_for(&key);
    if header("sec-websocket-accept") != expected {
        return Err(format!(
            "GET {path}: Sec-WebSocket-Accept is '{}', expected '{expected}'",
            header("sec-websocket-accept")
        ));
    }
    if let Some(ext) = headers.get("sec-websocket-extensions") {
        return Err(format!(
            "GET {path}: the server negotiated '{ext}'; per-message compression must be off \
             (docs/spec.md)"
        ));
    }
    Ok(Client {
        socket: WebSocket::from_raw_socket(stream, Role::Client, None),
        path: path.to_string(),
    })
}

/// A random `Sec-WebSocket-Key`: 16 bytes, base64.
fn key() -> String {
    use base64::Engine as _;
    let bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The answer's head, up to its blank line, read byte by byte so no frame after it is taken.
fn read_head(stream: &mut TcpStream) -> Result<String, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => {
                return Err(if head.is_empty() {
                    "the server closed the connection without answering the upgrade".into()
                } else {
                    "the server closed the connection in the middle of its answer".into()
                })
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(format!("no answer to the upgrade: {e}")),
        }
        if head.len() > 16 * 1024 {
            return Err("the answer to the upgrade is over 16 KiB of headers".into());
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The status and the headers (names in lower case) of an HTTP/1.1 answer's head.
fn parse_head(head: &str) -> Result<(u16, BTreeMap<String, String>), String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("'{status_line}' is not an HTTP status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers))
}

impl Client {
    fn send(&mut self, text: &str) -> Check {
        self.socket
            .send(Message::text(text))
            .map_err(|e| format!("{}: cannot send a message: {e}", self.path))
    }

    /// The next text message; pongs are skipped, anything else is a failure.
    fn text(&mut self) -> Result<String, String> {
        loop {
            match self.socket.read() {
                Ok(Message::Text(t)) => return Ok(t.as_str().to_string()),
                Ok(Message::Pong(_)) => continue,
                Ok(other) => {
                    return Err(format!(
                        "{}: expected a text message, got {}",
                        self.path,
                        kind(&other)
                    ))
                }
                Err(e) => return Err(format!("{}: no message: {}", self.path, reason(&e))),
            }
        }
    }

    /// Whether a message comes within `wait`: `Ok(None)` when none does.
    fn maybe_text(&mut self, wait: Duration) -> Result<Option<String>, String> {
        let stream = self.socket.get_ref();
        let _ = stream.set_read_timeout(Some(wait));
        let got = match self.socket.read() {
            Ok(Message::Text(t)) => Ok(Some(t.as_str().to_string())),
            Ok(other) => Err(format!(
                "{}: expected nothing, got {}",
                self.path,
                kind(&other)
            )),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("{}: {}", self.path, reason(&e))),
        };
        let _ = self.socket.get_ref().set_read_timeout(Some(READ_TIMEOUT));
        got
    }

    /// Sends a close frame and expects the server's close in answer, then the end of the
    /// connection.
    fn close(mut self) -> Check {
        self.socket
            .close(None)
            .map_err(|e| format!("{}: cannot send a close frame: {e}", self.path))?;
        let began = Instant::now();
        loop {
            match self.socket.read() {
                // Messages already on their way are still delivered before the close.
                Ok(Message::Text(_) | Message::Pong(_) | Message::Binary(_)) => {}
                Ok(Message::Close(_)) => {}
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
                Err(e) => {
                    return Err(format!(
                        "{}: the server did not answer the close frame: {}",
                        self.path,
                        reason(&e)
                    ))
                }
            }
            if began.elapsed() > READ_TIMEOUT {
                return Err(format!(
                    "{}: the connection stayed open after the close handshake",
                    self.path
                ));
            }
        }
    }
}

fn kind(m: &Message) -> &'static str {
    match m {
        Message::Text(_) => "a text message",
        Message::Binary(_) => "a binary message",
        Message::Ping(_) => "a ping",
        Message::Pong(_) => "a pong",
        Message::Close(_) => "a close frame",
        Message::Frame(_) => "a raw frame",
    }
}

fn reason(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            format!("nothing within {} s", READ_TIMEOUT.as_secs())
        }
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "the connection closed".into()
        }
        other => other.to_string(),
    }
}

/// `/ws/echo`: each text message answered by the same text, in order, whatever its size and
/// script; a ping answered by a pong; a close by a close.
pub fn echo(port: u16) -> Check {
    let mut c = handshake(port, "/ws/echo")?;
    let big: String = (0..64 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let payloads: Vec<String> = [
        "hello".to_string(),
        "grüße, 世界 🌍".to_string(),
        "{\"json\":\"is text too\"}".to_string(),
        big,
    ]
    .into_iter()
    .chain((1..=20).map(|i| format!("burst {i}")))
    .collect();
    // A burst first, read after: the answers keep the order the messages were sent in.
    for p in &payloads {
        c.send(p)?;
    }
    for (i, p) in payloads.iter().enumerate() {
        let got = c.text()?;
        if &got != p {
            return Err(format!(
                "/ws/echo: answer {} is '{}', expected '{}'",
                i + 1,
                super::snippet(&got),
                super::snippet(p)
            ));
        }
    }
    c.socket
        .send(Message::Ping(b"are you there".to_vec().into()))
        .map_err(|e| format!("/ws/echo: cannot send a ping: {e}"))?;
    match c.socket.read() {
        Ok(Message::Pong(p)) if p.as_ref() == b"are you there" => {}
        Ok(other) => {
            return Err(format!(
                "/ws/echo: a ping was answered by {}, not its pong",
                kind(&other)
            ))
        }
        Err(e) => return Err(format!("/ws/echo: no pong: {}", reason(&e))),
    }
    if let Some(extra) = c.maybe_text(QUIET)? {
        return Err(format!(
            "/ws/echo sent a message nobody asked for: '{}'",
            super::snippet(&extra)
        ));
    }
    c.close()
}

/// `/ws/room/{id}`: three members of one room send at once; each receives every message once,
/// each sender's in its order, all three in the same order; a member of another room receives
/// nothing; a member who leaves does not break the room, and one who joins late gets only what
/// is sent after it joined.
pub fn room(port: u16) -> Check {
    let room = format!("verify-{:08x}", fastrand::u32(..));
    let path = format!("/ws/room/{room}");
    let mut members = (0..3)
        .map(|_| handshake(port, &path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut other = handshake(port, &format!("/ws/room/{room}-other"))?;
    let senders = members.len();
    std::thread::sleep(SETTLE);
    // Every member sends in turn, without waiting: the server takes in three streams at once.
    for seq in 1..=PER_SENDER {
        for (sender, m) in members.iter_mut().enumerate() {
            m.send(&format!("{sender}:{seq}"))?;
        }
    }
    let total = senders * PER_SENDER;
    let mut orders = Vec::new();
    for (receiver, m) in members.iter_mut().enumerate() {
        let mut got = Vec::with_capacity(total);
        for _ in 0..total {
            match m.text() {
                Ok(t) => got.push(t),
                Err(e) => {
                    return Err(format!(
                        "member {receiver} received {} of the room's {total} messages: {e}",
                        got.len()
                    ))
                }
            }
        }
        delivered_once_in_order(&got, senders, PER_SENDER)
            .map_err(|e| format!("member {receiver} of {path}: {e}"))?;
        orders.push(got);
    }
    if let Some(i) = orders.iter().position(|o| o != &orders[0]) {
        let at = orders[0]
            .iter()
            .zip(&orders[i])
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(format!(
            "members 0 and {i} of {path} received the room's messages in different orders \
             (message {}: '{}' against '{}'); a room has one order",
            at + 1,
            orders[0][at],
            orders[i][at]
        ));
    }
    for m in &mut members {
        if let Some(extra) = m.maybe_text(Duration::from_millis(100))? {
            return Err(format!(
                "a member of {path} received '{}' beyond the messages sent",
                super::snippet(&extra)
            ));
        }
    }
    if let Some(leak) = other.maybe_text(QUIET)? {
        return Err(format!(
            "a member of another room received '{}' from {path}",
            super::snippet(&leak)
        ));
    }
    // One leaves; one joins late; the room goes on with exactly its members.
    let left = members.pop().expect("three members");
    left.close()?;
    let mut late = handshake(port, &path)?;
    std::thread::sleep(SETTLE);
    members[0].send("after")?;
    for (i, m) in members.iter_mut().enumerate() {
        let got = m.text()?;
        if got != "after" {
            return Err(format!(
                "after a member left, member {i} of {path} received '{}', expected 'after'",
                super::snippet(&got)
            ));
        }
    }
    let got = late.text()?;
    if got != "after" {
        return Err(format!(
            "a member who joined {path} late received '{}', expected only 'after' (what was \
             sent before a client joined is not its)",
            super::snippet(&got)
        ));
    }
    members.push(late);
    for m in members {
        m.close()?;
    }
    other.close()
}

/// Whether `got` holds each of `senders`' `per_sender` messages (`"sender:seq"`) exactly once,
/// each sender's in its sending order.
fn delivered_once_in_order(got: &[String], senders: usize, per_sender: usize) -> Check {
    let mut next = vec![1usize; senders];
    for (i, m) in got.iter().enumerate() {
        let (sender, seq) = m
            .split_once(':')
            .and_then(|(s, q)| Some((s.parse::<usize>().ok()?, q.parse::<usize>().ok()?)))
            .filter(|(s, q)| *s < senders && (1..=per_sender).contains(q))
            .ok_or_else(|| format!("message {} is '{}', not one sent", i + 1, super::snippet(m)))?;
        let expected = next[sender];
        if seq < expected {
            return Err(format!("'{m}' arrived twice or out of its sender's order"));
        }
        if seq > expected {
            return Err(format!(
                "'{m}' arrived before '{sender}:{expected}' (lost or out of its sender's order)"
            ));
        }
        next[sender] += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    fn msgs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn delivery_is_judged_per_sender() {
        assert!(delivered_once_in_order(&msgs(&["0:1", "1:1", "0:2", "1:2"]), 2, 2).is_ok());
        let dup = delivered_once_in_order(&msgs(&["0:1", "0:1", "1:1"]), 2, 2).unwrap_err();
        assert!(dup.contains("twice"), "{dup}");
        let lost = delivered_once_in_order(&msgs(&["0:2", "1:1"]), 2, 2).unwrap_err();
        assert!(lost.contains("before '0:1'"), "{lost}");
        let alien = delivered_once_in_order(&msgs(&["hello"]), 2, 2).unwrap_err();
        assert!(alien.contains("not one sent"), "{alien}");
    }

    #[test]
    fn the_answer_head_is_read_as_sent() {
        let (status, headers) = parse_head(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Accept: abc=\r\n\r\n",
        )
        .unwrap();
        assert_eq!(status, 101);
        assert_eq!(headers["sec-websocket-accept"], "abc=");
        assert!(parse_head("SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    /// How a test server gets the endpoints wrong, if it does.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Flaw {
        None,
        /// Answers the upgrade with 200.
        NoUpgrade,
        /// Takes the per-message compression the client offers.
        Deflate,
        /// Echoes nothing.
        Mute,
        /// Echoes each message twice.
        Twice,
        /// Sends each room message twice to every member.
        RoomTwice,
        /// Never sends a room's messages to its first member.
        RoomDrops,
        /// Sends room messages to the members of every room.
        RoomLeaks,
    }

    /// A room member of the test server: its room's path and its socket.
    type Member = (String, Arc<Mutex<WebSocket<TcpStream>>>);

    /// A server of the two endpoints on a free port, a thread per connection, with `flaw`.
    fn server(flaw: Flaw) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let members: Arc<Mutex<Vec<Member>>> = Arc::default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let members = members.clone();
                std::thread::spawn(move || serve(stream, flaw, &members));
            }
        });
        port
    }

    fn serve(mut stream: TcpStream, flaw: Flaw, members: &Mutex<Vec<Member>>) {
        let Ok(head) = read_head(&mut stream) else {
            return;
        };
        let path = head.split(' ').nth(1).unwrap_or_default().to_string();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .trim()
            .to_string();
        if flaw == Flaw::NoUpgrade {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            return;
        }
        let extension = match flaw {
            Flaw::Deflate => "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            _ => "",
        };
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extension}\r\n",
            stackwise_engine::ws::accept_for(&key)
        );
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
        let writer = stream.try_clone().unwrap();
        let mut reader = WebSocket::from_raw_socket(stream, Role::Server, None);
        if path == "/ws/echo" {
            loop {
                match reader.read() {
                    Ok(Message::Text(t)) => {
                        let copies = match flaw {
                            Flaw::Mute => 0,
                            Flaw::Twice => 2,
                            _ => 1,
                        };
                        for _ in 0..copies {
                            let _ = reader.send(Message::Text(t.clone()));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        }
        let room = path.trim_start_matches("/ws/room/").to_string();
        let me = Arc::new(Mutex::new(WebSocket::from_raw_socket(
            writer,
            Role::Server,
            None,
        )));
        members.lock().unwrap().push((room.clone(), me.clone()));
        loop {
            match reader.read() {
                Ok(Message::Text(t)) => {
                    // One lock for the whole delivery: one order for every member.
                    let all = members.lock().unwrap();
                    for (r, m) in all.iter() {
                        if *r != room && flaw != Flaw::RoomLeaks {
                            continue;
                        }
                        if flaw == Flaw::RoomDrops && Arc::ptr_eq(m, &all[0].1) {
                            continue;
                        }
                        let copies = if flaw == Flaw::RoomTwice { 2 } else { 1 };
                        for _ in 0..copies {
                            let _ = m.lock().unwrap().send(Message::Text(t.clone()));
                        }
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        members
            .lock()
            .unwrap()
            .retain(|(_, m)| !Arc::ptr_eq(m, &me));
        // The reader answered the close; flushing it ends the handshake.
        let _ = reader.flush();
    }

    #[test]
    fn a_correct_server_passes_both_checks() {
        let port = server(Flaw::None);
        echo(port).unwrap();
        room(port).unwrap();
    }

    #[test]
    fn each_flaw_is_named() {
        let cases = [
            (Flaw::NoUpgrade, "answered 200 to a WebSocket upgrade"),
            (Flaw::Deflate, "per-message compression must be off"),
            (Flaw::Mute, "no message"),
            (Flaw::Twice, "answer 2 is 'hello', expected"),
        ];
        for (flaw, expected) in cases {
            let err = echo(server(flaw)).unwrap_err();
            assert!(err.contains(expected), "{flaw:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let cases = [
            (Flaw::RoomTwice, "arrived twice"),
            (
                Flaw::RoomDrops,
                "member 0 received 0 of the room's 75 messages",
            ),
            (Flaw::RoomLeaks, "a member of another room received"),
        ];
        for (flaw, expected) in cases {
            let err = room(server(flaw)).unwrap_err();
            assert!(err.contains(expected), "{flaw:?}: {err}");
        }
    }
}
