//! Running the built `stackwise` binary as a user would, shared by the command-line tests.
// Each test binary uses its own subset of these.
#![allow(dead_code)]

use std::process::{Command, Output};

pub fn stackwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Stdout of a command that must have succeeded.
pub fn stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit code 2, nothing on stdout and exactly one line on stderr mentioning `mentions`.
pub fn assert_usage_error(args: &[&str], mentions: &str) {
    let out = stackwise(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(
        stderr.contains(mentions),
        "{stderr} should mention {mentions}"
    );
}
