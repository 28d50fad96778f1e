//! What a server's whole process tree uses: CPU time and memory, read from /proc.
//!
//! Forked workers share pages with their parent, so summing RSS counts shared pages once per
//! process; PSS (from smaps_rollup) divides each shared page among its sharers and sums to the
//! memory the tree really holds. Both are kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use stackwise_results::ServerUsage as Usage;

/// One reading of a process group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// User + system CPU time of the live processes, in seconds.
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    pub processes: u64,
}

/// Reads every live process of group `pgid`.
pub fn read_group(pgid: i32) -> Reading {
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
        if f.len() < 13 || f[2].parse::<i32>().ok() != Some(pgid) || f[0] == "Z" {
            continue;
        }
        let utime: f64 = f[11].parse().unwrap_or(0.0);
        let stime: f64 = f[12].parse().unwrap_or(0.0);
        r.cpu_seconds += (utime + stime) / ticks;
        r.processes += 1;
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

/// Waits until group `pgid` uses almost no CPU (under 5% of a core over 200 ms), for at most
/// `timeout`. After a load run is cut off, a server may still be working through requests whose
/// clients are gone (a sync worker's listen backlog); the next run must not inherit that work.
pub fn wait_idle(pgid: i32, timeout: Duration) {
    let began = std::time::Instant::now();
    let window = Duration::from_millis(200);
    let mut before = read_group(pgid).cpu_seconds;
    while began.elapsed() < timeout {
        std::thread::sleep(window);
        let now = read_group(pgid).cpu_seconds;
        if now - before < 0.05 * window.as_secs_f64() {
            return;
        }
        before = now;
    }
}

/// Samples a group every `every` on a thread of its own until stopped.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Usage>>,
}

impl Sampler {
    pub fn start(pgid: i32, every: Duration, cpus: Option<Vec<usize>>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("stackwise-sampler".into())
            .spawn(move || {
                if let Some(cpus) = &cpus {
                    let _ = stackwise_engine::cpu::pin_current_thread_to(cpus);
                }
                let first = read_group(pgid);
                let mut last = first;
                let (mut rss_sum, mut pss_sum, mut n) = (0u128, 0u128, 0u64);
                let mut usage = Usage::default();
                loop {
                    let r = read_group(pgid);
                    if r.processes > 0 {
                        last = r;
                        usage.rss_peak_bytes = usage.rss_peak_bytes.max(r.rss_bytes);
                        usage.pss_peak_bytes = usage.pss_peak_bytes.max(r.pss_bytes);
                        rss_sum += u128::from(r.rss_bytes);
                        pss_sum += u128::from(r.pss_bytes);
                        n += 1;
                    }
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(every);
                }
                usage.cpu_seconds = (last.cpu_seconds - first.cpu_seconds).max(0.0);
                usage.samples = n;
                if n > 0 {
                    usage.rss_mean_bytes = (rss_sum / u128::from(n)) as u64;
                    usage.pss_mean_bytes = (pss_sum / u128::from(n)) as u64;
                }
                usage
            })
            .ok();
        Sampler { stop, thread }
    }

    pub fn finish(mut self) -> Usage {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_group() {
        let pgid = nix::unistd::getpgrp().as_raw();
        let r = read_group(pgid);
        assert!(r.processes >= 1);
        assert!(r.rss_bytes > 0 && r.pss_bytes > 0 && r.pss_bytes <= r.rss_bytes);
        let s = Sampler::start(pgid, Duration::from_millis(10), None);
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let u = s.finish();
        assert!(u.samples >= 1 && u.rss_peak_bytes > 0);
    }
}
