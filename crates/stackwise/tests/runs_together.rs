//! `stackwise run` as an unlucky user meets it: interrupted at many different moments (while
//! PostgreSQL starts, while the server starts, warms up, is measured), and started twice at once
//! on the same results and cache folders. Every time nothing is left running, the results can
//! be resumed, and two runs keep two results and two history rows. The contestant is a small
//! fixture server (tests/fixtures in the lab), so each run takes seconds.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use common::processes_with;

const SERVER: &str = include_str!("../../lab/tests/fixtures/fixed_server.py");
const MANIFEST: &str = include_str!("../../lab/tests/fixtures/fixed_stack.toml");

/// A folder with the fixture stack (its server's command line carries `marker`), a cache, a
/// results folder and a private TMPDIR that marks this test's PostgreSQL clusters.
struct Lab {
    root: tempfile::TempDir,
    marker: String,
}

impl Lab {
    fn new(marker: &str) -> Lab {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("stacks/fixed");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("server.py"), SERVER).unwrap();
        let manifest = MANIFEST.replace(
            r#"start = ["python3", "server.py"]"#,
            &format!(r#"start = ["python3", "server.py", "--marker={marker}"]"#),
        );
        assert!(manifest.contains(marker));
        std::fs::write(dir.join("stack.toml"), manifest).unwrap();
        // The cluster's unprivileged user must be able to reach into the private TMPDIR.
        std::fs::create_dir_all(root.path().join("tmp")).unwrap();
        for d in [root.path().to_path_buf(), root.path().join("tmp")] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Lab {
            root,
            marker: marker.to_string(),
        }
    }

    fn results(&self) -> PathBuf {
        self.root.path().join("results")
    }

    fn cluster_marker(&self) -> String {
        self.root
            .path()
            .join("tmp/stackwise-pg-")
            .to_string_lossy()
            .into_owned()
    }

    /// `stackwise run` on the fixture, short; `--resume RUN` when `resume` names one (it keeps
    /// the run's own settings).
    fn run(&self, resume: Option<&str>) -> Child {
        let settings: &[&str] = match resume {
            Some(_) => &[],
            None => &[
                "--scenarios",
                "json",
                "--duration",
                "300ms",
                "--settle",
                "200ms",
                "--warmup",
                "1s",
                "--trials",
                "2",
                "--max-rounds",
                "2",
                "--capacity-probes",
                "1",
                "--probe",
                "300ms",
                "--noise-limit",
                "100",
            ],
        };
        Command::new(env!("CARGO_BIN_EXE_stackwise"))
            .env("TMPDIR", self.root.path().join("tmp"))
            .args(["run", "--no-progress"])
            .args(settings)
            .args(resume.iter().flat_map(|id| ["--resume", id]))
            .arg("--stacks-dir")
            .arg(self.root.path().join("stacks"))
            .arg("--cache-dir")
            .arg(self.root.path().join("cache"))
            .arg("--results-dir")
            .arg(self.results())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Asserts that nothing this lab started still runs.
    fn assert_nothing_left(&self, when: &str) {
        let server = processes_with(&format!("--marker={}", self.marker));
        assert!(server.is_empty(), "{when}: the server was left: {server:?}");
        let cluster = processes_with(&self.cluster_marker());
        assert!(
            cluster.is_empty(),
            "{when}: PostgreSQL was left: {cluster:?}"
        );
    }

    /// The run folders made so far.
    fn runs(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.results()) else {
            return Vec::new();
        };
        let mut runs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        runs.sort();
        runs
    }
}

fn results_json(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("results.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", run.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn interrupting_a_run_at_any_moment_leaves_nothing_and_a_result_to_resume() {
    let lab = Lab::new("runs-together-interrupted");
    // From the first moments (PostgreSQL starting) to the measuring.
    let moments = [300, 900, 1600, 2400, 3300, 4500];
    for ms in moments {
        let before = lab.runs().len();
        let mut child = lab.run(None);
        std::thread::sleep(Duration::from_millis(ms));
        let finished = child.try_wait().unwrap().is_some();
        kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let when = format!("interrupted after {ms} ms");
        if !finished {
            assert_eq!(out.status.code(), Some(130), "{when}: {stderr}");
        }
        lab.assert_nothing_left(&when);
        let runs = lab.runs();
        assert_eq!(runs.len(), before + 1, "{when}: one run folder more");
        let saved = results_json(runs.last().unwrap());
        if !finished {
            assert!(saved["finished_at"].is_null(), "{when}");
        }
        // Nothing the teardown broke is saved as the stack's result.
        for stack in saved["stacks"].as_array().unwrap() {
            assert!(stack["error"].is_null(), "{when}: {}", stack["error"]);
            for scenario in stack["scenarios"].as_array().unwrap() {
                assert!(scenario["error"].is_null(), "{when}: {}", scenario["error"]);
            }
        }
    }
    // The last interrupted run is finished by --resume.
    let last = lab.runs().last().unwrap().clone();
    let id = last.file_name().unwrap().to_str().unwrap().to_string();
    let out = lab.run(Some(&id)).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!results_json(&last)["finished_at"].is_null());
    lab.assert_nothing_left("after the resumed run");
}

#[test]
fn two_runs_at_once_keep_two_results_and_two_history_rows() {
    let lab = Lab::new("runs-together-concurrent");
    let began = Instant::now();
    // Started together, on an empty cache: the second waits for the first's install.
    let a = lab.run(None);
    let b = lab.run(None);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(began.elapsed() < Duration::from_secs(300));
    let runs = lab.runs();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        let r = results_json(run);
        assert!(!r["finished_at"].is_null());
        assert_eq!(r["id"].as_str(), run.file_name().unwrap().to_str());
    }
    let listed = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(["runs", "--results-dir"])
        .arg(lab.results())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&listed.stdout);
    for run in &runs {
        let id = run.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            table
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(id))
                .count(),
            1,
            "{id} in\n{table}"
        );
    }
    lab.assert_nothing_left("after two runs");
}
