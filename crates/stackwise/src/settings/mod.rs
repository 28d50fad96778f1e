//! The second layer of configuration: each command's raw arguments ([`crate::cli`]) resolved
//! into one validated settings value, built in one place, so a command's body never sees a
//! value it cannot use and every bad one is refused the same way: a one-line [`UsageError`]
//! naming the flag, exit code 2.
//!
//! # Layout
//!
//! - [`load`]: `stackwise load` into a load plan (files read, limits checked) and where its
//!   result goes; `stackwise merge`'s shards and outputs.
//! - [`history`]: `stackwise runs`, `show`, `compare` and `claims`: which runs, from which
//!   folder, in which format.
//! - [`advise`]: `stackwise advise` and `stackwise report`: the profile, the run, where the
//!   decision record and the page go.
//! - [`lab`]: `stackwise verify` and `stackwise run` into [`lab::VerifySettings`] and
//!   [`lab::RunSettings`], from the lab flags they share.
//! - Here: the one duration parser, and the machine-wide defaults (CPU split, cache folder) the
//!   lab commands share.
//!
//! The defaults of the flags themselves are named in [`crate::defaults`], which the raw
//! command line shows in its help.
//!
//! [`UsageError`]: crate::UsageError

pub mod advise;
pub mod history;
pub mod lab;
pub mod load;

use std::path::PathBuf;
use std::time::Duration;

use stackwise_engine::cpu::{online_cpus, parse_cpu_list};

use crate::usage;

pub use lab::{run_settings, verify_settings, LabSettings, RunSettings, VerifySettings};
pub use load::{fit_descriptors, load_plan, load_settings, merge_settings};

/// The one way a duration is read from the command line: humantime's syntax (`10s`, `500ms`,
/// `1m`), surrounding space ignored, and a one-line usage error naming `flag` otherwise.
pub fn duration(flag: &str, value: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(value.trim()).map_err(|e| {
        usage(format!(
            "invalid {flag} '{value}': {e} (try 10s, 500ms or 1m)"
        ))
    })
}

/// [`duration`] for a flag that may be left out, `default` then.
pub fn duration_or(flag: &str, value: Option<&str>, default: Duration) -> anyhow::Result<Duration> {
    value.map_or(Ok(default), |v| duration(flag, v))
}

/// Where installs are cached unless told otherwise.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STACKWISE_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("stackwise");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("stackwise"),
        None => std::env::temp_dir().join("stackwise-cache"),
    }
}

/// The default split of the machine: the load side (engine, PostgreSQL, delay service) on the
/// lower half of the CPUs, the server on the upper half; on one CPU, both share it.
pub fn default_cpus() -> (Vec<usize>, Vec<usize>) {
    let n = online_cpus();
    if n < 2 {
        return (vec![0], vec![0]);
    }
    ((0..n / 2).collect(), (n / 2..n).collect())
}

/// A CPU list flag: `default` when it is left out; otherwise every CPU it names must exist.
pub fn cpus_arg(
    flag: &str,
    value: Option<&str>,
    default: Vec<usize>,
) -> anyhow::Result<Vec<usize>> {
    let Some(value) = value else {
        return Ok(default);
    };
    let cpus =
        parse_cpu_list(value).map_err(|e| usage(format!("invalid {flag} '{value}': {e}")))?;
    let available = online_cpus();
    if let Some(cpu) = cpus.iter().find(|&&c| c >= available) {
        return Err(usage(format!(
            "invalid {flag} '{value}': CPU {cpu} does not exist ({available} CPUs)"
        )));
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_humantime_and_name_the_flag() {
        assert_eq!(
            duration("--probe", " 800ms ").unwrap(),
            Duration::from_millis(800)
        );
        assert_eq!(duration("--budget", "1m").unwrap(), Duration::from_secs(60));
        assert_eq!(
            duration_or("--settle", None, Duration::from_secs(3)).unwrap(),
            Duration::from_secs(3)
        );
        let err = duration_or("--settle", Some("soon"), Duration::ZERO).unwrap_err();
        assert!(err.is::<crate::UsageError>());
        let msg = err.to_string();
        assert!(msg.starts_with("invalid --settle 'soon': "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}
