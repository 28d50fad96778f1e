//! `stackwise advise` and `stackwise report` resolved: which profile (read and checked now, or
//! asked on a terminal), which run, where the decision record and the report go. Reading the
//! run itself and asking the questions are the commands' work.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;

use stackwise_advisor::profile::Profile;

use crate::cli::{AdviseArgs, AdviseFormat, ReportArgs};
use crate::defaults::{DEFAULT_PROFILE, DEFAULT_RUN};
use crate::usage;

/// The folder of decision records, relative to the current directory.
pub const ADR_DIR: &str = "docs/adr";

/// `stackwise advise`, validated.
#[derive(Debug, Clone)]
pub enum AdviseSettings {
    /// Write the commented profile template to this file, and nothing else.
    Init(PathBuf),
    Advise(Box<Advise>),
}

/// A recommendation to make.
#[derive(Debug, Clone)]
pub struct Advise {
    pub profile: ProfileSource,
    /// The run asked for, or `None` for the latest, with the bundled reference results
    /// standing in before the first run.
    pub run: Option<String>,
    pub results_dir: PathBuf,
    /// Where the decision record goes; `None` with `--no-adr`.
    pub adr: Option<PathBuf>,
    pub format: AdviseFormat,
}

/// Where the profile comes from.
#[derive(Debug, Clone)]
pub enum ProfileSource {
    /// A profile file, read and checked.
    File { path: PathBuf, profile: Profile },
    /// The questionnaire, on a terminal.
    Ask,
}

impl Advise {
    /// The run to read: the one named, or the latest.
    pub fn run_query(&self) -> &str {
        self.run.as_deref().unwrap_or(DEFAULT_RUN)
    }
}

/// Resolves `stackwise advise`'s flags, or a usage error naming what is wrong.
pub fn advise_settings(args: &AdviseArgs) -> anyhow::Result<AdviseSettings> {
    if let Some(path) = &args.init {
        return Ok(AdviseSettings::Init(path.clone()));
    }
    let profile = match &args.profile {
        Some(path) => ProfileSource::File {
            path: path.clone(),
            profile: read_profile(path)?,
        },
        None if std::io::stdin().is_terminal() => ProfileSource::Ask,
        None => return Err(usage(
            "no profile: pass --profile FILE, or write a template with `stackwise advise --init`",
        )),
    };
    let adr = match (&args.adr, args.no_adr) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => Some(next_adr_path(Path::new(ADR_DIR))?),
    };
    Ok(AdviseSettings::Advise(Box::new(Advise {
        profile,
        run: args.results.clone(),
        results_dir: args.results_dir.clone(),
        adr,
        format: args.format,
    })))
}

/// A profile file, read and checked; a usage error naming the file (and the field) if not.
pub fn read_profile(path: &Path) -> anyhow::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read profile '{}': {e}", path.display())))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Profile::parse(&text, &name).map_err(|e| usage(e.to_string()))
}

/// The profile to advise with when none is named: `stackwise-profile.toml` in the current
/// folder, when `stackwise advise --init` left one there.
pub fn profile_or_default(given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let default = Path::new(DEFAULT_PROFILE);
            default.is_file().then(|| default.to_path_buf())
        }
    }
}

/// `dir/NNNN-backend-stack.md` with NNNN one above the highest numbered record in `dir`
/// (`0001` when there is none).
pub fn next_adr_path(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut highest = 0u32;
    if dir.is_dir() {
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot read '{}'", dir.display()))?
        {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() == 4 && name[4..].starts_with('-') {
                highest = highest.max(digits.parse().unwrap_or(0));
            }
        }
    }
    Ok(dir.join(format!("{:04}-backend-stack.md", highest + 1)))
}

/// `stackwise report`, validated.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub run: String,
    pub results_dir: PathBuf,
    /// Where the page goes; `None` for report.html in the run's folder, known once it is read.
    pub output: Option<PathBuf>,
    /// The profile whose recommendation the page carries, if any.
    pub profile: Option<PathBuf>,
}

pub fn report_settings(args: &ReportArgs) -> ReportSettings {
    ReportSettings {
        run: args.run.clone(),
        results_dir: args.results_dir.clone(),
        output: args.output.clone(),
        profile: profile_or_default(args.profile.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use stackwise_advisor::profile::TEMPLATE;

    fn advise(args: &[&str]) -> anyhow::Result<AdviseSettings> {
        let argv = ["stackwise", "advise"]
            .into_iter()
            .chain(args.iter().copied());
        match Cli::try_parse_from(argv)?.command {
            Command::Advise(a) => advise_settings(&a),
            _ => unreachable!(),
        }
    }

    fn resolved(args: &[&str]) -> Advise {
        match advise(args).unwrap() {
            AdviseSettings::Advise(a) => *a,
            AdviseSettings::Init(_) => panic!("{args:?} is not --init"),
        }
    }

    #[test]
    fn advise_settings_resolve_the_profile_run_and_record() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile.toml");
        std::fs::write(&profile, TEMPLATE).unwrap();
        let profile = profile.to_str().unwrap();
        let a = resolved(&["--profile", profile, "--no-adr", "--format", "md"]);
        assert!(matches!(a.profile, ProfileSource::File { .. }));
        assert_eq!(a.run_query(), DEFAULT_RUN);
        assert_eq!(a.adr, None);
        assert_eq!(a.format, AdviseFormat::Markdown);
        let a = resolved(&["--profile", profile, "--adr", "x.md", "--results", "r1"]);
        assert_eq!(a.adr, Some(PathBuf::from("x.md")));
        assert_eq!(a.run_query(), "r1");
        let a = resolved(&["--profile", profile]);
        let next = a.adr.unwrap();
        assert!(next.starts_with(ADR_DIR), "{}", next.display());
        assert!(matches!(
            advise(&["--init"]).unwrap(),
            AdviseSettings::Init(p) if p == Path::new(DEFAULT_PROFILE)
        ));
    }

    #[test]
    fn a_bad_profile_is_refused_before_anything_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.toml");
        std::fs::write(&path, TEMPLATE.replace("python = 3", "python = 7")).unwrap();
        let path = path.to_str().unwrap();
        let err = advise(&["--profile", path]).unwrap_err();
        assert!(err.is::<crate::UsageError>());
        assert_eq!(
            err.to_string(),
            "profile.toml: team.python must be between 0 and 5, got 7"
        );
        let err = advise(&["--profile", "/no/such/profile.toml"]).unwrap_err();
        assert!(err.to_string().contains("/no/such/profile.toml"), "{err}");
    }

    #[test]
    fn a_report_takes_the_profile_named_or_none() {
        let cli = Cli::try_parse_from(["stackwise", "report", "--profile", "p.toml"]).unwrap();
        let Command::Report(args) = cli.command else {
            unreachable!()
        };
        let s = report_settings(&args);
        assert_eq!(s.profile, Some(PathBuf::from("p.toml")));
        assert_eq!(s.run, DEFAULT_RUN);
        assert_eq!(s.output, None);
    }
}
