//! Ending stackwise in the middle of `stackwise verify`, three ways: Ctrl-C, SIGKILL (its
//! watchdog cleans up), and SIGKILL of both stackwise and its watchdog (the next run cleans up).
//! Each time the contestant's whole process group (including a child it forked), the PostgreSQL
//! cluster and its temporary directory are all gone afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use common::{processes_with, processes_with_env};

const SERVER: &str = include_str!("../../lab/tests/fixtures/broken_server.py");
const MANIFEST: &str = include_str!("../../lab/tests/fixtures/broken_stack.toml");

/// Waits up to `within` for no process to match `needle`; what still matches.
fn gone_within(needle: &str, within: Duration) -> Vec<(i32, String)> {
    let began = Instant::now();
    loop {
        let left = processes_with(needle);
        if left.is_empty() || began.elapsed() > within {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A slow contestant (it forks a child and takes 60 s to answer /plaintext) in a folder of its
/// own, with a private TMPDIR that marks this test's PostgreSQL cluster and state files apart.
struct Fixture {
    root: tempfile::TempDir,
    tmp: PathBuf,
    /// This test's marker, in the server's and its child's command lines.
    marker: String,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let stack = root.path().join("stacks").join("slow");
        std::fs::create_dir_all(&stack).unwrap();
        std::fs::write(stack.join("server.py"), SERVER).unwrap();
        let marker = format!("interrupt-{name}-");
        let manifest = MANIFEST
            .replace("@MODE@", "slow")
            .replace("--marker=", &format!("--marker={marker}"));
        std::fs::write(stack.join("stack.toml"), manifest).unwrap();
        // The cluster's unprivileged user must be able to reach into the private TMPDIR.
        let tmp = root.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        for dir in [root.path(), tmp.as_path()] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Fixture { root, tmp, marker }
    }

    fn cluster_marker(&self) -> String {
        self.tmp
            .join("stackwise-pg-")
            .to_string_lossy()
            .into_owned()
    }

    fn server(&self) -> String {
        format!("--marker={}", self.marker)
    }

    fn child(&self) -> String {
        format!("forked-child-of-{}", self.marker)
    }

    /// Starts `stackwise verify` on the slow stack.
    fn verify(&self) -> (Child, Lines<BufReader<ChildStderr>>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stackwise"))
            .env("TMPDIR", &self.tmp)
            .args(["verify", "--stacks-dir"])
            .arg(self.root.path().join("stacks"))
            .arg("--cache-dir")
            .arg(self.root.path().join("cache"))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        (child, lines)
    }

    /// Reads `lines` until one contains `needle`.
    fn wait_for(lines: &mut Lines<BufReader<ChildStderr>>, needle: &str) {
        let began = Instant::now();
        for line in lines.by_ref() {
            if line.unwrap().contains(needle) {
                return;
            }
            assert!(
                began.elapsed() < Duration::from_secs(90),
                "never saw '{needle}'"
            );
        }
        panic!("stackwise ended before '{needle}'");
    }

    /// Starts verify and waits until the checks reach the slow endpoint, with the server, its
    /// forked child and the cluster running; returns the cluster's data directory too.
    fn verify_until_stuck(&self) -> (Child, Lines<BufReader<ChildStderr>>, PathBuf) {
        let (child, mut lines) = self.verify();
        Fixture::wait_for(&mut lines, "slow: checking");
        std::thread::sleep(Duration::from_secs(3));
        let server = processes_with(&self.server());
        assert_eq!(server.len(), 1, "{server:?}");
        assert!(
            !processes_with(&self.child()).is_empty(),
            "the server's forked child should run"
        );
        let postgres = processes_with(&self.cluster_marker());
        assert!(
            !postgres.is_empty(),
            "the throwaway cluster should be running"
        );
        let data_dir = postgres[0]
            .1
            .split_whitespace()
            .skip_while(|w| *w != "-D")
            .nth(1)
            .unwrap()
            .to_string();
        (child, lines, PathBuf::from(data_dir))
    }

    /// Asserts that nothing of the run is left, allowing `within` for it to go.
    fn assert_nothing_left(&self, data_dir: &Path, within: Duration) {
        let left = gone_within(&self.server(), within);
        assert!(left.is_empty(), "the server was left running: {left:?}");
        // The child the server forked was in its process group, so it went too.
        let left = gone_within(&self.child(), within);
        assert!(
            left.is_empty(),
            "the forked child was left running: {left:?}"
        );
        let left = gone_within(&self.cluster_marker(), within);
        assert!(left.is_empty(), "PostgreSQL left running: {left:?}");
        let began = Instant::now();
        while data_dir.exists() && began.elapsed() < within {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!data_dir.exists(), "{} was not removed", data_dir.display());
    }

    /// The watchdog of this test's stackwise: its environment names a state file in our TMPDIR.
    fn watchdog(&self) -> Vec<(i32, String)> {
        let needle = format!("STACKWISE_WATCHDOG={}", self.tmp.display());
        processes_with_env(&needle)
    }
}

#[test]
fn interrupting_verify_leaves_nothing_behind() {
    let f = Fixture::new("ctrl-c");
    let (mut child, lines, data_dir) = f.verify_until_stuck();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    // Everything is ended before stackwise exits.
    f.assert_nothing_left(&data_dir, Duration::ZERO);
}

#[test]
fn killing_verify_leaves_nothing_behind() {
    let f = Fixture::new("sigkill");
    let (mut child, _lines, data_dir) = f.verify_until_stuck();
    assert_eq!(
        f.watchdog().len(),
        1,
        "a watchdog should run beside stackwise"
    );
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    // The leaders take the parent-death signal; the watchdog ends what they leave and removes
    // the cluster's directory.
    f.assert_nothing_left(&data_dir, Duration::from_secs(15));
    let began = Instant::now();
    while !f.watchdog().is_empty() && began.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        f.watchdog().is_empty(),
        "the watchdog should end with its work"
    );
}

#[test]
fn a_run_after_a_killed_one_removes_what_it_left() {
    let f = Fixture::new("next-run");
    let (mut child, _lines, data_dir) = f.verify_until_stuck();
    // Without its watchdog, a killed stackwise leaves the forked child and the directory.
    for (pid, _) in f.watchdog() {
        kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    }
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !processes_with(&f.child()).is_empty(),
        "the forked child should outlive a killed stackwise without its watchdog"
    );
    assert!(data_dir.exists());

    let (mut next, mut lines) = f.verify();
    Fixture::wait_for(&mut lines, "did not exit cleanly");
    kill(Pid::from_raw(next.id() as i32), Signal::SIGINT).unwrap();
    next.wait().unwrap();
    f.assert_nothing_left(&data_dir, Duration::from_secs(5));
}
