//! The engine's own CPU: pinning worker threads, and measuring how much CPU the engine used.
//!
//! A load generator that runs out of CPU measures itself, not the server. Each worker thread reads
//! its own CPU time (getrusage) around the measured window, so every result says how busy the
//! engine was relative to the cores it had.

use std::time::Duration;

use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::resource::{getrusage, UsageWho};
use nix::unistd::Pid;

/// Above this share of its cores, the engine is taken to be the bottleneck.
pub const SATURATED: f64 = 0.90;

/// CPUs the kernel has online.
pub fn online_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(
            // available_parallelism honours the affinity mask; count all CPUs for validation.
            std::fs::read_to_string("/sys/devices/system/cpu/online")
                .ok()
                .and_then(|s| parse_cpu_list(s.trim()).ok())
                .and_then(|v| v.iter().max().map(|m| m + 1))
                .unwrap_or(1),
        )
}

/// CPUs this process may run on.
pub fn allowed_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Pins the calling thread to `cpu`.
pub fn pin_current_thread(cpu: usize) -> std::io::Result<()> {
    pin_current_thread_to(&[cpu])
}

/// Pins the calling thread to the set `cpus`. Processes it starts afterwards inherit the set.
pub fn pin_current_thread_to(cpus: &[usize]) -> std::io::Result<()> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).map_err(std::io::Error::from)?;
    }
    sched_setaffinity(Pid::from_raw(0), &set).map_err(std::io::Error::from)
}

/// User plus system CPU time used so far by the calling thread. The engine sums its worker
/// threads' own figures, so a server running in the same process (as in tests, or a delay
/// service) is never counted as load-generator work.
pub fn thread_cpu_time() -> Duration {
    match getrusage(UsageWho::RUSAGE_THREAD) {
        Ok(u) => {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec().max(0) as u64)
                    + Duration::from_micros(t.tv_usec().max(0) as u64)
            };
            tv(u.user_time()) + tv(u.system_time())
        }
        Err(_) => Duration::ZERO,
    }
}

/// The machine's clock ticks over all CPUs, from /proc/stat's first line: user, nice, system,
/// idle, iowait, irq, softirq, steal.
fn machine_fields() -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    (fields.len() >= 4).then_some(fields)
}

/// CPU time used by the whole machine's processes, from /proc/stat: (busy, total), in clock
/// ticks. Interrupt and softirq time is not counted as busy: the kernel's network work for
/// loopback traffic lands there (charged to no process), and during a measurement that traffic
/// is the measurement's own. Steal stays busy: the hypervisor took that time from the machine.
pub fn machine_cpu_ticks() -> Option<(u64, u64)> {
    let fields = machine_fields()?;
    Some(busy_of(&fields))
}

/// (busy, total) of /proc/stat's first line: user, nice, system, idle, iowait, irq, softirq,
/// steal.
fn busy_of(fields: &[u64]) -> (u64, u64) {
    let total: u64 = fields.iter().take(8).sum();
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    let not_busy = at(3) + at(4) + at(5) + at(6);
    (total - not_busy, total)
}

/// Time the hypervisor took from the machine, from /proc/stat: (steal, total), in clock ticks.
pub fn machine_steal_ticks() -> Option<(u64, u64)> {
    let fields = machine_fields()?;
    let total: u64 = fields.iter().take(8).sum();
    Some((*fields.get(7)?, total))
}

/// Parses a CPU list such as `0`, `0,2` or `0-3,6`.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("'{part}' is not a CPU number or range such as 0-3");
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.trim().parse().map_err(|_| bad())?;
                let b: usize = b.trim().parse().map_err(|_| bad())?;
                if a > b {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    if cpus.is_empty() {
        return Err("the CPU list is empty".into());
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    #[test]
    fn interrupt_and_softirq_time_is_not_busy_steal_is() {
        // user nice system idle iowait irq softirq steal
        let fields = [100, 0, 50, 800, 10, 5, 25, 10];
        assert_eq!(busy_of(&fields), (160, 1000));
        // A kernel that reports only the first four.
        assert_eq!(busy_of(&[100, 0, 50, 850]), (150, 1000));
    }

    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0").unwrap(), vec![0]);
        assert_eq!(parse_cpu_list("3,0-2").unwrap(), vec![0, 1, 2, 3]);
        assert!(parse_cpu_list("2-1").is_err());
        assert!(parse_cpu_list("x").is_err());
        assert!(parse_cpu_list("").is_err());
    }

    #[test]
    fn cpu_time_moves_forward() {
        let before = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_time() >= before);
        assert!(online_cpus() >= 1);
    }
}
