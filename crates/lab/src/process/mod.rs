//! Processes the lab starts: each in a process group of its own, pinned to its CPUs, and ended
//! with all its descendants on success, error, Ctrl-C, panic, and the death of stackwise itself.
//!
//! Launchers fork (pyenv's `python3` shim, gunicorn's arbiter, Node's cluster primary), so ending
//! the PID we spawned is not enough: the whole group is signalled. Three defences, from the
//! commonest way out to the rarest:
//!
//! - A [`Group`] is ended by its owner, at the latest when it is dropped. Every live group and
//!   temporary directory is listed in a process-wide registry, which a signal thread empties on
//!   SIGINT, SIGTERM or SIGHUP before the process exits. Groups are started by one spawner thread
//!   that checks for an interruption under the registry's lock ([`spawner`]), so no group can
//!   start once the teardown has begun.
//! - Every group leader gets a parent-death signal, its stop signal: when stackwise is killed
//!   outright (SIGKILL, the OOM killer), the leaders are signalled by the kernel.
//! - What a leader cannot take with it (a child it forked, PostgreSQL's data directory) is also
//!   written to a state file this process holds locked ([`leftovers`]). A watchdog process waits
//!   for that lock and removes what a dead stackwise left, and every run starts by doing the same
//!   for any earlier process that died without its watchdog.

mod leftovers;
mod spawner;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

pub use leftovers::{reap_dead, start_watchdog, watchdog_if_asked, Reaped};

/// A group the registry holds: its id, the signal that asks it to stop, and its leader's start
/// time (so a reused process id is never taken for it).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Member {
    pgid: i32,
    signal: Signal,
    started: u64,
}

/// What must be ended or removed if the process is interrupted or dies.
struct Registry {
    groups: Vec<Member>,
    dirs: Vec<PathBuf>,
    /// Set when the teardown begins: from then on nothing starts.
    closed: bool,
    /// The same lists on disk, for a watchdog or a later run should this process be killed.
    state: leftovers::State,
}

impl Registry {
    /// Writes the lists to the state file after a change.
    fn changed(&mut self) {
        self.state.write(&self.groups, &self.dirs);
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    groups: Vec::new(),
    dirs: Vec::new(),
    closed: false,
    state: leftovers::State::NONE,
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
/// registered directory and exits with 128 + the signal. Idempotent.
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

/// Ends every registered group and removes every registered directory; nothing starts after.
pub fn cleanup_all() {
    let (groups, dirs) = {
        let mut r = registry();
        r.closed = true;
        (r.groups.clone(), r.dirs.clone())
    };
    end_groups(&groups);
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    let mut r = registry();
    r.groups.retain(|m| !groups.contains(m));
    r.dirs.retain(|d| !dirs.contains(d));
    r.changed();
}

/// Asks each group to stop with its signal, and kills what is left after three seconds.
fn end_groups(groups: &[Member]) {
    for m in groups {
        let _ = killpg(Pid::from_raw(m.pgid), m.signal);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    for m in groups {
        wait_group_gone(m.pgid, deadline);
        let _ = killpg(Pid::from_raw(m.pgid), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    for m in groups {
        wait_group_gone(m.pgid, deadline);
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
    // Unreadable /proc: assume the worst.
    group_members(pgid).is_none_or(|m| !m.is_empty())
}

/// The live (not zombie) processes of group `pgid`, from /proc.
fn group_members(pgid: i32) -> Option<Vec<i32>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(
        entries
            .flatten()
            .filter_map(|e| {
                let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
                let stat = proc_stat(pid)?;
                (stat.pgrp == pgid && stat.state != 'Z' && stat.state != 'X').then_some(pid)
            })
            .collect(),
    )
}

/// The fields of /proc/PID/stat the lab reads.
#[derive(Debug, Clone, Copy)]
struct ProcStat {
    state: char,
    pgrp: i32,
    /// Clock ticks after boot at which the process started.
    started: u64,
}

fn proc_stat(pid: i32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; the fields after it are: state, ppid,
    // pgrp, ... and starttime is the 20th of them.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        started: fields.get(19)?.parse().ok()?,
    })
}

/// Starts `cmd` and registers its group, unless the teardown has begun. Called by the spawner
/// thread: the lock is held from the check to the registration, so the interrupt handler sees
/// either the group or the refusal.
fn start_registered(cmd: &mut Command, signal: Signal) -> std::io::Result<Child> {
    let mut r = registry();
    if r.closed || interrupted() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "stackwise is being interrupted; nothing new starts",
        ));
    }
    let child = cmd.spawn()?;
    let pgid = child.id() as i32;
    let started = proc_stat(pgid).map_or(0, |s| s.started);
    r.groups.push(Member {
        pgid,
        signal,
        started,
    });
    r.changed();
    Ok(child)
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
        let mut r = registry();
        r.dirs.push(path.clone());
        r.changed();
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
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
        let mut r = registry();
        r.dirs.retain(|d| d != &self.path);
        r.changed();
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
    /// output appended to `log` when given (else discarded), stopped with SIGTERM.
    pub fn spawn(
        name: &str,
        cmd: Command,
        cpus: Option<&[usize]>,
        log: Option<&Path>,
    ) -> std::io::Result<Group> {
        Group::spawn_stopping_with(name, cmd, cpus, log, Signal::SIGTERM)
    }

    /// As [`Group::spawn`], asking the group to stop with `signal` instead of SIGTERM
    /// (PostgreSQL's fast shutdown is SIGINT; on SIGTERM it waits for every client to leave).
    /// The leader gets the same signal should stackwise die first.
    pub fn spawn_stopping_with(
        name: &str,
        mut cmd: Command,
        cpus: Option<&[usize]>,
        log: Option<&Path>,
        signal: Signal,
    ) -> std::io::Result<Group> {
        match log {
            Some(path) => {
                let file = File::options().create(true).append(true).open(path)?;
                cmd.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        Group::start(name, cmd, cpus, log, signal)
    }

    fn start(
        name: &str,
        mut cmd: Command,
        cpus: Option<&[usize]>,
        log: Option<&Path>,
        signal: Signal,
    ) -> std::io::Result<Group> {
        use std::os::unix::process::CommandExt;
        install_interrupt_handler();
        cmd.process_group(0).stdin(Stdio::null());
        let child = spawner::spawn(cmd, cpus, signal)?;
        let pgid = child.id() as i32;
        Ok(Group {
            name: name.to_string(),
            child,
            pgid,
            log: log.map(Path::to_path_buf),
            stopped: false,
            stop_signal: signal,
        })
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
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
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
        let mut r = registry();
        r.groups.retain(|m| m.pgid != self.pgid);
        r.changed();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}

/// Runs `cmd` to its end as a group of its own, as `Command::output` does, so that an
/// interruption or the death of stackwise ends it with everything else.
pub fn output(name: &str, mut cmd: Command) -> std::io::Result<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut group = Group::start(name, cmd, None, None, Signal::SIGTERM)?;
    let stdout = group.child.stdout.take();
    let stderr = group.child.stderr.take();
    let read = |pipe: Option<std::process::ChildStdout>| {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    };
    // Both pipes are read at once, or a child filling one would block on it.
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = stderr {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let stdout = read(stdout);
    let stderr = err.join().unwrap_or_default();
    let status = group.wait()?;
    Ok(Output {
        status,
        stdout,
        stderr,
    })
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
