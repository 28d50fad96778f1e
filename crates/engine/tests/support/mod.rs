//! Test servers with known behaviour, on 127.0.0.1:0, each on its own thread and runtime so the
//! engine under test never shares a core's event loop with them.
//!
//! Every server records what it really did (requests handled, and how long it held each one) so
//! tests compare the engine's figures with the truth rather than with expectations.

#![allow(dead_code, clippy::unwrap_used)]

pub mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with each request.
pub enum Behaviour {
    /// Answers `200 ok` after `delay(n)`, where `n` counts requests from 0 across connections.
    Delay(Box<dyn Fn(u64) -> Duration + Send + Sync>),
    /// Answers `200` at once, with a delay of `slow` for requests whose path starts with `/slow`.
    ByPath { slow: Duration },
    /// Answers at once, except that from `after` past the first request the whole server stops
    /// for `stall`: every request arriving or waiting in that window is answered when it ends.
    StallOnce { after: Duration, stall: Duration },
    /// Answers every request with this status.
    Status(u16),
    /// Reads a request, then resets the connection.
    Reset,
    /// Reads a request, then closes the connection cleanly without answering.
    Close,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Reads requests and never answers.
    Silent,
    /// Answers `200` with a chunked body.
    Chunked,
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// Requests read.
    pub requests: Arc<AtomicU64>,
    /// How long the server held each answered request, in microseconds.
    pub held: Arc<Mutex<Histogram<u64>>>,
    /// When each connection was accepted.
    accepted: Arc<Mutex<Vec<Instant>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn truth(&self) -> Histogram<u64> {
        self.held.lock().unwrap().clone()
    }

    /// When each connection was accepted, in order.
    pub fn connection_starts(&self) -> Vec<Instant> {
        self.accepted.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct State {
    behaviour: Behaviour,
    requests: Arc<AtomicU64>,
    held: Arc<Mutex<Histogram<u64>>>,
    first: Mutex<Option<Instant>>,
}

/// Starts a server; `cpu` pins its thread, so tests can keep it off the engine's core.
pub fn start(behaviour: Behaviour) -> TestServer {
    let requests = Arc::new(AtomicU64::new(0));
    let held = Arc::new(Mutex::new(
        Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap(),
    ));
    let state = Arc::new(State {
        behaviour,
        requests: requests.clone(),
        held: held.clone(),
        first: Mutex::new(None),
    });
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let accept_times = accepted.clone();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        accept_times.lock().unwrap().push(Instant::now());
                        tokio::spawn(serve(stream, state.clone()));
                    }
                }
            }
        });
        // Dropping the runtime closes every connection still open.
    });
    TestServer {
        addr: addr_rx.recv().unwrap(),
        requests,
        held,
        accepted,
        shutdown: Some(shutdown),
        thread: Some(thread),
    }
}

/// Reads one request head (and its Content-Length body). Returns its path, or None at EOF.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(n)) = req.parse(buf) {
            let path = req.path.unwrap_or("/").to_string();
            let body: usize = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < n + body {
                let mut more = [0u8; 4096];
                let m = stream.read(&mut more).await.ok()?;
                if m == 0 {
                    return None;
                }
                buf.extend_from_slice(&more[..m]);
            }
            buf.drain(..n + body);
            return Some(path);
        }
        let mut more = [0u8; 4096];
        let m = stream.read(&mut more).await.ok()?;
        if m == 0 {
            return None;
        }
        buf.extend_from_slice(&more[..m]);
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    while let Some(path) = read_request(&mut stream, &mut buf).await {
        let arrived = Instant::now();
        let n = state.requests.fetch_add(1, Ordering::SeqCst);
        let response: Vec<u8> = match &state.behaviour {
            Behaviour::Delay(delay) => {
                tokio::time::sleep(delay(n)).await;
                OK.to_vec()
            }
            Behaviour::ByPath { slow } => {
                if path.starts_with("/slow") {
                    tokio::time::sleep(*slow).await;
                }
                OK.to_vec()
            }
            Behaviour::StallOnce { after, stall } => {
                let first = *state.first.lock().unwrap().get_or_insert(arrived);
                let (from, to) = (first + *after, first + *after + *stall);
                if arrived >= from && arrived < to {
                    tokio::time::sleep_until(to.into()).await;
                }
                OK.to_vec()
            }
            Behaviour::Status(code) => format!(
                "HTTP/1.1 {code} Status\r\nContent-Length: 5\r\n\r\nerror"
            )
            .into_bytes(),
            Behaviour::Reset => {
                let std = stream.into_std().unwrap();
                let sock = socket2::Socket::from(std);
                let _ = sock.set_linger(Some(Duration::ZERO));
                drop(sock);
                return;
            }
            Behaviour::Close => return,
            Behaviour::Garbage => b"this is not HTTP at all\r\n\r\n".to_vec(),
            Behaviour::Silent => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Behaviour::Chunked => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n".to_vec(),
        };
        let held = arrived.elapsed();
        if stream.write_all(&response).await.is_err() {
            return;
        }
        state
            .held
            .lock()
            .unwrap()
            .saturating_record((held.as_micros() as u64).max(1));
    }
}
