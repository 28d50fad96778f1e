//! The `stackwise` binary as a user runs it: exit codes, one-line errors, the JSON result against
//! the committed schema, merging and the interval log.

#![allow(clippy::unwrap_used)]

#[path = "../../engine/tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use support::{start, Behaviour};

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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stackwise-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bad input: exit code 2, exactly one line on stderr starting with `error:`, nothing on stdout,
/// no panic.
fn assert_usage_error(args: &[&str], mentions: &str) {
    let out = stackwise(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains(mentions),
        "{args:?}: {stderr} should mention {mentions}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{free_port}/");
    assert_usage_error(&["load", "http//nope"], "invalid URL");
    assert_usage_error(&["load", "ftp://127.0.0.1/"], "only http://");
    assert_usage_error(&["load", &unreachable], "cannot connect");
    assert_usage_error(
        &["load", "http://no-such-host.invalid/"],
        "no-such-host.invalid",
    );
    assert_usage_error(&["load", &unreachable, "--rate", "0"], "rate");
    assert_usage_error(&["load", &unreachable, "--rate", "-10"], "-10");
    assert_usage_error(
        &["load", &unreachable, "-B", "/no/such/body"],
        "/no/such/body",
    );
    assert_usage_error(&["load", &unreachable, "-d", "forever"], "--duration");
    assert_usage_error(&["load", &unreachable, "-c", "0"], "connections");
    assert_usage_error(&["load", &unreachable, "--cpus", "0-"], "--cpus");
    assert_usage_error(&["merge", "/no/such/result.json"], "/no/such/result.json");
}

#[test]
fn a_run_refuses_unusable_input_before_it_installs_or_starts_anything() {
    let dir = temp_dir("run-early");
    let stacks = repo_file("stacks");
    let results = dir.join("results");
    let cache = dir.join("cache");
    let base = [
        "run",
        "--stacks-dir",
        stacks.to_str().unwrap(),
        "--results-dir",
        results.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    let run = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let assert_usage_error = |args: Vec<String>, mentions: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_usage_error(&args, mentions);
    };
    assert_usage_error(run(&["-d", "0s"]), "--duration must be longer than 0");
    assert_usage_error(run(&["--budget", "0s"]), "--budget must be longer than 0");
    assert_usage_error(
        run(&["--database-url", "garbage"]),
        "invalid --database-url",
    );
    assert_usage_error(
        vec!["verify".into(), "--database-url".into(), "garbage".into()],
        "invalid --database-url",
    );
    // A history file it cannot use is found before the measuring, not after.
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(
        results.join("history.sqlite"),
        "not a database, but long enough to be read",
    )
    .unwrap();
    assert_usage_error(run(&[]), "cannot use the run history");
    // Nothing was installed or started, and no run folder was made.
    assert!(!cache.exists(), "the cache was touched");
    let folders: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(folders.is_empty(), "{folders:?}");
}

#[test]
fn clap_errors_exit_with_2_too() {
    let out = stackwise(&["load"]);
    assert_eq!(out.status.code(), Some(2));
    let out = stackwise(&["load", "http://127.0.0.1:1/", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    // What clap refuses is one line, like any other usage error.
    assert_usage_error(&["load"], "<URL>");
    assert_usage_error(
        &["load", "http://127.0.0.1:1/", "--no-such-flag"],
        "--no-such-flag",
    );
    assert_usage_error(
        &["run", "--resume", "x", "--stacks", "express"],
        "cannot be used with",
    );
    assert_usage_error(
        &["show", "latest", "--format", "xml"],
        "unknown format 'xml' for --format",
    );
    assert_usage_error(&["claims", "--format", "csv"], "expected table or markdown");
    assert_usage_error(&["run", "--scenarios", "nope"], "--scenarios");
}

#[test]
fn the_committed_schema_is_the_one_the_code_produces() {
    let committed = std::fs::read_to_string(repo_file("schema/load-report.schema.json")).unwrap();
    let out = stackwise(&["schema"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "schema/load-report.schema.json is stale: run `stackwise schema > schema/load-report.schema.json`"
    );
}

#[test]
fn the_committed_run_schema_is_the_one_the_code_produces() {
    let committed = std::fs::read_to_string(repo_file("schema/run-result.schema.json")).unwrap();
    let out = stackwise(&["schema", "run"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "schema/run-result.schema.json is stale: run `stackwise schema run > schema/run-result.schema.json`"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("schema/load-report.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(json: &serde_json::Value) {
    let v = validator();
    let errors: Vec<String> = v.iter_errors(json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_results_follow_the_schema_and_shards_merge() {
    let server = start(Behaviour::Status(200));
    let dir = temp_dir("json");
    let a = dir.join("a.json");
    let log = dir.join("run.hlog");
    let out = stackwise(&[
        "load",
        &server.url("/json"),
        "-c",
        "4",
        "-n",
        "300",
        "--json",
        "-o",
        a.to_str().unwrap(),
        "--hdr-log",
        log.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&printed);
    assert_eq!(printed["summary"]["requests"], 300);
    assert_eq!(printed["summary"]["status"]["200"], 300);
    // -o writes the same result that --json prints.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    assert_eq!(written, printed);

    // The interval log is readable by HdrHistogram's own parser and holds every response.
    let text = std::fs::read(&log).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&text) {
        if let hdrhistogram::serialization::interval_log::LogEntry::Interval(i) = entry.unwrap() {
            let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
                .deserialize(&mut std::io::Cursor::new(base64_decode(
                    i.encoded_histogram(),
                )))
                .unwrap();
            counts.insert(i.tag().unwrap().as_str().to_string(), h.len());
        }
    }
    assert_eq!(counts["/json.corrected"], 300);
    assert_eq!(counts["/json.uncorrected"], 300);

    // A second shard of the same run, at a constant rate this time: the plans must match in
    // URL, mode, mix and stop, so run the first again as an open loop.
    let b = dir.join("b.json");
    let c = dir.join("c.json");
    for (file, n) in [(&b, "200"), (&c, "100")] {
        let out = stackwise(&[
            "load",
            &server.url("/json"),
            "--rate",
            "500",
            "-c",
            "2",
            "-n",
            n,
            "-o",
            file.to_str().unwrap(),
            "--no-progress",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Without --json, stdout holds the summary.
        let summary = String::from_utf8(out.stdout).unwrap();
        assert!(summary.contains("corrected"), "{summary}");
    }
    let out = stackwise(&["merge", b.to_str().unwrap(), c.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&merged);
    assert_eq!(merged["shards"], 2);
    assert_eq!(merged["summary"]["requests"], 300);
    assert_eq!(merged["plan"]["rate"], 1000.0);

    // Results of different runs are refused, with a one-line usage error.
    assert_usage_error(
        &["merge", a.to_str().unwrap(), b.to_str().unwrap()],
        "not a shard of the same run",
    );
    std::fs::write(dir.join("junk.json"), "{}").unwrap();
    assert_usage_error(
        &["merge", dir.join("junk.json").to_str().unwrap()],
        "not a stackwise load result",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn base64_decode(s: &str) -> Vec<u8> {
    // A tiny decoder keeps the test independent of the engine's own encoding code.
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes().filter(|&b| b != b'=') {
        let v = TABLE.iter().position(|&t| t == b).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn the_summary_names_errors_and_warns() {
    let server = start(Behaviour::Status(503));
    let out = stackwise(&[
        "load",
        &server.url("/"),
        "-c",
        "2",
        "-n",
        "50",
        "--no-progress",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("non-2xx 50"), "{text}");
    assert!(text.contains("503 x50"), "{text}");
    assert!(
        text.contains("WARNING: 50 response(s) had a non-2xx status"),
        "{text}"
    );
}
