//! `stackwise runs`, `show`, `compare` and `claims` resolved: which run (or runs) to read back,
//! from which results folder, and in which format. Reading the runs is the commands' work
//! ([`crate::history::load_run`]); here a run's name and the folder are checked, so a blank name
//! or a results folder that is a file is refused before anything is opened.

use std::path::{Path, PathBuf};

use crate::cli::{ClaimsArgs, ClaimsFormat, CompareArgs, RunsArgs, ShowArgs};
use crate::export::run::RunFormat;
use crate::usage;

/// A run to read back: named by its id, the start of one, `latest`, or the path of a
/// results.json (or of its folder), looked up in `results_dir`'s history when it is not a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunChoice {
    pub query: String,
    pub results_dir: PathBuf,
}

/// `stackwise runs`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunsSettings {
    /// The folder whose history.sqlite is listed; it may not exist yet (no runs).
    pub results_dir: PathBuf,
}

/// `stackwise show`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowSettings {
    pub run: RunChoice,
    pub format: RunFormat,
}

/// `stackwise compare`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareSettings {
    /// The reference run.
    pub a: RunChoice,
    /// The run compared with it.
    pub b: RunChoice,
}

/// `stackwise claims`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsSettings {
    pub run: RunChoice,
    /// The run was named: no stand-in when it cannot be read.
    pub named: bool,
    pub format: ClaimsFormat,
}

pub fn runs_settings(args: &RunsArgs) -> anyhow::Result<RunsSettings> {
    Ok(RunsSettings {
        results_dir: results_dir(&args.results_dir)?,
    })
}

pub fn show_settings(args: &ShowArgs) -> anyhow::Result<ShowSettings> {
    Ok(ShowSettings {
        run: run_choice("run", &args.run, &args.results_dir)?,
        format: args.format,
    })
}

pub fn compare_settings(args: &CompareArgs) -> anyhow::Result<CompareSettings> {
    Ok(CompareSettings {
        a: run_choice("run A", &args.run_a, &args.results_dir)?,
        b: run_choice("run B", &args.run_b, &args.results_dir)?,
    })
}

pub fn claims_settings(args: &ClaimsArgs) -> anyhow::Result<ClaimsSettings> {
    Ok(ClaimsSettings {
        run: run_choice(
            "run",
            args.run.as_deref().unwrap_or(crate::defaults::DEFAULT_RUN),
            &args.results_dir,
        )?,
        named: args.run.is_some(),
        format: args.format,
    })
}

/// A run's name and the results folder, checked; `what` names the argument in the error.
fn run_choice(what: &str, query: &str, dir: &Path) -> anyhow::Result<RunChoice> {
    if query.trim().is_empty() {
        return Err(usage(format!(
            "invalid {what} '{query}': name a run by its id, the start of one, `latest`, or the \
             path of a results.json"
        )));
    }
    Ok(RunChoice {
        query: query.to_string(),
        results_dir: results_dir(dir)?,
    })
}

/// `--results-dir`: a folder, or nothing yet; never a file, whose history could not exist.
fn results_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() && !dir.is_dir() {
        return Err(usage(format!(
            "invalid --results-dir '{}': not a folder",
            dir.display()
        )));
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::defaults::{DEFAULT_RESULTS_DIR, DEFAULT_RUN};
    use clap::Parser;

    fn command(args: &[&str]) -> Command {
        Cli::try_parse_from(["stackwise"].iter().chain(args))
            .unwrap()
            .command
    }

    #[test]
    fn the_history_commands_resolve_the_run_folder_and_format() {
        let Command::Show(a) = command(&["show", "r1", "--format", "md"]) else {
            unreachable!()
        };
        let s = show_settings(&a).unwrap();
        assert_eq!(s.run.query, "r1");
        assert_eq!(s.run.results_dir, Path::new(DEFAULT_RESULTS_DIR));
        assert_eq!(s.format, RunFormat::Markdown);

        let Command::Compare(a) = command(&["compare", "r1", "r2", "--results-dir", "x"]) else {
            unreachable!()
        };
        let s = compare_settings(&a).unwrap();
        assert_eq!((s.a.query.as_str(), s.b.query.as_str()), ("r1", "r2"));
        assert_eq!(s.b.results_dir, Path::new("x"));

        let Command::Claims(a) = command(&["claims"]) else {
            unreachable!()
        };
        let s = claims_settings(&a).unwrap();
        assert_eq!(s.run.query, DEFAULT_RUN);
        assert_eq!(s.format, ClaimsFormat::Table);

        let Command::Runs(a) = command(&["runs"]) else {
            unreachable!()
        };
        assert_eq!(
            runs_settings(&a).unwrap().results_dir,
            Path::new(DEFAULT_RESULTS_DIR)
        );
    }

    #[test]
    fn a_blank_run_or_a_results_file_is_refused_in_one_line() {
        let Command::Compare(a) = command(&["compare", "r1", " "]) else {
            unreachable!()
        };
        let err = compare_settings(&a).unwrap_err();
        assert!(err.is::<crate::UsageError>());
        let msg = err.to_string();
        assert!(msg.starts_with("invalid run B ' ': "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");

        let file = tempfile::NamedTempFile::new().unwrap();
        let dir = file.path().to_str().unwrap();
        let Command::Runs(a) = command(&["runs", "--results-dir", dir]) else {
            unreachable!()
        };
        let err = runs_settings(&a).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid --results-dir '{dir}': not a folder")
        );
    }
}
