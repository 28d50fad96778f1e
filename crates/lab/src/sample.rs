//! What a server's whole process tree uses: CPU time and memory, read from /proc.
//!
//! Forked workers share pages with their parent, so summing RSS counts shared pages once per
//! process; PSS (from smaps_rollup) divides each shared page among its sharers and sums to the
//! memory the tree really holds. Both are kept.

use std::time::{Duration, Instant};

use stackwise_results::ServerUsage as Usage;

/// One reading of a process group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// User + system CPU time of the live processes, in seconds.
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    pub processes: u64,
    /// Which processes they were: a hash of their ids and start times, so that a worker that
    /// exits, or is replaced by a new one, changes it.
    pub members: u64,
}

/// CPU seconds of the processes `roots` and all their live descendants, with the children
/// they have reaped, in one pass over /proc. PostgreSQL's backends make themselves leaders of their own sessions, so its processes
/// are found by parentage, not by group.
pub fn tree_cpu_seconds(roots: &[i32]) -> f64 {
    if roots.is_empty() {
        return 0.0;
    }
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    // (pid, parent, cpu ticks) of every live process.
    let mut procs = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() < 15 || f[0] == "Z" {
            continue;
        }
        // Its own time and that of the children it has reaped: PostgreSQL's postmaster reaps
        // the autovacuum workers and backends that come and go, whose time would otherwise
        // count as other processes' load.
        let cpu: f64 = f[11..15]
            .iter()
            .map(|v| v.parse::<f64>().unwrap_or(0.0))
            .sum();
        procs.push((pid, f[1].parse::<i32>().unwrap_or(0), cpu));
    }
    let mut inside: std::collections::HashSet<i32> = roots.iter().copied().collect();
    // Parents are usually listed before their children; repeat until nothing is added.
    loop {
        let before = inside.len();
        for &(pid, parent, _) in &procs {
            if inside.contains(&parent) {
                inside.insert(pid);
            }
        }
        if inside.len() == before {
            break;
        }
    }
    procs
        .iter()
        .filter(|(pid, _, _)| inside.contains(pid))
        .map(|(_, _, cpu)| cpu / ticks)
        .sum()
}

/// Reads every live process of group `pgid`.
pub fn read_group(pgid: i32) -> Reading {
    read_groups(&[pgid])
}

/// Reads every live process of the groups `pgids`, together: a server and the services its
/// processes are joined through.
pub fn read_groups(pgids: &[i32]) -> Reading {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let mut r = Reading::default();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return r;
    };
    for e in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
        let f: Vec<&str> = rest.split_whitespace().collect();
        let in_groups = f
            .get(2)
            .and_then(|g| g.parse::<i32>().ok())
            .is_some_and(|g| pgids.contains(&g));
        if f.len() < 13 || !in_groups || f[0] == "Z" {
            continue;
        }
        let utime: f64 = f[11].parse().unwrap_or(0.0);
        let stime: f64 = f[12].parse().unwrap_or(0.0);
        r.cpu_seconds += (utime + stime) / ticks;
        r.processes += 1;
        // Summed, so the order /proc lists them in does not matter.
        let pid = e.file_name().to_str().and_then(|n| n.parse::<u64>().ok());
        let started = f.get(19).and_then(|v| v.parse::<u64>().ok());
        r.members = r
            .members
            .wrapping_add(mix(pid.unwrap_or(0) ^ started.unwrap_or(0) << 24));
        if let Ok(rollup) = std::fs::read_to_string(e.path().join("smaps_rollup")) {
            for line in rollup.lines() {
                let kib = |l: &str| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                        * 1024
                };
                if line.starts_with("Rss:") {
                    r.rss_bytes += kib(line);
                } else if line.starts_with("Pss:") {
                    r.pss_bytes += kib(line);
                }
            }
        }
    }
    r
}

/// A 64-bit mixer (splitmix64's finaliser): distinct processes give unrelated values.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Waits until group `pgid` uses almost no CPU (under 10% of a core over 50 ms), for at most
/// `timeout`. After a load run is cut off, a server may still be working through requests whose
/// clients are gone (a sync worker's listen backlog); the next run must not inherit that work.
pub fn wait_idle(pgid: i32, timeout: Duration) {
    let began = Instant::now();
    let window = Duration::from_millis(50);
    let mut before = read_group(pgid).cpu_seconds;
    while began.elapsed() < timeout {
        std::thread::sleep(window);
        let now = read_group(pgid).cpu_seconds;
        if now - before < 0.10 * window.as_secs_f64() {
            return;
        }
        before = now;
    }
}

/// CPU seconds this process has used, all threads: the load engine, the delay service and
/// the sampler itself.
fn own_cpu_seconds() -> f64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| {
            let tv = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            tv(u.user_time()) + tv(u.system_time())
        })
        .unwrap_or(0.0)
}

/// One sample: the server's group, and the CPU of everything else that belongs to the
/// measurement, with the machine's counters.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    server: Reading,
    /// CPU seconds of this process and of the other groups of the measurement (PostgreSQL).
    ours_cpu: f64,
    /// The machine's (busy, total) clock ticks over all CPUs.
    machine: Option<(u64, u64)>,
    /// The machine's (steal, total) clock ticks over all CPUs.
    steal: Option<(u64, u64)>,
}

/// The value of a counter at `t`, linearly between the samples around it.
fn at(v: &[Sample], t: Instant, f: impl Fn(&Sample) -> f64) -> f64 {
    let after = v.iter().position(|s| s.at >= t);
    match after {
        None => v.last().map_or(0.0, &f),
        Some(0) => f(&v[0]),
        Some(i) => {
            let (a, b) = (&v[i - 1], &v[i]);
            let span = (b.at - a.at).as_secs_f64();
            if span <= 0.0 {
                return f(b);
            }
            let share = (t - a.at).as_secs_f64() / span;
            f(a) + (f(b) - f(a)) * share
        }
    }
}

/// Samples a server's group every `every` on a thread of its own until finished, keeping every
/// sample with its time so that any stretch of the run (a trial window) can be summarised
/// afterwards. Also tells how much CPU processes outside the measurement used.
#[derive(Debug)]
pub struct Sampler {
    /// Dropping it stops the sampler at once, mid-wait.
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Vec<Sample>>>,
}

/// What a sampler saw.
#[derive(Debug)]
pub struct Samples(Vec<Sample>);

impl Sampler {
    /// Starts sampling the groups `server` (a server and its services) as one; `also_ours` are
    /// the roots of other process trees of the measurement (PostgreSQL) whose CPU is not
    /// "other load".
    pub fn start(
        server: Vec<i32>,
        also_ours: Vec<i32>,
        every: Duration,
        cpus: Option<Vec<usize>>,
    ) -> Sampler {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let take = move || Sample {
            at: Instant::now(),
            server: read_groups(&server),
            ours_cpu: own_cpu_seconds() + tree_cpu_seconds(&also_ours),
            machine: stackwise_engine::cpu::machine_cpu_ticks(),
            steal: stackwise_engine::cpu::machine_steal_ticks(),
        };
        let thread = std::thread::Builder::new()
            .name("stackwise-sampler".into())
            .spawn(move || {
                if let Some(cpus) = &cpus {
                    let _ = stackwise_engine::cpu::pin_current_thread_to(cpus);
                }
                let mut samples = Vec::new();
                loop {
                    samples.push(take());
                    // Waits `every`, or less when told to stop: a final sample is taken then.
                    match stopped.recv_timeout(every) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => {
                            samples.push(take());
                            break;
                        }
                    }
                }
                samples
            })
            .ok();
        Sampler {
            stop: Some(stop),
            thread,
        }
    }

    pub fn finish(mut self) -> Samples {
        self.stop = None;
        Samples(
            self.thread
                .take()
                .and_then(|t| t.join().ok())
                .unwrap_or_default(),
        )
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop = None;
    }
}

/// What happened on the machine around a stretch of a measurement, besides the server.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Machine {
    /// Share of the machine (0..1, all CPUs) that processes outside the measurement used,
    /// steal included.
    pub other_load: Option<f64>,
    /// Share of the machine the hypervisor took.
    pub steal: Option<f64>,
}

impl Samples {
    /// Whether the server's processes changed between `from` and `to` (from the last sample
    /// before to the first after): one exited, or a new one started in its place. Says how.
    pub fn processes_changed(&self, from: Instant, to: Instant) -> Option<String> {
        let v = &self.0;
        let first = v.iter().rev().find(|s| s.at <= from).or(v.first())?;
        let around: Vec<&Sample> = v
            .iter()
            .filter(|s| s.at >= first.at)
            .take_while(|s| s.at <= to)
            .chain(v.iter().find(|s| s.at > to))
            .collect();
        let last = around.last()?;
        let changed = around
            .iter()
            .any(|s| s.server.members != first.server.members);
        if !changed {
            return None;
        }
        let (a, b) = (first.server.processes, last.server.processes);
        let count = |n: u64| match n {
            0 => "none".to_string(),
            1 => "1 process".to_string(),
            n => format!("{n} processes"),
        };
        let counts = format!("{} before, {} after", count(a), count(b));
        Some(if b == 0 {
            format!("the server exited during the window ({counts})")
        } else if b < a {
            format!("a server process exited during the window ({counts})")
        } else {
            format!(
                "a server process was replaced during the window ({counts}): a worker exited \
                 or was restarted"
            )
        })
    }

    /// The server's summed PSS at the last sample at or before `t` in which it was running.
    pub fn pss_before(&self, t: Instant) -> Option<u64> {
        self.0
            .iter()
            .rev()
            .find(|s| s.at <= t && s.server.processes > 0)
            .map(|s| s.server.pss_bytes)
    }

    /// The server's use between `from` and `to`, and what else the machine did then. The
    /// server's CPU time is read at `from` and `to` exactly, between the samples around each,
    /// so it never exceeds its cores over the stretch by more than the samples' own error;
    /// memory comes from the samples in between (or the nearest one). Other processes' share
    /// needs the machine's counters, so it covers the samples around the stretch.
    pub fn between(&self, from: Instant, to: Instant) -> (Usage, Machine) {
        let v = &self.0;
        let (Some(first), Some(last)) = (
            v.iter().rev().find(|s| s.at <= from).or(v.first()),
            v.iter().find(|s| s.at >= to).or(v.last()),
        ) else {
            return (Usage::default(), Machine::default());
        };
        let server_cpu = |t: Instant| at(v, t, |s| s.server.cpu_seconds);
        let cpu_at_from = server_cpu(from);
        let mut inside: Vec<&Sample> = v
            .iter()
            .filter(|s| s.at >= from && s.at <= to && s.server.processes > 0)
            .collect();
        if inside.is_empty() {
            inside.push(last);
        }
        let n = inside.len() as u64;
        let mean = |f: fn(&Reading) -> u64| {
            (inside
                .iter()
                .map(|s| u128::from(f(&s.server)))
                .sum::<u128>()
                / u128::from(n)) as u64
        };
        let usage = Usage {
            cpu_seconds: (server_cpu(to) - cpu_at_from).max(0.0),
            rss_peak_bytes: inside.iter().map(|s| s.server.rss_bytes).max().unwrap_or(0),
            rss_mean_bytes: mean(|r| r.rss_bytes),
            pss_peak_bytes: inside.iter().map(|s| s.server.pss_bytes).max().unwrap_or(0),
            pss_mean_bytes: mean(|r| r.pss_bytes),
            samples: n,
            series: inside
                .iter()
                .map(|s| stackwise_results::UsageSample {
                    at_s: s.at.saturating_duration_since(from).as_secs_f64(),
                    cpu_s: (s.server.cpu_seconds - cpu_at_from).max(0.0),
                    rss_bytes: s.server.rss_bytes,
                    pss_bytes: s.server.pss_bytes,
                    processes: s.server.processes,
                })
                .collect(),
        };
        let other_load = match (first.machine, last.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                let cpus = stackwise_engine::cpu::online_cpus() as f64;
                let seconds = (last.at - first.at).as_secs_f64().max(1e-9);
                let machine = b1.saturating_sub(b0) as f64 / (t1 - t0) as f64;
                let server = (last.server.cpu_seconds - first.server.cpu_seconds).max(0.0);
                let ours = (server + (last.ours_cpu - first.ours_cpu).max(0.0)) / (seconds * cpus);
                Some((machine - ours).clamp(0.0, 1.0))
            }
            _ => None,
        };
        let steal = match (first.steal, last.steal) {
            (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
                Some((s1.saturating_sub(s0) as f64 / (t1 - t0) as f64).clamp(0.0, 1.0))
            }
            _ => None,
        };
        (usage, Machine { other_load, steal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_includes_descendants_that_left_the_group() {
        // The grandchild makes itself a session leader, as PostgreSQL's backends do, and burns
        // CPU; it still counts as part of the tree.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("setsid sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done' & wait")
            .spawn()
            .unwrap();
        let root = child.id() as i32;
        let mut seen = 0.0f64;
        while child.try_wait().unwrap().is_none() {
            seen = seen.max(tree_cpu_seconds(&[root]));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(seen > 0.05, "the tree used {seen} s");
    }

    #[test]
    fn reads_this_process_group() {
        let pgid = nix::unistd::getpgrp().as_raw();
        let r = read_group(pgid);
        assert!(r.processes >= 1);
        assert!(r.rss_bytes > 0 && r.pss_bytes > 0 && r.pss_bytes <= r.rss_bytes);
        let s = Sampler::start(vec![pgid], Vec::new(), Duration::from_millis(10), None);
        let from = Instant::now();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let to = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        let (u, machine) = s.finish().between(from, to);
        assert!(u.samples >= 1 && u.rss_peak_bytes > 0);
        assert_eq!(u.series.len() as u64, u.samples);
        assert!(u.series.iter().all(|s| s.processes >= 1 && s.pss_bytes > 0));
        assert!(u.cpu_seconds > 0.0, "the loop's CPU is the group's");
        // This process is the whole measurement here: whatever else ran is someone else's.
        assert!(machine.other_load.is_some_and(|o| (0.0..=1.0).contains(&o)));
        assert!(machine.steal.is_some_and(|s| (0.0..=1.0).contains(&s)));
    }

    /// A busy loop on one thread can use at most one core: the CPU time read for a stretch of
    /// it never exceeds the stretch, however the samples fall around its ends.
    #[test]
    fn cpu_time_in_a_stretch_never_exceeds_one_core_per_thread() {
        use std::os::unix::process::CommandExt;
        let mut busy = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = busy.id() as i32;
        // Samples far apart, as in a run, so their edges fall well outside the stretch.
        let s = Sampler::start(vec![pgid], Vec::new(), Duration::from_millis(200), None);
        std::thread::sleep(Duration::from_millis(450));
        let from = Instant::now();
        std::thread::sleep(Duration::from_millis(300));
        let to = Instant::now();
        std::thread::sleep(Duration::from_millis(450));
        let (u, _) = s.finish().between(from, to);
        let _ = busy.kill();
        let _ = busy.wait();
        let stretch = (to - from).as_secs_f64();
        // Clock ticks are 10 ms.
        assert!(
            u.cpu_seconds <= stretch + 0.02,
            "{:.3} s of CPU in a {stretch:.3} s stretch of one busy thread",
            u.cpu_seconds
        );
        assert!(u.cpu_seconds > 0.05, "{:.3} s", u.cpu_seconds);
    }
}
