//! The delay service behind the `upstream` scenario: `GET /delay?ms=M` answers `{"ms":M}` after
//! M milliseconds, on loopback, on a thread and runtime of its own.
//!
//! It stands in for "another service the backend calls", so it must never be the bottleneck:
//! hyper's HTTP/1.1 server with keep-alive, a timer per request and nothing else.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Longest delay served, so a mistaken request cannot hold a connection for long.
pub const MAX_DELAY_MS: u64 = 10_000;

/// A running delay service; stops when dropped.
#[derive(Debug)]
pub struct DelayService {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DelayService {
    /// Starts on 127.0.0.1 on a free port, with its thread pinned to `cpus` when given.
    pub fn start(cpus: Option<Vec<usize>>) -> std::io::Result<DelayService> {
        let served = Arc::new(AtomicU64::new(0));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let counter = served.clone();
        let thread = std::thread::Builder::new()
            .name("stackwise-delay".into())
            .spawn(move || {
                if let Some(cpus) = &cpus {
                    let _ = stackwise_engine::cpu::pin_current_thread_to(cpus);
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = addr_tx.send(listener.local_addr());
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let _ = stream.set_nodelay(true);
                                let counter = counter.clone();
                                tokio::spawn(async move {
                                    let service = hyper::service::service_fn(move |req| {
                                        handle(req, counter.clone())
                                    });
                                    let _ = hyper::server::conn::http1::Builder::new()
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                });
                            }
                        }
                    }
                });
            })?;
        let addr = addr_rx
            .recv()
            .map_err(|_| std::io::Error::other("the delay service did not start"))??;
        Ok(DelayService {
            addr,
            served,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Base URL, such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for DelayService {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The delay asked for by a `/delay?ms=M` query, clamped to `0..=MAX_DELAY_MS`.
fn requested_ms(query: Option<&str>) -> Option<u64> {
    let query = query.unwrap_or("");
    let ms = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("ms="))
        .map_or(Some(0), |v| v.parse::<u64>().ok())?;
    Some(ms.min(MAX_DELAY_MS))
}

async fn handle(
    req: Request<Incoming>,
    served: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        r
    };
    if req.uri().path() != "/delay" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "{\"error\":\"not found\"}".into(),
        ));
    }
    let Some(ms) = requested_ms(req.uri().query()) else {
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            "{\"error\":\"ms must be a whole number of milliseconds\"}".into(),
        ));
    };
    tokio::time::sleep(Duration::from_millis(ms)).await;
    served.fetch_add(1, Ordering::SeqCst);
    Ok(reply(StatusCode::OK, format!("{{\"ms\":{ms}}}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::time::Instant;

    #[test]
    fn parses_and_clamps_the_delay() {
        assert_eq!(requested_ms(None), Some(0));
        assert_eq!(requested_ms(Some("ms=25")), Some(25));
        assert_eq!(requested_ms(Some("x=1&ms=99999")), Some(MAX_DELAY_MS));
        assert_eq!(requested_ms(Some("ms=soon")), None);
    }

    #[test]
    fn answers_after_the_delay() {
        let service = DelayService::start(None).unwrap();
        let addr = service.url().trim_start_matches("http://").to_string();
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let began = Instant::now();
        s.write_all(b"GET /delay?ms=50 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(began.elapsed() >= Duration::from_millis(50));
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("{\"ms\":50}"), "{out}");
        assert_eq!(service.served(), 1);
    }
}
