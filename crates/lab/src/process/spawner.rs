//! One long-lived thread starts every process the lab runs.
//!
//! Two reasons. A parent-death signal (`PR_SET_PDEATHSIG`) fires when the *thread* that forked
//! the child ends, not the process: a child started from a short-lived thread (the lab starts
//! servers from one thread each) would be killed at once. And the spawner registers each group
//! under the registry's lock, after checking that no teardown has begun, so a server can never
//! start after an interruption has ended the others.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;
use nix::unistd::{getpid, getppid, Pid};

struct Job {
    cmd: Command,
    signal: Signal,
    reply: mpsc::SyncSender<io::Result<Child>>,
}

static JOBS: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();

/// Starts `cmd` pinned to `cpus`, with `signal` as its parent-death signal, from the spawner
/// thread, and registers its process group. Refused once an interruption is being handled.
pub(super) fn spawn(mut cmd: Command, cpus: Option<&[usize]>, signal: Signal) -> io::Result<Child> {
    prepare(&mut cmd, cpus, signal)?;
    let jobs = JOBS
        .get_or_init(start_thread)
        .as_ref()
        .ok_or_else(|| io::Error::other("the thread that starts processes could not be created"))?;
    let (reply, answer) = mpsc::sync_channel(1);
    jobs.send(Job { cmd, signal, reply })
        .map_err(|_| io::Error::other("the thread that starts processes has ended"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the thread that starts processes has ended"))?
}

fn start_thread() -> Option<mpsc::Sender<Job>> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("stackwise-spawner".into())
        .spawn(move || {
            for mut job in incoming {
                let started = super::start_registered(&mut job.cmd, job.signal);
                let _ = job.reply.send(started);
            }
        })
        .ok()?;
    Some(jobs)
}

/// Sets what the child does between fork and exec: move to its CPUs, take the parent-death
/// signal, and give up if stackwise already died (the signal would then never come).
fn prepare(cmd: &mut Command, cpus: Option<&[usize]>, signal: Signal) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    let set = match cpus {
        Some(cpus) => {
            let mut set = CpuSet::new();
            for &cpu in cpus {
                set.set(cpu).map_err(io::Error::from)?;
            }
            Some(set)
        }
        None => None,
    };
    let parent = getpid();
    let in_child = move || -> io::Result<()> {
        if let Some(set) = &set {
            sched_setaffinity(Pid::from_raw(0), set)?;
        }
        set_pdeathsig(signal)?;
        if getppid() != parent {
            return Err(Errno::ESRCH.into());
        }
        Ok(())
    };
    // SAFETY: the closure runs in the forked child before exec. It only makes system calls
    // (sched_setaffinity, prctl, getppid), which are async-signal-safe, and it allocates nothing:
    // the CPU set is built before the fork and errors are plain errno values.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(in_child);
    }
    Ok(())
}
