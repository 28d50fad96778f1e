//! `stackwise load` says when a run failed: nothing answered exits with 1 and one line saying
//! why, too many connections for the descriptor limit is refused (or the limit raised), a tiny
//! rate lasts its duration, and requests that cannot be sent as given are refused. Loopback
//! only, every run a second at most.

#![allow(clippy::unwrap_used)]

#[path = "../../engine/tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{start, Behaviour};

const BIN: &str = env!("CARGO_BIN_EXE_stackwise");

fn stackwise(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs stackwise under `sh` after `limits` (a `ulimit` command), as a user's shell would.
fn stackwise_with(limits: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("{limits} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A failed run: exit code 1, the result still printed, and one `error:` line saying why.
fn assert_failed_run(out: &Output, why: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!out.stdout.is_empty(), "the result is printed");
    let last = err
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(last.starts_with("error: "), "{err}");
    assert!(last.contains(why), "{last} should say {why}");
    assert!(!err.contains("panicked"), "{err}");
    last
}

fn assert_usage_error(out: &Output, mentions: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(mentions), "{err} should mention {mentions}");
}

#[test]
fn a_silent_server_fails_the_run_and_shows_its_unanswered_requests() {
    let server = start(Behaviour::Silent);
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "-c",
        "2",
        "-d",
        "1s",
        "--no-progress",
    ]);
    let last = assert_failed_run(
        &out,
        "no response: the server accepted connections and answered nothing within the run \
         (2 request(s) unanswered, the oldest for ",
    );
    assert!(last.contains(" s)"), "{last}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "WARNING: 2 request(s) were still unanswered when the run ended; the oldest had waited"
        ),
        "{text}"
    );
    assert!(text.contains("Unanswered  2 at the end"), "{text}");

    // At a constant rate, the unanswered requests are the corrected latency: about the run's
    // length, not 0.
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "--rate",
        "50",
        "-d",
        "1s",
        "--json",
        "--no-progress",
    ]);
    assert_failed_run(
        &out,
        "answered nothing within the run (50 request(s) unanswered",
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let latency = &json["summary"]["latency"];
    assert_eq!(latency["unanswered_in_corrected"], 50);
    let p99 = latency["corrected"]["p99_us"].as_u64().unwrap();
    assert!((900_000..=1_100_000).contains(&p99), "corrected p99 {p99}");
    assert_eq!(json["engine"]["delivery"]["in_flight_at_end"], 50);
    assert_eq!(json["summary"]["errors"], 0);

    // Merging shards of which none was answered fails the same way.
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard.json");
    std::fs::write(&shard, &out.stdout).unwrap();
    let shard = shard.to_str().unwrap();
    let out = stackwise(&["merge", shard, shard]);
    assert_failed_run(
        &out,
        "answered nothing within the run (100 request(s) unanswered",
    );
}

#[test]
fn a_server_answering_garbage_fails_the_run() {
    let server = start(Behaviour::Garbage);
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "-c",
        "2",
        "-d",
        "300ms",
        "--no-progress",
    ]);
    let last = assert_failed_run(&out, "no request succeeded: ");
    assert!(
        last.contains(" protocol (the server's answers were not HTTP/1.1)"),
        "{last}"
    );
}

#[test]
fn error_statuses_are_answers_and_keep_exit_code_0() {
    let server = start(Behaviour::Status(500));
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "-c",
        "2",
        "-n",
        "20",
        "--no-progress",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn more_connections_than_the_hard_descriptor_limit_are_refused_before_running() {
    let server = start(Behaviour::Status(200));
    let out = stackwise_with(
        "ulimit -n 64",
        &["load", &server.url("/"), "-c", "200", "-t", "1", "-d", "1s"],
    );
    assert_usage_error(
        &out,
        "-c 200 needs about 236 file descriptors; the limit is 64 (hard limit 64); raise it \
         with ulimit -n",
    );
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_low_soft_descriptor_limit_is_raised_and_the_run_works() {
    let server = start(Behaviour::Status(200));
    let out = stackwise_with(
        "ulimit -Sn 64",
        &[
            "load",
            &server.url("/"),
            "-c",
            "200",
            "-d",
            "1s",
            "--json",
            "--no-progress",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Under the soft limit of 64 no more than about 60 sockets could be open at once; on a busy
    // machine the test server may not have taken in all 200 within the run.
    let peak = json["engine"]["delivery"]["peak_connections"]
        .as_u64()
        .unwrap();
    assert!((100..=200).contains(&peak), "peak {peak}");
    assert_eq!(json["summary"]["errors"], 0, "{}", json["summary"]);
    assert!(json["summary"]["requests"].as_u64().unwrap() >= 100);
}

#[test]
fn a_tiny_rate_lasts_its_duration_without_a_false_warning() {
    let server = start(Behaviour::Status(200));
    let began = Instant::now();
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "--rate",
        "0.001",
        "-d",
        "1s",
        "--no-progress",
    ]);
    let took = began.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "took {took:?}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("constant rate 0.001 req/s"), "{text}");
    assert!(text.contains("1 responses in 1 s"), "{text}");
    assert!(text.contains("unsent 0"), "{text}");
    let warnings: Vec<&str> = text.lines().filter(|l| l.starts_with("WARNING")).collect();
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("busy") || w.contains("sent")),
        "{warnings:?}"
    );
}

#[test]
fn requests_that_cannot_be_sent_as_given_are_refused() {
    let server = start(Behaviour::Status(200));
    let url = server.url("/");
    for (header, mentions) in [
        ("X-A: a\rb", "control characters"),
        ("X-A: a\u{1}b", "control characters"),
        ("X-A: a\u{1b}b", "control characters"),
        ("Content-Length: 10", "contradicts the body"),
    ] {
        let out = stackwise(&["load", &url, "-H", header, "-n", "1"]);
        assert_usage_error(&out, mentions);
    }
    let out = stackwise(&[
        "load",
        &url,
        "-m",
        "POST",
        "-b",
        "0\r\n\r\n",
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Content-Length: 5",
        "-n",
        "1",
    ]);
    assert_usage_error(&out, "Transfer-Encoding and Content-Length");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A Content-Length that matches the body is fine.
    let out = stackwise(&[
        "load",
        &url,
        "-m",
        "POST",
        "-b",
        "hello",
        "-H",
        "Content-Length: 5",
        "-n",
        "3",
        "--no-progress",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A server that answers 200 to requests carrying `Authorization: Basic dTpwIHc=` (u:p w) and
/// 401 to others, and keeps every Authorization header it saw.
fn basic_auth_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let auth = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Authorization: "))
                            .map(str::to_string);
                        let ok = auth.as_deref() == Some("Basic dTpwIHc=");
                        log.lock().unwrap().extend(auth);
                        let status = if ok { "200 OK" } else { "401 Unauthorized" };
                        let response = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                        if stream.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    (addr, seen)
}

#[test]
fn credentials_in_the_url_are_sent_as_basic_auth_and_never_shown() {
    let (addr, seen) = basic_auth_server();
    let out = stackwise(&[
        "load",
        &format!("http://u:p%20w@{addr}/"),
        "-c",
        "1",
        "-n",
        "5",
        "--json",
        "--no-progress",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["status"]["200"], 5, "{json}");
    assert_eq!(json["plan"]["url"], format!("http://u:***@{addr}/"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("p%20w"));
    assert_eq!(seen.lock().unwrap().len(), 5);
}
