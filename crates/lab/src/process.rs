//! Processes the lab starts: each in a process group of its own, pinned to its CPUs, and ended
//! with all its descendants on success, error, Ctrl-C and panic.
//!
//! Launchers fork (pyenv's `python3` shim, gunicorn's arbiter, Node's cluster primary), so ending
//! the PID we spawned is not enough: the whole group is signalled. Every live group and every
//! temporary directory is also listed in a process-wide registry, which a signal thread empties
//! on SIGINT, SIGTERM or SIGHUP before the process exits.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// What must be ended or removed if the process is interrupted.
#[derive(Default)]
struct Registry {
    /// Process groups, with the signal that asks each to stop.
    groups: Vec<(i32, Signal)>,
    dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    dirs: Vec::new(),
});
static HANDLER: Once = Once::new();
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether an interruption is being handled; the process will exit with 128 + the signal.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Blocks for good if an interruption is being handled, so that work failing because its
/// processes were just ended cannot finish the process first with a misleading result.
pub fn wait_if_interrupted() {
    while interrupted() {
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the SIGINT/SIGTERM/SIGHUP handler that ends every registered group, removes every
/// registered directory and exits with 130. Idempotent.
pub fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("stackwise-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                    eprintln!("\nstackwise: interrupted, stopping everything it started");
                    cleanup_all();
                    std::process::exit(128 + signal);
                }
            });
    });
}

/// Ends every registered group and removes every registered directory.
pub fn cleanup_all() {
    let (groups, dirs) = {
        let mut r = registry();
        (std::mem::take(&mut r.groups), std::mem::take(&mut r.dirs))
    };
    for (g, signal) in &groups {
        let _ = killpg(Pid::from_raw(*g), *signal);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    for (g, _) in &groups {
        wait_group_gone(*g, deadline);
        let _ = killpg(Pid::from_raw(*g), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    for (g, _) in &groups {
        wait_group_gone(*g, deadline);
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

fn wait_group_gone(pgid: i32, deadline: Instant) -> bool {
    while Instant::now() < deadline {
        if !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Whether any process of group `pgid` still runs. Zombies do not count: they have ended and
/// only wait for whichever ancestor adopted them to reap them.
pub fn group_alive(pgid: i32) -> bool {
    if killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH) {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|e| {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            return false;
        };
        // Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

/// A temporary directory removed on drop and on interruption.
#[derive(Debug)]
pub struct TempDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
        let path = dir.path().to_path_buf();
        registry().dirs.push(path.clone());
        Ok(TempDir {
            dir: Some(dir),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        registry().dirs.retain(|d| d != &self.path);
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// A started process and its whole process group.
#[derive(Debug)]
pub struct Group {
    name: String,
    child: Child,
    pgid: i32,
    log: Option<PathBuf>,
    stopped: bool,
    /// The signal that asks the group to stop (SIGTERM unless the program wants another).
    stop_signal: Signal,
}

impl Group {
    /// Starts `cmd` as the leader of a new process group, pinned to `cpus` when given, with its
    /// output appended to `log` when given (else discarded).
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        cpus: Option<&[usize]>,
        log: Option<&Path>,
    ) -> std::io::Result<Group> {
        use std::os::unix::process::CommandExt;
        install_interrupt_handler();
        cmd.process_group(0).stdin(Stdio::null());
        match log {
            Some(path) => {
                let file = File::options().create(true).append(true).open(path)?;
                cmd.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        // A process inherits the CPU set of the thread that starts it, so start it from a
        // thread pinned to those CPUs; every process it forks inherits the set in turn.
        let child = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    if let Some(cpus) = cpus {
                        stackwise_engine::cpu::pin_current_thread_to(cpus)?;
                    }
                    // Register before the child can fork, so an interruption finds the group.
                    let mut r = registry();
                    let child = cmd.spawn()?;
                    r.groups.push((child.id() as i32, Signal::SIGTERM));
                    Ok::<_, std::io::Error>(child)
                })
                .join()
                .map_err(|_| std::io::Error::other("the spawning thread panicked"))?
        })?;
        let pgid = child.id() as i32;
        Ok(Group {
            name: name.to_string(),
            child,
            pgid,
            log: log.map(Path::to_path_buf),
            stopped: false,
            stop_signal: Signal::SIGTERM,
        })
    }

    /// Asks the group to stop with `signal` instead of SIGTERM (PostgreSQL's fast shutdown is
    /// SIGINT; on SIGTERM it waits for every client to leave).
    pub fn stop_with(mut self, signal: Signal) -> Group {
        self.stop_signal = signal;
        for g in registry()
            .groups
            .iter_mut()
            .filter(|(g, _)| *g == self.pgid)
        {
            g.1 = signal;
        }
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process group id (the leader's pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// Whether the leader still runs; reaps it if it ended.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the leader to end, then ends whatever it left in its group.
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait();
        self.stop(Duration::from_millis(500));
        status
    }

    /// The last lines of the process's output, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Ends the whole group: SIGTERM, then SIGKILL to whatever is left after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pgid = Pid::from_raw(self.pgid);
        let _ = killpg(pgid, self.stop_signal);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            let _ = self.child.try_wait();
            if !group_alive(self.pgid) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = self.child.wait();
        // Killed descendants linger until their new parent reaps them.
        wait_group_gone(self.pgid, Instant::now() + Duration::from_secs(1));
        registry().groups.retain(|(g, _)| *g != self.pgid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_a_group_ends_the_children_the_leader_forked() {
        // The leader forks a child that ignores SIGTERM and outlives its parent.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sh -c 'trap \"\" TERM; sleep 30' & sleep 30"]);
        let mut group = Group::spawn("test", cmd, None, None).unwrap();
        let pgid = group.pgid();
        std::thread::sleep(Duration::from_millis(200));
        assert!(group.is_running());
        let began = Instant::now();
        group.stop(Duration::from_millis(300));
        assert!(!group_alive(pgid));
        assert!(began.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_process_starts_on_the_cpus_given() {
        let dir = TempDir::new("stackwise-test-").unwrap();
        let log = dir.path().join("out.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "grep Cpus_allowed_list /proc/self/status"]);
        let mut group = Group::spawn("pin", cmd, Some(&[0]), Some(&log)).unwrap();
        let _ = group.child.wait();
        let out = std::fs::read_to_string(&log).unwrap();
        assert!(out.trim().ends_with("\t0"), "{out}");
        let path = dir.path().to_path_buf();
        drop(dir);
        assert!(!path.exists());
    }
}
