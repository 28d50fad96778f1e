//! `stackwise verify` and `stackwise run` resolved: the lab flags they share checked once, and
//! a run's stacks, scenarios and protocol taken from the flags over the protocol's defaults, or
//! read back from the run it resumes. The lab's options are built here and nowhere else.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use stackwise_lab::manifest::{ask_runtimes, discover, select, select_for_run, Stack};
use stackwise_lab::postgres::DbInfo;
use stackwise_lab::run::{Protocol, RunOptions};
use stackwise_lab::verify::VerifyOptions;
use stackwise_results::{catalogue, RunResult};

use super::{cpus_arg, default_cache_dir, default_cpus, duration_or};
use crate::cli::{LabArgs, RunArgs, VerifyArgs};
use crate::defaults::DEFAULT_START_TIMEOUT;
use crate::usage;

/// What the lab commands share: which contestants, where they live, and where they run.
#[derive(Debug, Clone)]
pub struct LabSettings {
    pub stacks_dir: PathBuf,
    /// Stacks asked for by id; all when empty.
    pub stacks: Vec<String>,
    pub cache_dir: PathBuf,
    /// An existing PostgreSQL (checked to be a postgres:// URL) instead of a throwaway cluster.
    pub database_url: Option<String>,
    pub server_cpus: Vec<usize>,
    pub load_cpus: Vec<usize>,
    pub start_timeout: Duration,
    /// Runtime releases asked for with `--runtime`, by runtime.
    pub runtimes: BTreeMap<String, String>,
}

/// Resolves the shared lab flags, or a usage error naming the flag at fault.
pub fn lab_settings(args: &LabArgs) -> anyhow::Result<LabSettings> {
    if let Some(url) = &args.database_url {
        if DbInfo::parse(url).is_none() {
            return Err(usage(format!(
                "invalid --database-url '{url}': expected postgres://USER:PASSWORD@HOST:PORT/NAME"
            )));
        }
    }
    let (load_default, server_default) = default_cpus();
    let start_timeout = duration_or(
        "--start-timeout",
        args.start_timeout.as_deref(),
        DEFAULT_START_TIMEOUT,
    )?;
    if start_timeout.is_zero() {
        return Err(usage("--start-timeout must be longer than 0"));
    }
    let settings = LabSettings {
        stacks_dir: args.stacks_dir.clone(),
        stacks: args.stacks.clone(),
        cache_dir: args.cache_dir.clone().unwrap_or_else(default_cache_dir),
        database_url: args.database_url.clone(),
        server_cpus: cpus_arg("--server-cpus", args.server_cpus.as_deref(), server_default)?,
        load_cpus: cpus_arg("--load-cpus", args.load_cpus.as_deref(), load_default)?,
        start_timeout,
        runtimes: runtimes(&args.runtimes)?,
    };
    if !settings.stacks_dir.is_dir() {
        return Err(usage(format!(
            "no stacks folder at '{}' (run from the repository, or pass --stacks-dir)",
            settings.stacks_dir.display()
        )));
    }
    Ok(settings)
}

/// `--runtime NAME=RELEASE` values, by name; a release is numbers and dots (`22`, `3.12`).
fn runtimes(values: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for v in values {
        let (name, release) = v
            .split_once('=')
            .filter(|(n, r)| {
                !n.is_empty()
                    && !r.is_empty()
                    && r.chars().all(|c| c.is_ascii_digit() || c == '.')
                    && !r.starts_with('.')
                    && !r.ends_with('.')
            })
            .ok_or_else(|| {
                usage(format!(
                    "invalid --runtime '{v}': expected NAME=RELEASE, such as node=22 or python=3.12"
                ))
            })?;
        out.insert(name.to_string(), release.to_string());
    }
    Ok(out)
}

/// `stackwise verify`, validated.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    pub lab: LabSettings,
}

/// Resolves `stackwise verify`'s flags, or a usage error naming the flag at fault.
pub fn verify_settings(args: &VerifyArgs) -> anyhow::Result<VerifySettings> {
    Ok(VerifySettings {
        lab: lab_settings(&args.lab)?,
    })
}

impl VerifySettings {
    /// The lab's options for checking the contestants.
    pub fn options(&self) -> VerifyOptions {
        let lab = &self.lab;
        VerifyOptions {
            stacks_dir: lab.stacks_dir.clone(),
            stacks: lab.stacks.clone(),
            cache_dir: lab.cache_dir.clone(),
            database_url: lab.database_url.clone(),
            server_cpus: lab.server_cpus.clone(),
            infra_cpus: lab.load_cpus.clone(),
            start_timeout: lab.start_timeout,
            runtimes: lab.runtimes.clone(),
        }
    }
}

/// `stackwise run`, validated: everything the lab needs to measure, except where the logs go,
/// which is known once the run's folder is claimed.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The lab flags as given; where a resumed run saved its own choice (stacks, CPUs), the
    /// fields below hold that instead, and they are what the run uses.
    pub lab: LabSettings,
    /// The stacks measured, their manifests read.
    pub stacks: Vec<Stack>,
    pub scenarios: Vec<String>,
    pub protocol: Protocol,
    pub server_cpus: Vec<usize>,
    pub load_cpus: Vec<usize>,
    /// CPUs of PostgreSQL and the delay service.
    pub infra_cpus: Vec<usize>,
    /// The unfinished run being finished, when `--resume` names one.
    pub resume: Option<RunResult>,
    pub results_dir: PathBuf,
    pub progress: bool,
}

/// Resolves `stackwise run`'s flags (or the run `--resume` names), or a usage error naming
/// the flag at fault. Reads the stacks' manifests and the resumed results.json; starts nothing.
pub fn run_settings(args: &RunArgs) -> anyhow::Result<RunSettings> {
    let lab = lab_settings(&args.lab)?;
    let all = discover(&lab.stacks_dir).map_err(|e| usage(e.to_string()))?;
    let settings = match &args.resume {
        Some(id) => resumed(args, lab, id, &all)?,
        None => fresh(args, lab, &all)?,
    };
    settings.protocol.check().map_err(usage)?;
    Ok(settings)
}

impl RunSettings {
    /// The lab's options for this run, its logs written to `logs_dir`.
    pub fn options(&self, logs_dir: PathBuf) -> RunOptions {
        RunOptions {
            stacks: self.stacks.clone(),
            scenarios: self.scenarios.clone(),
            cache_dir: self.lab.cache_dir.clone(),
            logs_dir,
            database_url: self.lab.database_url.clone(),
            server_cpus: self.server_cpus.clone(),
            load_cpus: self.load_cpus.clone(),
            infra_cpus: self.infra_cpus.clone(),
            protocol: self.protocol.clone(),
            start_timeout: self.lab.start_timeout,
            resume: self.resume.clone(),
        }
    }
}

/// A new run, from the command line over the protocol's defaults (quick or not).
fn fresh(args: &RunArgs, lab: LabSettings, all: &[Stack]) -> anyhow::Result<RunSettings> {
    let mut stacks = select_for_run(all, &lab.stacks).map_err(|e| usage(e.to_string()))?;
    ask_runtimes(&mut stacks, &lab.runtimes);
    let scenarios: Vec<String> = if args.scenarios.is_empty() {
        let ids: Vec<&str> = if args.quick {
            catalogue::quick_ids().collect()
        } else {
            catalogue::default_ids().collect()
        };
        ids.into_iter().map(str::to_string).collect()
    } else {
        for s in &args.scenarios {
            if catalogue::scenario(s).is_none() {
                return Err(usage(format!(
                    "unknown scenario '{s}'; known scenarios: {}",
                    catalogue::ids().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        args.scenarios.clone()
    };
    let base = if args.quick {
        Protocol::quick()
    } else {
        Protocol::default_run()
    };
    let min_rounds = args.trials.unwrap_or(base.min_rounds);
    if min_rounds == 0 {
        return Err(usage("--trials must be at least 1"));
    }
    let max_rounds = args.max_rounds.unwrap_or(base.max_rounds.max(min_rounds));
    if max_rounds < min_rounds {
        return Err(usage(format!(
            "--max-rounds ({max_rounds}) must be at least --trials ({min_rounds})"
        )));
    }
    if !(args.p99.is_finite() && args.p99 > 0.0) {
        return Err(usage(format!(
            "--p99 must be a positive number of milliseconds, got {}",
            args.p99
        )));
    }
    if !(0.0..=100.0).contains(&args.noise_limit) {
        return Err(usage(format!(
            "--noise-limit must be a percentage from 0 to 100, got {}",
            args.noise_limit
        )));
    }
    let protocol = Protocol {
        noise_limit: args.noise_limit / 100.0,
        window: duration_or("--duration", args.duration.as_deref(), base.window)?,
        warmup_cap: duration_or("--warmup", args.warmup.as_deref(), base.warmup_cap)?,
        settle: duration_or("--settle", args.settle.as_deref(), base.settle)?,
        budget: duration_or("--budget", args.budget.as_deref(), base.budget)?,
        min_rounds,
        max_rounds,
        probe_max: duration_or("--probe", args.probe.as_deref(), base.probe_max)?,
        probes: args.capacity_probes.unwrap_or(base.probes),
        p99_target: Duration::from_secs_f64(args.p99 / 1000.0),
        seed: args.seed,
        ..base
    };
    Ok(RunSettings {
        stacks,
        scenarios,
        protocol,
        server_cpus: lab.server_cpus.clone(),
        load_cpus: lab.load_cpus.clone(),
        // PostgreSQL and the delay service share the load side, as docs/protocol.md says.
        infra_cpus: lab.load_cpus.clone(),
        resume: None,
        results_dir: args.results_dir.clone(),
        progress: !args.no_progress,
        lab,
    })
}

/// The settings of an interrupted run, from what it saved: the same stacks, scenarios and
/// protocol, on the same CPUs, so that the finished run is one measurement.
fn resumed(
    args: &RunArgs,
    lab: LabSettings,
    id: &str,
    all: &[Stack],
) -> anyhow::Result<RunSettings> {
    let path = args.results_dir.join(id).join("results.json");
    if !path.is_file() {
        return Err(usage(format!(
            "no run '{id}' to resume: '{}' does not exist",
            path.display()
        )));
    }
    let saved = RunResult::load(&path).map_err(usage)?;
    if saved.schema_version != stackwise_results::SCHEMA_VERSION {
        return Err(usage(format!(
            "cannot resume '{id}': it was measured with version {} of the protocol, and this \
             stackwise measures with version {}; start a new run",
            saved.schema_version,
            stackwise_results::SCHEMA_VERSION
        )));
    }
    if saved.finished_at.is_some() {
        return Err(usage(format!(
            "run '{id}' is already finished; nothing to resume"
        )));
    }
    let s = &saved.settings;
    let stacks = select(all, &s.stacks).map_err(|e| usage(format!("cannot resume '{id}': {e}")))?;
    let online = stackwise_engine::cpu::online_cpus();
    if let Some(c) = s
        .server_cpus
        .iter()
        .chain(&s.load_cpus)
        .find(|&&c| c as usize >= online)
    {
        return Err(usage(format!(
            "cannot resume '{id}' here: it ran on CPU {c}, and this machine has {online}"
        )));
    }
    let cpus = |v: &[u64]| v.iter().map(|&c| c as usize).collect::<Vec<_>>();
    Ok(RunSettings {
        stacks,
        scenarios: s.scenarios.clone(),
        protocol: Protocol::of(&saved),
        server_cpus: cpus(&s.server_cpus),
        load_cpus: cpus(&s.load_cpus),
        infra_cpus: cpus(&s.infra_cpus),
        results_dir: args.results_dir.clone(),
        progress: !args.no_progress,
        resume: Some(saved),
        lab,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn stacks_dir() -> String {
        format!("{}/../../stacks", env!("CARGO_MANIFEST_DIR"))
    }

    fn run(args: &[&str]) -> anyhow::Result<RunSettings> {
        let dir = stacks_dir();
        let mut argv = vec!["stackwise", "run"];
        if !args.contains(&"--stacks-dir") {
            argv.extend(["--stacks-dir", &dir]);
        }
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Run(a) => run_settings(&a),
            _ => unreachable!(),
        }
    }

    fn verify(args: &[&str]) -> anyhow::Result<VerifySettings> {
        let dir = stacks_dir();
        let mut argv = vec!["stackwise", "verify"];
        if !args.contains(&"--stacks-dir") {
            argv.extend(["--stacks-dir", &dir]);
        }
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Verify(a) => verify_settings(&a),
            _ => unreachable!(),
        }
    }

    /// A usage error (exit code 2) on one line that names `mentions`.
    fn assert_refused<T: std::fmt::Debug>(
        result: anyhow::Result<T>,
        args: &[&str],
        mentions: &str,
    ) {
        let err = result.unwrap_err();
        assert!(err.is::<crate::UsageError>(), "{args:?}: {err:#}");
        let msg = format!("{err:#}");
        assert!(!msg.contains('\n'), "{args:?}: {msg}");
        assert!(
            msg.contains(mentions),
            "{args:?}: {msg} should name {mentions}"
        );
    }

    #[test]
    fn run_settings_refuse_bad_values_naming_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["-d", "soon"], "--duration"),
            (&["-d", "0s"], "--duration must be longer than 0"),
            (&["--warmup", "2 parsecs"], "--warmup"),
            (&["--settle", "5 jiffies"], "--settle"),
            (&["--budget", "0s"], "--budget must be longer than 0"),
            (&["--probe", "x"], "--probe"),
            (&["--start-timeout", "later"], "--start-timeout"),
            (&["--start-timeout", "0s"], "--start-timeout"),
            (&["--trials", "0"], "--trials"),
            (&["--trials", "5", "--max-rounds", "4"], "--max-rounds (4)"),
            (&["--p99", "0"], "--p99"),
            (&["--p99", "NaN"], "--p99"),
            (&["--noise-limit", "101"], "--noise-limit"),
            (&["--server-cpus", "4096"], "--server-cpus"),
            (&["--load-cpus", "0-"], "--load-cpus"),
            (&["--database-url", "garbage"], "--database-url"),
            (&["--stacks", "no-such-stack"], "no-such-stack"),
            (&["--stacks-dir", "/no/such/folder"], "--stacks-dir"),
            (&["--resume", "20200101-000000"], "20200101-000000"),
            (&["--runtime", "node"], "--runtime 'node'"),
            (&["--runtime", "node=latest"], "--runtime 'node=latest'"),
            (&["--runtime", "=22"], "--runtime '=22'"),
            (&["--runtime", "python=3."], "--runtime 'python=3.'"),
        ];
        for (args, mentions) in cases {
            assert_refused(run(args), args, mentions);
        }
    }

    #[test]
    fn verify_settings_refuse_bad_values_naming_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--start-timeout", "soon"], "--start-timeout"),
            (&["--server-cpus", "4096"], "--server-cpus"),
            (&["--load-cpus", "x"], "--load-cpus"),
            (&["--database-url", "garbage"], "--database-url"),
            (&["--stacks-dir", "/no/such/folder"], "--stacks-dir"),
            (&["--runtime", "node=v22"], "--runtime"),
        ];
        for (args, mentions) in cases {
            assert_refused(verify(args), args, mentions);
        }
    }

    #[test]
    fn runtime_releases_asked_for_reach_the_stacks_of_that_runtime() {
        let s = run(&["--runtime", "node=22", "--runtime", "python=3.12"]).unwrap();
        assert!(!s.stacks.is_empty());
        for stack in &s.stacks {
            let want = match stack.manifest.runtime.as_str() {
                "node" => "22",
                "python" => "3.12",
                other => panic!("a stack on {other}"),
            };
            assert_eq!(stack.manifest.runtime_release.as_deref(), Some(want));
        }
        let v = verify(&["--runtime", "node=22,python=3.12"]).unwrap();
        assert_eq!(v.options().runtimes.len(), 2);
        assert!(run(&[])
            .unwrap()
            .stacks
            .iter()
            .all(|s| s.manifest.runtime_release.is_none()));
    }

    #[test]
    fn defaults_come_from_the_named_constants_and_the_protocol() {
        let s = run(&[]).unwrap();
        assert_eq!(s.protocol, Protocol::default_run());
        assert_eq!(s.lab.start_timeout, DEFAULT_START_TIMEOUT);
        assert_eq!(
            s.results_dir,
            PathBuf::from(crate::defaults::DEFAULT_RESULTS_DIR)
        );
        assert_eq!(s.scenarios.len(), catalogue::default_ids().count());
        assert_eq!(s.infra_cpus, s.load_cpus);
        let quick = run(&["--quick", "--settle", "1s", "--p99", "50"]).unwrap();
        assert_eq!(
            quick.protocol,
            Protocol {
                settle: Duration::from_secs(1),
                p99_target: Duration::from_millis(50),
                ..Protocol::quick()
            }
        );
        assert_eq!(quick.scenarios.len(), catalogue::quick_ids().count());
        let options = quick.options(PathBuf::from("logs"));
        assert_eq!(options.protocol, quick.protocol);
        assert_eq!(options.start_timeout, DEFAULT_START_TIMEOUT);
        assert_eq!(options.logs_dir, PathBuf::from("logs"));
    }

    #[test]
    fn run_and_verify_take_the_same_lab_flags_and_verify_keeps_stack() {
        let lab = [
            "--stacks",
            "express,flask",
            "--start-timeout",
            "30s",
            "--cache-dir",
            "/tmp/c",
        ];
        let r = run(&lab).unwrap();
        let v = verify(&lab).unwrap();
        assert_eq!(r.lab.stacks, ["express", "flask"]);
        assert_eq!(v.lab.stacks, r.lab.stacks);
        assert_eq!(v.lab.start_timeout, Duration::from_secs(30));
        assert_eq!(r.lab.start_timeout, Duration::from_secs(30));
        assert_eq!(v.options().cache_dir, PathBuf::from("/tmp/c"));
        let ids: Vec<_> = r.stacks.iter().map(|s| s.manifest.id.as_str()).collect();
        assert_eq!(ids, ["express", "flask"]);
        let v = verify(&["--stack", "express", "--stack", "django"]).unwrap();
        assert_eq!(v.lab.stacks, ["express", "django"]);
    }
}
