//! `stackwise verify`: every contestant installed, started and checked against docs/spec.md,
//! shown as a table of stacks by scenario with the reason for each failure.

use std::process::ExitCode;

use stackwise_lab::verify::{verify_stacks, StackVerdict};

use crate::cli::VerifyArgs;
use crate::settings::verify_settings;
use crate::usage;

pub fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let options = verify_settings(args)?.options();
    crate::guard_processes();
    let verdicts =
        verify_stacks(&options, &mut |msg| eprintln!("verify: {msg}")).map_err(|e| match e {
            stackwise_lab::verify::VerifyError::Manifest(_) => usage(e.to_string()),
            other => anyhow::Error::new(other),
        })?;
    stackwise_lab::process::wait_if_interrupted();
    print!("{}", render(&verdicts));
    let failed = verdicts.iter().filter(|v| !v.passed()).count();
    if failed > 0 {
        eprintln!(
            "verify: {failed} of {} stacks failed; logs in '{}'",
            verdicts.len(),
            options.cache_dir.join("logs").display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The verdict table, then one line per failure with its reason.
pub fn render(verdicts: &[StackVerdict]) -> String {
    use std::fmt::Write;
    let width = verdicts
        .iter()
        .map(|v| v.id.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut checks = stackwise_results::catalogue::checks();
    for c in stackwise_lab::verify::WEBSOCKET_CHECKS {
        if !checks.contains(&c) {
            checks.push(c);
        }
    }
    let mut out = String::new();
    let _ = write!(out, "{:<width$}", "stack");
    for s in &checks {
        let _ = write!(out, "  {s}");
    }
    out.push('\n');
    for v in verdicts {
        let _ = write!(out, "{:<width$}", v.id);
        for &s in &checks {
            let cell = match (&v.failure, v.outcomes.iter().find(|o| o.scenario == s)) {
                (Some(_), _) => "-",
                (None, Some(o)) if o.result.is_ok() => "ok",
                (None, Some(_)) => "FAIL",
                (None, None) => "-",
            };
            let _ = write!(out, "  {cell:<w$}", w = s.len());
        }
        out.push('\n');
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>5}  {:>7}  {:>8}",
        "stack", "install", "size", "deps", "workers", "start-up"
    );
    for v in verdicts {
        let Some(i) = &v.install else { continue };
        let install = if i.cached {
            "cached".to_string()
        } else {
            format!("{:.1} s", i.seconds)
        };
        let _ = writeln!(
            out,
            "{:<width$}  {install:>9}  {:>9}  {:>5}  {:>7}  {:>8}",
            v.id,
            stackwise_results::fmt::bytes(i.size_bytes),
            i.dependencies,
            v.workers.map_or("-".to_string(), |w| w.to_string()),
            v.startup
                .map_or("-".to_string(), |d| format!("{:.2} s", d.as_secs_f64())),
        );
    }
    let mut reasons = String::new();
    for v in verdicts {
        if let Some(f) = &v.failure {
            let first = f.lines().next().unwrap_or_default();
            let _ = writeln!(reasons, "{}: {first}", v.id);
            for line in f.lines().skip(1) {
                let _ = writeln!(reasons, "    {line}");
            }
        }
        for o in &v.outcomes {
            if let Err(reason) = &o.result {
                let _ = writeln!(reasons, "{} {}: {reason}", v.id, o.scenario);
            }
        }
    }
    if !reasons.is_empty() {
        out.push('\n');
        out.push_str(&reasons);
    }
    out
}
