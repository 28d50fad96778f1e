//! `stackwise load ws://…` as a user runs it: each mode end to end against loopback servers,
//! the JSON result against the committed schema, shards merged, and one-line errors for a
//! server that refuses the upgrade or for flags that do not fit.

#![allow(clippy::unwrap_used)]

#[path = "../../engine/tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use support::ws::{start_ws, WsBehaviour};

fn stackwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("schema/load-report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    value
}

/// Exit code 2, exactly one line on stderr, mentioning `words`.
fn assert_one_line(out: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(words), "{stderr} should mention {words}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn echo_prints_a_summary_and_json_that_follows_the_schema() {
    let server = start_ws(WsBehaviour::Echo { stall_after: None });
    let url = server.url("/ws/echo");
    let out = stackwise(&["load", &url, "-c", "2", "-n", "300", "--no-progress"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("WebSocket echo of 128 B messages"), "{text}");
    assert!(text.contains("Messages    300 echoes"), "{text}");
    assert!(text.contains("Handshake (ms)"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let log = dir.path().join("run.hlog");
    let out = stackwise(&[
        "load",
        &url,
        "-c",
        "2",
        "--rate",
        "200",
        "-d",
        "500ms",
        "--message-size",
        "64",
        "--json",
        "--no-progress",
        "-o",
        a.to_str().unwrap(),
        "--hdr-log",
        log.to_str().unwrap(),
    ]);
    let v = json(&out);
    assert_eq!(v["ws"]["mode"], "echo");
    assert_eq!(v["ws"]["message_size"], 64);
    assert_eq!(v["plan"]["mode"], "constant");
    assert!(std::fs::read_to_string(&log).unwrap().contains("handshake"));
    std::fs::copy(&a, &b).unwrap();
    let merged = json(&stackwise(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(merged["shards"], 2);
    assert_eq!(
        merged["summary"]["requests"],
        v["summary"]["requests"].as_u64().unwrap() * 2
    );
}

#[test]
fn broadcast_and_idle_from_the_command_line() {
    let server = start_ws(WsBehaviour::broadcast(Duration::from_millis(5)));
    let template = format!("ws://{}/ws/room/{{room}}", server.addr);
    let v = json(&stackwise(&[
        "load",
        &template,
        "--ws-mode",
        "broadcast",
        "-c",
        "6",
        "--rooms",
        "2",
        "--senders",
        "2",
        "--rate",
        "100",
        "-d",
        "500ms",
        "--json",
        "--no-progress",
    ]));
    let b = &v["ws"]["broadcast"];
    assert_eq!(b["rooms"], 2);
    assert_eq!(b["room_size"], 3);
    assert_eq!(b["published"], 50);
    assert_eq!(b["delivered"], 150);
    assert_eq!(b["lost"], 0);
    assert_eq!(b["senders"].as_array().unwrap().len(), 4);

    let idle = start_ws(WsBehaviour::Idle);
    let v = json(&stackwise(&[
        "load",
        &idle.url("/ws/echo"),
        "--ws-mode",
        "idle",
        "-c",
        "100",
        "--rate",
        "1000",
        "-d",
        "300ms",
        "--json",
        "--no-progress",
    ]));
    assert_eq!(v["ws"]["idle"]["held"], 100);
    assert_eq!(v["summary"]["requests"], 100);
}

#[test]
fn a_refused_upgrade_is_one_line() {
    for (behaviour, words) in [
        (
            WsBehaviour::Status(200),
            "refused the WebSocket upgrade: it answered HTTP 200",
        ),
        (WsBehaviour::Status(400), "answered HTTP 400"),
        (
            WsBehaviour::Close,
            "closed the connection instead of answering",
        ),
    ] {
        let server = start_ws(behaviour);
        let out = stackwise(&["load", &server.url("/ws/echo"), "-n", "10", "--no-progress"]);
        assert_one_line(&out, words);
    }
}

#[test]
fn flags_that_do_not_fit_are_one_line() {
    let server = start_ws(WsBehaviour::Echo { stall_after: None });
    let url = server.url("/ws/echo");
    let http = format!("http://{}/", server.addr);
    let cases: [(&[&str], &str); 7] = [
        (
            &[&http, "--message-size", "10"],
            "--message-size needs a ws:// URL",
        ),
        (&[&url, "-H", "A: b"], "-H applies to HTTP only"),
        (
            &[&url, "--rooms", "2"],
            "--rooms applies to --ws-mode broadcast only",
        ),
        (
            &[&url, "--ws-mode", "broadcast", "--rooms", "2", "-c", "4"],
            "{room}",
        ),
        (
            &[
                &server.url("/r/{room}"),
                "--ws-mode",
                "broadcast",
                "--rooms",
                "3",
                "-c",
                "4",
            ],
            "multiple of --rooms",
        ),
        (&[&url, "--ws-mode", "broadcast", "-n", "5"], "duration"),
        (&[&url, "--ws-mode", "idle", "-n", "5"], "-n does not apply"),
    ];
    for (args, words) in cases {
        let mut all = vec!["load"];
        all.extend_from_slice(args);
        assert_one_line(&stackwise(&all), words);
    }
    assert_one_line(
        &stackwise(&["load", "wss://127.0.0.1:1/"]),
        "only http:// and ws://",
    );
}

#[test]
fn idle_raises_the_descriptor_limit_or_says_why_it_cannot() {
    // prlimit (util-linux) runs the binary under given limits; without it there is nothing to
    // lower them with, short of unsafe code.
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit is not installed; skipping");
        return;
    }
    let server = start_ws(WsBehaviour::Idle);
    let url = server.url("/ws/echo");
    let under = |limits: &str, c: &str| {
        Command::new("prlimit")
            .arg(format!("--nofile={limits}"))
            .arg(env!("CARGO_BIN_EXE_stackwise"))
            .args(["load", &url, "--ws-mode", "idle", "-c", c, "--rate", "2000"])
            .args(["-d", "200ms", "--no-progress", "--json"])
            .output()
            .unwrap()
    };
    let refused = under("256:256", "500");
    assert_one_line(&refused, "-c 500 needs about");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("hard limit 256"));
    let raised = under("256:2048", "500");
    let stderr = String::from_utf8_lossy(&raised.stderr);
    assert!(
        stderr.contains("raised the open file limit from 256 to 2048"),
        "{stderr}"
    );
    assert_eq!(json(&raised)["ws"]["idle"]["held"], 500);
}

#[test]
fn a_room_that_delivers_nothing_fails_the_run_with_one_line() {
    // This server answers the upgrade and then sends nothing but a ping.
    let server = start_ws(WsBehaviour::Idle);
    let out = stackwise(&[
        "load",
        &server.url("/ws/room/1"),
        "--ws-mode",
        "broadcast",
        "-c",
        "2",
        "--rate",
        "50",
        "-d",
        "300ms",
        "--no-progress",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("within the run and its 1 s drain"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: no delivery: 15 message(s) were published"),
        "{stderr}"
    );
}
