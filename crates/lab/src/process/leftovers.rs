//! What a stackwise process that died without cleaning up left behind, found and removed.
//!
//! Every process that starts a group or makes a temporary directory lists them in a state file
//! of its own, `<temp>/stackwise-<uid>/<pid>-<start>.state`, which it holds locked (`flock`)
//! for as long as it lives. A lock that can be taken therefore belongs to a process that is
//! gone, however it went (SIGKILL, the OOM killer), and what its file still lists is removed:
//! the groups (skipping any whose leader's process id now belongs to another process) and the
//! directories. A watchdog started beside a run waits for its run's lock and does this at
//! once; every run does it at start for whatever else it finds.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::Signal;
use nix::unistd::{getpid, getuid};

use super::{end_groups, group_members, proc_stat, registry, Member};

/// The variable that turns a `stackwise` process into the watchdog of the state file it names.
const WATCHDOG: &str = "STACKWISE_WATCHDOG";

/// This process's state file, made at its first use.
pub(super) struct State {
    file: Option<Flock<File>>,
    path: Option<PathBuf>,
    /// Making the file failed once; the lab works on without it.
    failed: bool,
    /// A watchdog waits on the file: it must stay for as long as this process lives.
    watched: bool,
}

impl State {
    pub(super) const NONE: State = State {
        file: None,
        path: None,
        failed: false,
        watched: false,
    };

    /// The state file's path, making the file if there is none yet.
    fn ensure(&mut self) -> io::Result<&Path> {
        if self.file.is_none() {
            let (file, path) = create()?;
            self.file = Some(file);
            self.path = Some(path);
        }
        self.path
            .as_deref()
            .ok_or_else(|| io::Error::other("no state file"))
    }

    /// Replaces the file's lists. Written in place (the lock belongs to the open file): the
    /// new text over the old, then cut to its length.
    pub(super) fn write(&mut self, groups: &[Member], dirs: &[PathBuf]) {
        if self.file.is_none() && (self.failed || (groups.is_empty() && dirs.is_empty())) {
            return;
        }
        // Nothing left to clean up and nobody waiting on the file: it goes, so that processes
        // that end normally leave nothing in the state folder.
        if groups.is_empty() && dirs.is_empty() && !self.watched {
            if let Some(path) = self.path.take() {
                let _ = std::fs::remove_file(path);
            }
            self.file = None;
            return;
        }
        if self.file.is_none() && self.ensure().is_err() {
            self.failed = true;
            return;
        }
        let Some(file) = &self.file else { return };
        let text = render(groups, dirs);
        let _ = file
            .write_all_at(text.as_bytes(), 0)
            .and_then(|()| file.set_len(text.len() as u64));
    }
}

fn render(groups: &[Member], dirs: &[PathBuf]) -> String {
    let mut text = format!("stackwise {}\n", getpid());
    for m in groups {
        text.push_str(&format!(
            "group {} {} {}\n",
            m.pgid, m.signal as i32, m.started
        ));
    }
    for d in dirs {
        if let Some(d) = d.to_str().filter(|d| !d.contains('\n')) {
            text.push_str(&format!("dir {d}\n"));
        }
    }
    text
}

fn parse(text: &str) -> (Vec<Member>, Vec<PathBuf>) {
    let mut groups = Vec::new();
    let mut dirs = Vec::new();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("group", rest)) => {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let member = (|| {
                    Some(Member {
                        pgid: f.first()?.parse().ok()?,
                        signal: Signal::try_from(f.get(1)?.parse::<i32>().ok()?).ok()?,
                        started: f.get(2)?.parse().ok()?,
                    })
                })();
                groups.extend(member.filter(|m| m.pgid > 1));
            }
            Some(("dir", path)) if path.starts_with('/') => dirs.push(PathBuf::from(path)),
            _ => {}
        }
    }
    (groups, dirs)
}

/// Where state files live: a folder of this user's, which no one else may write.
fn state_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let dir = std::env::temp_dir().join(format!("stackwise-{}", getuid()));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != getuid().as_raw() || meta.mode() & 0o022 != 0 {
        return Err(io::Error::other(format!(
            "{} is not a private folder of this user",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Makes and locks this process's state file. It is made under a temporary name and renamed
/// once locked, so another process never finds it unlocked and takes it for a dead one's.
fn create() -> io::Result<(Flock<File>, PathBuf)> {
    let dir = state_dir()?;
    let me = getpid().as_raw();
    let started = proc_stat(me).map_or(0, |s| s.started);
    let name = format!("{me}-{started}");
    let making = dir.join(format!(".{name}.making"));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&making)?;
    let file = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, e)| e)?;
    let path = dir.join(format!("{name}.state"));
    std::fs::rename(&making, &path)?;
    Ok((file, path))
}

/// What [`reap_dead`] removed.
#[derive(Debug, Default)]
pub struct Reaped {
    /// Dead stackwise processes whose leftovers were found.
    pub runs: usize,
    /// Processes ended.
    pub processes: usize,
    /// Directories removed.
    pub dirs: Vec<PathBuf>,
}

impl Reaped {
    pub fn is_empty(&self) -> bool {
        self.processes == 0 && self.dirs.is_empty()
    }
}

impl fmt::Display for Reaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "ended {} and removed {} left by {} that did not exit cleanly",
            plural(self.processes, "process", "processes"),
            plural(self.dirs.len(), "directory", "directories"),
            plural(
                self.runs,
                "earlier stackwise process",
                "earlier stackwise processes"
            ),
        )?;
        if let Some(d) = self.dirs.first() {
            write!(f, " ({}", d.display())?;
            if self.dirs.len() > 1 {
                write!(f, " and {} more", self.dirs.len() - 1)?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// Removes what every dead stackwise process of this user left: its groups and directories.
pub fn reap_dead() -> Reaped {
    let mut reaped = Reaped::default();
    let Ok(dir) = state_dir() else {
        return reaped;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return reaped;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("state") {
            continue;
        }
        let Ok(file) = File::options().read(true).write(true).open(&path) else {
            continue;
        };
        // Held by a live process: not ours to touch.
        let Ok(lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
            continue;
        };
        reap_file(&path, &mut reaped);
        let _ = std::fs::remove_file(&path);
        drop(lock);
    }
    reaped
}

/// Ends the groups and removes the directories the state file at `path` lists.
fn reap_file(path: &Path, reaped: &mut Reaped) {
    let (groups, dirs) = parse(&std::fs::read_to_string(path).unwrap_or_default());
    // A leader's process id that now belongs to another process means the group is empty:
    // Linux does not reuse an id that is still some group's.
    let ours: Vec<Member> = groups
        .into_iter()
        .filter(|m| proc_stat(m.pgid).is_none_or(|s| s.started == m.started))
        .collect();
    let processes: usize = ours
        .iter()
        .map(|m| group_members(m.pgid).map_or(0, |v| v.len()))
        .sum();
    end_groups(&ours);
    let before = reaped.dirs.len();
    for d in dirs {
        if d.exists() && std::fs::remove_dir_all(&d).is_ok() {
            reaped.dirs.push(d);
        }
    }
    reaped.processes += processes;
    if processes > 0 || reaped.dirs.len() > before {
        reaped.runs += 1;
    }
}

/// Starts this process's watchdog: `program` (the stackwise executable), which waits until this
/// process's state file is unlocked, that is until it has exited or been killed, and then
/// removes what the file still lists. It runs in a process group of its own, so Ctrl-C at the
/// terminal reaches only stackwise, whose own handler cleans up.
pub fn start_watchdog(program: &Path) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    let path = {
        let mut r = registry();
        r.state.watched = true;
        r.state.ensure()?.to_path_buf()
    };
    let mut cmd = Command::new(program);
    cmd.env(WATCHDOG, &path)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Not through the spawner: it must outlive this process, so it gets no parent-death signal.
    cmd.spawn().map(drop)
}

/// Runs as a watchdog when this process was started as one (see [`start_watchdog`]); returns
/// whether it did, in which case the process should exit.
pub fn watchdog_if_asked() -> bool {
    let Some(path) = std::env::var_os(WATCHDOG).map(PathBuf::from) else {
        return false;
    };
    // Ctrl-C and a closed terminal are for the run to handle; its watchdog waits for it.
    let _held = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ]);
    if let Ok(file) = File::open(&path) {
        if let Ok(_lock) = Flock::lock(file, FlockArg::LockExclusive) {
            reap_file(&path, &mut Reaped::default());
            let _ = std::fs::remove_file(&path);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_file_reads_back_what_was_written() {
        let groups = vec![
            Member {
                pgid: 4242,
                signal: Signal::SIGINT,
                started: 123_456,
            },
            Member {
                pgid: 77,
                signal: Signal::SIGTERM,
                started: 9,
            },
        ];
        let dirs = vec![
            PathBuf::from("/tmp/stackwise-pg-abc"),
            PathBuf::from("/x y"),
        ];
        let (g, d) = parse(&render(&groups, &dirs));
        assert_eq!(g, groups);
        assert_eq!(d, dirs);
        // Garbage, a truncated line and relative paths are skipped, never misread.
        let (g, d) = parse("group 1 15 0\ngroup 12 15\ndir relative\nnonsense\ngroup 9 99 1\n");
        assert!(g.is_empty(), "{g:?}");
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn the_summary_names_counts_and_a_folder() {
        let r = Reaped {
            runs: 1,
            processes: 3,
            dirs: vec![PathBuf::from("/tmp/stackwise-pg-x")],
        };
        assert_eq!(
            r.to_string(),
            "ended 3 processes and removed 1 directory left by 1 earlier stackwise process \
             that did not exit cleanly (/tmp/stackwise-pg-x)"
        );
        assert!(Reaped::default().is_empty());
    }
}
