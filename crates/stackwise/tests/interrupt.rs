//! Ctrl-C in the middle of `stackwise verify`: the contestant's whole process group (including a
//! child it forked), the PostgreSQL cluster and its temporary directory are all gone afterwards.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = include_str!("../../lab/tests/fixtures/broken_server.py");
const MANIFEST: &str = include_str!("../../lab/tests/fixtures/broken_stack.toml");

/// Processes whose command line contains `needle`, other than zombies.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if cmdline.contains(needle) && !zombie {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn interrupting_verify_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let stack = root.path().join("stacks").join("slow");
    std::fs::create_dir_all(&stack).unwrap();
    std::fs::write(stack.join("server.py"), SERVER).unwrap();
    // A marker of this test's own, so the lab's tests running beside it are not counted.
    let manifest = MANIFEST
        .replace("@MODE@", "slow")
        .replace("--marker=", "--marker=interrupt-");
    std::fs::write(stack.join("stack.toml"), manifest).unwrap();
    let cache = root.path().join("cache");
    // A private TMPDIR marks this run's PostgreSQL cluster apart from other tests' clusters; the
    // cluster's unprivileged user must be able to reach into it.
    let tmp = root.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    for dir in [root.path(), tmp.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cluster_marker = tmp.join("stackwise-pg-").to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .env("TMPDIR", &tmp)
        .args(["verify", "--stacks-dir"])
        .arg(root.path().join("stacks"))
        .arg("--cache-dir")
        .arg(&cache)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines();
    let began = Instant::now();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("slow: checking") {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "verify never started checking"
        );
    }
    // Let the checks reach the slow endpoint, with the server and its forked child running.
    std::thread::sleep(Duration::from_secs(3));
    let server = processes_with("--marker=interrupt-");
    assert_eq!(server.len(), 1, "{server:?}");
    assert!(
        !processes_with("sleep 300").is_empty(),
        "the server's forked child should run"
    );
    let postgres_dirs: Vec<String> = processes_with(&cluster_marker);
    assert!(
        !postgres_dirs.is_empty(),
        "the throwaway cluster should be running"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");

    assert!(processes_with("--marker=interrupt-").is_empty());
    let left = processes_with(&cluster_marker);
    assert!(left.is_empty(), "PostgreSQL left running: {left:?}");
    // The child the server forked was in its process group, so it went too.
    assert!(
        processes_with("sleep 300").is_empty(),
        "the forked child was left running"
    );
    let data_dir = postgres_dirs[0]
        .split_whitespace()
        .skip_while(|w| *w != "-D")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        !std::path::Path::new(&data_dir).exists(),
        "{data_dir} was not removed"
    );
}
