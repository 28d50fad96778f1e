//! `stackwise advise`: a project profile and a run in, a recommendation and an Architecture
//! Decision Record out.
//!
//! The advisor library does the thinking; this module does the I/O it keeps out of the
//! library: reading the profile (or asking the questionnaire on a terminal), finding the run
//! (named like `stackwise show` names one, or the latest in the history), writing the
//! template and the ADR, and printing.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use stackwise_advisor::adr::{self, AdrInput};
use stackwise_advisor::advise::{self, render};
use stackwise_advisor::profile::{self, Profile, QUESTIONS, TEMPLATE};

use crate::cli::{AdviseArgs, AdviseFormat};
use crate::history::run_or_reference;
use crate::settings::advise::{advise_settings, read_profile, AdviseSettings, ProfileSource};
use crate::usage;

use crate::defaults::DEFAULT_PROFILE;

pub fn advise(args: &AdviseArgs) -> anyhow::Result<ExitCode> {
    let settings = match advise_settings(args)? {
        AdviseSettings::Init(path) => {
            write_template(&path)?;
            println!(
                "wrote {}: edit it, then run `stackwise advise --profile {}`",
                path.display(),
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        AdviseSettings::Advise(settings) => settings,
    };
    let format = settings.format;
    let (profile, profile_path) = match &settings.profile {
        ProfileSource::File { path, profile } => (profile.clone(), path.display().to_string()),
        ProfileSource::Ask => {
            let stdin = std::io::stdin();
            let profile = ask(&mut stdin.lock(), &mut std::io::stderr())?;
            let saved = save_answers(Path::new(""), &profile)?;
            eprintln!(
                "saved the answers as {}: `stackwise advise --profile {}` asks nothing",
                saved.display(),
                saved.display()
            );
            (profile, saved.display().to_string())
        }
    };
    // Before the user's first run, the bundled reference results stand in, labelled as such.
    let (run, reference) = run_or_reference(
        settings.run_query(),
        &settings.results_dir,
        settings.run.is_some(),
        "advising from",
    )?;
    let advice = advise::advise(&profile, &run, reference);
    if let Some(path) = &settings.adr {
        let text = adr::render(
            &advice,
            &AdrInput {
                date: &today(),
                profile_path: &profile_path,
            },
        );
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create '{}'", dir.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    let mut text = match format {
        AdviseFormat::Table if args.verbose => render::text(&advice),
        AdviseFormat::Table => render::brief(&advice),
        AdviseFormat::Markdown => render::markdown(&advice),
        AdviseFormat::Json => serde_json::to_string_pretty(&advice)? + "\n",
    };
    if let Some(path) = &settings.adr {
        let line = format!("decision record: {}", path.display());
        // JSON on stdout stays parseable: the path goes to stderr then.
        if format == AdviseFormat::Json {
            eprintln!("{line}");
        } else {
            text.push_str(&format!("\n{line}\n"));
        }
    }
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints to stdout; a reader that went away (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes the commented template; refuses to overwrite a file.
fn write_template(path: &Path) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => usage(format!(
                "'{}' exists already: not overwritten (pass another file to --init)",
                path.display()
            )),
            _ => anyhow::Error::new(e).context(format!("cannot write '{}'", path.display())),
        })?;
    file.write_all(TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write '{}'", path.display()))
}

/// The advice for the profile in `file` on `run`, for the HTML report.
pub fn advice_for(
    file: &Path,
    run: &stackwise_results::RunResult,
) -> anyhow::Result<advise::Advice> {
    Ok(advise::advise(&read_profile(file)?, run, false))
}

/// Asks every question of the questionnaire on `output`, reading answers from `input`; an
/// empty answer takes the default, a bad one is explained and asked again.
pub fn ask(input: &mut impl BufRead, output: &mut impl Write) -> anyhow::Result<Profile> {
    writeln!(
        output,
        "A few questions about the project (Enter keeps the default in brackets)."
    )?;
    let mut answers: Vec<(&str, toml::Value)> = Vec::new();
    let mut i = 0;
    while let Some(q) = QUESTIONS.get(i) {
        i += 1;
        if let Some(value) = profile::implied(q.field, &answers) {
            answers.push((q.field, value));
            continue;
        }
        loop {
            write!(output, "{} [{}]: ", q.prompt, q.default)?;
            output.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line)? == 0 {
                return Err(usage(format!(
                    "the questionnaire ended at '{}': pass --profile FILE instead",
                    q.field
                )));
            }
            match q.answer(&line) {
                Ok(value) => {
                    answers.push((q.field, value));
                    break;
                }
                Err(e) => writeln!(output, "  {e}")?,
            }
        }
        // A conflict is said when it arises, and its questions are asked again.
        if let Some((why, from)) = profile::conflict(&answers) {
            writeln!(output, "  {why}")?;
            let at = QUESTIONS.iter().position(|q| q.field == from).unwrap_or(0);
            answers.retain(|(f, _)| QUESTIONS.iter().position(|q| q.field == *f) < Some(at));
            i = at;
        }
    }
    Profile::from_answers(&answers).map_err(|e| usage(e.to_string()))
}

/// Saves the questionnaire's answers in `dir` under a name no file has yet
/// (`stackwise-profile.toml`, else `stackwise-profile-2.toml`, …), never over an existing one.
fn save_answers(dir: &Path, profile: &Profile) -> anyhow::Result<std::path::PathBuf> {
    let stem = DEFAULT_PROFILE.trim_end_matches(".toml");
    for n in 1..1000 {
        let path = match n {
            1 => dir.join(DEFAULT_PROFILE),
            n => dir.join(format!("{stem}-{n}.toml")),
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(profile.to_toml().as_bytes())
                    .with_context(|| format!("cannot write '{}'", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot write '{}'", path.display()))
                )
            }
        }
    }
    anyhow::bail!("cannot save the answers: {stem}-2.toml to {stem}-999.toml exist already")
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .take(10)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::settings::advise::next_adr_path;

    use super::*;
    use std::io::Cursor;

    #[test]
    fn the_questionnaire_takes_defaults_and_asks_again_after_a_bad_answer() {
        let mut answers = String::new();
        for q in QUESTIONS {
            match q.field {
                "team.python" => answers.push_str("9\n5\n"),
                "load.peak_rps" => answers.push_str("2500\n"),
                _ => answers.push('\n'),
            }
        }
        let mut out = Vec::new();
        let p = ask(&mut Cursor::new(answers), &mut out).unwrap();
        assert_eq!(p.team.python, 5);
        assert_eq!(p.load.peak_rps, 2500.0);
        assert_eq!(p.team.javascript, 3);
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("team.python expects 0 to 5, got '9'"), "{out}");
    }

    #[test]
    fn questions_the_answers_already_settle_are_not_asked() {
        // Every default: no models, no language to hire for.
        let answers = "\n".repeat(QUESTIONS.len() - 2);
        let mut out = Vec::new();
        let p = ask(&mut Cursor::new(answers), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("inside the API process"), "{out}");
        assert!(!out.contains("only stacks in that language"), "{out}");
        assert!(!p.needs.ml_in_process && !p.hiring.only);
        // Models in the product: the in-process question follows.
        let mut answers = String::new();
        for q in QUESTIONS {
            match q.field {
                "needs.ml_models" | "needs.ml_in_process" => answers.push_str("yes\n"),
                "hiring.pool" => answers.push_str("python\n"),
                "hiring.only" => answers.push_str("yes\n"),
                _ => answers.push('\n'),
            }
        }
        let p = ask(&mut Cursor::new(answers), &mut Vec::new()).unwrap();
        assert!(p.needs.ml_in_process && p.hiring.only);
    }

    #[test]
    fn shares_that_add_up_to_nothing_are_said_at_once_and_asked_again() {
        let shares = QUESTIONS
            .iter()
            .filter(|q| q.field.starts_with("workload."))
            .count();
        // The product's name, every share 0, then 70% and 30% and the rest by default.
        let answers = format!(
            "\n{}70%\n30%\n{}",
            "0\n".repeat(shares),
            "\n".repeat(QUESTIONS.len())
        );
        let mut out = Vec::new();
        let p = ask(&mut Cursor::new(answers), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.matches("add up to 0").count(), 1, "{out}");
        assert!((p.workload.crud - 0.7).abs() < 1e-9, "{:?}", p.workload);
        assert!((p.workload.io - 0.3).abs() < 1e-9, "{:?}", p.workload);
    }

    #[test]
    fn answers_are_saved_beside_an_existing_profile_never_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::parse(TEMPLATE, "t").unwrap();
        let first = save_answers(dir.path(), &p).unwrap();
        assert_eq!(first, dir.path().join("stackwise-profile.toml"));
        std::fs::write(&first, "mine").unwrap();
        let second = save_answers(dir.path(), &p).unwrap();
        assert_eq!(second, dir.path().join("stackwise-profile-2.toml"));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "mine");
        let saved = std::fs::read_to_string(&second).unwrap();
        assert_eq!(Profile::parse(&saved, "s").unwrap(), p);
    }

    #[test]
    fn a_questionnaire_cut_short_is_a_usage_error() {
        let err = ask(&mut Cursor::new("\n\n"), &mut Vec::new()).unwrap_err();
        assert_eq!(crate::exit_code(&err), ExitCode::from(2));
        assert!(err.to_string().contains("pass --profile"), "{err}");
    }

    #[test]
    fn adr_numbers_follow_the_highest() {
        let dir = tempfile::tempdir().unwrap();
        let adr = dir.path().join("docs/adr");
        assert_eq!(
            next_adr_path(&adr).unwrap(),
            adr.join("0001-backend-stack.md")
        );
        std::fs::create_dir_all(&adr).unwrap();
        for name in [
            "0001-use-postgres.md",
            "0007-queues.md",
            "README.md",
            "12-x.md",
        ] {
            std::fs::write(adr.join(name), "").unwrap();
        }
        assert_eq!(
            next_adr_path(&adr).unwrap(),
            adr.join("0008-backend-stack.md")
        );
    }

    #[test]
    fn init_writes_the_template_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        write_template(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(Profile::parse(&text, "p.toml").is_ok());
        let err = write_template(&path).unwrap_err();
        assert_eq!(crate::exit_code(&err), ExitCode::from(2));
        assert!(err.to_string().contains("exists already"), "{err}");
    }

    #[test]
    fn a_bad_profile_is_a_usage_error_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.toml");
        std::fs::write(&path, TEMPLATE.replace("python = 3", "python = 7")).unwrap();
        let err = read_profile(&path).unwrap_err();
        assert_eq!(crate::exit_code(&err), ExitCode::from(2));
        assert_eq!(
            err.to_string(),
            "profile.toml: team.python must be between 0 and 5, got 7"
        );
        let err = read_profile(&dir.path().join("missing.toml")).unwrap_err();
        assert_eq!(crate::exit_code(&err), ExitCode::from(2));
    }

    #[test]
    fn advise_writes_the_decision_record_where_told() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile.toml");
        std::fs::write(&profile, TEMPLATE).unwrap();
        let adr = dir.path().join("adr/0003-backend-stack.md");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-result.json");
        let args = AdviseArgs {
            profile: Some(profile),
            init: None,
            results: Some(fixture.display().to_string()),
            results_dir: dir.path().join("results"),
            adr: Some(adr.clone()),
            no_adr: false,
            format: AdviseFormat::Json,
            verbose: false,
        };
        assert_eq!(advise(&args).unwrap(), ExitCode::SUCCESS);
        let text = std::fs::read_to_string(&adr).unwrap();
        assert!(text.starts_with("---\nstatus: proposed\ndate: 20"));
        assert!(text.contains("## Decision Outcome"));
        assert!(text.contains(&format!(
            "--profile {}",
            args.profile.as_ref().unwrap().display()
        )));
    }

    #[test]
    fn without_a_run_the_reference_results_stand_in_but_a_named_run_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile.toml");
        std::fs::write(&profile, TEMPLATE).unwrap();
        let args = AdviseArgs {
            profile: Some(profile),
            init: None,
            results: None,
            results_dir: dir.path().join("results"),
            adr: None,
            no_adr: true,
            format: AdviseFormat::Table,
            verbose: false,
        };
        assert_eq!(advise(&args).unwrap(), ExitCode::SUCCESS);
        let named = AdviseArgs {
            results: Some("20260101-000000".to_string()),
            ..args.clone()
        };
        let err = advise(&named).unwrap_err();
        assert_eq!(crate::exit_code(&err), ExitCode::from(2));
        assert!(err.to_string().contains("20260101-000000"), "{err}");
        // An unknown format is refused while the command line is read, before any advice.
        use clap::Parser;
        let err = crate::cli::Cli::try_parse_from(["stackwise", "advise", "--format", "xml"])
            .unwrap_err();
        assert!(crate::value_error_line(&err)
            .unwrap()
            .contains("unknown format"));
    }
}
