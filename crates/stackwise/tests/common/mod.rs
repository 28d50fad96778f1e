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

/// Live (not zombie) processes whose command line contains `needle`: their ids and command
/// lines, arguments joined by spaces.
pub fn processes_with(needle: &str) -> Vec<(i32, String)> {
    processes_where("cmdline", needle)
}

/// Live processes whose environment contains `needle` (`NAME=value`).
pub fn processes_with_env(needle: &str) -> Vec<(i32, String)> {
    processes_where("environ", needle)
}

fn processes_where(file: &str, needle: &str) -> Vec<(i32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
            let text = std::fs::read(e.path().join(file)).ok()?;
            let text = String::from_utf8_lossy(&text).replace('\0', " ");
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
            (!zombie && text.contains(needle)).then_some((pid, text))
        })
        .collect()
}
